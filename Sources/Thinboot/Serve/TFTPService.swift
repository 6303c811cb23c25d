import Logging
import NIOCore
import ServiceLifecycle
import TFTP

/// The TFTP server as a service: binds every `[tftp] listen` address when the group starts (a bind failure
/// ends `serve` with the address and the reason), serves until shutdown, and on graceful shutdown stops taking
/// requests while the transfers in flight finish.
public struct TFTPService: Service {
    private let configuration: TFTPServerConfiguration
    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let onBound: @Sendable ([SocketAddress]) -> Void

    /// - Parameter onBound: told the bound addresses (real ports when port 0 was configured), for tests.
    public init(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let server = try await TFTPServer.bind(configuration: configuration, provider: provider, logger: logger)
        logger.info(
            "tftp listening", metadata: ["tftp.listen": "\(server.localAddresses)"])
        onBound(server.localAddresses)
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.shutdownGracefully()
        }
    }
}

extension TFTPSection {
    /// The server settings of `[tftp]`, with listen addresses resolved.
    func serverConfiguration() throws -> TFTPServerConfiguration {
        TFTPServerConfiguration(
            listen: try listen.map { try SocketAddress.makeAddressResolvingHost($0.host, port: $0.port) },
            maxBlockSize: maxBlockSize, maxWindowSize: maxWindowSize, timeout: timeout, retries: retries,
            maxTransfers: maxTransfers, maxTransfersPerClient: maxTransfersPerClient)
    }
}
