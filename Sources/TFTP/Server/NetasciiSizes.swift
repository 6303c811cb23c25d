import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The netascii size of files, by file version: `tsize` must announce the converted size before the first block,
/// and counting it reads the whole file, so a boot storm asking for the same file in netascii counts it once.
///
/// The count keeps nothing of the file (it reads 32 KiB at a time). A version is device, inode, size, modification
/// and change time, so a file rewritten in place, even at the same size, is counted again.
final class NetasciiSizes: Sendable {
    /// The sizes this process remembers; a file past that many distinct versions is counted again.
    static let capacity = 256
    static let shared = NetasciiSizes()

    private struct Version: Hashable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: timespec
        let changed: timespec

        static func == (a: Version, b: Version) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
                && a.modified.tv_nsec == b.modified.tv_nsec && a.changed.tv_sec == b.changed.tv_sec
                && a.changed.tv_nsec == b.changed.tv_nsec
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(device)
            hasher.combine(inode)
            hasher.combine(size)
            hasher.combine(modified.tv_nsec)
            hasher.combine(changed.tv_nsec)
        }
    }

    private let sizes = NIOLockedValueBox<[Version: Int]>([:])

    /// The converted size of `file` if this version was counted already.
    func cachedSize(of file: OpenedFile) -> Int? {
        guard let version = Self.version(of: file) else { return nil }
        return sizes.withLockedValue { $0[version] }
    }

    /// The converted size of `file`, counted now unless this version was counted before; nil when the file holds
    /// fewer bytes than it did when opened, or cannot be read.
    func size(of file: OpenedFile) -> Int? {
        guard let version = Self.version(of: file) else { return nil }
        if let known = sizes.withLockedValue({ $0[version] }) { return known }
        guard let counted = Self.count(file) else { return nil }
        sizes.withLockedValue { sizes in
            // Full: forget them all (amortised O(1) per count; a working set of netascii files is small).
            if sizes.count >= Self.capacity { sizes.removeAll() }
            sizes[version] = counted
        }
        return counted
    }

    private static func version(of file: OpenedFile) -> Version? {
        var status = stat()
        guard fstat(file.descriptor, &status) == 0, Int(status.st_size) == file.size else { return nil }
        return Version(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modified: status.st_mtim, changed: status.st_ctim)
    }

    private static func count(_ file: OpenedFile) -> Int? {
        let reader = ReadAhead()
        var position = 0
        var total = 0
        while position < file.size {
            guard let bytes = reader.bytes(of: file, at: position) else { return nil }
            total += Netascii.encodedCount(bytes)
            position += bytes.count
        }
        return total
    }
}
