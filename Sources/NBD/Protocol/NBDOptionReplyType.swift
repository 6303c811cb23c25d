/// Option reply types (`doc/proto.md`, "Option reply types"). Error types have bit 31 set.
public struct NBDOptionReplyType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ack = NBDOptionReplyType(rawValue: 1)
    public static let server = NBDOptionReplyType(rawValue: 2)
    public static let info = NBDOptionReplyType(rawValue: 3)
    public static let metaContext = NBDOptionReplyType(rawValue: 4)
    public static let errorUnsupported = NBDOptionReplyType(rawValue: 1 << 31 | 1)
    public static let errorPolicy = NBDOptionReplyType(rawValue: 1 << 31 | 2)
    public static let errorInvalid = NBDOptionReplyType(rawValue: 1 << 31 | 3)
    public static let errorPlatform = NBDOptionReplyType(rawValue: 1 << 31 | 4)
    public static let errorTLSRequired = NBDOptionReplyType(rawValue: 1 << 31 | 5)
    public static let errorUnknown = NBDOptionReplyType(rawValue: 1 << 31 | 6)
    public static let errorShutdown = NBDOptionReplyType(rawValue: 1 << 31 | 7)
    public static let errorTooBig = NBDOptionReplyType(rawValue: 1 << 31 | 9)
}
