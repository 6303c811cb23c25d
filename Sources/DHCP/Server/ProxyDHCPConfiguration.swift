/// How the ProxyDHCP responder runs: where it listens and how much it answers.
public struct ProxyDHCPConfiguration: Sendable {
    /// The address both sockets bind; 0.0.0.0 receives the broadcasts PXE firmware sends.
    public var bindAddress: IPv4Address
    /// DHCP's server port (broadcasts and relayed requests).
    public var dhcpPort: UInt16
    /// PXE's boot-server port.
    public var bootServerPort: UInt16
    /// The client port unicast answers go to (68; tests that cannot bind it pick another).
    public var clientPort: UInt16
    /// Interfaces answered on (empty: all). A request from elsewhere is not answered.
    public var interfaces: [String]
    /// `siaddr` when the script names no server; nil: the address of the interface the request came in on.
    public var nextServer: IPv4Address?
    /// Answers per MAC per second.
    public var answersPerMAC: Int
    /// Boot script calls in flight at once; past it the responder stops reading, and requests wait in the
    /// socket's receive buffer.
    public var maxPending: Int
    /// Bound UDP sockets passed by systemd (socket activation), told apart by the port each is bound to: the one on
    /// `dhcpPort` and the one on `bootServerPort` are served instead of binding that port. A port with no socket
    /// here is bound as usual.
    public var inheritedSockets: [Int32] = []

    public init(
        bindAddress: IPv4Address = .zero, dhcpPort: UInt16 = 67, bootServerPort: UInt16 = 4011,
        clientPort: UInt16 = ReplyDestination.clientPort, interfaces: [String] = [], nextServer: IPv4Address? = nil,
        answersPerMAC: Int = 4, maxPending: Int = 64
    ) {
        self.bindAddress = bindAddress
        self.dhcpPort = dhcpPort
        self.bootServerPort = bootServerPort
        self.clientPort = clientPort
        self.interfaces = interfaces
        self.nextServer = nextServer
        self.answersPerMAC = answersPerMAC
        self.maxPending = maxPending
    }
}
