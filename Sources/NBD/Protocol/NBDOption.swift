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

/// Information types in `NBD_OPT_INFO`/`NBD_OPT_GO` (`doc/proto.md`, "NBD_REP_INFO").
public struct NBDInfoType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let export = NBDInfoType(rawValue: 0)
    public static let name = NBDInfoType(rawValue: 1)
    public static let description = NBDInfoType(rawValue: 2)
    public static let blockSize = NBDInfoType(rawValue: 3)
}

/// Handshake flags the server sends in the newstyle greeting.
public struct NBDHandshakeFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fixedNewstyle = NBDHandshakeFlags(rawValue: 1 << 0)
    public static let noZeroes = NBDHandshakeFlags(rawValue: 1 << 1)
}

/// Client flags, the client's answer to the greeting. Unknown bits mean the server must disconnect.
public struct NBDClientFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fixedNewstyle = NBDClientFlags(rawValue: 1 << 0)
    public static let noZeroes = NBDClientFlags(rawValue: 1 << 1)
    public static let known: NBDClientFlags = [.fixedNewstyle, .noZeroes]
}

/// Transmission flags, sent with the export's size (`doc/proto.md`, "Transmission flags").
public struct NBDTransmissionFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let hasFlags = NBDTransmissionFlags(rawValue: 1 << 0)
    public static let readOnly = NBDTransmissionFlags(rawValue: 1 << 1)
    public static let sendFlush = NBDTransmissionFlags(rawValue: 1 << 2)
    public static let sendFUA = NBDTransmissionFlags(rawValue: 1 << 3)
    public static let rotational = NBDTransmissionFlags(rawValue: 1 << 4)
    public static let sendTrim = NBDTransmissionFlags(rawValue: 1 << 5)
    public static let sendWriteZeroes = NBDTransmissionFlags(rawValue: 1 << 6)
    public static let sendDF = NBDTransmissionFlags(rawValue: 1 << 7)
    public static let canMultiConn = NBDTransmissionFlags(rawValue: 1 << 8)
    public static let sendCache = NBDTransmissionFlags(rawValue: 1 << 10)
}
