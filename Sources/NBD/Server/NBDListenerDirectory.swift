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
        let definition: NBDExportDefinition?
        switch scope {
        case .allExports: definition = store.definition(named: name)
        case .legacy(let exportName): definition = store.definitions.first { $0.name == exportName }
        }
        guard let definition else { return nil }
        do {
            return try store.open(definition)
        } catch {
            logger.error(
                "cannot serve export", metadata: ["nbd.export": "\(definition.name)", "nbd.error": "\(error)"])
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
