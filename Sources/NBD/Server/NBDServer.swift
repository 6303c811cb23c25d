import BootEvents
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The NBD server: main listeners serving every export by name, a listener per legacy port, and the shared
/// export store. Start it with `start()`, change exports with `reload(exports:)` or every setting with
/// `reload(to:)`, stop it with `shutdown()`.
public final class NBDServer: Sendable {
    /// One export's legacy port: a listener per listen host.
    private struct LegacyListener {
        /// The port asked for (0: any, the same on every host).
        var port: Int
        var style: NBDHandshakeStyle
        var channels: [(host: String, channel: Channel)]
    }

    private struct State {
        /// The settings new connections get (a reload replaces them; `exports` is the store's business).
        var configuration: NBDServerConfiguration
        /// Main listeners under the `listen` entry they were bound for (`"host:port"`, `"systemd"` for a socket
        /// passed in).
        var mainChannels: [(key: String, channel: Channel)] = []
        /// Legacy listeners by export name.
        var legacyChannels: [String: LegacyListener] = [:]
        var connections: [ObjectIdentifier: Channel] = [:]
        /// Open connections per client IP, for `maxConnectionsPerClient`.
        var connectionsPerClient: [String: Int] = [:]
        var stopping = false
    }

    private let group: any EventLoopGroup
    private let logger: Logger
    private let events: any BootEventSink
    /// The exports and their mapped images.
    public let store: NBDExportStore
    private let watcher: ImageFolderWatcher
    private let state: NIOLockedValueBox<State>

    /// `store` is shared with whatever else reads the images (route scripts); by default the server makes its own
    /// from `configuration`.
    public init(
        configuration: NBDServerConfiguration, store: NBDExportStore? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents()
    ) {
        state = NIOLockedValueBox(State(configuration: configuration))
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
        let configuration = state.withLockedValue { $0.configuration }
        for descriptor in configuration.inheritedListeners {
            let channel = try await bind(inherited: descriptor, scope: .allExports, style: .newstyle)
            state.withLockedValue { $0.mainChannels.append((key: "systemd", channel: channel)) }
        }
        for address in configuration.inheritedListeners.isEmpty ? configuration.listen : [] {
            let channel = try await bind(host: address.host, port: address.port, scope: .allExports, style: .newstyle)
            state.withLockedValue { $0.mainChannels.append((key: Self.key(address), channel: channel)) }
        }
        try await openLegacyListeners(for: configuration.exports)
        watcher.start()
    }

    /// The addresses the main listeners are bound to (with the real port when 0 was asked for).
    public var listeningAddresses: [SocketAddress] {
        state.withLockedValue { $0.mainChannels.compactMap(\.channel.localAddress) }
    }

