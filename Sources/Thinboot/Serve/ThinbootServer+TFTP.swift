import BootEvents
import Files
import Logging
import ServiceLifecycle
import TFTP

extension ThinbootServer {
    /// The TFTP server's service for `[tftp]`; `router` is the one shared with HTTP, if the config has routes.
    func makeTFTPServices(
        _ section: TFTPSection, router: Router?, events: any BootEventSink = IgnoredBootEvents()
    ) throws -> [any Service] {
        let provider: any TFTPContentProvider = try router.map(TFTPRouteProvider.init) ?? StaticRoot(path: section.root)
        return [TFTPService(configuration: section.server, provider: provider, logger: logger, events: events)]
    }
}
