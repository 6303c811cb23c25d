/// One lease a site DHCP server wrote to its lease file: which client hardware address holds which IPv4 address,
/// until when. Parsed by the sans-IO readers beside this file; a MAC source for clients across routers, where the
/// kernel's neighbour table only knows the router.
public struct Lease: Sendable, Hashable {
    /// The leased address.
    public var address: IPv4Address
    /// The client's Ethernet address, nil when the server recorded none (a lease by client identifier only).
    public var hardwareAddress: [UInt8]?
    /// When the lease ends, in seconds since 1970 UTC; nil for a lease that never ends.
    public var expires: Int64?
    /// False when the server marked the lease released, expired, declined, free or abandoned: the row or block
    /// still replaces every earlier one for its address (the latest wins), but names no client.
    public var isBound: Bool

    public init(address: IPv4Address, hardwareAddress: [UInt8]?, expires: Int64?, isBound: Bool) {
        self.address = address
        self.hardwareAddress = hardwareAddress
        self.expires = expires
        self.isBound = isBound
    }

    /// Whether a client holds the address at `now` (seconds since 1970 UTC).
    public func isLive(at now: Int64) -> Bool {
        isBound && hardwareAddress != nil && (expires.map { $0 > now } ?? true)
    }
}

/// A line (or block) a lease reader skipped, and why.
public struct LeaseWarning: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line in the file where the skipped line or block starts.
    public let line: Int
    public let problem: String

    public init(line: Int, problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}

/// What a lease reader made of some bytes: the leases in file order (a later one for the same address replaces
/// an earlier one), a warning per line or block skipped, and how many bytes it consumed — only complete lines or
/// blocks, so an append-only file is read on from there when it grows.
public struct LeaseParse: Sendable, Hashable {
    public var leases: [Lease] = []
    public var warnings: [LeaseWarning] = []
    public var consumed = 0

    public init() {}
}

/// The lease file formats Thinboot reads.
public enum LeaseFormat: String, Sendable, Hashable, CaseIterable {
    /// dnsmasq's `--dhcp-leasefile`: `expiry mac ip host client-id` per line, rewritten whole on every change.
    case dnsmasq
    /// Kea's memfile CSV (`kea-leases4.csv`): a header row, then rows appended; the latest row for an address wins.
    case kea
    /// ISC dhcpd's `dhcpd.leases`: `lease IP { … }` blocks appended; the last block for an address wins.
    case isc

    /// Whether the server only appends (until it rewrites the file under a new inode): read on from the last
    /// complete line or block.
    public var isAppendOnly: Bool { self != .dnsmasq }

    /// Bytes of a file's start that ``detect(_:)`` reads.
    public static let detectionLength = 65536

    /// The format of a file starting with `prefix`, or nil while it holds nothing but blank space. Kea starts
    /// with its header row; otherwise the reader that finds more leases in the first
    /// ``detectionLength`` bytes wins (so a bad first line does not decide), and with none either way the first
    /// byte does: dnsmasq lines start with an expiry time, ISC dhcpd files with a comment or a statement.
    public static func detect(_ prefix: [UInt8]) -> LeaseFormat? {
        let sample = Array(prefix.prefix(detectionLength))
        guard let first = sample.first(where: { !LeaseText.isSpace($0) }) else { return nil }
        if sample.starts(with: Array("address,".utf8)) { return .kea }
        var isc = ISCLeaseReader()
        let iscLeases = isc.parse(sample).leases.count
        let dnsmasqLeases = DnsmasqLeaseReader.parse(sample).leases.count
        if dnsmasqLeases != iscLeases { return dnsmasqLeases > iscLeases ? .dnsmasq : .isc }
        return LeaseText.isDigit(first) ? .dnsmasq : .isc
    }
}

/// Byte helpers the lease readers share.
enum LeaseText {
    static let newline = UInt8(ascii: "\n")

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// An Ethernet address `aa:bb:cc:dd:ee:ff` (case-insensitive), or nil.
    static func hardwareAddress(_ text: some Collection<UInt8>) -> [UInt8]? {
        let groups = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard groups.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for group in groups {
            guard (1...2).contains(group.count), let byte = UInt8(String(decoding: group, as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func address(_ text: some Collection<UInt8>) -> IPv4Address? {
        IPv4Address(parsing: String(decoding: text, as: UTF8.self))
    }

    static func integer(_ text: some Collection<UInt8>) -> Int64? {
        guard !text.isEmpty, text.count <= 19, text.allSatisfy(isDigit) else { return nil }
        return Int64(String(decoding: text, as: UTF8.self))
    }

    /// A line shortened for a warning: printable ASCII, at most 60 bytes.
    static func excerpt(_ line: some Collection<UInt8>) -> String {
        let shown = line.prefix(60).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        return String(decoding: shown, as: UTF8.self) + (line.count > 60 ? "…" : "")
    }
}
