import Foundation
import TestSupport
import Testing

/// SIGHUP swaps in the new routes, scripts and root for TFTP and HTTP alike; a config whose new script does not
/// compile changes nothing and says why; `thinboot check --against OLD` names the same changes beforehand.
@Suite("SIGHUP applies routes", .serialized)
struct ReloadRoutesTests {
    @Test func newRoutesAndRootServeTheNextRequests() async throws {
        let folder = try TemporaryDirectory("serve-reload-routes")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        try folder.write("root2/ready.txt", "ready\n")
        try folder.write("root2/only-in-2.txt", "second root\n")
        try folder.write("one.lua", "return function(req) return 'one ' .. req.protocol end\n")
        try folder.write("two.lua", "return function(req) return 'two ' .. req.protocol end\n")
        try folder.write("broken.lua", "return function(req) return 'never' \n")
        let tftpPort = freeLoopbackPort()
        let httpPort = freeLoopbackPort(udp: false)
        func config(root: String, script: String) -> String {
            """
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "\(root)"

            [[tftp.route]]
            path = "gen/*"
            script = "\(script)"

            [http]
            listen = ["127.0.0.1:\(httpPort)"]
            """
        }
        let configFile = try folder.write("thinboot.toml", config(root: "root", script: "one.lua"))
        let first = try folder.write("first.toml", config(root: "root", script: "one.lua"))
        let log = ServeLog(path: folder.file("serve.log"))
        let server = try BackgroundProcess(
            "/bin/sh",
            ["-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"", try thinbootExecutable(), "serve", "--config", configFile])
        defer { server.stop() }
        try await log.wait(for: "serving")
        #expect(try await tftpText(tftpPort, "gen/x") == "one tftp")
        #expect(try await httpText(httpPort, "gen/x") == "one http")

        try folder.write("thinboot.toml", config(root: "root2", script: "two.lua"))
        let check = try await runTool(
            try thinbootExecutable(), ["check", "--config", configFile, "--against", first], timeout: .seconds(60))
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdoutText.contains("  apply   [tftp] root: "), "\(check.stdoutText)")
        #expect(check.stdoutText.contains("  apply   [[tftp.route]] ~gen/*"), "\(check.stdoutText)")
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        try await log.wait(for: "config reloaded")
        #expect(log.text.contains("reload.applied=\"routes, scripts, root\""), "\(log.text)")
        #expect(try await tftpText(tftpPort, "gen/x") == "two tftp")
        #expect(try await httpText(httpPort, "gen/x") == "two http")
        #expect(try await tftpText(tftpPort, "only-in-2.txt") == "second root\n")
        #expect(try await httpText(httpPort, "only-in-2.txt") == "second root\n")

        // A script that does not compile: the reload is refused whole, the old routes go on.
        try folder.write("thinboot.toml", config(root: "root", script: "broken.lua"))
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        try await log.wait(for: "reload failed: the new routes do not load; nothing changed")
        #expect(try await tftpText(tftpPort, "gen/x") == "two tftp")
        #expect(try await tftpText(tftpPort, "only-in-2.txt") == "second root\n")

        let end = await server.terminate()
        #expect(end.exitStatus == 0, "\(log.text)")
    }

    private func tftpText(_ port: Int, _ path: String) async throws -> String {
        let result = try await runTool(
            try thinbootExecutable(),
            ["tftp", "get", "--port", "\(port)", "--timeout", "1", "--retries", "5", "-o", "-", "127.0.0.1", path],
            timeout: .seconds(30))
        return result.stdoutText
    }

    private func httpText(_ port: Int, _ path: String) async throws -> String {
        let result = try await runTool("curl", ["-sS", "http://127.0.0.1:\(port)/\(path)"], timeout: .seconds(30))
        return result.stdoutText
    }
}
