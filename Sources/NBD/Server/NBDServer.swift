import BootEvents
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The NBD server: main listeners serving every export by name, a listener per legacy port, and the shared
/// export store. Start it with `start()`, change exports with `reload(exports:)`, stop it with `shutdown()`.
public final class NBDServer: Sendable {
    private struct State {
        var mainChannels: [Channel] = []
        /// Legacy listeners by export name (one per listen host), with the port they were asked for.
        var legacyChannels: [String: (port: Int, style: NBDHandshakeStyle, channels: [Channel])] = [:]
        var connections: [ObjectIdentifier: Channel] = [:]
        /// Open connections per client IP, for `maxConnectionsPerClient`.
        var connectionsPerClient: [String: Int] = [:]
        var stopping = false
    }

    private let configuration: NBDServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let events: any BootEventSink
    /// The exports and their mapped images.
    public let store: NBDExportStore
    private let watcher: ImageFolderWatcher
    private let state = NIOLockedValueBox(State())

    /// `store` is shared with whatever else reads the images (route scripts); by default the server makes its own
    /// from `configuration`.
    public init(
        configuration: NBDServerConfiguration, store: NBDExportStore? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents()
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.events = events
        let store =
            store
            ?? NBDExportStore(
                exports: configuration.exports, folders: configuration.imageFolders,
                keepReplaced: configuration.keepReplaced, logger: logger)
        self.store = store
        watcher = ImageFolderWatcher(store: store)
    }

    /// Binds every listener. Throws if an address is taken, naming it.
    public func start() async throws {
        // An image that cannot be opened is not fatal (it may appear before the first client asks); the store has
        // already said so in the log, once.
        store.refresh()
        for descriptor in configuration.inheritedListeners {
            let channel = try await bind(inherited: descriptor, scope: .allExports, style: .newstyle)
            state.withLockedValue { $0.mainChannels.append(channel) }
        }
        for address in configuration.inheritedListeners.isEmpty ? configuration.listen : [] {
            let channel = try await bind(host: address.host, port: address.port, scope: .allExports, style: .newstyle)
            state.withLockedValue { $0.mainChannels.append(channel) }
        }
        try await openLegacyListeners(for: configuration.exports)
        watcher.start()
    }

    /// The addresses the main listeners are bound to (with the real port when 0 was asked for).
    public var listeningAddresses: [SocketAddress] {
        state.withLockedValue { $0.mainChannels.compactMap(\.localAddress) }
    }

    /// The port a legacy export is served on now, or nil.
    public func legacyPort(of exportName: String) -> Int? {
        state.withLockedValue { $0.legacyChannels[exportName]?.channels.first?.localAddress?.port }
    }

    /// Replaces the exports (SIGHUP): new ones are served at once, removed ones refuse new clients, and legacy
    /// listeners open and close to match. Open connections keep their images and go on.
    public func reload(exports: [NBDExportDefinition], folders: [NBDImageFolder] = []) async throws {
        store.replace(exports, folders: folders)
        let wanted = Dictionary(
            exports.compactMap { export in export.legacyPort.map { (export.name, ($0, export.legacyStyle)) } },
            uniquingKeysWith: { first, _ in first })
        let obsolete = state.withLockedValue { state in
            let names = state.legacyChannels.filter { name, entry in
                guard let want = wanted[name] else { return true }
                return want.0 != entry.port || want.1 != entry.style
            }.map(\.key)
            return names.flatMap { state.legacyChannels.removeValue(forKey: $0)?.channels ?? [] }
        }
        for channel in obsolete { try? await channel.close() }
        try await openLegacyListeners(for: exports)
        logger.info("nbd exports reloaded", metadata: ["nbd.exports": "\(exports.count)"])
    }

    /// Stops listening, answers further requests with `ESHUTDOWN`, and waits for connections to close (each is
    /// closed after the shutdown grace period at the latest).
    public func shutdown() async {
        let (listeners, connections) = state.withLockedValue { state in
            state.stopping = true
            let listeners = state.mainChannels + state.legacyChannels.values.flatMap(\.channels)
            state.mainChannels = []
            state.legacyChannels = [:]
            return (listeners, Array(state.connections.values))
        }
        for listener in listeners { try? await listener.close() }
        await watcher.stop()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        for connection in connections { try? await connection.closeFuture.get() }
    }

