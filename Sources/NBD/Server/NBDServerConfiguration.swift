import NIOCore

/// How an `NBDServer` runs: where it listens, what it exports, its timeouts and its limits. Each default is
/// written here once; the config file's `[nbd]` section starts from these.
public struct NBDServerConfiguration: Sendable {
    /// The main listeners, serving every export by name (host, port); port 0 picks a free port.
    public var listen: [(host: String, port: Int)]
    /// Listening TCP sockets handed over by a service manager (systemd socket activation), served as the main
    /// listeners instead of `listen` when not empty.
    public var inheritedListeners: [CInt] = []
    /// The exports; those with a `legacyPort` also get a listener of their own.
    public var exports: [NBDExportDefinition]
    /// Folders whose `*.img` files are exports too (after the configured ones, which win a name).
    public var imageFolders: [NBDImageFolder]
    /// How long a replaced image version stays servable by `NAME@VERSION`.
    public var keepReplaced: Duration
    /// A client that has not finished the handshake by then is disconnected.
    public var handshakeTimeout: TimeAmount
    /// How long connections may go on after shutdown starts (answering `ESHUTDOWN`) before they are closed.
    public var shutdownGrace: TimeAmount
    /// Connections open at once, over every listener; one more is closed before the greeting, with a log line.
    public var maxConnections: Int
    /// The same, per client IP address: one host cannot take every slot.
    public var maxConnectionsPerClient: Int
    /// Reply bytes a connection may have queued before it stops taking requests until the client reads. READ
    /// replies point into the mapping, but each one pulls its pages into memory, so this bounds how much of the
    /// image a client that does not read its replies makes the server touch (plus one reply of at most
    /// `NBDLimits.maximumRequestLength`).
    public var maxQueuedReplyBytes: Int

    public static let defaultMaxConnections = 4096
    public static let defaultMaxConnectionsPerClient = 64
    public static let defaultMaxQueuedReplyBytes = 8 << 20

    /// The ranges the config file accepts.
    public static let connectionLimitRange = 1...1_000_000
    public static let queuedReplyBytesRange = (64 << 10)...(1 << 30)
    /// Seconds, for `keep_replaced`: up to a day.
    public static let keepReplacedSecondsRange = 0...86_400

    public init(
        listen: [(host: String, port: Int)], exports: [NBDExportDefinition], imageFolders: [NBDImageFolder] = [],
        keepReplaced: Duration = NBDExportStore.defaultKeepReplaced,
        handshakeTimeout: TimeAmount = .seconds(10), shutdownGrace: TimeAmount = .seconds(2),
        maxConnections: Int = defaultMaxConnections, maxConnectionsPerClient: Int = defaultMaxConnectionsPerClient,
        maxQueuedReplyBytes: Int = defaultMaxQueuedReplyBytes
    ) {
        self.listen = listen
        self.exports = exports
        self.imageFolders = imageFolders
        self.keepReplaced = keepReplaced
        self.handshakeTimeout = handshakeTimeout
        self.shutdownGrace = shutdownGrace
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.maxQueuedReplyBytes = maxQueuedReplyBytes
    }
}
