#if canImport(Glibc)
    import Glibc
#endif

/// A ProxyDHCP socket that could not be opened or bound, or a socket from systemd it cannot serve, with what to do
/// about it.
public struct DHCPBindError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public let port: UInt16
    public let errno: Int32
    /// For a socket from systemd: what is wrong with it (nil for a socket this process bound).
    public let inheritedProblem: String?

    public init(address: String, port: UInt16, errno: Int32) {
        self.address = address
        self.port = port
        self.errno = errno
        inheritedProblem = nil
    }

    private init(address: String, port: UInt16, inheritedProblem: String) {
        self.address = address
        self.port = port
        errno = 0
        self.inheritedProblem = inheritedProblem
    }

    /// A socket from systemd bound to neither DHCP port (or to one another socket already covers).
    static func inheritedOnOtherPort(_ address: IPv4Address, port: UInt16, expected: [UInt16]) -> DHCPBindError {
        DHCPBindError(
            address: "\(address)", port: port,
            inheritedProblem: "is bound to \(address):\(port), not to one port of "
                + expected.map(String.init).joined(separator: " and ") + " each")
    }

    /// A socket from systemd that is not a bound IPv4 UDP socket.
    static func inheritedNotUDP(_ address: IPv4Address, port: UInt16) -> DHCPBindError {
        DHCPBindError(address: "\(address)", port: port, inheritedProblem: "is not a bound IPv4 UDP socket")
    }

    public var description: String {
        if let inheritedProblem {
            return "the socket from systemd named dhcp \(inheritedProblem): list ListenDatagram=0.0.0.0:67 and "
                + "ListenDatagram=0.0.0.0:4011 in the .socket unit with FileDescriptorName=dhcp"
        }
        let reason = String(cString: strerror(errno))
        if errno == EACCES || errno == EPERM {
            return "cannot bind DHCP port \(address):\(port): \(reason); binding a port below 1024 needs root or "
                + "CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep on the thinboot binary)"
        }
        if errno == EADDRINUSE {
            return "cannot bind DHCP port \(address):\(port): \(reason); another DHCP server (dnsmasq, dhcpd, kea) "
                + "owns it on this host: run Thinboot's ProxyDHCP on another host, or stop that server's DHCP"
        }
        return "cannot bind DHCP port \(address):\(port): \(reason)"
    }
}
