#if canImport(Glibc)
    import Glibc
#endif

/// A UDP or TCP port on 127.0.0.1 that was free a moment ago, for peers that cannot bind port 0 and report it
/// (in.tftpd, dnsmasq). The kernel hands out ephemeral ports in rotation, so a reuse race is unlikely.
public func freeLoopbackPort(udp: Bool = true) -> Int {
    let socket = Glibc.socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(socket, $0, length)
            _ = getsockname(socket, $0, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
