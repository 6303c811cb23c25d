import NIOCore

/// How a ``TFTPServer`` listens and what it grants. Defaults match `[tftp]`'s.
public struct TFTPServerConfiguration: Sendable {
    /// Addresses to listen on; port 0 picks a free port (see ``TFTPServer/localAddresses``).
    public var listen: [SocketAddress]
    /// The largest `blksize` granted; the MTU of the interface a request came in on caps it further.
    public var maxBlockSize: Int
    /// The largest `windowsize` granted.
    public var maxWindowSize: Int
    /// Seconds before a block is resent when the client did not negotiate `timeout`.
    public var timeout: Int
    /// Retransmissions in a row without progress before a transfer is given up.
    public var retries: Int
    /// Transfers in flight at once; past it, requests get ERROR 0 "server busy".
    public var maxTransfers: Int
    /// Transfers in flight at once from one client IP.
    public var maxTransfersPerClient: Int

    /// A configuration listening on `listen`, other values as `[tftp]`'s defaults.
    public init(
        listen: [SocketAddress], maxBlockSize: Int = 65464, maxWindowSize: Int = 64, timeout: Int = 1,
        retries: Int = 5, maxTransfers: Int = 4096, maxTransfersPerClient: Int = 64
    ) {
        self.listen = listen
        self.maxBlockSize = maxBlockSize
        self.maxWindowSize = maxWindowSize
        self.timeout = timeout
        self.retries = retries
        self.maxTransfers = maxTransfers
        self.maxTransfersPerClient = maxTransfersPerClient
    }

    var negotiationLimits: TFTPOptionNegotiation.Limits {
        .init(maxBlockSize: maxBlockSize, maxWindowSize: maxWindowSize, defaultTimeout: timeout)
    }
}
