import Foundation
import NIOCore
import TFTP
import TestSupport
import Thinboot

/// Thinboot's TFTP server with the Lua router, in this process on an ephemeral loopback port, over a folder
/// holding a config, its scripts and its root. Log lines are kept for the test to read.
struct RoutedTestServer {
    let directory: TemporaryDirectory
    let config: String
    let port: Int
    let log: LogRecord

    /// Writes `files` (path → content) under a fresh folder, with `thinboot.toml` = `config`, and serves it.
    static func with(
        config text: String, files: [String: String], _ body: (RoutedTestServer) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory("thinboot-routes")
        defer { directory.remove() }
        for (path, content) in files { try directory.write(path, content) }
        let configFile = try directory.write("thinboot.toml", text)
        try await serve(directory: directory, configFile: configFile, body)
    }

    /// Serves an existing folder's config.
    static func serve(
        directory: TemporaryDirectory, configFile: String, _ body: (RoutedTestServer) async throws -> Void
    ) async throws {
        let config = try ThinbootConfig.load(path: configFile)
        let tftp = config.tftp!
        let log = LogRecord(level: .info)
        let router = try Router.make(config: config, tftp: tftp, logger: log.logger)
        let server = try await TFTPServer.bind(
            configuration: TFTPServerConfiguration(listen: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)]),
            provider: TFTPRouteProvider(router: router), logger: log.logger)
        let instance = RoutedTestServer(
            directory: directory, config: configFile, port: server.localAddresses[0].port!, log: log)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            try await body(instance)
        }
    }

    /// Fetches `path` with `thinboot tftp get` as pxelinux asks (blksize 1408, tsize).
    func fetch(_ path: String, to file: String) async throws -> ToolResult {
        try await runTool(
            try thinbootExecutable(),
            ["tftp", "get", "--port", "\(port)", "--blksize", "1408", "--tsize", "-o", file, "127.0.0.1", path])
    }
}
