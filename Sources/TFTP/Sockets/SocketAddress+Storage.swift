import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension SocketAddress {
    /// The address the kernel reported in `storage` (IPv4 or IPv6), or nil for another family. No host name is
    /// looked up or printed: `ipAddress` makes the text when a log line needs it.
    init?(storage: sockaddr_storage) {
        var copy = storage
        switch CInt(storage.ss_family) {
        case AF_INET:
            self = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            }
        case AF_INET6:
            self = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            }
        default:
            return nil
        }
    }

    /// The address as a `sockaddr_storage`, for comparing with what the kernel reports.
    var storage: sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            withSockAddr { address, length in
                target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: min(length, target.count)))
            }
        }
        return storage
    }

    /// Whether this is an IPv4 address seen through a dual-stack IPv6 socket (`::ffff:a.b.c.d`).
    var isIPv4Mapped: Bool {
        guard case .v6(let v6) = self else { return false }
        let bytes = v6.address.sin6_addr.__in6_u.__u6_addr8
        return bytes.0 == 0 && bytes.1 == 0 && bytes.2 == 0 && bytes.3 == 0 && bytes.4 == 0 && bytes.5 == 0
            && bytes.6 == 0 && bytes.7 == 0 && bytes.8 == 0 && bytes.9 == 0 && bytes.10 == 0xFF && bytes.11 == 0xFF
    }
}
