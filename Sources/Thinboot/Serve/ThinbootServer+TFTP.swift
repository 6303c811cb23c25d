import Logging
import ServiceLifecycle
import TFTP

extension ThinbootServer {
    /// The TFTP server's services for `[tftp]`.
    func makeTFTPServices(_ section: TFTPSection) throws -> [any Service] {
        [
            TFTPService(
                configuration: try section.serverConfiguration(), provider: try makeTFTPProvider(section),
                logger: logger)
        ]
    }

    /// What answers read requests: the Lua router when the config has routes (it falls back to the static
    /// root, and learns boot-loader architectures), else the static root alone.
    func makeTFTPProvider(_ section: TFTPSection) throws -> any TFTPContentProvider {
        guard !section.routes.isEmpty else { return try StaticRoot(path: section.root) }
        return try Router.make(config: config, tftp: section, learned: learned, logger: logger)
    }
}
