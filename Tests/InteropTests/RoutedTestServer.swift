import Foundation
import Logging
import NIOCore
import Synchronization
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
        let log = LogRecord()
        let router = try Router.make(config: config, tftp: tftp, logger: log.logger)
        let server = try await TFTPServer.bind(
            configuration: TFTPServerConfiguration(listen: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)]),
            provider: router, logger: log.logger)
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

/// Every log line, as `level message key=value…`.
final class LogRecord: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in RecordingHandler(record: self) }
        logger.logLevel = .info
        return logger
    }

    func matching(_ text: String) -> [String] { lines.withLock { $0 }.filter { $0.contains(text) } }
}

struct RecordingHandler: LogHandler {
    let record: LogRecord
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        record.lines.withLock {
            $0.append(([event.level.rawValue, "\(event.message)"] + fields).joined(separator: " "))
        }
    }
}
