import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Small static files kept in memory: a boot storm asks for the same menus, modules and configs thousands of
/// times, and each request otherwise opens, checks, reads and closes the file.
///
/// An entry serves only while its path still names the very same file: every hit costs one `fstatat` of the path
/// and compares device, inode, size, and modification and change times to the nanosecond. Anything else goes
/// through the confined lookup again, which also refuses whatever a symlink swapped in would reach. A file changed
/// within the last ``settle`` is not cached: file times are as coarse as the kernel's clock tick, and a change in
/// the same tick as the cached version would look like no change (git's "racily clean" problem; FAT keeps
/// modification times in steps of 2 s).
final class SmallFileCache: Sendable {
    /// Files up to this size are cached.
    static let maximumFileSize = 64 * 1024
    /// Bytes cached in all, paths and bookkeeping included; past this, entries make room for new ones.
    static let capacity = 16 * 1024 * 1024
    /// Entries at most: symlink loops (`boot -> .`) give one file endless names, each its own entry.
    static let maximumEntries = 4096
    /// What an entry costs besides its bytes and path: the dictionary slot, the array header, the identity.
    private static let entryOverhead = 128

    /// What names one version of a file.
    struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int
        let modified: timespec
        let changed: timespec

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        static func == (lhs: Identity, rhs: Identity) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
                && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
                && lhs.changed.tv_sec == rhs.changed.tv_sec && lhs.changed.tv_nsec == rhs.changed.tv_nsec
        }
    }

    private struct Entry {
        let identity: Identity
        let bytes: [UInt8]
    }

    private struct Contents {
        var entries: [String: Entry] = [:]
        var bytes = 0
    }

    private let contents = Mutex(Contents())
    /// How long a file must have been left alone before it is cached.
    let settle: Duration

    init(settle: Duration = .seconds(3)) {
        self.settle = settle
    }

    /// How many files are cached.
    var entryCount: Int { contents.withLock { $0.entries.count } }

    /// The cached bytes of `path` (relative to `root`) if the path still names the file they were read from.
    func bytes(of path: String, under root: CInt) -> [UInt8]? {
        guard let entry = contents.withLock({ $0.entries[path] }) else { return nil }
        var info = stat()
        guard fstatat(root, path, &info, 0) == 0, Identity(info) == entry.identity else {
            contents.withLock { contents in
                if let stale = contents.entries.removeValue(forKey: path) { contents.bytes -= Self.cost(stale, path) }
            }
            return nil
        }
        return entry.bytes
    }

    /// Reads `file` (opened confined, with `info` from its `fstat`) into the cache if it is small and settled, and
    /// returns its bytes; nil when it is not cached (the caller streams the file).
    func store(_ file: OpenedFile, info: stat, path: String) -> [UInt8]? {
        let identity = Identity(info)
        guard identity.size <= Self.maximumFileSize, isSettled(identity) else { return nil }
        let bytes = file.readAll()
        // Shorter than its size: changing under us. Stream it this time.
        guard bytes.count == identity.size else { return nil }
        let entry = Entry(identity: identity, bytes: bytes)
        let cost = Self.cost(entry, path)
        contents.withLock { contents in
            if let old = contents.entries.removeValue(forKey: path) { contents.bytes -= Self.cost(old, path) }
            // Any entry makes room: the files of a boot storm are few and come straight back.
            while contents.bytes + cost > Self.capacity || contents.entries.count >= Self.maximumEntries,
                let (victim, old) = contents.entries.first
            {
                contents.entries[victim] = nil
                contents.bytes -= Self.cost(old, victim)
            }
            contents.entries[path] = entry
            contents.bytes += cost
        }
        return bytes
    }

    private static func cost(_ entry: Entry, _ path: String) -> Int {
        entry.bytes.count + path.utf8.count + entryOverhead
    }

    /// Whether the file's last change lies at least ``settle`` in the past.
    private func isSettled(_ identity: Identity) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let latest = max(
            Self.nanoseconds(identity.modified), Self.nanoseconds(identity.changed))
        let (seconds, attoseconds) = settle.components
        return Self.nanoseconds(now) - latest >= Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }

    private static func nanoseconds(_ time: timespec) -> Int {
        time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}
