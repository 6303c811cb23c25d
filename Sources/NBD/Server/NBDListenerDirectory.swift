import Logging

/// The exports one listener offers: every export by name on the main port, or one export for any name on a
/// legacy port (today's `nbd-client` sends `""` for `nbdroot=IP:PORT`, older setups any name at all).
struct NBDListenerDirectory: NBDExportDirectory {
    enum Scope: Sendable {
        case allExports
        case legacy(exportName: String)
    }

    let store: NBDExportStore
    let scope: Scope
    let logger: Logger

    func export(named name: String) -> NBDOpenExport? {
        do {
            switch scope {
            case .allExports:
                return try store.open(named: name)
            case .legacy(let exportName):
                guard let definition = store.definitions.first(where: { $0.name == exportName }) else { return nil }
                return try store.open(definition)
            }
        } catch {
            logger.error("cannot serve export", metadata: ["nbd.export": "\(name)", "nbd.error": "\(error)"])
            return nil
        }
    }

    func info(for export: NBDOpenExport) -> NBDExportInfo { export.info }

    func listing() -> [NBDExportInfo] {
        let definitions: [NBDExportDefinition]
        switch scope {
        case .allExports: definitions = store.definitions
        case .legacy(let exportName): definitions = store.definitions.filter { $0.name == exportName }
        }
        return definitions.compactMap { try? store.open($0).info }
    }
}
