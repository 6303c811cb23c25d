/// Client flags, the client's answer to the greeting. Unknown bits mean the server must disconnect.
public struct NBDClientFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fixedNewstyle = NBDClientFlags(rawValue: 1 << 0)
    public static let noZeroes = NBDClientFlags(rawValue: 1 << 1)
    public static let known: NBDClientFlags = [.fixedNewstyle, .noZeroes]
}
