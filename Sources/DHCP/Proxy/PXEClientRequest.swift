/// What a PXE or HTTP-boot client asked, read from its DHCP message: everything a boot script sees in `req`.
/// Built only for requests a ProxyDHCP server answers — see ``init(message:interface:port:)``.
public struct PXEClientRequest: Sendable, Hashable {
    /// Which of the proxy's ports the request reached.
    public enum Port: Sendable, Hashable {
        /// 67: broadcast DISCOVER/REQUEST beside the site's DHCP server (or relayed to us).
        case dhcp
        /// 4011: the boot-server REQUEST UEFI firmware sends once it has its address.
        case bootServer
    }

    public let message: DHCPMessageType
    public let port: Port
    /// `chaddr`, `hlen` bytes.
    public let hardwareAddress: [UInt8]
    /// The first code of option 93, when sent.
    public let architecture: ClientArchitecture?
    public let uuid: String?
    public let userClass: String?
    public let vendorClass: String
    /// `giaddr` when a relay agent forwarded the request.
    public let relay: IPv4Address?
    /// `ciaddr`: the client's address once it has one (port 4011 requests).
    public let clientAddress: IPv4Address?
    /// Option 50: in a REQUEST, the address the client took from the site server's offer.
    public let requestedAddress: IPv4Address?
    /// The interface the request came in on.
    public let interface: String
    /// Option 60 starts with `HTTPClient`: UEFI HTTP boot, which wants a URL as its boot file.
    public let isHTTPClient: Bool
    /// This host's address the request reached (the server identifier of the answer): where the client can reach
    /// this host, so the URLs a boot script hands out name it rather than a wildcard listen address.
    public let localAddress: IPv4Address?

    /// nil unless the message is a BOOTREQUEST DISCOVER or REQUEST whose option 60 starts with `PXEClient` or
    /// `HTTPClient`: every other client belongs to the site's DHCP server alone.
    public init?(message: DHCPMessage, interface: String, port: Port, localAddress: IPv4Address? = nil) {
        guard message.operation == .request, let type = message.options.messageType,
            type == .discover || type == .request, let vendorClass = message.options.vendorClass
        else { return nil }
        let isHTTPClient = vendorClass.hasPrefix("HTTPClient")
        guard isHTTPClient || vendorClass.hasPrefix("PXEClient") else { return nil }
        self.message = type
        self.port = port
        hardwareAddress = message.hardwareAddress
        architecture = message.options.clientArchitectures?.first.map { ClientArchitecture(code: $0) }
        uuid = message.options.clientUUID
        userClass = message.options.userClass
        self.vendorClass = vendorClass
        relay = message.relayAddress.isZero ? nil : message.relayAddress
        clientAddress = message.clientAddress.isZero ? nil : message.clientAddress
        requestedAddress = message.options.requestedAddress
        self.interface = interface
        self.isHTTPClient = isHTTPClient
        self.localAddress = localAddress
    }

    /// The address the client holds or is taking: `ciaddr` once it has one, else, in a REQUEST, the address it
    /// asks the site's server for (the one that server offered it). nil for a DISCOVER, whose option 50 is only
    /// a wish.
    public var boundAddress: IPv4Address? {
        clientAddress ?? (message == .request ? requestedAddress : nil)
    }

    /// `aa:bb:cc:dd:ee:ff` for Ethernet; the bytes in the same form for other hardware types.
    public var macText: String {
        hardwareAddress.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
