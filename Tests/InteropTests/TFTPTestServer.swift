import Files
import Logging
import NIOCore
import TFTP
import TestSupport

/// A TFTP server in this process on an ephemeral loopback port, serving a temporary root, for one test body.
struct TFTPTestServer {
    let root: TemporaryDirectory
    let port: Int
    let host: String

    /// Where in-process servers run (see ``DispatchTaskExecutor``).
    private static let executor = DispatchTaskExecutor(label: "thinboot.tftp.test-server")

    /// Starts a server on `host` port 0 over a fresh root filled by `populate`, runs `body`, then cancels the server
    /// and removes the root.
    static func with(
        host: String = "127.0.0.1",
        configure: (inout TFTPServerConfiguration) -> Void = { _ in },
        populate: (TemporaryDirectory) throws -> Void,
        _ body: (TFTPTestServer) async throws -> Void
    ) async throws {
        let root = try TemporaryDirectory("thinboot-tftp")
        defer { root.remove() }
        try populate(root)
        var configuration = TFTPServerConfiguration(listen: [try SocketAddress(ipAddress: host, port: 0)])
        configure(&configuration)
        var logger = Logger(label: "thinboot.tftp.test")
        logger.logLevel = .warning
        let server = try await TFTPServer.bind(
            configuration: configuration, provider: try StaticRoot(path: root.path), logger: logger)
        let instance = TFTPTestServer(root: root, port: server.localAddresses[0].port!, host: host)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Off the cooperative pool, so suites computing in parallel never delay the server's answers.
            group.addTask(executorPreference: Self.executor) { try await server.run() }
            defer { group.cancelAll() }
            try await body(instance)
        }
    }
}
