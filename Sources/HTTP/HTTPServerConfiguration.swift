/// The boot HTTP server's settings; every default is written here once (`[http]` in the config reads them).
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// Addresses to listen on, `(host, port)`; port 0 binds any free port (tests).
    public var listen: [(host: String, port: Int)]
    /// Listening TCP sockets handed over by a service manager (systemd socket activation), served instead of
    /// `listen` when not empty.
    public var inheritedListeners: [CInt] = []
    /// Connections held at once; past it a request gets 503 and the connection closes.
    public var maxConnections: Int
    /// The same, per client IP.
    public var maxConnectionsPerClient: Int
    /// How long a keep-alive connection may sit idle between requests before it is closed.
    public var idleTimeout: Duration
    /// How long a client may take to send one whole request head; a slower one is cut off.
    public var headerTimeout: Duration
    /// The longest request line; past it 414.
    public var maxRequestLineBytes: Int
    /// The longest request head (request line and headers); past it 431.
    public var maxHeadBytes: Int
    /// How long graceful shutdown waits for responses in flight before closing what is left.
    public var shutdownGrace: Duration

    public static let defaultListen = ["0.0.0.0:8080", "[::]:8080"]
    public static let defaultMaxConnections = 4096
    public static let defaultMaxConnectionsPerClient = 64
    public static let defaultIdleTimeoutSeconds = 30
    public static let defaultHeaderTimeoutSeconds = 10
    /// 8 KiB, as nginx's `large_client_header_buffers` and RFC 9112 §3's recommended minimum.
    public static let defaultMaxRequestLineBytes = 8 << 10
    public static let defaultMaxHeadBytes = 16 << 10

    public init(
        listen: [(host: String, port: Int)], maxConnections: Int = defaultMaxConnections,
        maxConnectionsPerClient: Int = defaultMaxConnectionsPerClient,
        idleTimeout: Duration = .seconds(defaultIdleTimeoutSeconds),
        headerTimeout: Duration = .seconds(defaultHeaderTimeoutSeconds),
        maxRequestLineBytes: Int = defaultMaxRequestLineBytes, maxHeadBytes: Int = defaultMaxHeadBytes,
        shutdownGrace: Duration = .seconds(10)
    ) {
        self.listen = listen
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeadBytes = maxHeadBytes
        self.shutdownGrace = shutdownGrace
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.listen.map { "\($0.host):\($0.port)" } == rhs.listen.map { "\($0.host):\($0.port)" }
            && lhs.maxConnections == rhs.maxConnections && lhs.maxConnectionsPerClient == rhs.maxConnectionsPerClient
            && lhs.idleTimeout == rhs.idleTimeout && lhs.headerTimeout == rhs.headerTimeout
            && lhs.maxRequestLineBytes == rhs.maxRequestLineBytes && lhs.maxHeadBytes == rhs.maxHeadBytes
            && lhs.shutdownGrace == rhs.shutdownGrace && lhs.inheritedListeners == rhs.inheritedListeners
    }
}
