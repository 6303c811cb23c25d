#if canImport(Glibc)
    import Glibc
#endif

/// Port and host comparisons on raw `sockaddr_storage` values, for the POSIX client and the server's transfer
/// engine (both compare what the kernel reports as a sender with the peer they expect).
enum SocketAddressBytes {
    static func port(of address: sockaddr_storage) -> Int {
        var copy = address
        return withUnsafePointer(to: &copy) { pointer in
            switch Int32(address.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default:
                0
            }
        }
    }

    static func setPort(_ address: inout sockaddr_storage, _ port: Int) {
        let family = Int32(address.ss_family)
        withUnsafeMutablePointer(to: &address) { pointer in
            if family == AF_INET {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    $0.pointee.sin_port = UInt16(port).bigEndian
                }
            } else if family == AF_INET6 {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    $0.pointee.sin6_port = UInt16(port).bigEndian
                }
            }
        }
    }

    /// Whether both addresses name the same host and port: the same TFTP transfer identifier.
    static func sameEndpoint(_ lhs: sockaddr_storage, _ rhs: sockaddr_storage) -> Bool {
        sameHost(lhs, rhs) && port(of: lhs) == port(of: rhs)
    }

    /// Whether both addresses name the same host (family and address; ports ignored).
    static func sameHost(_ lhs: sockaddr_storage, _ rhs: sockaddr_storage) -> Bool {
        guard lhs.ss_family == rhs.ss_family else { return false }
        var left = lhs
        var right = rhs
        return withUnsafePointer(to: &left) { l in
            withUnsafePointer(to: &right) { r in
                switch Int32(lhs.ss_family) {
                case AF_INET:
                    l.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a in
                        r.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { b in
                            a.pointee.sin_addr.s_addr == b.pointee.sin_addr.s_addr
                        }
                    }
                case AF_INET6:
                    l.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { a in
                        r.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { b in
                            withUnsafeBytes(of: a.pointee.sin6_addr) { x in
                                withUnsafeBytes(of: b.pointee.sin6_addr) { y in x.elementsEqual(y) }
                            }
                        }
                    }
                default:
                    false
                }
            }
        }
    }
}
