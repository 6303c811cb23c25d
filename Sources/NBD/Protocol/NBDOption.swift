/// Handshake option codes a client may send (`doc/proto.md`, "Option types").
public struct NBDOption: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let exportName = NBDOption(rawValue: 1)
    public static let abort = NBDOption(rawValue: 2)
    public static let list = NBDOption(rawValue: 3)
    public static let peekExport = NBDOption(rawValue: 4)
    public static let startTLS = NBDOption(rawValue: 5)
    public static let info = NBDOption(rawValue: 6)
    public static let go = NBDOption(rawValue: 7)
    public static let structuredReply = NBDOption(rawValue: 8)
    public static let listMetaContext = NBDOption(rawValue: 9)
    public static let setMetaContext = NBDOption(rawValue: 10)
    public static let extendedHeaders = NBDOption(rawValue: 11)

    public var description: String {
        switch self {
        case .exportName: "EXPORT_NAME"
        case .abort: "ABORT"
        case .list: "LIST"
        case .peekExport: "PEEK_EXPORT"
        case .startTLS: "STARTTLS"
        case .info: "INFO"
        case .go: "GO"
        case .structuredReply: "STRUCTURED_REPLY"
        case .listMetaContext: "LIST_META_CONTEXT"
        case .setMetaContext: "SET_META_CONTEXT"
        case .extendedHeaders: "EXTENDED_HEADERS"
        default: "option \(rawValue)"
        }
    }
}
