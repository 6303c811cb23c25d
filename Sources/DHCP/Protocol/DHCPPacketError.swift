/// A datagram that is not a DHCP message Thinboot will act on. The responder drops it with one log line
/// carrying ``description``; nothing is sent back.
public struct DHCPPacketError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Shorter than the 236-byte fixed part plus the magic cookie.
        case truncated(Int)
        /// Longer than ``DHCPLimits/maxMessageSize``.
        case tooLarge(Int)
        /// `op` neither BOOTREQUEST (1) nor BOOTREPLY (2).
        case badOperation(UInt8)
        /// `hlen` above the 16 bytes of `chaddr`.
        case badHardwareLength(UInt8)
        /// The four bytes after `file` are not 99.130.83.99: BOOTP without DHCP, or not DHCP at all.
        case badMagicCookie
        /// An option whose length byte runs past the end of the datagram.
        case optionOverrun(DHCPOptionCode)
        /// The options stop without option 255.
        case missingEnd
        /// Option 52: options continued in `file`/`sname`. No PXE firmware sends it; honouring it would let a
        /// client hide options where a peer reading the header sees a file name.
        case optionOverload
        /// One option (joined over its repeats) longer than its limit.
        case optionTooLong(DHCPOptionCode, Int)
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .truncated(let size): "truncated DHCP message of \(size) bytes (the fixed part needs 240)"
        case .tooLarge(let size): "DHCP message of \(size) bytes exceeds \(DHCPLimits.maxMessageSize)"
        case .badOperation(let op): "op \(op) is neither BOOTREQUEST nor BOOTREPLY"
        case .badHardwareLength(let length): "hardware address length \(length) exceeds 16"
        case .badMagicCookie: "no DHCP magic cookie: not a DHCP message"
        case .optionOverrun(let code): "option \(code) runs past the end of the message"
        case .missingEnd: "options without the end option (255)"
        case .optionOverload: "option overload (52) is not accepted"
        case .optionTooLong(let code, let length): "option \(code) of \(length) bytes exceeds its limit"
        }
    }
}
