import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The NBD server's services for `[nbd]`.
    func makeNBDServices(_ section: NBDSection) throws -> [any Service] {
        [NBDService(section: section, configFile: config.file, logger: logger)]
    }
}
