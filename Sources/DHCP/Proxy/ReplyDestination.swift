/// Where an answer goes (RFC 2131 4.1, PXE 2.1): the pure half of sending it.
public enum ReplyDestination: Sendable, Hashable {
    /// To 255.255.255.255:68 out of the interface the request came in on: the client has no address yet.
    case broadcast(interface: String)
    /// To one address and port.
    case unicast(IPv4Address, port: UInt16)

    /// The client port of DHCP, and the server port a relay listens on.
    public static let clientPort: UInt16 = 68
    public static let serverPort: UInt16 = 67

    /// A relayed request goes back to the relay on port 67; a port-4011 request to where it came from; a
    /// client that has an address and did not ask for broadcast, to that address; everyone else by broadcast.
    public static func of(
        request: PXEClientRequest, broadcastFlag: Bool, sourcePort: UInt16, clientPort: UInt16 = clientPort
    ) -> ReplyDestination {
        if let relay = request.relay { return .unicast(relay, port: serverPort) }
        if request.port == .bootServer, let client = request.clientAddress { return .unicast(client, port: sourcePort) }
        if let client = request.clientAddress, !broadcastFlag { return .unicast(client, port: clientPort) }
        return .broadcast(interface: request.interface)
    }
}
