import NIOCore
import TFTP

/// `[tftp]`: where the TFTP server listens, what it serves and its limits.
public struct TFTPSection: Sendable, Equatable {
    /// Addresses to listen on (`listen`), default `0.0.0.0:69` and `[::]:69`.
    public let listen: [ListenAddress]
    /// The static root (`root`), absolute. No request ever leaves it.
    public let root: String
    /// The server's listen addresses (resolved) and limits: `max_blksize`, `max_windowsize`, `timeout`,
    /// `max_timeout`, `retries`, `max_transfers`, `max_transfers_per_client`, `max_half_open`,
    /// `max_half_open_per_client`, `new_transfers_per_second`; defaults and ranges are the server type's own.
    public let server: TFTPServerConfiguration
    /// `[[tftp.route]]` in order: the first match wins.
    public let routes: [RouteConfig]
    /// `[tftp.arch]`: boot loader file names → `req.arch`, with sensible defaults.
    public let arch: ArchTable
    /// `[tftp.scripts]`: limits for route scripts.
    public let scripts: ScriptSettings

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: ["0.0.0.0:69", "[::]:69"])
        root = paths.resolve(try table.requiredString("root"))
        let defaults = TFTPServerConfiguration(listen: [])
        typealias Limits = TFTPServerConfiguration
        server = TFTPServerConfiguration(
            listen: try listen.enumerated().map { index, address throws(ConfigError) in
                do {
                    return try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
                } catch {
                    throw table.error("listen[\(index)]", "\"\(address)\" cannot be resolved (\(error))")
                }
            },
            maxBlockSize: try table.int("max_blksize", default: defaults.maxBlockSize, in: Limits.blockSizeRange),
            maxWindowSize: try table.int(
                "max_windowsize", default: defaults.maxWindowSize, in: Limits.windowSizeRange),
            timeout: try table.int("timeout", default: defaults.timeout, in: Limits.timeoutRange),
            maxTimeout: try table.int("max_timeout", default: defaults.maxTimeout, in: Limits.timeoutRange),
            retries: try table.int("retries", default: defaults.retries, in: Limits.retriesRange),
            maxTransfers: try table.int("max_transfers", default: defaults.maxTransfers, in: Limits.transfersRange),
            maxTransfersPerClient: try table.int(
                "max_transfers_per_client", default: defaults.maxTransfersPerClient, in: Limits.transfersRange),
            maxHalfOpen: try table.int("max_half_open", default: defaults.maxHalfOpen, in: Limits.transfersRange),
            maxHalfOpenPerClient: try table.int(
                "max_half_open_per_client", default: defaults.maxHalfOpenPerClient, in: Limits.transfersRange),
            newTransfersPerSecond: try table.int(
                "new_transfers_per_second", default: defaults.newTransfersPerSecond, in: Limits.transfersRange))
        routes = try table.tables("route").map { route throws(ConfigError) in try RouteConfig(route, paths: paths) }
        arch = try ArchTable(try table.table("arch"))
        scripts = try ScriptSettings(try table.table("scripts"))
        try table.finish()
    }
}
