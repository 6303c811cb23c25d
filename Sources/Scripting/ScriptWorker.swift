import Files
import Logging

/// One worker thread's Lua state and its compiled scripts. Compiles each script once per state, and again
/// only when the catalog holds a newer generation or the file changed.
final class ScriptWorker {
    private let limits: ScriptLimits
    private let host: any ScriptHost
    private let catalog: ScriptCatalog
    private let logger: Logger
    private var lua: LuaState?
    /// Compiled functions in `lua`: registry reference and the catalog generation they came from.
    private var compiled: [String: (reference: Int32, generation: Int)] = [:]

    init(limits: ScriptLimits, host: any ScriptHost, catalog: ScriptCatalog, logger: Logger) {
        self.limits = limits
        self.host = host
        self.catalog = catalog
        self.logger = logger
    }

    /// Runs `script`'s function with `argument`.
    func run(script: String, argument: ScriptValue, info: ScriptCallInfo) throws(ScriptError) -> ScriptAnswer {
        let lua = try state()
        defer { retireIfPoisoned() }
        let reference = try function(script, in: lua)
        return try lua.call(reference, argument: argument, info: info)
    }

    /// Compiles `script` (or confirms the current version), for `thinboot check`.
    func check(script: String) throws(ScriptError) {
        let lua = try state()
        defer { retireIfPoisoned() }
        _ = try function(script, in: lua)
    }

    private func state() throws(ScriptError) -> LuaState {
        if let lua { return lua }
        let fresh = try LuaState(limits: limits, host: host)
        lua = fresh
        return fresh
    }

    /// A state that hit its budget or memory cap is dropped with everything compiled in it.
    private func retireIfPoisoned() {
        if lua?.isPoisoned == true {
            lua = nil
            compiled = [:]
        }
    }

    /// The compiled function for `script`, reloading the file when it changed.
    private func function(_ script: String, in lua: LuaState) throws(ScriptError) -> Int32 {
        let entry = catalog.entry(script)
        if let entry {
            let current = FileVersion(path: script)
            // Gone or unreadable for a moment (being replaced): the previous version keeps serving.
            if current == nil || entry.isKnown(current) {
                return try compiledVersion(of: entry, script: script, in: lua)
            }
        }
        let file: OpenedFile
        let source: [UInt8]
        do throws(FileReadError) {
            file = try OpenedFile(path: script)
            source = try file.readWhole()
        } catch {
            if let entry { return try compiledVersion(of: entry, script: script, in: lua) }
            throw ScriptError(kind: .compile, script: script, line: nil, reason: "cannot read the script file")
        }
        let sighting = FileSighting(file.version)
        if let entry, source == entry.source {
            catalog.confirm(script, sighting: sighting)
            return try compiledVersion(of: entry, script: script, in: lua)
        }
        if let entry, let failed = entry.failed, source == failed.source {
            _ = catalog.reject(script, sighting: sighting, source: source)
            return try compiledVersion(of: entry, script: script, in: lua)
        }
        do {
            let reference = try lua.compile(source: source, script: script)
            let generation = catalog.accept(script, sighting: sighting, source: source)
            if let previous = compiled[script] { lua.release(previous.reference) }
            compiled[script] = (reference, generation)
            if entry != nil {
                logger.info("script reloaded", metadata: ["script": "\(script)"])
            }
            return reference
        } catch {
            guard let entry else { throw error }
            if catalog.reject(script, sighting: sighting, source: source) {
                logger.error(
                    "script changed but does not compile; the previous version keeps serving",
                    metadata: [
                        "script": "\(script)", "line": "\(error.line.map(String.init) ?? "-")",
                        "reason": "\(error.reason)",
                    ])
            }
            if lua.isPoisoned { throw error }
            return try compiledVersion(of: entry, script: script, in: lua)
        }
    }

    private func compiledVersion(of entry: ScriptCatalog.Entry, script: String, in lua: LuaState) throws(ScriptError)
        -> Int32
    {
        if let current = compiled[script], current.generation == entry.generation { return current.reference }
        let reference = try lua.compile(source: entry.source, script: script)
        if let previous = compiled[script] { lua.release(previous.reference) }
        compiled[script] = (reference, entry.generation)
        return reference
    }
}
