import BootEvents
import HTTP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The boot tracker every server reports to: stages by `[[admin.stage]]` tags, then route `stage` tags, then
    /// the common names; a client's MAC, when no event names it, from what the router learned or the kernel's
    /// neighbour table.
    static func makeTracker(config: ThinbootConfig, admin: AdminSection, router: Router?, metrics: BootMetrics)
        -> BootTracker
    {
        let routes = config.tftp?.routes ?? []
        let classifier = StageClassifier(
            tags: admin.stages + routes.compactMap(\.stage), routes: routes.map(\.pattern))
        return BootTracker(
            classifier: classifier, arch: config.tftp?.arch ?? ArchTable(), capacity: admin.clients,
            history: .seconds(admin.historyHours * 3600), metrics: metrics,
            macForIP: { ip in
                if let known = router?.clients.learnedMAC(for: ip) { return (known.mac, known.source.rawValue) }
                if let mac = NeighbourTable().mac(for: ip), mac.isClientAddress { return (mac, "neighbour table") }
                return nil
            })
    }

    /// The admin listener for `[admin]`: the boot HTTP server's stack with the admin pages as its provider (whose
    /// `allow` a reload replaces), and no events of its own (its requests are no client's boot). Sockets from
    /// systemd named `admin` replace `listen`.
    func makeAdminService(_ section: AdminSection, tracker: BootTracker) -> (
        server: HTTPServer, provider: AdminProvider
    ) {
        var logger = logger
        logger[metadataKey: "listener"] = "admin"
        let provider = AdminProvider(tracker: tracker, allow: section.allow)
        var configuration = section.serverConfiguration()
        configuration.inheritedListeners = activated.sockets(for: "admin")
        return (HTTPServer(configuration: configuration, provider: provider, logger: logger), provider)
    }

    /// A script's name for the metrics' `script` label: its path relative to the config's folder (bounded by the
    /// config, never a request's file name).
    static func scriptLabel(_ script: String, config: ThinbootConfig) -> String {
        let folder = config.directory.hasSuffix("/") ? config.directory : config.directory + "/"
        return script.hasPrefix(folder) ? String(script.dropFirst(folder.count)) : script
    }
}
