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

    /// What answers read requests: the static root.
    func makeTFTPProvider(_ section: TFTPSection) throws -> any TFTPContentProvider {
        try StaticRoot(path: section.root)
    }
}
