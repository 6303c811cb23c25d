import BootEvents
import Logging
import NBD
import ServiceLifecycle
import UnixSignals

/// Runs every server a config enables (or the roles asked for) as services of one group, so SIGTERM and SIGINT
/// shut all of them down gracefully, SIGHUP reloads the config (``ReloadService``), and one failing server stops
/// the process with its error.
public struct ThinbootServer: Sendable {
    public let config: ThinbootConfig
    public let roles: Set<ServerRole>
    public let logger: Logger
    /// What ProxyDHCP learns per MAC, read by the TFTP router (one store for the whole process).
    let learned = DHCPLearnedClients()
    /// The NBD exports and their image versions, one store for the NBD server and the route scripts, so the
    /// version a generated config pins is the one the NBD server serves.
    let exportStore: NBDExportStore?

    public init(config: ThinbootConfig, roles: Set<ServerRole> = Set(ServerRole.allCases), logger: Logger) {
        self.config = config
        self.roles = roles
        self.logger = logger
        exportStore = config.nbd?.makeExportStore(logger: logger)
    }

    /// Runs until SIGTERM/SIGINT, or until a server fails.
    public func run() async throws {
        // Trapped before any server binds: a SIGHUP sent as soon as a port answers must not kill the process.
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        var services: [any Service] = []
        // Made before the router, which reports its script runs to the metrics.
        let metrics = BootMetrics()
        let config = config
        let router = try makeSharedRouter { script, succeeded, duration in
            metrics.scriptRan(
                script: Self.scriptLabel(script, config: config), outcome: succeeded ? "ok" : "error",
                duration: duration)
        }
        // What `thinboot check` lists, once at start: a lease file that is missing or empty is seen at once.
        for file in router?.leases.summaries() ?? [] {
            logger.info(
                "lease file",
                metadata: [
                    "leases.file": "\(file.path)", "leases.format": "\(file.format?.rawValue ?? "-")",
                    "leases.live": "\(file.live)", "leases.problem": "\(file.problem ?? "-")",
                ])
        }
        let tracker = config.admin.map { Self.makeTracker(config: config, admin: $0, router: router, metrics: metrics) }
        let events: any BootEventSink = tracker ?? IgnoredBootEvents()
        if roles.contains(.tftp), let tftp = config.tftp {
            services.append(contentsOf: try makeTFTPServices(tftp, router: router, events: events))
        }
        if roles.contains(.http), let http = config.http, let tftp = config.tftp {
            services.append(contentsOf: try makeHTTPServices(http, tftp: tftp, router: router, events: events))
        }
        // After the servers that use it, so it stops first: see ScriptPoolService.
        if let router { services.append(ScriptPoolService(pool: router.pool)) }
        if roles.contains(.dhcp), let dhcp = config.dhcp {
            services.append(try makeDHCPService(dhcp, events: events, metrics: metrics))
        }
        var nbd: NBDService?
        if roles.contains(.nbd), let section = config.nbd {
            nbd = NBDService(section: section, store: exportStore, logger: logger, events: events)
            services.append(nbd!)
        }
        guard !services.isEmpty else {
            let asked = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw ConfigError(
                file: config.file, key: nil,
                problem: "no server to run for \(asked): add a [\(asked)] section or change --only")
        }
        if let admin = config.admin, let tracker { services.append(makeAdminService(admin, tracker: tracker)) }
        services.append(ReloadService(signals: reloads, running: config, roles: roles, nbd: nbd, logger: logger))
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
    }
}
