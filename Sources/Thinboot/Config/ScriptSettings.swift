import Scripting

/// `[tftp.scripts]`: the limits every route script runs under and the size of the worker pool.
///
/// ```toml
/// [tftp.scripts]
/// memory_mib   = 64          # per worker's Lua state
/// instructions = 50000000    # per request
/// max_result_kib = 4096      # largest generated file
/// max_seconds  = 2           # wall-clock time per request, 1...8
/// workers      = 4           # threads running scripts (default: twice the cores, 2...16)
/// ```
public struct ScriptSettings: Sendable, Equatable {
    /// The limits per call.
    public let limits: ScriptLimits
    /// Worker threads, each with its own Lua state.
    public let workers: Int

    /// The defaults, for a config without `[tftp.scripts]`.
    public init() {
        self.init(limits: ScriptLimits(), workers: ScriptPool.defaultWorkerCount)
    }

    private init(limits: ScriptLimits, workers: Int) {
        self.limits = limits
        self.workers = workers
    }

    /// Defaults and ranges are ``ScriptLimits``'s and ``ScriptPool``'s own, in the units of the keys.
    init(_ table: ConfigTable?) throws(ConfigError) {
        guard let table else {
            self.init()
            return
        }
        let defaults = ScriptLimits()
        let memory = try table.int("memory_mib", default: defaults.memoryBytes >> 20, in: ScriptLimits.memoryMiBRange)
        let instructions = try table.int(
            "instructions", default: defaults.instructions, in: ScriptLimits.instructionsRange)
        let result = try table.int(
            "max_result_kib", default: defaults.maxResultBytes >> 10, in: ScriptLimits.maxResultKiBRange)
        let seconds = try table.int(
            "max_seconds", default: Int(defaults.maxDuration.components.seconds), in: ScriptLimits.maxSecondsRange)
        let workers = try table.int(
            "workers", default: ScriptPool.defaultWorkerCount, in: ScriptPool.workerCountRange)
        try table.finish()
        self.init(
            limits: ScriptLimits(
                memoryBytes: memory << 20, instructions: instructions, maxResultBytes: result << 10,
                maxDuration: .seconds(seconds)),
            workers: workers)
    }
}
