/// A datagram that is not a well-formed TFTP packet. The server answers it with ERROR 4 carrying ``description``.
public struct TFTPPacketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, for code that must tell cases apart (tests, metrics).
    public enum Kind: Sendable, Hashable {
        /// Shorter than the fixed part of its packet type.
        case truncated
        /// An opcode outside 1...6.
        case unknownOpcode(UInt16)
        /// An RRQ or WRQ longer than 512 bytes.
        case requestTooLarge(Int)
        /// A string field (file name, mode, option, message) without its terminating NUL.
        case unterminatedString
        /// An RRQ or WRQ with an empty file name.
        case emptyFilename
        /// A mode other than `octet` or `netascii` (`mail` is obsolete).
        case unsupportedMode(String)
        /// An option name without a value, or an empty option name.
        case malformedOption
        /// Bytes after the end of a fixed-size packet (ACK).
        case trailingBytes
        /// An OACK without any option.
        case emptyOptionAck
    }

    /// What was wrong.
    public let kind: Kind

    /// An error of `kind`.
    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .truncated: "truncated packet"
        case .unknownOpcode(let opcode): "unknown opcode \(opcode)"
        case .requestTooLarge(let size): "request of \(size) bytes exceeds 512"
        case .unterminatedString: "string field without terminating NUL"
        case .emptyFilename: "empty file name"
        case .unsupportedMode(let mode): "unsupported mode \"\(mode)\": use octet or netascii"
        case .malformedOption: "option without a name or a value"
        case .trailingBytes: "unexpected bytes after the packet"
        case .emptyOptionAck: "OACK without options"
        }
    }
}
