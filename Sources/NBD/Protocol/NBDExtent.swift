/// One `base:allocation` extent: a run of bytes and whether it is a hole and reads as zeroes.
public struct NBDExtent: Hashable, Sendable {
    /// `NBD_STATE_HOLE`.
    public static let hole: UInt32 = 1 << 0
    /// `NBD_STATE_ZERO`.
    public static let zero: UInt32 = 1 << 1

    public var length: UInt32
    public var flags: UInt32

    public init(length: UInt32, flags: UInt32) {
        self.length = length
        self.flags = flags
    }
}
