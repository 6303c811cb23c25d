#if canImport(Glibc)
    import Glibc
#endif

/// How files read from images are kept: small ones in memory, large ones as unlinked copies in a cache folder
/// (served like any open file: sendfile over HTTP, positional reads over TFTP). Both parts are bounded; the least
/// recently used copies go first, and a copy still being sent lives until its transfers end.
public struct ImageCacheSettings: Sendable, Hashable {
    /// Where large copies are written (`[nbd] image_cache`); they are unlinked at once, so nothing is left behind.
    public var folder: String
    /// Files up to this size are kept in memory.
    public var memoryFileBytes: Int
    /// Bytes of small files kept in memory, in total.
    public var memoryBytes: Int
    /// Bytes of large copies kept in the folder, in total (`[nbd] image_cache_max`).
    public var diskBytes: Int

    public init(
        folder: String = ImageCacheSettings.defaultFolder, memoryFileBytes: Int = 1 << 20, memoryBytes: Int = 64 << 20,
        diskBytes: Int = 4 << 30
    ) {
        self.folder = folder
        self.memoryFileBytes = memoryFileBytes
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
    }

    /// The largest file served from an image: one that fits the folder's budget.
    public var maximumFileBytes: Int { max(diskBytes, memoryFileBytes) }

    /// Why this account cannot write copies into ``folder`` (then every file over ``memoryFileBytes`` read from an
    /// image fails), or nil. Started as root, `serve` runs as `nobody`, which cannot write a folder root made.
    public var folderProblem: String? {
        guard access(folder, W_OK | X_OK) != 0 else { return nil }
        let reason = String(cString: strerror(errno))
        return "\(folder): \(reason): files over \(memoryFileBytes >> 10) KiB read from images will fail; make it "
            + "writable by uid \(geteuid()) or set [nbd] image_cache"
    }

    /// `$TMPDIR`, else `/tmp`.
    public static var defaultFolder: String {
        if let folder = getenv("TMPDIR").map({ String(cString: $0) }), !folder.isEmpty { return folder }
        return "/tmp"
    }
}
