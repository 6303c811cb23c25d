#if canImport(Glibc)
    import Glibc
#endif

/// The kernel's neighbour table: which MAC an IP address on a local link has. An LTSP client asks for
/// `lts.conf` with only its IP, so this is how a script learns its MAC. IPv4 comes from `/proc/net/arp`, IPv6
/// from a netlink `RTM_GETNEIGH` dump. Both read the network namespace this process runs in.
public struct NeighbourTable: Sendable {
    public init() {}

    /// The MAC the kernel has for `ip`, or nil: not on a local link (an address outside every local interface's
    /// subnet is reached through a router, and its neighbour entry would be the router's), not resolved yet,
    /// failed, or an address no client can have (links without link-layer addresses — lo, tun, WireGuard —
    /// report all zeros).
    public func mac(for ip: String) -> MACAddress? {
        guard LocalSubnets.contains(ip) else { return nil }
        let mac: MACAddress?
        if ip.contains(":") {
            guard let address = IPv6Bytes(ip) else { return nil }
            mac = Self.ipv6Neighbours()[address]
        } else {
            mac = Self.ipv4Neighbour(ip)
        }
        return mac.flatMap { $0.isClientAddress ? $0 : nil }
    }

    /// Looks `ip` up in `/proc/net/arp`: `IP  HW-type  Flags  HW-address  Mask  Device`, flag 0x2 = complete.
    static func ipv4Neighbour(_ ip: String) -> MACAddress? {
        guard let table = readText("/proc/net/arp") else { return nil }
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4, fields[0] == ip, let flags = Int(fields[2].dropFirst(2), radix: 16),
                flags & 0x2 != 0
            else { continue }
            if let mac = MACAddress(parsing: fields[3], allowBare: false), mac.isClientAddress { return mac }
        }
        return nil
    }

    private static func readText(_ path: String) -> String? {
        guard let handle = fopen(path, "r") else { return nil }
        defer { fclose(handle) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), handle) != nil {
            text += String(cString: buffer)
        }
        return text
    }

    // MARK: IPv6 over netlink

    private static let ndaDestination: UInt16 = 1
    private static let ndaLinkAddress: UInt16 = 2
    private static let nudValid: UInt16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80  // reachable…permanent, not failed

    /// Every resolved IPv6 neighbour, from one `RTM_GETNEIGH` dump.
    static func ipv6Neighbours() -> [[UInt8]: MACAddress] {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        // nlmsghdr (16 bytes) + ndmsg (12 bytes): dump all AF_INET6 neighbours.
        var request = [UInt8](repeating: 0, count: 28)
        put(UInt32(28), at: 0, in: &request)
        put(UInt16(30 /* RTM_GETNEIGH */), at: 4, in: &request)
        put(UInt16(0x1 | 0x300 /* NLM_F_REQUEST | NLM_F_DUMP */), at: 6, in: &request)
        put(UInt32(1), at: 8, in: &request)
        request[16] = UInt8(AF_INET6)
        // An unconnected netlink socket sends to the kernel (port id 0).
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { return [:] }

        var neighbours: [[UInt8]: MACAddress] = [:]
        var buffer = [UInt8](repeating: 0, count: 65536)
        // A dump ends with NLMSG_DONE; the bound keeps a misbehaving socket from spinning forever.
        for _ in 0..<1024 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return neighbours }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(get32(buffer, offset))
                let type = get16(buffer, offset + 4)
                guard length >= 16, offset + length <= count else { return neighbours }
                if type == 3 /* NLMSG_DONE */ || type == 2 /* NLMSG_ERROR */ { return neighbours }
                if type == 28 /* RTM_NEWNEIGH */, length >= 28 {
                    let state = get16(buffer, offset + 24)
                    if state & nudValid != 0, let entry = parseAttributes(buffer, offset + 28, offset + length) {
                        neighbours[entry.0] = entry.1
                    }
                }
                offset += (length + 3) & ~3
            }
        }
        return neighbours
    }

    private static func parseAttributes(_ buffer: [UInt8], _ start: Int, _ end: Int) -> ([UInt8], MACAddress)? {
        var destination: [UInt8]?
        var link: MACAddress?
        var offset = start
        while offset + 4 <= end {
            let length = Int(get16(buffer, offset))
            let type = get16(buffer, offset + 2)
            guard length >= 4, offset + length <= end else { break }
            let payload = Array(buffer[(offset + 4)..<(offset + length)])
            if type == ndaDestination, payload.count == 16 { destination = payload }
            if type == ndaLinkAddress { link = MACAddress(bytes: payload) }
            offset += (length + 3) & ~3
        }
        guard let destination, let link else { return nil }
        return (destination, link)
    }

    private static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
        }
    }

    private static func get16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private static func get32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(get16(bytes, offset)) | UInt32(get16(bytes, offset + 2)) << 16
    }
}

/// The 16 bytes of an IPv6 address in text form, or nil.
func IPv6Bytes(_ text: String) -> [UInt8]? {
    var address = in6_addr()
    let host = text.split(separator: "%").first.map(String.init) ?? text  // drop a zone (fe80::1%eth0)
    guard inet_pton(AF_INET6, host, &address) == 1 else { return nil }
    return withUnsafeBytes(of: &address) { Array($0) }
}
