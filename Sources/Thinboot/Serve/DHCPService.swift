import DHCP
import Logging
import ServiceLifecycle

/// The ProxyDHCP responder as a service: binds ports 67 and 4011 when the group starts (a bind failure ends
/// `serve` saying which port and what privilege it needs), answers until graceful shutdown.
public struct DHCPService: Service {
    private let configuration: ProxyDHCPConfiguration
    private let decide: ProxyDHCPServer.Decide
    private let observe: ProxyDHCPServer.Observe
    private let logger: Logger
    private let onBound: @Sendable ((dhcp: UInt16, bootServer: UInt16)) -> Void

    public init(
        configuration: ProxyDHCPConfiguration, decide: @escaping ProxyDHCPServer.Decide,
        observe: @escaping ProxyDHCPServer.Observe = { _ in }, logger: Logger,
        onBound: @escaping @Sendable ((dhcp: UInt16, bootServer: UInt16)) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.decide = decide
        self.observe = observe
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let server = try ProxyDHCPServer(
            configuration: configuration, decide: decide, observe: observe, logger: logger)
        logger.info(
            "dhcp proxy listening",
            metadata: [
                "dhcp.ports": "\(server.ports.dhcp),\(server.ports.bootServer)",
                "dhcp.interfaces":
                    "\(configuration.interfaces.isEmpty ? "all" : configuration.interfaces.joined(separator: ","))",
            ])
        onBound(server.ports)
        await withGracefulShutdownHandler {
            await server.run()
        } onGracefulShutdown: {
            server.shutdown()
        }
    }
}
