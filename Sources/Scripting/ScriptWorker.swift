import Logging

/// One worker thread's Lua state and its compiled scripts. Compiles each script once per state, and again
/// only when the catalog holds a newer version or the file changed.
final class ScriptWorker {
    private let limits: ScriptLimits
    private let host: any ScriptHost
    private let catalog: ScriptCatalog
    private let logger: Logger
    private var lua: LuaState?
    /// Compiled functions in `lua`: registry reference and the catalog version they came from.
    private var compiled: [String: (reference: Int32, version: Int)] = [:]

    init(limits: ScriptLimits, host: any ScriptHost, catalog: ScriptCatalog, logger: Logger) {
        self.limits = limits
        self.host = host
        self.catalog = catalog
        self.logger = logger
    }

    /// Runs `script`'s function with `argument`.
    func run(script: String, argument: ScriptValue, info: ScriptCallInfo) throws(ScriptError) -> ScriptOutput {
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

    /// The compiled function for `script`, reloading the file when its stamp changed.
    private func function(_ script: String, in lua: LuaState) throws(ScriptError) -> Int32 {
        let entry = catalog.entry(script)
        let stamp = FileStamp(path: script)
        if let entry, stamp == nil || stamp == entry.stamp || stamp == entry.failedStamp {
            return try compiledVersion(of: entry, script: script, in: lua)
        }
        guard let stamp, let source = readWholeFile(script) else {
            throw ScriptError(kind: .compile, script: script, line: nil, reason: "cannot read the script file")
        }
        do {
            let reference = try lua.compile(source: source, script: script)
            let version = catalog.accept(script, stamp: stamp, source: source)
            if let previous = compiled[script] { lua.release(previous.reference) }
            compiled[script] = (reference, version)
            if entry != nil {
                logger.info("script reloaded", metadata: ["script": "\(script)"])
            }
            return reference
        } catch {
            guard let entry else { throw error }
            if catalog.reject(script, stamp: stamp) {
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
        if let current = compiled[script], current.version == entry.version { return current.reference }
        let reference = try lua.compile(source: entry.source, script: script)
        if let previous = compiled[script] { lua.release(previous.reference) }
        compiled[script] = (reference, entry.version)
        return reference
    }
}
