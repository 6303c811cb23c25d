/// A DHCPv4 option code (RFC 2132 and the PXE / UEFI additions): a number, so codes Thinboot has no name for
/// still decode, round-trip and print.
public struct DHCPOptionCode: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    /// Fills space; no length byte follows.
    public static let pad = DHCPOptionCode(0)
    public static let subnetMask = DHCPOptionCode(1)
    public static let router = DHCPOptionCode(3)
    public static let hostName = DHCPOptionCode(12)
    /// Vendor-specific information; for PXE clients the PXE sub-options (discovery control, boot menu).
    public static let vendorSpecific = DHCPOptionCode(43)
    public static let requestedAddress = DHCPOptionCode(50)
    public static let leaseTime = DHCPOptionCode(51)
    /// Option overload: options continue in `file` and/or `sname`. Refused by the decoder (see ``DHCPMessage``).
    public static let optionOverload = DHCPOptionCode(52)
    public static let messageType = DHCPOptionCode(53)
    public static let serverIdentifier = DHCPOptionCode(54)
    public static let parameterRequestList = DHCPOptionCode(55)
    public static let maxMessageSize = DHCPOptionCode(57)
    /// Vendor class identifier: `PXEClient:Arch:00007:UNDI:003000`, `HTTPClient:Arch:00016`.
    public static let vendorClass = DHCPOptionCode(60)
    public static let clientIdentifier = DHCPOptionCode(61)
    public static let tftpServerName = DHCPOptionCode(66)
    public static let bootFileName = DHCPOptionCode(67)
    /// User class (RFC 3004; iPXE sends the bare text `iPXE`).
    public static let userClass = DHCPOptionCode(77)
    /// Client system architecture (RFC 4578), a list of 16-bit codes.
    public static let clientArchitecture = DHCPOptionCode(93)
    /// Client network device interface (UNDI version).
    public static let clientNetworkInterface = DHCPOptionCode(94)
    /// Client machine identifier: type 0 and the SMBIOS UUID.
    public static let clientMachineIdentifier = DHCPOptionCode(97)
    /// Ends the options; no length byte follows.
    public static let end = DHCPOptionCode(255)

    public static func < (lhs: DHCPOptionCode, rhs: DHCPOptionCode) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
