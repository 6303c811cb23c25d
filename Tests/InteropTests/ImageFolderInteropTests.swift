import Foundation
import TestSupport
import Testing

/// Image folders and pinned versions, as an admin publishes images: files added, renamed over and removed in an
/// `[[nbd.images]]` folder are seen by `nbdinfo --list` without a SIGHUP, and a boot that started on one version
/// (its generated config pins it) reads that version to the end while a newer one is published.
@Suite(.serialized) struct ImageFolderInteropTests {
    @Test func exportsFollowTheFolderWithoutAReload() async throws {
        let directory = try TemporaryDirectory("nbd-folder")
        defer { directory.remove() }
        let images = directory.file("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let amd64 = try directory.write("images/amd64.img", patternBytes(count: 1 << 20, seed: 1))
        let port = freeLoopbackPort(udp: false)
        let config = try directory.write(
            "thinboot.toml",
            """
            [nbd]
            listen = ["127.0.0.1:\(port)"]

            [[nbd.images]]
            folder = "images"
            prefix = "trusty-"
            """)
        let server = try BackgroundProcess(try thinbootExecutable(), ["serve", "--config", config, "--only", "nbd"])
        defer { server.stop() }
        try await waitForExports(port: port, ["trusty-amd64"])

        // Being written: a .tmp is no image; renamed to .img it is one.
        _ = try directory.write("images/i386.img.tmp", patternBytes(count: 1 << 20, seed: 2))
        _ = try directory.write("images/.armhf.img.Xk29", patternBytes(count: 4096, seed: 3))
        #expect(try await exports(port: port) == ["trusty-amd64"])
        #expect(rename(images + "/i386.img.tmp", images + "/i386.img") == 0)
        try await waitForExports(port: port, ["trusty-amd64", "trusty-i386"])
        #expect(try await read(port: port, "trusty-i386") == patternBytes(count: 1 << 20, seed: 2))

        // Renamed over: the name serves the new bytes.
        _ = try directory.write("images/.amd64.img.new", patternBytes(count: 2 << 20, seed: 4))
        #expect(rename(images + "/.amd64.img.new", amd64) == 0)
        try await waitUntil("trusty-amd64 serves the new image") {
            try await read(port: port, "trusty-amd64") == patternBytes(count: 2 << 20, seed: 4)
        }

        #expect(unlink(images + "/i386.img") == 0)
        try await waitForExports(port: port, ["trusty-amd64"])
        #expect(server.isRunning)
        let log = server.stop()
        #expect(log.contains("nbd image version published"))
        #expect(log.contains("nbd.export=trusty-i386"))
        #expect(!log.contains("config reloaded"))
    }

    @Test func aBootPinnedToAVersionReadsItToTheEndWhileANewerOneIsPublished() async throws {
        let directory = try TemporaryDirectory("nbd-pinned")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("images"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.file("root"), withIntermediateDirectories: true)
        _ = try directory.write("root/ready.txt", "ready\n")
        let version1 = patternBytes(count: 1 << 20, seed: 11)
        let version2 = patternBytes(count: 1 << 20, seed: 12)
        let image = try directory.write("images/amd64.img", version1)
        // Published long before the boot (a file written just now is only taken once it has stayed the same for a
        // second, and the first fetch may come sooner).
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: image)
        _ = try directory.write(
            "pin.lua",
            """
            return function(req)
              local e = thinboot.exports()[1]
              return "KERNEL images/" .. e.pinned .. "/boot/vmlinuz\\nAPPEND root=/dev/nbd0 nbdroot=" .. e.nbdroot_pinned .. "\\n"
            end
            """)
        let (tftpPort, nbdPort) = (freeLoopbackPort(), freeLoopbackPort(udp: false))
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "root"

            [[tftp.route]]
            path = "pxelinux.cfg/default"
            script = "pin.lua"

            [nbd]
            listen = ["127.0.0.1:\(nbdPort)"]
            advertise = "127.0.0.1"
            keep_replaced = 10

            [[nbd.images]]
            folder = "images"
            """)
        let server = try BackgroundProcess(try thinbootExecutable(), ["serve", "--config", config])
        defer { server.stop() }
        try await waitUntilTFTPServes(port: tftpPort)

        // 1. The config a client gets pins version 1, for kernel and root alike.
        let first = try await pinnedVersion(tftpPort: tftpPort)
        #expect(try await read(port: nbdPort, "amd64@\(first)") == version1)

        // 2. The image is replaced by rename, as ltsp-update-image does.
        _ = try directory.write("images/amd64.img.tmp", version2)
        #expect(rename(directory.file("images/amd64.img.tmp"), image) == 0)

        // 4. New boots are pinned to version 2 ...
        var second = first
        try await waitUntil("a new config pins version 2") {
            second = try await pinnedVersion(tftpPort: tftpPort)
            return second != first
        }
        #expect(try await read(port: nbdPort, "amd64@\(second)") == version2)
        #expect(try await read(port: nbdPort, "amd64") == version2)
        // 3. ... while the boot that started on version 1 still gets version 1's bytes.
        #expect(try await read(port: nbdPort, "amd64@\(first)") == version1)

        // 5. After keep_replaced, the old version is gone and its file closed.
        try await waitUntil("amd64@\(first) is dropped", timeout: .seconds(40)) {
            try await read(port: nbdPort, "amd64@\(first)") == nil
        }
        try await waitUntil("the old image's descriptor is closed") {
            deletedFiles(of: server.processIdentifier, named: "amd64.img") == 0
        }
        let log = server.stop()
        #expect(log.contains("nbd image version dropped"))
        #expect(log.contains("nbd.version=\(first)"))
    }

    /// The version in `nbdroot=127.0.0.1,amd64@VERSION,nbd0` of the config the route generates now.
    private func pinnedVersion(tftpPort: Int) async throws -> String {
        let result = try await runTool(
            try thinbootExecutable(),
            [
                "tftp", "get", "--port", "\(tftpPort)", "--timeout", "2", "--retries", "10", "-o", "-", "127.0.0.1",
                "pxelinux.cfg/default",
            ],
            timeout: .seconds(30))
        let text = result.stdoutText
        let kernel = try #require(
            text.firstMatch(of: /KERNEL images\/amd64@([0-9a-f]{8})\/boot\/vmlinuz/), "\(text) \(result.stderr)")
        let root = try #require(text.firstMatch(of: /nbdroot=127\.0\.0\.1,amd64@([0-9a-f]{8}),nbd0/), "\(text)")
        #expect(kernel.1 == root.1, "kernel and root pin one version")
        return String(root.1)
    }

    /// The export names `nbdinfo --list` shows.
    private func exports(port: Int) async throws -> [String] {
        let result = try await runTool(
            "/usr/bin/nbdinfo", ["--list", "--json", "nbd://127.0.0.1:\(port)"], timeout: .seconds(30))
        guard result.status == 0,
            let json = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
            let list = json["exports"] as? [[String: Any]]
        else { return [] }
        return list.compactMap { $0["export-name"] as? String }.sorted()
    }

    private func waitForExports(port: Int, _ expected: [String]) async throws {
        try await waitUntil("nbdinfo --list shows \(expected)") { try await exports(port: port) == expected }
    }

    /// The whole export, or nil when the server refuses the name.
    private func read(port: Int, _ name: String) async throws -> [UInt8]? {
        let out = try TemporaryDirectory("nbd-read")
        defer { out.remove() }
        let encoded = name.replacingOccurrences(of: "@", with: "%40")
        let result = try await runTool(
            "/usr/bin/nbdcopy", ["nbd://127.0.0.1:\(port)/\(encoded)", out.file("copy")], timeout: .seconds(60))
        guard result.status == 0 else { return nil }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: out.file("copy"))))
    }

    /// How many descriptors of process `pid` point at a deleted file whose name ends in `name`.
    private func deletedFiles(of pid: Int32, named name: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
            return target.hasSuffix("/\(name) (deleted)")
        }.count
    }

    /// Polls `condition` every 200 ms until it holds, failing the test after `timeout`.
    private func waitUntil(
        _ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }
}
