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
