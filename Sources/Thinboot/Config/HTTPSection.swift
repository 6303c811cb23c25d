import HTTP
import NIOCore

/// `[http]`: the boot HTTP server. It serves the `[tftp] root` and the `[[tftp.route]]` table; this section only says
/// where it listens, the URL scripts hand out and its limits. The defaults are ``HTTPServerConfiguration``'s.
public struct HTTPSection: Sendable, Equatable {
    /// Addresses to listen on (`listen`), default `0.0.0.0:8080` and `[::]:8080`.
    public let listen: [ListenAddress]
    /// The base URL `thinboot.url()` uses (`advertise`, `http://host:port`), or nil for the address and port the
    /// client reached.
    public let advertise: String?
    /// Connections at once, in total (`max_connections`) and per client IP (`max_connections_per_client`).
    public let maxConnections: Int
    public let maxConnectionsPerClient: Int
    /// Seconds a keep-alive connection may sit idle (`idle_timeout`), and to send one request head (`header_timeout`).
    public let idleTimeout: Int
    public let headerTimeout: Int

    init(_ table: ConfigTable) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: HTTPServerConfiguration.defaultListen)
        advertise = try table.string("advertise").map { text throws(ConfigError) in
            guard text.hasPrefix("http://") || text.hasPrefix("https://"), text.count > "http://".count else {
                throw table.error("advertise", "\"\(text)\" is not a base URL: write \"http://boot.example.net:8080\"")
            }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        maxConnections = try table.int(
            "max_connections", default: HTTPServerConfiguration.defaultMaxConnections, in: 1...1_000_000)
        maxConnectionsPerClient = try table.int(
            "max_connections_per_client", default: HTTPServerConfiguration.defaultMaxConnectionsPerClient,
            in: 1...1_000_000)
        idleTimeout = try table.int(
            "idle_timeout", default: HTTPServerConfiguration.defaultIdleTimeoutSeconds, in: 1...3600)
        headerTimeout = try table.int(
            "header_timeout", default: HTTPServerConfiguration.defaultHeaderTimeoutSeconds, in: 1...3600)
        try table.finish()
    }

    /// The server settings of `[http]`.
    public func serverConfiguration() -> HTTPServerConfiguration {
        HTTPServerConfiguration(
            listen: listen.map { (host: $0.host, port: $0.port) }, maxConnections: maxConnections,
            maxConnectionsPerClient: maxConnectionsPerClient, idleTimeout: .seconds(idleTimeout),
            headerTimeout: .seconds(headerTimeout))
    }
}
