/// Bounds on what the decoder accepts and the encoder writes.
public enum DHCPLimits {
    /// The fixed BOOTP header (RFC 2131 2: op … file) in bytes.
    public static let headerSize = 236
    /// Header plus the magic cookie: the shortest DHCP message.
    public static let minimumMessageSize = headerSize + 4
    /// Largest datagram decoded: an Ethernet frame's UDP payload is 1472; jumbo frames and RFC 2131's 576-byte
    /// minimum both fit under this, a flood of bigger datagrams costs nothing to refuse.
    public static let maxMessageSize = 4096
    /// Answers are padded to at least this size, as BOOTP relays and old firmware expect (RFC 1542 2.1) and as
    /// dnsmasq does.
    public static let minimumReplySize = 300
    /// Option 43 after joining its repeats. PXE's own sub-options (discovery control, boot servers, menu) fit
    /// in one instance; more is a client trying to make a proxy parse megabytes.
    public static let maxVendorSpecificLength = 255
    /// Any other option after joining its repeats (RFC 3396 long options).
    public static let maxOptionLength = 1024
}
