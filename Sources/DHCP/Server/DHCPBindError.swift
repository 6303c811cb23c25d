#if canImport(Glibc)
    import Glibc
#endif

/// A ProxyDHCP socket that could not be opened or bound, with what to do about it.
public struct DHCPBindError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public let port: UInt16
    public let errno: Int32

    public init(address: String, port: UInt16, errno: Int32) {
        self.address = address
        self.port = port
        self.errno = errno
    }

    public var description: String {
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
