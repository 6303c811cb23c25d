import BootEvents
import Files
import HTTP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The HTTP server for `[http]`: the `[tftp]` root and routes through `routing`, the same snapshot TFTP answers
    /// from (so what one protocol learns about a client the other sees).
    func makeHTTPService(
        _ section: HTTPSection, routing: LiveRouting, readiness: ServeReadiness,
        events: any BootEventSink = IgnoredBootEvents()
    ) -> HTTPServer {
        var configuration = section.serverConfiguration()
        configuration.inheritedListeners = activated.sockets(for: "http")
        return HTTPServer(
            configuration: configuration, provider: HTTPRouteProvider(live: routing), logger: logger, events: events
        ) { _ in readiness.bound() }
    }

    /// The root and router TFTP and HTTP answer from, made from `config` (at start, and again on each reload);
    /// nil when this process runs neither. `clients` carries what earlier requests taught across reloads.
    func makeRouting(
        _ config: ThinbootConfig, clients: ClientMemory,
        onScriptRun: @escaping @Sendable (String, Bool, Duration) -> Void = { _, _, _ in }
    ) throws -> LiveRouting.Snapshot? {
        guard let tftp = config.tftp,
            (roles.contains(.tftp)) || (roles.contains(.http) && config.http != nil)
        else { return nil }
        guard !tftp.routes.isEmpty else {
            return LiveRouting.Snapshot(root: try StaticRoot(path: tftp.root), router: nil)
        }
        let router = try Router.make(
            config: config, tftp: tftp, learned: learned, exportStore: exportStore, clients: clients,
            onScriptRun: onScriptRun, logger: logger)
        return LiveRouting.Snapshot(root: router.root, router: router)
    }
}
