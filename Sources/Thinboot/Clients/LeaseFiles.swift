import DHCP
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The site DHCP servers' lease files (`[clients] leases`) as a MAC source: which client holds an IP address, for
/// clients across a router, where the neighbour table holds the router. Each lookup checks each file's inode, size
/// and modification time (one `stat`) and reads what changed: the appended bytes of an append-only format (Kea,
/// ISC dhcpd), the whole file otherwise (dnsmasq) or when it was replaced. Bounded: at most ``maxFileBytes`` read
/// of a file and ``maxAddresses`` addresses kept per file. A malformed line is skipped with one warning.
public final class LeaseFiles: Sendable {
    /// Bytes read of one file at most (a /16 of leases is a few MiB in any format).
    public static let maxFileBytes = 64 << 20
    /// Addresses kept per file at most (a /12).
    public static let maxAddresses = 1 << 20
    /// Warnings logged per read of a file; the rest are counted in one more line.
    static let warningsLogged = 10

    /// One file as `thinboot check` shows it.
    public struct Summary: Sendable, Hashable {
        public let path: String
        /// nil while the file is missing or empty.
        public let format: LeaseFormat?
        /// Leases a client holds now.
        public let live: Int
        /// Why the file gives nothing (missing, unreadable), or nil.
        public let problem: String?
    }

    /// One lock for all files: a lookup is a `stat` per file, and a read only when a file changed.
    private let files: NIOLockedValueBox<[LeaseFile]>
    private let count: Int
    private let now: @Sendable () -> Int64
    private let logger: Logger

    /// `now` gives seconds since 1970 UTC (replaceable in tests).
    public init(
        paths: [String], logger: Logger, now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        files = NIOLockedValueBox(paths.map { LeaseFile(path: $0) })
        count = paths.count
        self.now = now
        self.logger = logger
    }

    /// The MAC of the client holding `ip` now, from the first file (in config order) with a live lease for it.
    public func mac(for ip: String) -> MACAddress? {
        guard count > 0, let address = IPv4Address(parsing: Self.ipv4(ip)) else { return nil }
        let now = now()
        return files.withLockedValue { files in
            for index in files.indices {
                files[index].refresh(logger: logger)
                if let lease = files[index].leases[address], lease.isLive(at: now),
                    let bytes = lease.hardwareAddress, let mac = MACAddress(bytes: bytes), mac.isClientAddress
                {
                    return mac
                }
            }
            return nil
        }
    }

    /// Every file, read now, with its count of live leases.
    public func summaries() -> [Summary] {
        let now = now()
        return files.withLockedValue { files in
            files.indices.map { index in
                files[index].refresh(logger: logger)
                let file = files[index]
                return Summary(
                    path: file.path, format: file.format, live: file.leases.values.count { $0.isLive(at: now) },
                    problem: file.problem)
            }
        }
    }

    /// `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is `10.0.0.5`.
    private static func ipv4(_ ip: String) -> String {
        ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip
    }
}

/// One lease file's state between lookups: what was read of it, and the leases by address (the latest wins).
/// Not thread-safe: ``LeaseFiles`` holds each behind a lock.
struct LeaseFile {
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var modified: timespec

        static func == (lhs: Identity, rhs: Identity) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
                && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
        }
    }

    let path: String
    private(set) var format: LeaseFormat?
    private(set) var leases: [IPv4Address: Lease] = [:]
    private(set) var problem: String?
    private var identity: Identity?
    /// Bytes consumed: the next read of an append-only file starts here.
    private var offset = 0
    private var kea = KeaLeaseReader()
    private var isc = ISCLeaseReader()
    private var truncatedWarned = false
    /// The warnings of the last read: a file read whole again (dnsmasq rewrites it on every change) warns only
    /// about lines that are new, so one bad line gives one warning, not one per rewrite.
    private var lastWarnings: Set<LeaseWarning> = []

    init(path: String) { self.path = path }

    /// Reads what changed since the last call, if anything.
    mutating func refresh(logger: Logger) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if identity != nil || problem == nil {
                problem = "missing (\(String(cString: strerror(errno))))"
                logger.warning(
                    "lease file unreadable", metadata: ["leases.file": "\(path)", "leases.reason": "\(problem!)"])
            }
            reset()
            identity = nil
            return
        }
        let current = Identity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int(status.st_size),
            modified: status.st_mtim)
        guard current != identity else { return }
        let previous = identity
        identity = current
        let appended =
            previous.map { $0.device == current.device && $0.inode == current.inode } == true
            && format?.isAppendOnly == true && current.size >= offset
        if !appended { reset() }
        read(size: current.size, logger: logger)
    }

    private mutating func reset() {
        format = nil
        leases = [:]
        offset = 0
        kea = KeaLeaseReader()
        isc = ISCLeaseReader()
        truncatedWarned = false
    }

    private mutating func read(size: Int, logger: Logger) {
        let end = min(size, LeaseFiles.maxFileBytes)
        if size > end, !truncatedWarned {
            truncatedWarned = true
            logger.warning(
                "lease file too large",
                metadata: [
                    "leases.file": "\(path)",
                    "leases.reason": "only the first \(LeaseFiles.maxFileBytes >> 20) MiB are read of \(size) bytes",
                ])
        }
        guard end > offset else { return }
        guard let bytes = Self.bytes(of: path, from: offset, to: end) else {
            problem = "unreadable (\(String(cString: strerror(errno))))"
            logger.warning(
                "lease file unreadable", metadata: ["leases.file": "\(path)", "leases.reason": "\(problem!)"])
            return
        }
        problem = nil
        if format == nil { format = LeaseFormat.detect(bytes) }
        let parse: LeaseParse
        switch format {
        case nil: return
        case .dnsmasq: parse = DnsmasqLeaseReader.parse(bytes)
        case .kea: parse = kea.parse(bytes)
        case .isc: parse = isc.parse(bytes)
        }
        offset += parse.consumed
        for lease in parse.leases where leases.count < LeaseFiles.maxAddresses || leases[lease.address] != nil {
            leases[lease.address] = lease
        }
        let fresh = parse.warnings.filter { !lastWarnings.contains($0) }
        lastWarnings = Set(parse.warnings)
        for warning in fresh.prefix(LeaseFiles.warningsLogged) {
            logger.warning(
                "lease file line skipped",
                metadata: [
                    "leases.file": "\(path)", "leases.line": "\(warning.line)", "leases.reason": "\(warning.problem)",
                ])
        }
        if fresh.count > LeaseFiles.warningsLogged {
            logger.warning(
                "lease file lines skipped",
                metadata: [
                    "leases.file": "\(path)", "leases.count": "\(fresh.count - LeaseFiles.warningsLogged)",
                    "leases.reason": "more malformed lines than are logged one by one",
                ])
        }
    }

    /// Bytes `start..<end` of the file, or nil when it cannot be opened.
    private static func bytes(of path: String, from start: Int, to end: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: end - start)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(start + filled))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return Array(bytes.prefix(filled))
    }
}
