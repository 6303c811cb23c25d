/// Option 53, the DHCP message type (RFC 2132 9.6).
public enum DHCPMessageType: UInt8, Sendable, Hashable, CaseIterable {
    case discover = 1
    case offer = 2
    case request = 3
    case decline = 4
    case ack = 5
    case nak = 6
    case release = 7
    case inform = 8

    /// The lowercase name scripts and log lines use: `discover`, `request`, …
    public var name: String { String(describing: self) }
}
