import NIOCore

/// How a ``TFTPServer`` listens and what it grants. Each limit's default is written once, in ``init``, and its range
/// once, below; `[tftp]` in the config file builds this type from them.
public struct TFTPServerConfiguration: Sendable, Equatable {
    /// `blksize` (RFC 2348): 8 to 65464 bytes.
    public static let blockSizeRange = 8...65464
    /// `windowsize` (RFC 7440): 1 to 65535 blocks.
    public static let windowSizeRange = 1...65535
    /// `timeout` (RFC 2349): 1 to 255 seconds.
    public static let timeoutRange = 1...255
    /// Resends in a row without progress.
    public static let retriesRange = 1...100
    /// Transfers in flight, in total or per client.
    public static let transfersRange = 1...1_000_000

    /// Addresses to listen on; port 0 picks a free port (see ``TFTPServer/localAddresses``).
    public var listen: [SocketAddress]
    /// Bound UDP sockets handed over (systemd socket activation, or the server a reload replaces), served besides
    /// the `listen` addresses; the server owns and closes them.
    public var inheritedSockets: [CInt] = []
    /// The largest `blksize` granted; the MTU of the interface a request came in on caps it further.
    public var maxBlockSize: Int
    /// The largest `windowsize` granted.
    public var maxWindowSize: Int
    /// Seconds before a block is resent when the client did not negotiate `timeout`; later resends back off.
    public var timeout: Int
    /// The largest `timeout` a client may negotiate; a larger one is left out of the OACK.
    public var maxTimeout: Int
    /// Retransmissions in a row without progress before a transfer is given up.
    public var retries: Int
    /// Transfers in flight at once; past it, requests are not answered (the client asks again).
    public var maxTransfers: Int
    /// Transfers in flight at once from one client IP.
    public var maxTransfersPerClient: Int
    /// Half-open transfers (no ACK from the client yet) at once, in total.
    public var maxHalfOpen: Int
    /// Half-open transfers at once from one client IP.
    public var maxHalfOpenPerClient: Int
    /// Transfers one client IP may start per second and leave unacknowledged.
    public var newTransfersPerSecond: Int

    /// A configuration listening on `listen`, other values as `[tftp]`'s defaults.
    public init(
        listen: [SocketAddress], maxBlockSize: Int = 65464, maxWindowSize: Int = 64, timeout: Int = 1,
        maxTimeout: Int = 5, retries: Int = 5, maxTransfers: Int = 4096, maxTransfersPerClient: Int = 64,
        maxHalfOpen: Int = 1024, maxHalfOpenPerClient: Int = 8, newTransfersPerSecond: Int = 16
    ) {
        self.listen = listen
        self.maxBlockSize = maxBlockSize
        self.maxWindowSize = maxWindowSize
        self.timeout = timeout
        self.maxTimeout = maxTimeout
        self.retries = retries
        self.maxTransfers = maxTransfers
        self.maxTransfersPerClient = maxTransfersPerClient
        self.maxHalfOpen = maxHalfOpen
        self.maxHalfOpenPerClient = maxHalfOpenPerClient
        self.newTransfersPerSecond = newTransfersPerSecond
    }

    var negotiationLimits: TFTPOptionNegotiation.Limits {
        .init(maxBlockSize: maxBlockSize, maxWindowSize: maxWindowSize, defaultTimeout: timeout, maxTimeout: maxTimeout)
    }

    var admissionLimits: TransferAdmission.Limits {
        .init(
            maxTransfers: maxTransfers, maxTransfersPerClient: maxTransfersPerClient, maxHalfOpen: maxHalfOpen,
            maxHalfOpenPerClient: maxHalfOpenPerClient, newTransfersPerSecond: newTransfersPerSecond)
    }
}
