import BootEvents
import Images
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
    /// Listening sockets systemd passed, served instead of binding (socket activation).
    let activated: ActivatedSockets
    /// What ProxyDHCP learns per MAC, read by the TFTP router (one store for the whole process).
    let learned = DHCPLearnedClients()
    /// The NBD exports and their image versions, one store for the NBD server and the route scripts, so the
    /// version a generated config pins is the one the NBD server serves.
    let exportStore: NBDExportStore?

    public init(
        config: ThinbootConfig, roles: Set<ServerRole> = Set(ServerRole.allCases), logger: Logger,
        activated: ActivatedSockets = .none
    ) {
        self.config = config
        self.roles = roles
        self.logger = logger
        exportStore = config.nbd?.makeExportStore(logger: logger)
        self.activated = activated
    }

    /// Runs until SIGTERM/SIGINT, or until a server fails.
    public func run() async throws {
        // Trapped before any server binds: a SIGHUP sent as soon as a port answers must not kill the process.
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        var services: [any Service] = []
        // Made before the router, which reports its script runs to the metrics.
        let metrics = BootMetrics()
        let config = config
        // Only `[admin]` shows metrics: without it a script run costs no label or timer.
        let onScriptRun: @Sendable (String, Bool, Duration) -> Void
        if config.admin == nil {
            onScriptRun = { _, _, _ in }
        } else {
            onScriptRun = { script, succeeded, duration in
                metrics.scriptRan(
                    script: Self.scriptLabel(script, config: config), outcome: succeeded ? "ok" : "error",
                    duration: duration)
            }
        }
        // What requests taught (arch per IP) outlives every routing snapshot a reload makes.
        let clients = ClientMemory()
        let routing = try makeRouting(config, clients: clients, onScriptRun: onScriptRun).map(LiveRouting.init)
        // What `thinboot check` lists, once at start: a lease file that is missing or empty is seen at once.
        for file in routing?.snapshot.router?.leases.summaries() ?? [] {
            logger.info(
                "lease file",
                metadata: [
                    "leases.file": "\(file.path)", "leases.format": "\(file.format?.rawValue ?? "-")",
                    "leases.live": "\(file.live)", "leases.problem": "\(file.problem ?? "-")",
                ])
        }
        if let problem = config.nbd?.imageCache.folderProblem, config.tftp != nil {
            logger.warning("image cache folder not writable", metadata: ["image.cache": "\(problem)"])
        }
        let tracker = config.admin.map {
            Self.makeTracker(config: config, admin: $0, router: routing?.snapshot.router, metrics: metrics)
        }
        let events: any BootEventSink = tracker ?? IgnoredBootEvents()
        let runsTFTP = roles.contains(.tftp) && config.tftp != nil
        let runsHTTP = roles.contains(.http) && config.http != nil && config.tftp != nil
        let runsDHCP = roles.contains(.dhcp) && config.dhcp != nil
        let runsNBD = roles.contains(.nbd) && config.nbd != nil
        let running: [String?] = [
            runsTFTP ? "tftp" : nil, runsHTTP ? "http" : nil, runsNBD ? "nbd" : nil, runsDHCP ? "dhcp" : nil,
            config.admin != nil ? "admin" : nil,
        ]
        activated.closeUnused(running: Set(running.compactMap { $0 }), logger: logger)
        let readiness = ServeReadiness(
            servers: [runsTFTP, runsHTTP, runsDHCP, runsNBD].count(where: { $0 }), logger: logger)
        let server = self
        // What each running server takes from a reloaded config, in this order.
        var parts: [ReloadPart] = []
        if runsTFTP, let tftp = config.tftp, let routing {
            let service = makeTFTPService(tftp, routing: routing, readiness: readiness, events: events)
            services.append(service)
            parts.append(
                ReloadPart("tftp limits and listeners") { config in
                    guard let section = config.tftp else { return false }
                    return try await service.reload(to: server.tftpConfiguration(section))
                })
        }
        if runsHTTP, let http = config.http, let routing {
            let service = makeHTTPService(http, routing: routing, readiness: readiness, events: events)
            services.append(service)
            parts.append(
                ReloadPart("http limits and listeners") { config in
                    guard let section = config.http else { return false }
                    return try await service.reload(to: section.serverConfiguration())
                })
        }
        // After the servers that use it, so it stops first: see ScriptPoolService.
        if let routing { services.append(ScriptPoolService(routing: routing)) }
        // Whenever this process may run ProxyDHCP: a reload that adds `[dhcp]` starts it.
        if roles.contains(.dhcp) {
            let service = try await makeDHCPService(config, events: events, metrics: metrics, readiness: readiness)
            services.append(service)
            parts.append(
                ReloadPart("dhcp") { config in
                    // Made anew each time: the script's host sees the new config's exports, root and limits.
                    try service.reload(
                        to: try await server.dhcpSettings(config, events: events, metrics: metrics, compiled: true))
                })
        }
        if runsNBD, let section = config.nbd {
            let service = NBDService(
                section: section, store: exportStore, logger: logger, events: events,
                inheritedListeners: activated.sockets(for: "nbd"), onBound: { readiness.bound() })
            services.append(service)
            parts.append(
                ReloadPart("nbd listeners, limits and exports") { config in
                    guard let section = config.nbd else { return false }
                    try await service.server.reload(to: section.serverConfiguration())
                    return true
                })
        }
        guard runsTFTP || runsHTTP || runsDHCP || runsNBD else {
            let asked = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw ConfigError(
                file: config.file, key: nil,
                problem: "no server to run for \(asked): add a [\(asked)] section or change --only")
        }
        if let admin = config.admin, let tracker {
            let (service, provider) = makeAdminService(admin, tracker: tracker)
            services.append(service)
            parts.append(
                ReloadPart("admin listen and allow") { config in
                    guard let section = config.admin else { return false }
                    let allowChanged = provider.allow != section.allow
                    provider.allow = section.allow
                    return try await service.reload(to: section.serverConfiguration()) || allowChanged
                })
        }
        services.append(
            ReloadService(
                signals: reloads, running: config, routing: routing,
                makeRouting: { config in try server.makeRouting(config, clients: clients, onScriptRun: onScriptRun) },
                parts: parts, logger: logger))
        // Last, so its graceful shutdown (STOPPING=1) starts first.
        services.append(SystemdService())
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
    }
}
