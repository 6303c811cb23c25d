import BootEvents
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The boot HTTP server as a service: binds every listen address when it starts (a failure ends the service with
/// the address and the reason), serves until graceful shutdown, then stops accepting, lets the responses in flight
/// finish (for at most ``HTTPServerConfiguration/shutdownGrace``) and closes the rest.
///
/// Each connection's pipeline: ``HTTPHeadGuard`` (limits and timeouts on the raw bytes), NIO's response encoder,
/// request decoder and `HTTPServerPipelineHandler` (pipelined requests in order, quiescing), ``HTTPErrorResponder``
/// (400/414/431) and ``HTTPBootHandler`` (the answers).
public final class HTTPServer: Service, Sendable {
    private let configuration: HTTPServerConfiguration
    private let provider: any HTTPBootProvider
    private let logger: Logger
    private let group: any EventLoopGroup
    private let limiter: HTTPConnectionLimiter
    private let onBound: @Sendable ([SocketAddress]) -> Void
    private let events: any BootEventSink

    /// - Parameters:
    ///   - events: told every request as it ends (the boot status and metrics).
    ///   - onBound: told the bound addresses (real ports when port 0 was configured), for tests.
    public init(
        configuration: HTTPServerConfiguration, provider: any HTTPBootProvider, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        events: any BootEventSink = IgnoredBootEvents(),
        onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.events = events
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.group = group
        self.limiter = HTTPConnectionLimiter(
            maxConnections: configuration.maxConnections, maxConnectionsPerClient: configuration.maxConnectionsPerClient
        )
        self.onBound = onBound
    }

    public func run() async throws {
        var listeners: [any Channel] = []
        do {
            for descriptor in configuration.inheritedListeners {
                listeners.append(try await bind(host: "", port: 0, inherited: descriptor))
            }
            for address in configuration.inheritedListeners.isEmpty ? configuration.listen : [] {
                listeners.append(try await bind(host: address.host, port: address.port))
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        let addresses = listeners.compactMap(\.localAddress)
        logger.info(
            "http listening",
            metadata: ["http.listen": "\(addresses.map { HTTPBootHandler.describe($0) }.joined(separator: ","))"])
        onBound(addresses)
        // Returns when graceful shutdown starts, or at once when the service is cancelled.
        try? await gracefulShutdown()
        for listener in listeners { try? await listener.close() }
        await drain()
    }

    /// Asks every connection to finish its response in flight and close (NIO's quiescing), then closes what is
    /// left after the grace.
    private func drain() async {
        for channel in limiter.openChannels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while !limiter.openChannels.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for channel in limiter.openChannels { try? await channel.close() }
    }

    /// A listener on `host:port`, or on the already bound socket `inherited` (socket activation).
    private func bind(host: String, port: Int, inherited: CInt? = nil) async throws -> any Channel {
        let configuration = configuration
        let provider = provider
        let logger = logger
        let limiter = limiter
        let events = events
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // `.tcpOption`: as `.socketOption` this set SO_DEBUG (also 1) at SOL_SOCKET, which only root may.
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 4)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let mode: HTTPBootHandler.Mode = limiter.admit(channel) ? .serve(provider) : .refuse
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(HTTPHeadGuard(configuration: configuration, logger: logger))
                        try operations.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: false)
                        try operations.addHandler(HTTPErrorResponder(logger: logger))
                        try operations.addHandler(HTTPBootHandler(mode: mode, logger: logger, events: events))
                    }
                }
            return try await (inherited.map { bootstrap.withBoundSocket($0) } ?? bootstrap.bind(host: host, port: port))
                .get()
        } catch {
            throw HTTPBindError(host: host, port: port, underlying: error)
        }
    }
}
