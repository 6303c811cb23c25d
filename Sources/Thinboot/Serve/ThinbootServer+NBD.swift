import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The NBD server's services for `[nbd]`. (The NBD server lands here.)
    func makeNBDServices(_ section: NBDSection) throws -> [any Service] {
        []
    }
}
