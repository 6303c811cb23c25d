import Logging
import NBD
import ServiceLifecycle
import UnixSignals

/// The NBD server as a service: binds at start, reloads the export list from the config file on SIGHUP without
/// dropping connections, and on graceful shutdown answers `ESHUTDOWN` and closes.
public struct NBDService: Service {
    /// The server; tests read its bound addresses.
    public let server: NBDServer
    private let configFile: String
    private let logger: Logger

    public init(section: NBDSection, configFile: String, logger: Logger) {
        server = NBDServer(configuration: section.serverConfiguration(), logger: logger)
        self.configFile = configFile
        self.logger = logger
    }

    public func run() async throws {
        try await server.start()
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in reloads { await reload() }
            }
            // Returns when graceful shutdown starts (or the task is cancelled).
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await server.shutdown()
    }

    /// Re-reads the config file and applies its `[nbd]` exports; a broken file keeps the current exports.
    private func reload() async {
        do {
            let config = try ThinbootConfig.load(path: configFile)
            try await server.reload(exports: config.nbd?.exports.map(\.definition) ?? [])
        } catch {
            logger.error("nbd reload failed; keeping the current exports", metadata: ["nbd.error": "\(error)"])
        }
    }
}
