import Logging
import ServiceLifecycle

/// Runs every server a config enables (or the roles asked for) as services of one group, so SIGTERM and SIGINT
/// shut all of them down gracefully and one failing server stops the process with its error.
public struct ThinbootServer: Sendable {
    public let config: ThinbootConfig
    public let roles: Set<ServerRole>
    public let logger: Logger

    public init(config: ThinbootConfig, roles: Set<ServerRole> = Set(ServerRole.allCases), logger: Logger) {
        self.config = config
        self.roles = roles
        self.logger = logger
    }

    /// The services this config runs for the roles asked for. Each server adds its own below.
    func makeServices() throws -> [any Service] {
        var services: [any Service] = []
        if roles.contains(.tftp), let tftp = config.tftp {
            services.append(contentsOf: try makeTFTPServices(tftp))
        }
        if roles.contains(.nbd), let nbd = config.nbd {
            services.append(contentsOf: try makeNBDServices(nbd))
        }
        return services
    }

    /// Runs until SIGTERM/SIGINT, or until a server fails.
    public func run() async throws {
        let services = try makeServices()
        guard !services.isEmpty else {
            let asked = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw ConfigError(
                file: config.file, key: nil,
                problem: "no server to run for \(asked): add a [\(asked)] section or change --only")
        }
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
    }
}
