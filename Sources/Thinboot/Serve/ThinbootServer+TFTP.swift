import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The TFTP server's services for `[tftp]`. (The TFTP server lands here.)
    func makeTFTPServices(_ section: TFTPSection) throws -> [any Service] {
        []
    }
}
