import BootEvents
import Logging
import NIOCore
import ServiceLifecycle
import TFTP

/// The TFTP server as a service: binds every `[tftp] listen` address when the group starts (a bind failure
/// ends `serve` with the address and the reason), serves until shutdown, and on graceful shutdown stops taking
/// requests while the transfers in flight finish — for at most ``shutdownGrace``, then the rest are cut.
public struct TFTPService: Service {
    /// How long graceful shutdown waits for transfers in flight. Without a bound, one client that vanished after
    /// negotiating `timeout 255` would hold SIGTERM for 255 s × (retries + 1); a cut transfer is logged as
    /// `server stopped` and the boot ROM simply asks again.
    public static let shutdownGrace: Duration = .seconds(10)

    private let configuration: TFTPServerConfiguration
    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let onBound: @Sendable ([SocketAddress]) -> Void
    private let events: any BootEventSink

    /// - Parameters:
    ///   - events: told every transfer as it starts and ends (the boot status and metrics).
    ///   - onBound: told the bound addresses (real ports when port 0 was configured), for tests.
    public init(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents(),
        onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.events = events
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let server = try await TFTPServer.bind(
            configuration: configuration, provider: provider, logger: logger, events: events)
        logger.info(
            "tftp listening", metadata: ["tftp.listen": "\(server.localAddresses)"])
        onBound(server.localAddresses)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                // Returns when graceful shutdown starts, or at once when the service is cancelled.
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return }
                server.shutdownGracefully()
                try? await Task.sleep(for: Self.shutdownGrace)
            }
            // The server ending (all transfers done, or a listener failure) or the grace running out ends both.
            try await group.next()
            group.cancelAll()
        }
    }
}
