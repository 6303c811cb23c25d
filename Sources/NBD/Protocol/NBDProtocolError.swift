/// A client broke the protocol so that the only answer is to close the connection.
public struct NBDProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case badMagic(UInt64)
        case unknownClientFlags(UInt32)
        case optionTooLong(UInt32)
        case tooManyOptions
        case requestTooLong(UInt32)
        case exportNameUnknown(String)
        case exportNameInvalid
        case handshakeTimedOut
    }

    private let kind: Kind

    /// The client sent a magic number where the protocol has a fixed one: it is not speaking NBD.
    public static func badMagic(_ value: UInt64) -> Self { Self(kind: .badMagic(value)) }
    /// The client flags carried bits this server does not know; the spec requires a disconnect.
    public static func unknownClientFlags(_ flags: UInt32) -> Self { Self(kind: .unknownClientFlags(flags)) }
    /// An option's length exceeds `NBDLimits.maximumOptionLength`.
    public static func optionTooLong(_ length: UInt32) -> Self { Self(kind: .optionTooLong(length)) }
    /// More options than `NBDLimits.maximumOptionCount` in one handshake.
    public static var tooManyOptions: Self { Self(kind: .tooManyOptions) }
    /// A WRITE whose payload exceeds `NBDLimits.maximumRequestLength`: it cannot be drained safely.
    public static func requestTooLong(_ length: UInt32) -> Self { Self(kind: .requestTooLong(length)) }
    /// `NBD_OPT_EXPORT_NAME` named an export that does not exist; that option can only fail by disconnecting.
    public static func exportNameUnknown(_ name: String) -> Self { Self(kind: .exportNameUnknown(name)) }
    /// `NBD_OPT_EXPORT_NAME` carried a name that is not a valid string (too long or not UTF-8).
    public static var exportNameInvalid: Self { Self(kind: .exportNameInvalid) }
    /// The client did not finish the handshake in time.
    public static var handshakeTimedOut: Self { Self(kind: .handshakeTimedOut) }

    public var description: String {
        switch kind {
        case .badMagic(let value):
            "bad magic 0x\(String(value, radix: 16)): the peer is not an NBD client"
        case .unknownClientFlags(let flags):
            "unknown client flags 0x\(String(flags, radix: 16)): the client needs a newer server"
        case .optionTooLong(let length):
            "option length \(length) exceeds \(NBDLimits.maximumOptionLength) bytes"
        case .tooManyOptions:
            "more than \(NBDLimits.maximumOptionCount) handshake options"
        case .requestTooLong(let length):
            "write of \(length) bytes exceeds the \(NBDLimits.maximumRequestLength)-byte request cap"
        case .exportNameUnknown(let name):
            "EXPORT_NAME asked for unknown export \"\(name)\": check the name against `thinboot check`"
        case .exportNameInvalid:
            "EXPORT_NAME carried a name that is too long or not UTF-8"
        case .handshakeTimedOut:
            "handshake timed out"
        }
    }
}
