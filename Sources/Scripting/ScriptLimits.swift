/// Limits for every script call. The defaults suit boot files: a pxelinux config takes a few thousand
/// instructions, kilobytes and well under a millisecond; the limits only stop runaway scripts. Each default is
/// written once, in ``init(memoryBytes:instructions:maxResultBytes:maxDuration:)``, and each range once, below, in
/// the units `[tftp.scripts]` uses; the config layer builds this type from them.
public struct ScriptLimits: Sendable, Hashable {
    /// ``memoryBytes`` in MiB (`memory_mib`).
    public static let memoryMiBRange = 1...4096
    /// ``instructions`` (`instructions`).
    public static let instructionsRange = 1000...10_000_000_000
    /// ``maxResultBytes`` in KiB (`max_result_kib`).
    public static let maxResultKiBRange = 1...1_048_576
    /// ``maxDuration`` in whole seconds (`max_seconds`). At most 8 s: a run past its limit is reclaimed
    /// ``reclaimGrace`` later at most, so SIGTERM's 10 s always covers it.
    public static let maxSecondsRange = 1...8

    /// Bytes a worker's Lua state may allocate in total (the capped allocator).
    public var memoryBytes: Int
    /// Lua VM instructions one call may execute (the count hook). Long C functions such as `string.rep` are
    /// not counted: the memory cap bounds them, and the time limit bounds the rest.
    public var instructions: Int
    /// The largest string a script may return.
    public var maxResultBytes: Int
    /// Wall-clock time one call may take, whatever it calls: Lua code (the count hook reads the clock), the
    /// pattern functions (they read it as they step), the table functions that loop in C. A call still running
    /// ``reclaimGrace`` after it (stuck in code that reads no clock, such as a host callback) is failed from
    /// outside and its worker replaced.
    public var maxDuration: Duration

    public init(
        memoryBytes: Int = 64 << 20, instructions: Int = 50_000_000, maxResultBytes: Int = 4 << 20,
        maxDuration: Duration = .seconds(2)
    ) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
        self.maxResultBytes = maxResultBytes
        self.maxDuration = maxDuration
    }

    /// How long past ``maxDuration`` a call may go before its worker counts as stuck. One second: a timed-out
    /// script unwinds in microseconds, so only a worker that reads no clock is still busy by then.
    public static let reclaimGrace: Duration = .seconds(1)

    /// ``maxDuration`` in nanoseconds, for the C side.
    var maxNanoseconds: Int64 {
        let (seconds, attoseconds) = maxDuration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// ``maxDuration`` as a person reads it: `2 s`, `0.25 s`.
    var maxDurationText: String {
        let (seconds, attoseconds) = maxDuration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(Double(maxNanoseconds) / 1e9) s"
    }
}
