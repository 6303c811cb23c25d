import Foundation
import TestSupport

/// `thinboot serve` with TFTP, NBD and `[admin]` on free loopback ports, as an admin runs it: a root with the
/// usual boot files, a route generating pxelinux configs, a route whose script fails, one NBD export; the admin
/// listener allows `127.0.0.1/32` only, so a client bound to 127.0.0.2 is outside it.
struct AdminServeHarness {
    let folder: TemporaryDirectory
    let tftpPort: Int
    let nbdPort: Int
    let adminPort: Int
    static let export = "trusty-amd64"
    static let imageSize = 1 << 20

    var admin: String { "http://127.0.0.1:\(adminPort)" }

    static func with(_ body: (AdminServeHarness) async throws -> Void) async throws {
        let folder = try TemporaryDirectory("serve-admin")
        defer { folder.remove() }
        for (path, size) in [
            ("root/pxelinux.0", 3000), ("root/vmlinuz-4.4.0", 200_000), ("root/initrd.img-4.4.0", 300_000),
            ("root/ltsp/amd64/lts.conf", 100), ("root/ready.txt", 6),
        ] {
            _ = try folder.write(path, patternBytes(count: size, seed: UInt64(size)))
        }
        _ = try folder.write(
            "scripts/pxelinux.lua",
            """
            return function(req)
              return "DEFAULT ltsp\\nLABEL ltsp\\nKERNEL vmlinuz-4.4.0\\nAPPEND initrd=initrd.img-4.4.0\\n"
            end
            """)
        _ = try folder.write(
            "scripts/broken.lua", "return function(req) error(\"no inventory row for \" .. req.path) end\n")
        try NBDServerHarness.makeImage(at: folder.file("image.img"), seed: 7, size: imageSize)
        let harness = AdminServeHarness(
            folder: folder, tftpPort: freeLoopbackPort(), nbdPort: freeLoopbackPort(udp: false),
            adminPort: freeLoopbackPort(udp: false))
        let config = try folder.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(harness.tftpPort)"]
            root = "root"

            [[tftp.route]]
            path = "pxelinux.cfg/*"
            script = "scripts/pxelinux.lua"

            [[tftp.route]]
            path = "broken/*"
            script = "scripts/broken.lua"

            [nbd]
            listen = ["127.0.0.1:\(harness.nbdPort)"]

            [[nbd.export]]
            name = "\(export)"
            file = "image.img"

            [admin]
            listen = ["127.0.0.1:\(harness.adminPort)"]
            allow = ["127.0.0.1/32"]
            """)
        // Warnings only: the status and the metrics must not depend on the log level.
        let server = try BackgroundProcess(
            try thinbootExecutable(), ["serve", "--config", config, "--log-level", "warning"])
        defer { server.stop() }
        try await harness.waitUntilServing()
        try await body(harness)
    }

    /// Polls `/healthz` until the just-started server answers (at most 20 s).
    private func waitUntilServing() async throws {
        for _ in 0..<100 {
            let result = try await runTool("curl", ["-sf", "\(admin)/healthz"], timeout: .seconds(10))
            if result.stdoutText == "ok\n" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HTTPServeHarness.ServeFailure(description: "thinboot serve did not answer on the admin port \(adminPort)")
    }

    /// Fetches `path` by TFTP with curl from the source address `from`; true when it arrived.
    @discardableResult
    func tftp(_ path: String, from source: String = "127.0.0.1") async throws -> Bool {
        let result = try await runTool(
            "curl", ["-sS", "--interface", source, "-o", "/dev/null", "tftp://127.0.0.1:\(tftpPort)/\(path)"],
            timeout: .seconds(30))
        return result.status == 0
    }

    /// Reads the whole export over NBD with libnbd (nbdsh) from a socket bound to `source`, as a booted client's
    /// root would (`export` may pin a version: `NAME@VERSION`); returns the SHA-256 of what it read.
    func readRoot(from source: String = "127.0.0.1", export: String = Self.export) async throws -> String {
        let result = try await runTool(
            "/usr/bin/nbdsh",
            [
                "-c",
                """
                import hashlib, socket
                s = socket.socket()
                s.bind(("\(source)", 0))
                s.connect(("127.0.0.1", \(nbdPort)))
                h.set_export_name("\(export)")
                h.connect_socket(s.fileno())
                data = h.pread(\(Self.imageSize), 0)
                print(hashlib.sha256(data).hexdigest())
                h.shutdown()
                """,
            ], timeout: .seconds(60),
            // Debian's Python, which has libnbd's module, not another python3 earlier on the PATH.
            environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": NSTemporaryDirectory()])
        guard result.status == 0 else {
            throw HTTPServeHarness.ServeFailure(description: "nbdsh failed: \(result.stderr)")
        }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One client's boot as LTSP 5 does it, from the source address `source`: boot loader, its config (named by
    /// MAC), kernel, initrd, the NBD root, then `lts.conf`.
    func boot(mac: String, from source: String) async throws {
        let dashed = mac.replacingOccurrences(of: ":", with: "-")
        for path in ["pxelinux.0", "pxelinux.cfg/01-\(dashed)", "vmlinuz-4.4.0", "initrd.img-4.4.0"] {
            guard try await tftp(path, from: source) else {
                throw HTTPServeHarness.ServeFailure(description: "\(source) could not fetch \(path)")
            }
        }
        let digest = try await readRoot(from: source)
        let expected = try await sha256(file: folder.file("image.img"))
        guard digest == expected else {
            throw HTTPServeHarness.ServeFailure(
                description: "\(source) read a root with digest \(digest), not \(expected)")
        }
        try await tftp("ltsp/amd64/lts.conf", from: source)
    }
}
