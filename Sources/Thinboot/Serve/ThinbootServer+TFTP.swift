import Files
import Logging
import ServiceLifecycle
import TFTP

extension ThinbootServer {
    /// The TFTP server's services for `[tftp]`.
    func makeTFTPServices(_ section: TFTPSection) throws -> [any Service] {
        let provider = try makeTFTPProvider(section)
        let tftp = TFTPService(configuration: section.server, provider: provider, logger: logger)
        guard let routes = provider as? TFTPRouteProvider else { return [tftp] }
        // After TFTP, so it stops first: see ScriptPoolService.
        return [tftp, ScriptPoolService(pool: routes.router.pool)]
    }

    /// What answers read requests: the Lua router when the config has routes (it falls back to the static
    /// root, and learns boot-loader architectures), else the static root alone.
    func makeTFTPProvider(_ section: TFTPSection) throws -> any TFTPContentProvider {
        guard !section.routes.isEmpty else { return try StaticRoot(path: section.root) }
        return TFTPRouteProvider(router: try Router.make(config: config, tftp: section, logger: logger))
    }
}
