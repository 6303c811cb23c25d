import Foundation
import TestSupport
import Testing

/// SIGHUP, as admins and `logrotate` send it, against `thinboot serve` for every combination of servers: the
/// process never dies of it, keeps serving, logs what it reloaded, and still exits 0 on SIGTERM.
@Suite("SIGHUP never kills serve", .serialized)
struct ReloadSignalTests {
    /// Which servers a config declares, and which `--only` picks.
    enum Setup: String, CaseIterable, CustomTestStringConvertible {
        case tftpOnly = "tftp section"
        case nbdOnly = "nbd section"
        case both = "both sections"
        case bothOnlyTFTP = "both sections, --only tftp"
        case bothOnlyNBD = "both sections, --only nbd"

        var testDescription: String { rawValue }
        var hasTFTP: Bool { self != .nbdOnly }
        var hasNBD: Bool { self != .tftpOnly }
        var only: String? {
            switch self {
            case .bothOnlyTFTP: "tftp"
            case .bothOnlyNBD: "nbd"
            default: nil
            }
        }
        var servesTFTP: Bool { hasTFTP && only != "nbd" }
        var servesNBD: Bool { hasNBD && only != "tftp" }
    }

    @Test(arguments: Setup.allCases)
    func sighupKeepsTheServerRunning(_ setup: Setup) async throws {
        let folder = try TemporaryDirectory("serve-hup")
        defer { folder.remove() }
        let tftpPort = freeLoopbackPort()
        let nbdPort = freeLoopbackPort(udp: false)
        try folder.write("root/ready.txt", "ready\n")
        try NBDServerHarness.makeImage(at: folder.file("a.img"), seed: 3, size: 1 << 20)
        var config = ""
        if setup.hasTFTP { config += "[tftp]\nlisten = [\"127.0.0.1:\(tftpPort)\"]\nroot = \"root\"\n\n" }
        if setup.hasNBD {
            config += "[nbd]\nlisten = [\"127.0.0.1:\(nbdPort)\"]\n\n[[nbd.export]]\nname = \"a\"\nfile = \"a.img\"\n"
        }
        let configFile = try folder.write("thinboot.toml", config)
        var arguments = ["serve", "--config", configFile]
        if let only = setup.only { arguments += ["--only", only] }
        // The log goes to a file the test reads while the server runs (`exec` keeps the PID the server's).
        let log = folder.file("serve.log")
        let server = try BackgroundProcess(
            "/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>\"\(log)\"", try thinbootExecutable()] + arguments)
        defer { server.stop() }

        try await expectServing(setup, tftpPort: tftpPort, nbdPort: nbdPort)
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        try await waitForLog(log, "config reloaded", count: 1)
        // A config that no longer parses changes nothing, and does not kill the process either.
        try folder.write("thinboot.toml", config + "\nnot toml at all [[[\n")
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        try await waitForLog(log, "reload failed: the config file does not load", count: 1)
        try folder.write("thinboot.toml", config)
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        try await waitForLog(log, "config reloaded", count: 2)
        try await expectServing(setup, tftpPort: tftpPort, nbdPort: nbdPort)
        #expect(server.isRunning)

        let end = await server.terminate()
        let text = try logText(log)
        #expect(end.exitStatus == 0, "\(text)")
        if setup.servesNBD { #expect(text.contains("nbd exports reloaded"), "\(text)") }
    }

    private func logText(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// Waits up to 20 s until `text` appears `count` times in the log, else fails with the log.
    private func waitForLog(_ path: String, _ text: String, count: Int) async throws {
        for _ in 0..<200 {
            if try logText(path).components(separatedBy: text).count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = try logText(path)
        Issue.record("\(count) × \"\(text)\" never logged: \(log)")
    }

    /// Waits (bounded) until every server `setup` runs answers: the TFTP file by content, the NBD export by size.
    private func expectServing(_ setup: Setup, tftpPort: Int, nbdPort: Int) async throws {
        if setup.servesTFTP {
            let result = try await runTool(
                try thinbootExecutable(),
                [
                    "tftp", "get", "--port", "\(tftpPort)", "--timeout", "1", "--retries", "30", "-o", "-",
                    "127.0.0.1", "ready.txt",
                ], timeout: .seconds(60))
            #expect(result.stdoutText == "ready\n", "\(result.stderr)")
        }
        if setup.servesNBD {
            var size = ""
            for _ in 0..<100 {
                let result = try await runTool(
                    "/usr/bin/nbdinfo", ["--size", "nbd://127.0.0.1:\(nbdPort)/a"], timeout: .seconds(20))
                size = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                if result.status == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(size == "\(1 << 20)")
        }
    }
}
