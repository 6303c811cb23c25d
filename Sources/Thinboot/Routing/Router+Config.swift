import Files
import Logging
import NBD
import Scripting

extension Router {
    /// The router a config describes: its routes over `[tftp] root`, scripts on a worker pool with the config's
    /// limits, `thinboot.data` under the config's folder, `thinboot.exports()` from `[nbd]`.
    public static func make(
        config: ThinbootConfig, tftp: TFTPSection, learned: DHCPLearnedClients = DHCPLearnedClients(),
        exportStore: NBDExportStore? = nil, clients: ClientMemory = ClientMemory(),
        onScriptRun: @escaping @Sendable (String, Bool, Duration) -> Void = { _, _, _ in }, logger: Logger
    ) throws -> Router {
        let root = try StaticRoot(path: tftp.root)
        // One store for exports() and files inside images: the versions a config pins are the ones served.
        let exportStore = exportStore ?? config.nbd?.makeExportStore(logger: logger)
        let images = ImageExports(nbd: config.nbd, store: exportStore)
        let host = ThinbootScriptHost(
            root: root.directory, dataRoot: try ConfinedDirectory(path: config.directory), nbd: config.nbd,
            exportStore: exportStore, http: config.http, images: images,
            imageReadLimit: tftp.scripts.limits.maxResultBytes, logger: logger)
        let pool = ScriptPool(
            host: host, limits: tftp.scripts.limits, workers: tftp.scripts.workers, logger: logger)
        let leases = LeaseFiles(paths: config.clients?.leases ?? [], logger: logger)
        return Router(
            routes: tftp.routes, root: root, pool: pool, arch: tftp.arch, clients: clients, learned: learned,
            leases: leases, images: images, onScriptRun: onScriptRun, logger: logger)
    }

    /// Compiles every route's script (running its top-level code once), returning the errors found.
    public func checkScripts() async -> [ScriptError] {
        var errors: [ScriptError] = []
        for script in Set(routes.map(\.script)).sorted() {
            do {
                try await pool.check(script: script)
            } catch {
                errors.append(error)
            }
        }
        return errors
    }
}
