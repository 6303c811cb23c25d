import Foundation
import TestSupport

/// `thinboot serve` with `[tftp]` and `[http]` on free loopback ports, over a folder holding the config, its scripts
/// and its root, as an admin runs it: the built binary, stopped by its PID when the body is done.
struct HTTPServeHarness {
    let folder: TemporaryDirectory
    let configFile: String
    let httpPort: Int
    let tftpPort: Int

    var base: String { "http://127.0.0.1:\(httpPort)" }

    /// Writes `files` (path → bytes) under a fresh folder with a config whose `[tftp]` root is a folder of its own and whose
    /// routes are `routes` (TOML), fills the root with `populate`, and serves it (`only`: `--only ROLE`). `logs`
    /// gets the server's stderr once it has stopped.
    static func with(
        routes: String = "", files: [String: [UInt8]] = [:], only: String? = nil,
        populate: (TemporaryDirectory) throws -> Void = { _ in }, logs: ((String) -> Void)? = nil,
        _ body: (HTTPServeHarness) async throws -> Void
    ) async throws {
        let folder = try TemporaryDirectory("serve-http")
        defer { folder.remove() }
        let rootFolder = try TemporaryDirectory("serve-http-root")
        defer { rootFolder.remove() }
        try populate(rootFolder)
        try rootFolder.write("ready.txt", "ready\n")
        for (path, bytes) in files { try folder.write(path, bytes) }
        let httpPort = freeLoopbackPort(udp: false)
        let tftpPort = freeLoopbackPort()
        let configFile = try folder.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "\(rootFolder.path)"
            \(routes)

            [http]
            listen = ["127.0.0.1:\(httpPort)"]
            """)
        var arguments = ["serve", "--config", configFile, "--log-level", "warning"]
        if let only { arguments += ["--only", only] }
        let server = try BackgroundProcess(try thinbootExecutable(), arguments)
        defer {
            let output = server.stop()
            logs?(output)
        }
        let harness = HTTPServeHarness(
            folder: rootFolder, configFile: configFile, httpPort: httpPort, tftpPort: tftpPort)
        try await harness.waitUntilServing()
        try await body(harness)
    }

    /// Polls `ready.txt` until the just-started server answers (at most 20 s).
    private func waitUntilServing() async throws {
        for _ in 0..<100 {
            let result = try await runTool("curl", ["-sf", "\(base)/ready.txt"], timeout: .seconds(10))
            if result.stdoutText == "ready\n" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ServeFailure(description: "thinboot serve did not answer HTTP on port \(httpPort)")
    }

    /// curl with `arguments`, silent but for errors.
    func curl(_ arguments: [String]) async throws -> ToolResult {
        try await runTool("curl", ["-sS"] + arguments, timeout: .seconds(60))
    }

    /// The status code curl saw for `arguments` (body discarded).
    func status(_ arguments: [String]) async throws -> String {
        try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + arguments).stdoutText
    }

    struct ServeFailure: Error, CustomStringConvertible {
        let description: String
    }
}
