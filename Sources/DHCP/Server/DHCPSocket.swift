import CDHCPShims

#if canImport(Glibc)
    import Glibc
#endif

/// One bound UDP socket of the responder, with the receive and send the shims give (receiving interface and
/// address; sends out of a chosen interface).
final class DHCPSocket: Sendable {
    let descriptor: Int32
    /// The address and port it is bound to (the real port when 0 was asked).
    let address: IPv4Address
    let port: UInt16

    /// A socket bound to `address:port`, or the reason it cannot be.
    convenience init(address: IPv4Address, port: UInt16) throws(DHCPBindError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DHCPBindError(address: "\(address)", port: port, errno: Glibc.errno) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        socketAddress.sin_addr.s_addr = Self.networkOrder(address)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let error = Glibc.errno
            close(fd)
            throw DHCPBindError(address: "\(address)", port: port, errno: error)
        }
        try self.init(adopting: fd)
    }

    /// Serves `fd`, a UDP socket already bound (by `init(address:port:)`, or by systemd for socket activation),
    /// and closes it when done. Only a socket from systemd can fail the type checks.
    init(adopting fd: Int32) throws(DHCPBindError) {
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let address = Self.address(local.sin_addr.s_addr)
        let port = UInt16(bigEndian: local.sin_port)
        var type: Int32 = 0
        var typeLength = socklen_t(MemoryLayout<Int32>.size)
        guard named == 0, local.sin_family == sa_family_t(AF_INET),
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0, type == Int32(SOCK_DGRAM.rawValue)
        else {
            close(fd)
            throw .inheritedNotUDP(address, port: port)
        }
        guard cdhcp_prepare_socket(fd) == 0 else {
            let error = Glibc.errno
            close(fd)
            throw DHCPBindError(address: "\(address)", port: port, errno: error)
        }
        descriptor = fd
        self.address = address
        self.port = port
    }

    deinit { close(descriptor) }

    /// One received datagram.
    struct Datagram {
        var bytes: [UInt8]
        var peer: IPv4Address
        var peerPort: UInt16
        var interfaceIndex: Int32
        var localAddress: IPv4Address
    }

    /// Waits up to `timeoutMilliseconds` for a datagram; nil when none came (or the wait was interrupted).
    func receive(timeoutMilliseconds: Int32) -> Datagram? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: DHCPLimits.maxMessageSize + 1)
        var peer: UInt32 = 0
        var peerPort: UInt16 = 0
        var index: Int32 = 0
        var local: UInt32 = 0
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            cdhcp_receive(descriptor, pointer.baseAddress!, pointer.count, &peer, &peerPort, &index, &local)
        }
        guard count >= 0 else { return nil }
        return Datagram(
            bytes: Array(buffer.prefix(count)), peer: Self.address(peer), peerPort: peerPort, interfaceIndex: index,
            localAddress: Self.address(local))
    }

    /// Sends `bytes`; false when the kernel refused (the firmware will ask again).
    @discardableResult
    func send(_ bytes: [UInt8], to address: IPv4Address, port: UInt16, interfaceIndex: Int32, source: IPv4Address)
        -> Bool
    {
        bytes.withUnsafeBufferPointer { pointer in
            cdhcp_send(
                descriptor, pointer.baseAddress!, pointer.count, Self.networkOrder(address), port, interfaceIndex,
                Self.networkOrder(source)) == pointer.count
        }
    }

    static func networkOrder(_ address: IPv4Address) -> UInt32 {
        address.bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    static func address(_ networkOrder: UInt32) -> IPv4Address {
        withUnsafeBytes(of: networkOrder) { IPv4Address(bytes: $0) } ?? .zero
    }

    /// The name of interface `index` (`eth0`), or `if<index>` when it has none.
    static func interfaceName(_ index: Int32) -> String {
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard index > 0, if_indextoname(UInt32(index), &name) != nil else { return "if\(index)" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
