import NIOConcurrencyHelpers
import NIOCore

/// Small static files kept in memory: a boot storm asks for the same menus, modules and configs thousands of
/// times, and each request otherwise opens, checks, reads and closes the file.
///
/// An entry serves only while its path still names the very same file, by ``FileSighting``'s freshness rule: every
/// hit costs one `fstatat` of the path and compares device, inode, size, and modification and change times to the
/// nanosecond, and only a file that had settled when it was read is kept. Anything else goes through the confined
/// lookup again, which also refuses whatever a symlink swapped in would reach.
///
/// The bytes are kept in a `ByteBuffer`, read into it once: every transfer shares that storage and copies a block
/// only into its own datagram.
final class SmallFileCache: Sendable {
    /// Files up to this size are cached.
    static let maximumFileSize = 64 * 1024
    /// Bytes cached in all, paths and bookkeeping included; past this, entries make room for new ones.
    static let capacity = 16 * 1024 * 1024
    /// Entries at most: symlink loops (`boot -> .`) give one file endless names, each its own entry.
    static let maximumEntries = 4096
    /// What an entry costs besides its bytes and path: the dictionary slot, the buffer's header, the version.
    private static let entryOverhead = 128

    private struct Entry {
        let sighting: FileSighting
        let bytes: ByteBuffer
    }

    private struct Contents {
        var entries: [String: Entry] = [:]
        var bytes = 0
    }

    private let contents = NIOLockedValueBox(Contents())
    /// How long a file must have been left alone before it is cached.
    let settle: Duration

    init(settle: Duration = FileVersion.settle) {
        self.settle = settle
    }

    /// How many files are cached.
    var entryCount: Int { contents.withLockedValue { $0.entries.count } }

    /// The cached bytes of `path` (relative to `directory`) if the path still names the file they were read from.
    func bytes(of path: String, in directory: ConfinedDirectory) -> ByteBuffer? {
        guard let entry = contents.withLockedValue({ $0.entries[path] }) else { return nil }
        guard entry.sighting.provesUnchanged(directory.version(of: path)) else {
            contents.withLockedValue { contents in
                if let stale = contents.entries.removeValue(forKey: path) {
                    contents.bytes -= Self.cost(stale, path: path)
                }
            }
            return nil
        }
        return entry.bytes
    }

    /// Reads `file` (opened confined) into the cache if it is small and settled, and returns its bytes; nil when it
    /// is not cached (the caller streams the file).
    func store(_ file: OpenedFile) -> ByteBuffer? {
        let version = file.version
        guard version.size <= Self.maximumFileSize else { return nil }
        let sighting = FileSighting(version, settle: settle)
        guard sighting.settled else { return nil }
        var bytes = ByteBufferAllocator().buffer(capacity: version.size)
        do {
            try bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: version.size) { memory in
                try file.readWhole(into: UnsafeMutableRawBufferPointer(rebasing: memory[0..<version.size]))
                return version.size
            }
        } catch {
            // Shorter than its size: changing under us. Stream it this time.
            return nil
        }
        let entry = Entry(sighting: sighting, bytes: bytes)
        let cost = Self.cost(entry, path: file.path)
        contents.withLockedValue { contents in
            if let old = contents.entries.removeValue(forKey: file.path) {
                contents.bytes -= Self.cost(old, path: file.path)
            }
            // Any entry makes room: the files of a boot storm are few and come straight back.
            while contents.bytes + cost > Self.capacity || contents.entries.count >= Self.maximumEntries,
                let (victim, old) = contents.entries.first
            {
                contents.entries[victim] = nil
                contents.bytes -= Self.cost(old, path: victim)
            }
            contents.entries[file.path] = entry
            contents.bytes += cost
        }
        return bytes
    }

    private static func cost(_ entry: Entry, path: String) -> Int {
        entry.bytes.capacity + path.utf8.count + entryOverhead
    }
}
