import BootEvents
import Files
import HTTP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The HTTP server's service for `[http]`: the `[tftp]` root and routes, through `router` when there are routes
    /// (the same one TFTP uses, so what one protocol learns about a client the other sees).
    func makeHTTPServices(
        _ section: HTTPSection, tftp: TFTPSection, router: Router?, events: any BootEventSink = IgnoredBootEvents()
    ) throws -> [any Service] {
        let provider = HTTPRouteProvider(root: try router?.root ?? StaticRoot(path: tftp.root), router: router)
        return [
            HTTPServer(configuration: section.serverConfiguration(), provider: provider, logger: logger, events: events)
        ]
    }

    /// The router both TFTP and HTTP answer through, when the config has routes and runs either.
    func makeSharedRouter(
        onScriptRun: @escaping @Sendable (String, Bool, Duration) -> Void = { _, _, _ in }
    ) throws -> Router? {
        guard let tftp = config.tftp, !tftp.routes.isEmpty,
            (roles.contains(.tftp) && config.tftp != nil) || (roles.contains(.http) && config.http != nil)
        else { return nil }
        return try Router.make(
            config: config, tftp: tftp, learned: learned, exportStore: exportStore, onScriptRun: onScriptRun,
            logger: logger)
    }
}
