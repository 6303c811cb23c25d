/// Limits for every script call. The defaults suit boot files: a pxelinux config takes a few thousand
/// instructions and kilobytes; the limits only stop runaway scripts.
public struct ScriptLimits: Sendable, Hashable {
    /// Bytes a worker's Lua state may allocate in total (the capped allocator).
    public var memoryBytes: Int
    /// Lua VM instructions one call may execute (the count hook). Long C functions such as `string.rep` are
    /// not counted: the memory cap bounds them.
    public var instructions: Int
    /// The largest string a script may return.
    public var maxResultBytes: Int

    public init(memoryBytes: Int = 64 << 20, instructions: Int = 50_000_000, maxResultBytes: Int = 4 << 20) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
        self.maxResultBytes = maxResultBytes
    }
}
