import TFTP

/// `[tftp]`: where the TFTP server listens, what it serves and its limits.
public struct TFTPSection: Sendable {
    /// Addresses to listen on (`listen`), default `0.0.0.0:69` and `[::]:69`.
    public let listen: [ListenAddress]
    /// The static root (`root`), absolute. No request ever leaves it.
    public let root: String
    /// The largest `blksize` granted (`max_blksize`, 8...65464); the interface MTU caps it further.
    public let maxBlockSize: Int
    /// The largest `windowsize` granted (`max_windowsize`, 1...65535, default 64).
    public let maxWindowSize: Int
    /// Seconds before a block is resent when the client did not ask for `timeout` (`timeout`, 1...255).
    public let timeout: Int
    /// The largest `timeout` a client may negotiate (`max_timeout`, 1...255); a larger one is declined.
    public let maxTimeout: Int
    /// How many times a block is resent before the transfer is given up (`retries`).
    public let retries: Int
    /// Transfers in flight at once, in total (`max_transfers`) and per client IP (`max_transfers_per_client`).
    public let maxTransfers: Int
    public let maxTransfersPerClient: Int
    /// Half-open transfers (no first ACK yet) at once, in total (`max_half_open`) and per client IP
    /// (`max_half_open_per_client`).
    public let maxHalfOpen: Int
    public let maxHalfOpenPerClient: Int
    /// Transfers a client IP may start per second and leave unacknowledged (`new_transfers_per_second`).
    public let newTransfersPerSecond: Int
    /// `[[tftp.route]]` in order: the first match wins.
    public let routes: [RouteConfig]
    /// `[tftp.arch]`: boot loader file names → `req.arch`, with sensible defaults.
    public let arch: ArchTable
    /// `[tftp.scripts]`: limits for route scripts.
    public let scripts: ScriptSettings

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: ["0.0.0.0:69", "[::]:69"])
        root = paths.resolve(try table.requiredString("root"))
        maxBlockSize = try table.int("max_blksize", default: 65464, in: 8...65464)
        maxWindowSize = try table.int("max_windowsize", default: 64, in: 1...65535)
        timeout = try table.int("timeout", default: 1, in: 1...255)
        let defaults = TFTPServerConfiguration(listen: [])
        maxTimeout = try table.int("max_timeout", default: defaults.maxTimeout, in: 1...255)
        retries = try table.int("retries", default: 5, in: 1...100)
        maxTransfers = try table.int("max_transfers", default: 4096, in: 1...1_000_000)
        maxTransfersPerClient = try table.int("max_transfers_per_client", default: 64, in: 1...1_000_000)
        maxHalfOpen = try table.int("max_half_open", default: defaults.maxHalfOpen, in: 1...1_000_000)
        maxHalfOpenPerClient = try table.int(
            "max_half_open_per_client", default: defaults.maxHalfOpenPerClient, in: 1...1_000_000)
        newTransfersPerSecond = try table.int(
            "new_transfers_per_second", default: defaults.newTransfersPerSecond, in: 1...1_000_000)
        routes = try table.tables("route").map { route throws(ConfigError) in try RouteConfig(route, paths: paths) }
        arch = try ArchTable(try table.table("arch"))
        scripts = try ScriptSettings(try table.table("scripts"))
        try table.finish()
    }
}
