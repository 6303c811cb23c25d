import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The MTU of network interfaces by index (the index a request's packet info names), asked once with
/// `SIOCGIFMTU` and then cached: a lookup per request would cost two syscalls.
final class InterfaceMTU: Sendable {
    private let cache = NIOLockedValueBox([Int: Int]())

    /// The interface's MTU, or nil if the index is unknown.
    func mtu(interfaceIndex: Int) -> Int? {
        if let cached = cache.withLockedValue({ $0[interfaceIndex] }) { return cached }
        guard let mtu = Self.query(interfaceIndex) else { return nil }
        cache.withLockedValue { $0[interfaceIndex] = mtu }
        return mtu
    }

    private static func query(_ index: Int) -> Int? {
        guard index > 0, let interfaceIndex = UInt32(exactly: index) else { return nil }
        var request = ifreq()
        let named = withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            if_indextoname(interfaceIndex, name.baseAddress!.assumingMemoryBound(to: CChar.self)) != nil
        }
        guard named else { return nil }
        let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return nil }
        defer { _ = close(probe) }
        guard ioctl(probe, UInt(SIOCGIFMTU), &request) == 0 else { return nil }
        return Int(request.ifr_ifru.ifru_mtu)
    }
}
