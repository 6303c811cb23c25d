import BootEvents
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The boot HTTP server as a service: binds every listen address when it starts (a failure ends the service with
/// the address and the reason), serves until graceful shutdown, then stops accepting, lets the responses in flight
/// finish (for at most ``HTTPServerConfiguration/shutdownGrace``) and closes the rest.
///
/// ``reload(to:)`` (SIGHUP) binds the addresses added, stops accepting on the ones removed — their open connections
/// go on until they close — and gives every connection accepted from then on the new limits and timeouts.
///
/// Each connection's pipeline: ``HTTPHeadGuard`` (limits and timeouts on the raw bytes), NIO's response encoder,
/// request decoder and `HTTPServerPipelineHandler` (pipelined requests in order, quiescing), ``HTTPErrorResponder``
/// (400/414/431) and ``HTTPBootHandler`` (the answers).
public final class HTTPServer: Service, Sendable {
    /// One bound listener, under the `listen` entry it was bound for (`"host:port"` as configured, so port 0 stays
    /// the same listener across reloads; `"systemd"` for a socket that was passed in).
    private struct Listener {
        var key: String
        var channel: any Channel
    }

    private struct State {
        /// The settings new connections get.
        var configuration: HTTPServerConfiguration
        var listeners: [Listener] = []
        /// Set when graceful shutdown starts; a reload after it changes nothing.
        var stopping = false
    }

    private let provider: any HTTPBootProvider
    private let logger: Logger
    private let group: any EventLoopGroup
    private let limiter: HTTPConnectionLimiter
    private let onBound: @Sendable ([SocketAddress]) -> Void
    private let events: any BootEventSink
    private let state: NIOLockedValueBox<State>

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
        self.provider = provider
        self.logger = logger
        self.group = group
        self.limiter = HTTPConnectionLimiter(
            maxConnections: configuration.maxConnections, maxConnectionsPerClient: configuration.maxConnectionsPerClient
        )
        self.onBound = onBound
        state = NIOLockedValueBox(State(configuration: configuration))
    }

    /// The addresses listened on now (real ports when port 0 was configured).
    public var localAddresses: [SocketAddress] {
        state.withLockedValue { $0.listeners.compactMap(\.channel.localAddress) }
    }

    public func run() async throws {
        let configuration = state.withLockedValue { $0.configuration }
        var listeners: [Listener] = []
        do {
            for descriptor in configuration.inheritedListeners {
                listeners.append(
                    Listener(key: "systemd", channel: try await bind(host: "", port: 0, inherited: descriptor)))
            }
            for address in configuration.inheritedListeners.isEmpty ? configuration.listen : [] {
                listeners.append(
                    Listener(
                        key: Self.key(address), channel: try await bind(host: address.host, port: address.port)))
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            throw error
        }
        state.withLockedValue { $0.listeners = listeners }
        let addresses = listeners.compactMap(\.channel.localAddress)
        logger.info("http listening", metadata: ["http.listen": "\(Self.describe(addresses))"])
        onBound(addresses)
        // Returns when graceful shutdown starts, or at once when the service is cancelled.
        try? await gracefulShutdown()
        let open = state.withLockedValue { state in
            state.stopping = true
            defer { state.listeners = [] }
            return state.listeners
        }
        for listener in open { try? await listener.channel.close() }
        await drain()
    }

    /// Serves `configuration` from now on (SIGHUP): binds the `listen` addresses it adds, closes the listeners of
    /// the ones it removes (connections accepted on them finish), and applies its limits and timeouts to every
    /// connection accepted after. False when it changes nothing. Throws, changing nothing, when a new address
    /// cannot be bound. Sockets from systemd stay whatever `listen` says.
    public func reload(to configuration: HTTPServerConfiguration) async throws -> Bool {
        let (old, listeners, stopping) = state.withLockedValue { ($0.configuration, $0.listeners, $0.stopping) }
        var wanted = configuration
        wanted.inheritedListeners = old.inheritedListeners
        guard !stopping, wanted != old else { return false }
        let fromSystemd = !old.inheritedListeners.isEmpty
        let keys = fromSystemd ? [] : wanted.listen.map(Self.key)
        var added: [Listener] = []
        do {
            for address in fromSystemd ? [] : wanted.listen
            where !listeners.contains(where: { $0.key == Self.key(address) }) {
                added.append(
                    Listener(
                        key: Self.key(address), channel: try await bind(host: address.host, port: address.port)))
            }
        } catch {
            for listener in added { try? await listener.channel.close() }
            throw error
        }
        limiter.setLimits(
            maxConnections: wanted.maxConnections, maxConnectionsPerClient: wanted.maxConnectionsPerClient)
        let removed = state.withLockedValue { state in
            state.configuration = wanted
            let removed = fromSystemd ? [] : state.listeners.filter { !keys.contains($0.key) }
            state.listeners.removeAll { listener in removed.contains { $0.key == listener.key } }
            state.listeners += added
            return removed
        }
        // Closing a listener leaves the connections it accepted open: they are the limiter's, drained at shutdown.
        for listener in removed { try? await listener.channel.close() }
        if !added.isEmpty || !removed.isEmpty {
            logger.info(
                "http listening",
                metadata: ["http.listen": "\(Self.describe(localAddresses))", "http.reloaded": "true"])
        }
        return true
    }

    private static func key(_ address: (host: String, port: Int)) -> String { "\(address.host):\(address.port)" }

    private static func describe(_ addresses: [SocketAddress]) -> String {
        addresses.map { HTTPBootHandler.describe($0) }.joined(separator: ",")
    }

    /// Asks every connection to finish its response in flight and close (NIO's quiescing), then closes what is
    /// left after the grace.
    private func drain() async {
        for channel in limiter.openChannels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = ContinuousClock.now + state.withLockedValue { $0.configuration.shutdownGrace }
        while !limiter.openChannels.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for channel in limiter.openChannels { try? await channel.close() }
    }

    /// A listener on `host:port`, or on the already bound socket `inherited` (socket activation).
    private func bind(host: String, port: Int, inherited: CInt? = nil) async throws -> any Channel {
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
                        // Read per connection: a reload's limits and timeouts apply to the next connection.
                        let configuration = self.state.withLockedValue { $0.configuration }
                        let mode: HTTPBootHandler.Mode = limiter.admit(channel) ? .serve(provider) : .refuse
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(HTTPHeadGuard(configuration: configuration, logger: logger))
                        // No outbound header validation: every response header is Thinboot's own (fixed names,
                        // numbers, a content type from its table, an ETag of digits), never a client's or a script's
                        // text, and checking each one byte by byte was a measurable share of a small response.
                        try operations.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: false,
                            withOutboundHeaderValidation: false)
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
