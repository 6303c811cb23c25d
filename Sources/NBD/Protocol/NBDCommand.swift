/// Transmission command types (`doc/proto.md`, "Request types").
public struct NBDCommand: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let read = NBDCommand(rawValue: 0)
    public static let write = NBDCommand(rawValue: 1)
    public static let disconnect = NBDCommand(rawValue: 2)
    public static let flush = NBDCommand(rawValue: 3)
    public static let trim = NBDCommand(rawValue: 4)
    public static let cache = NBDCommand(rawValue: 5)
    public static let writeZeroes = NBDCommand(rawValue: 6)
    public static let blockStatus = NBDCommand(rawValue: 7)

    public var description: String {
        switch self {
        case .read: "READ"
        case .write: "WRITE"
        case .disconnect: "DISC"
        case .flush: "FLUSH"
        case .trim: "TRIM"
        case .cache: "CACHE"
        case .writeZeroes: "WRITE_ZEROES"
        case .blockStatus: "BLOCK_STATUS"
        default: "command \(rawValue)"
        }
    }
}

/// Command flags (`doc/proto.md`, "Command flags").
public struct NBDCommandFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fua = NBDCommandFlags(rawValue: 1 << 0)
    public static let noHole = NBDCommandFlags(rawValue: 1 << 1)
    public static let dontFragment = NBDCommandFlags(rawValue: 1 << 2)
    public static let requestOne = NBDCommandFlags(rawValue: 1 << 3)
    public static let fastZero = NBDCommandFlags(rawValue: 1 << 4)
    /// With extended headers only; a compact-header client setting it is in error.
    public static let payloadLength = NBDCommandFlags(rawValue: 1 << 5)
}

/// The error values a reply carries (`doc/proto.md`, "Error values"), Linux errno numbers on the wire.
public struct NBDErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ok = NBDErrorCode(rawValue: 0)
    public static let notPermitted = NBDErrorCode(rawValue: 1)  // EPERM
    public static let io = NBDErrorCode(rawValue: 5)  // EIO
    public static let noMemory = NBDErrorCode(rawValue: 12)  // ENOMEM
    public static let invalid = NBDErrorCode(rawValue: 22)  // EINVAL
    public static let noSpace = NBDErrorCode(rawValue: 28)  // ENOSPC
    public static let overflow = NBDErrorCode(rawValue: 75)  // EOVERFLOW
    public static let notSupported = NBDErrorCode(rawValue: 95)  // ENOTSUP
    public static let shutdown = NBDErrorCode(rawValue: 108)  // ESHUTDOWN

    public var description: String {
        switch self {
        case .ok: "ok"
        case .notPermitted: "EPERM"
        case .io: "EIO"
        case .noMemory: "ENOMEM"
        case .invalid: "EINVAL"
        case .noSpace: "ENOSPC"
        case .overflow: "EOVERFLOW"
        case .notSupported: "ENOTSUP"
        case .shutdown: "ESHUTDOWN"
        default: "error \(rawValue)"
        }
    }
}
