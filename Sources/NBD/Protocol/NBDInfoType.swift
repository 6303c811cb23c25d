/// Information types in `NBD_OPT_INFO`/`NBD_OPT_GO` (`doc/proto.md`, "NBD_REP_INFO").
public struct NBDInfoType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let export = NBDInfoType(rawValue: 0)
    public static let name = NBDInfoType(rawValue: 1)
    public static let description = NBDInfoType(rawValue: 2)
    public static let blockSize = NBDInfoType(rawValue: 3)
}
