import Foundation
import TestSupport
import Testing

/// `serve` started as root becomes `[serve] user` (default `nobody`) and keeps only CAP_NET_BIND_SERVICE, read
/// back from `/proc/PID/status` while it holds port 69 in a network namespace the test makes: files only root may
/// read get ERROR 2 from tftp-hpa, and a SIGHUP that adds a second low port (an NBD legacy port) binds it.
@Suite("serve drops privileges", .serialized)
struct PrivilegeDropTests {
    /// Bit 10 of the capability sets, as `/proc/PID/status` prints them.
    static let bindServiceOnly = "0000000000000400"

    @Test func startedAsRootWithNoUserItBecomesNobodyAndStillBindsLowPorts() async throws {
        let folder = try TemporaryDirectory("serve-priv")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let secret = try folder.write("root/secret.txt", "only root\n")
        #expect(chmod(secret, 0o600) == 0)
        try NBDServerHarness.makeImage(at: folder.file("a.img"), seed: 5, size: 1 << 20)
        let base = """
            [tftp]
            listen = ["127.0.0.1:69"]
            root = "root"

            [nbd]
            listen = ["127.0.0.1:10809"]

            [[nbd.export]]
            name = "a"
            file = "a.img"

            """
        let configFile = try folder.write("thinboot.toml", base)
        let namespace = "tb-priv-\(getpid() % 100_000)"
        try await withNamespace(namespace) {
            let log = ServeLog(path: folder.file("serve.log"))
            let server = try BackgroundProcess(
                "ip",
                [
                    "netns", "exec", namespace, "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"",
                    try thinbootExecutable(), "serve", "--config", configFile,
                ])
            defer { server.stop() }
            try await log.wait(for: "serving")
            #expect(log.text.contains("started as root with no [serve] user: becoming nobody"), "\(log.text)")
            #expect(log.text.contains("running as nobody"), "\(log.text)")

            let status = try processStatus(server.processIdentifier)
            #expect(status["Uid"] == "65534\t65534\t65534\t65534", "\(status)")
            #expect(status["Gid"] == "65534\t65534\t65534\t65534", "\(status)")
            #expect(status["Groups"] == "65534", "\(status)")
            for set in ["CapEff", "CapPrm", "CapAmb", "CapBnd"] {
                #expect(status[set] == Self.bindServiceOnly, "\(set): \(status)")
            }
            #expect(status["NoNewPrivs"] == "1", "\(status)")
            #expect(try await listening(namespace, udp: true).contains("127.0.0.1:69"))

            let out = try TemporaryDirectory("serve-priv-out")
            defer { out.remove() }
            let ready = try await hpaGet(namespace, "ready.txt", to: out.file("ready.txt"))
            #expect(ready.status == 0, "\(ready.stdoutText) \(ready.stderr)")
            #expect(try String(contentsOfFile: out.file("ready.txt"), encoding: .utf8) == "ready\n")
            // tftp-hpa's own answer for a file its user may not read.
            let refused = try await hpaGet(namespace, "secret.txt", to: out.file("secret.txt"))
            #expect(
                (refused.stdoutText + refused.stderr).contains("Error code 2: Access violation: permission denied"),
                "\(refused.stdoutText) \(refused.stderr)")

            // A second low port, bound by the unprivileged process on reload.
            try folder.write("thinboot.toml", base + "port = 1000\n")
            #expect(kill(server.processIdentifier, SIGHUP) == 0)
            try await log.wait(for: "nbd exports reloaded")
            #expect(try await listening(namespace, udp: false).contains("127.0.0.1:1000"), "\(log.text)")
            let size = try await runTool(
                "ip", ["netns", "exec", namespace, "nbdinfo", "--size", "nbd://127.0.0.1:1000"], timeout: .seconds(30))
            #expect(size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(1 << 20)", "\(size.stderr)")
            #expect(try processStatus(server.processIdentifier)["Uid"] == "65534\t65534\t65534\t65534")

            let end = await server.terminate()
            #expect(end.exitStatus == 0, "\(log.text)")
        }
    }

    /// `user` and `group` name the account; every id is that one, and nothing of root's is left.
    @Test func namedUserAndGroupAreTheProcessIds() async throws {
        let folder = try TemporaryDirectory("serve-priv-named")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let port = freeLoopbackPort()
        let configFile = try folder.write(
            "thinboot.toml",
            """
            [serve]
            user = "daemon"
            group = "nogroup"

            [tftp]
            listen = ["127.0.0.1:\(port)"]
            root = "root"
            """)
        let log = ServeLog(path: folder.file("serve.log"))
        let server = try BackgroundProcess(
            "/bin/sh",
            ["-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"", try thinbootExecutable(), "serve", "--config", configFile])
        defer { server.stop() }
        try await log.wait(for: "serving")
        try await waitUntilTFTPServes(port: port)
        let status = try processStatus(server.processIdentifier)
        let daemon = try #require(getpwnam("daemon")).pointee.pw_uid
        #expect(status["Uid"] == Array(repeating: "\(daemon)", count: 4).joined(separator: "\t"), "\(status)")
        #expect(status["Gid"] == "65534\t65534\t65534\t65534", "\(status)")
        #expect(!(status["Groups"] ?? "0").split(separator: " ").contains("0"), "\(status)")
        #expect(status["CapEff"] == Self.bindServiceOnly, "\(status)")
        #expect(log.text.contains("running as daemon"), "\(log.text)")
        let end = await server.terminate()
        #expect(end.exitStatus == 0, "\(log.text)")
    }

    /// A user that does not exist stops serve before it serves anything, with the fix in the message.
    @Test func anUnknownUserStopsServe() async throws {
        let folder = try TemporaryDirectory("serve-priv-unknown")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let configFile = try folder.write(
            "thinboot.toml",
            """
            [serve]
            user = "no-such-user-thinboot"

            [tftp]
            listen = ["127.0.0.1:\(freeLoopbackPort())"]
            root = "root"
            """)
        let result = try await runTool(
            try thinbootExecutable(), ["serve", "--config", configFile], timeout: .seconds(30))
        #expect(result.status != 0)
        #expect(result.stderr.contains("[serve] user \"no-such-user-thinboot\" does not exist"), "\(result.stderr)")
    }

    /// `user = "root"` keeps root, and says so.
    @Test func userRootKeepsRootWithAWarning() async throws {
        let folder = try TemporaryDirectory("serve-priv-root")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let port = freeLoopbackPort()
        let configFile = try folder.write(
            "thinboot.toml", "[serve]\nuser = \"root\"\n\n[tftp]\nlisten = [\"127.0.0.1:\(port)\"]\nroot = \"root\"\n")
        let log = ServeLog(path: folder.file("serve.log"))
        let server = try BackgroundProcess(
            "/bin/sh",
            ["-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"", try thinbootExecutable(), "serve", "--config", configFile])
        defer { server.stop() }
        try await log.wait(for: "serving")
        #expect(try processStatus(server.processIdentifier)["Uid"] == "0\t0\t0\t0")
        #expect(log.text.contains("warning thinboot: serve keeps running as root"), "\(log.text)")
    }

    /// `Key:\tvalue` lines of `/proc/PID/status`, values with their tabs, trimmed.
    private func processStatus(_ pid: Int32) throws -> [String: String] {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The local addresses listening in `namespace` (`ss`), one per line.
    private func listening(_ namespace: String, udp: Bool) async throws -> String {
        try await runTool("ip", ["netns", "exec", namespace, "ss", "-Hln", udp ? "-u" : "-t"], timeout: .seconds(10))
            .stdoutText
    }

    private func hpaGet(_ namespace: String, _ path: String, to file: String) async throws -> ToolResult {
        try await runTool(
            "ip", ["netns", "exec", namespace, "tftp", "-m", "binary", "127.0.0.1", "69", "-c", "get", path, file],
            timeout: .seconds(30))
    }

    /// A network namespace with only `lo` up, removed whatever `body` does.
    private func withNamespace(_ name: String, _ body: () async throws -> Void) async throws {
        for arguments in [["netns", "add", name], ["-n", name, "link", "set", "lo", "up"]] {
            let result = try await runTool("ip", arguments, timeout: .seconds(10))
            guard result.status == 0 else {
                _ = try? await runTool("ip", ["netns", "del", name], timeout: .seconds(10))
                throw NamespaceSetupFailed(command: "ip " + arguments.joined(separator: " "), stderr: result.stderr)
            }
        }
        do {
            try await body()
        } catch {
            _ = try? await runTool("ip", ["netns", "del", name], timeout: .seconds(10))
            throw error
        }
        _ = try? await runTool("ip", ["netns", "del", name], timeout: .seconds(10))
    }
}
