/// Structured reply chunk types (`doc/proto.md`, "Structured reply types").
public struct NBDStructuredReplyType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let none = NBDStructuredReplyType(rawValue: 0)
    public static let offsetData = NBDStructuredReplyType(rawValue: 1)
    public static let offsetHole = NBDStructuredReplyType(rawValue: 2)
    public static let blockStatus = NBDStructuredReplyType(rawValue: 5)
    public static let error = NBDStructuredReplyType(rawValue: 1 << 15 | 1)
}
