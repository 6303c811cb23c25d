import Files
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The netascii size of files, by file version: `tsize` must announce the converted size before the first block,
/// and counting it reads the whole file, so a boot storm asking for the same file in netascii counts it once.
///
/// The count keeps nothing of the file (it reads 32 KiB at a time). Sizes are kept by ``FileVersion`` under the
/// freshness rule of every file cache (``FileSighting``): only a settled file's count is kept, so a file rewritten
/// in place, even at the same size and in the same clock tick, is counted again.
final class NetasciiSizes: Sendable {
    /// The sizes this process remembers; a file past that many distinct versions is counted again.
    static let capacity = 256
    static let shared = NetasciiSizes()

    /// How long a file must have been left alone before its count is kept.
    let settle: Duration

    init(settle: Duration = FileVersion.settle) {
        self.settle = settle
    }

    private let sizes = NIOLockedValueBox<[FileVersion: Int]>([:])

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
        guard FileSighting(version, settle: settle).settled else { return counted }
        sizes.withLockedValue { sizes in
            // Full: forget them all (amortised O(1) per count; a working set of netascii files is small).
            if sizes.count >= Self.capacity { sizes.removeAll() }
            sizes[version] = counted
        }
        return counted
    }

    /// The file's version now, if it still has the size it was opened with.
    private static func version(of file: OpenedFile) -> FileVersion? {
        guard let version = FileVersion(descriptor: file.descriptor), version.size == file.size else { return nil }
        return version
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
