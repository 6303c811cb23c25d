#if canImport(Glibc)
    import Glibc
#endif

/// The subnets of this host's interfaces (`getifaddrs`): an address in one of them is on a local link, so the
/// kernel's neighbour entry for it is the client's own. Any other address is reached through a router, and the
/// neighbour table holds the router.
enum LocalSubnets {
    /// Whether `ip` (text, IPv4 or IPv6, with or without a zone) lies in the subnet of a local interface.
    static func contains(_ ip: String) -> Bool {
        guard let target = addressBytes(ip) else { return false }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return false }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, let mask = current.pointee.ifa_netmask,
                let local = bytes(address), let netmask = bytes(mask), local.count == target.count,
                netmask.count == target.count
            else { continue }
            if zip(zip(local, netmask), target).allSatisfy({ ($0.0 & $0.1) == ($1 & $0.1) }) { return true }
        }
        return false
    }

    /// An IPv4 or IPv6 address's bytes; IPv4-mapped IPv6 (`::ffff:10.0.0.5`) as IPv4.
    private static func addressBytes(_ ip: String) -> [UInt8]? {
        if !ip.contains(":") {
            var address = in_addr()
            guard inet_pton(AF_INET, ip, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        guard let bytes = IPv6Bytes(ip) else { return nil }
        if bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) { return Array(bytes.suffix(4)) }
        return bytes
    }

    private static func bytes(_ socketAddress: UnsafeMutablePointer<sockaddr>) -> [UInt8]? {
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            return socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
            }
        case AF_INET6:
            return socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
        default:
            return nil
        }
    }
}