    /// The port a legacy export is served on now, or nil.
    public func legacyPort(of exportName: String) -> Int? {
        state.withLockedValue { $0.legacyChannels[exportName]?.channels.first?.channel.localAddress?.port }
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
            return names.flatMap { state.legacyChannels.removeValue(forKey: $0)?.channels.map(\.channel) ?? [] }
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
            let listeners =
                state.mainChannels.map(\.channel) + state.legacyChannels.values.flatMap { $0.channels.map(\.channel) }
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

    /// Serves `configuration` from now on (SIGHUP): binds the `listen` addresses it adds (legacy ports too, on a
    /// new host), closes the listeners of the ones it removes — the connections they accepted go on — gives every
    /// connection that comes next its limits, and serves its exports as ``reload(exports:folders:)`` does. Throws
    /// when a new address cannot be bound, keeping the listeners it had. Sockets from systemd stay whatever `listen`
    /// says.
    public func reload(to configuration: NBDServerConfiguration) async throws {
        let (old, mains, stopping) = state.withLockedValue { ($0.configuration, $0.mainChannels, $0.stopping) }
        guard !stopping else { return }
        var next = configuration
        next.inheritedListeners = old.inheritedListeners
        let fromSystemd = !old.inheritedListeners.isEmpty
        let keys = fromSystemd ? ["systemd"] : next.listen.map(Self.key)
        var added: [(key: String, channel: Channel)] = []
        do {
            for address in fromSystemd ? [] : next.listen where !mains.contains(where: { $0.key == Self.key(address) })
            {
                added.append(
                    (
                        key: Self.key(address),
                        channel: try await bind(
                            host: address.host, port: address.port, scope: .allExports, style: .newstyle)
                    ))
            }
        } catch {
            for entry in added { try? await entry.channel.close() }
            throw error
        }
        let hosts = Self.hosts(next.listen)
        let closing = state.withLockedValue { state in
            state.configuration = next
            var closing = state.mainChannels.filter { !keys.contains($0.key) }.map(\.channel)
            state.mainChannels.removeAll { !keys.contains($0.key) }
            state.mainChannels += added
            // A legacy port follows the listen hosts: off a host no longer listed, onto a new one below.
            for name in state.legacyChannels.keys {
                closing += state.legacyChannels[name]!.channels.filter { !hosts.contains($0.host) }.map(\.channel)
                state.legacyChannels[name]!.channels.removeAll { !hosts.contains($0.host) }
            }
            return closing
        }
        for channel in closing { try? await channel.close() }
        try await reload(exports: next.exports, folders: next.imageFolders)
    }

    /// Binds the legacy port of each export that has one on every listen host it is not bound on yet.
    private func openLegacyListeners(for exports: [NBDExportDefinition]) async throws {
        let hosts = Self.hosts(state.withLockedValue { $0.configuration.listen })
        for export in exports {
            guard let port = export.legacyPort else { continue }
            let bound = state.withLockedValue { $0.legacyChannels[export.name]?.channels ?? [] }
            var channels: [(host: String, channel: Channel)] = []
            do {
                for host in hosts where !bound.contains(where: { $0.host == host }) {
                    // Port 0 (tests): the port the first host got, on every other host too.
                    let first = (bound + channels).first?.channel.localAddress?.port ?? 0
                    channels.append(
                        (
                            host: host,
                            channel: try await bind(
                                host: host, port: port == 0 ? first : port, scope: .legacy(exportName: export.name),
                                style: export.legacyStyle)
                        ))
                }
            } catch {
                for entry in channels { try? await entry.channel.close() }
                throw error
            }
            state.withLockedValue { state in
                var entry =
                    state.legacyChannels[export.name]
                    ?? LegacyListener(port: port, style: export.legacyStyle, channels: [])
                entry.channels += channels
                state.legacyChannels[export.name] = entry
            }
        }
    }

    /// The entry a listener is kept under.
    private static func key(_ address: (host: String, port: Int)) -> String { "\(address.host):\(address.port)" }

    /// The hosts of `listen`, each once, in order: every one gets each legacy port.
    private static func hosts(_ listen: [(host: String, port: Int)]) -> [String] {
        var hosts: [String] = []
        for address in listen where !hosts.contains(address.host) { hosts.append(address.host) }
        return hosts
    }

    /// A listener on `host:port`, or on the already bound socket `inherited` (socket activation).
    private func bind(
        host: String = "", port: Int = 0, inherited: CInt? = nil, scope: NBDListenerDirectory.Scope,
        style: NBDHandshakeStyle
    ) async throws -> Channel {
        let directory = NBDListenerDirectory(store: store, scope: scope, logger: logger)
        let logger = logger
        let events = events
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A client that half-closes after its last request still gets the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [weak self] channel in
                guard let self, let configuration = self.admit(channel) else {
                    // NIO closes a child whose initializer fails, before it is registered or greeted.
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                // The settings of the moment it came in: a reload applies to the next connection.
                let timeout = configuration.handshakeTimeout
                let grace = configuration.shutdownGrace
                let queuedReplies = configuration.maxQueuedReplyBytes
                return channel.eventLoop.makeCompletedFuture {
                    // Replies queue deep enough to keep many requests in flight; past the high mark the connection
                    // stops taking requests (each READ reply maps its pages in) until the client reads.
                    try channel.syncOptions?.setOption(
                        .writeBufferWaterMark, value: .init(low: queuedReplies / 8, high: queuedReplies))
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

    /// Counts a new connection against the caps and returns the settings it gets; nil (after a log line, unless
    /// the server is stopping) when it must be closed instead. No idle timeout: a mounted root is legitimately idle
    /// for hours.
    private func admit(_ channel: Channel) -> NBDServerConfiguration? {
        let id = ObjectIdentifier(channel)
        let client = channel.remoteAddress?.ipAddress ?? "-"
        var configuration: NBDServerConfiguration?
        let admission: Admission = state.withLockedValue { state in
            if state.stopping { return .stopping }
            configuration = state.configuration
            let (maximum, maximumPerClient) = (
                state.configuration.maxConnections, state.configuration.maxConnectionsPerClient
            )
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
        case .stopping: return nil
        case .refused(let reason):
            logger.warning(
                "nbd connection refused",
                metadata: ["nbd.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "-")", "nbd.outcome": "\(reason)"])
            return nil
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { state in
                state.connections.removeValue(forKey: id)
                let left = state.connectionsPerClient[client, default: 1] - 1
                state.connectionsPerClient[client] = left > 0 ? left : nil
            }
        }
        return configuration
    }
}