    private func openLegacyListeners(for exports: [NBDExportDefinition]) async throws {
        for export in exports {
            guard let port = export.legacyPort else { continue }
            let open = state.withLockedValue { $0.legacyChannels[export.name] != nil }
            if open { continue }
            // Every listen host gets the legacy port too (IPv4 and IPv6 alike).
            var channels: [Channel] = []
            do {
                for address in configuration.listen {
                    channels.append(
                        try await bind(
                            host: address.host, port: port == 0 ? (channels.first?.localAddress?.port ?? 0) : port,
                            scope: .legacy(exportName: export.name), style: export.legacyStyle))
                }
            } catch {
                for channel in channels { try? await channel.close() }
                throw error
            }
            state.withLockedValue { $0.legacyChannels[export.name] = (port, export.legacyStyle, channels) }
        }
    }

    /// A listener on `host:port`, or on the already bound socket `inherited` (socket activation).
    private func bind(
        host: String = "", port: Int = 0, inherited: CInt? = nil, scope: NBDListenerDirectory.Scope,
        style: NBDHandshakeStyle
    ) async throws -> Channel {
        let directory = NBDListenerDirectory(store: store, scope: scope, logger: logger)
        let timeout = configuration.handshakeTimeout
        let grace = configuration.shutdownGrace
        let queuedReplies = configuration.maxQueuedReplyBytes
        let logger = logger
        let events = events
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A client that half-closes after its last request still gets the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Replies queue deep enough to keep many requests in flight; past the high mark the connection stops
            // taking requests (each READ reply maps its pages in) until the client reads.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: queuedReplies / 8, high: queuedReplies))
            .childChannelInitializer { [weak self] channel in
                guard let self, self.admit(channel) else {
                    // NIO closes a child whose initializer fails, before it is registered or greeted.
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NBDConnectionHandler(
                            directory: directory, style: style, handshakeTimeout: timeout, shutdownGrace: grace,
                            logger: logger, events: events))
                }
            }
        if host.contains(":") {
            // Let "[::]:P" and "0.0.0.0:P" be listed side by side without the IPv6 socket taking both.
            bootstrap = bootstrap.serverChannelOption(
                ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        do {
            let channel = try await
                (inherited.map { bootstrap.withBoundSocket($0) } ?? bootstrap.bind(host: host, port: port))
                .get()
            logger.info(
                "nbd listening",
                metadata: [
                    "nbd.address": "\(channel.localAddress.map { "\($0)" } ?? "\(host):\(port)")",
                    "nbd.scope": "\(scope)", "nbd.handshake": "\(style)",
                ])
            return channel
        } catch {
            throw NBDServerError(
                address: inherited.map { "socket \($0) from systemd" } ?? "\(host):\(port)", underlying: error)
        }
    }

    /// What `admit` decided for a new connection.
    private enum Admission {
        case admitted
        case stopping
        case refused(reason: String)
    }

    /// Counts a new connection against the caps; false (after a log line, unless the server is stopping) when
    /// it must be closed instead. No idle timeout: a mounted root is legitimately idle for hours.
    private func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let client = channel.remoteAddress?.ipAddress ?? "-"
        let (maximum, maximumPerClient) = (configuration.maxConnections, configuration.maxConnectionsPerClient)
        let admission: Admission = state.withLockedValue { state in
            if state.stopping { return .stopping }
            if state.connections.count >= maximum {
                return .refused(
                    reason:
                        "too many connections (max_connections = \(maximum)); raise it in [nbd] if the clients are real"
                )
            }
            if state.connectionsPerClient[client, default: 0] >= maximumPerClient {
                return .refused(
                    reason:
                        "too many connections from this client (max_connections_per_client = \(maximumPerClient)); raise it in [nbd] for clients behind one address"
                )
            }
            state.connections[id] = channel
            state.connectionsPerClient[client, default: 0] += 1
            return .admitted
        }
        switch admission {
        case .admitted: break
        case .stopping: return false
        case .refused(let reason):
            logger.warning(
                "nbd connection refused",
                metadata: ["nbd.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "-")", "nbd.outcome": "\(reason)"])
            return false
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { state in
                state.connections.removeValue(forKey: id)
                let left = state.connectionsPerClient[client, default: 1] - 1
                state.connectionsPerClient[client] = left > 0 ? left : nil
            }
        }
        return true
    }
}
