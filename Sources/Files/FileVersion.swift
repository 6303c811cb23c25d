#if canImport(Glibc)
    import Glibc
#endif

/// One version of one file, as `stat` reports it: device, inode, size, and modification and change times to the
/// nanosecond. Equal versions are the same file with, as far as the file system can tell, the same bytes; whether
/// an equal version may vouch for bytes read earlier is ``FileSighting``'s rule, with ``isSettled(for:at:)``.
///
/// The change time is part of the version because a rewrite that keeps the modification time (`cp -p`, `touch -r`,
/// `rsync -t`, an extracted archive) still moves it. ``isSameFile(as:)`` asks less: the same inode, whatever
/// happened to its bytes (a mapped image follows in-place changes by itself and only needs to notice a
/// rename-replace).
public struct FileVersion: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    /// The size in bytes.
    public let size: Int
    /// The modification time, in nanoseconds since the epoch.
    public let modified: Int
    /// The change time (content or metadata), in nanoseconds since the epoch.
    public let changed: Int
    /// Whether it is a regular file (not a folder, device or socket).
    public let isRegularFile: Bool

    /// How long a file must have been left alone before an equal version proves its bytes unchanged: longer than
    /// the coarsest file times in use (2 s on FAT).
    public static let settle = Duration.seconds(3)

    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modified = Self.nanoseconds(info.st_mtim)
        changed = Self.nanoseconds(info.st_ctim)
        isRegularFile = (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The version of whatever `path` names now (following symlinks), or nil when it cannot be stat'ed.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The version of an open file, or nil when `fstat` fails.
    public init?(descriptor: CInt) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    /// Whether both are the same file (device and inode), whatever its size or times.
    public func isSameFile(as other: FileVersion) -> Bool {
        device == other.device && inode == other.inode
    }

    /// Whether the file's last change (modification or change time) lies at least `settle` before `now`
    /// (nanoseconds since the epoch; the real-time clock by default, the clock file times come from).
    public func isSettled(for settle: Duration = FileVersion.settle, at now: Int = FileVersion.now()) -> Bool {
        let (seconds, attoseconds) = settle.components
        let settleNanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        return now - max(modified, changed) >= settleNanoseconds
    }

    /// The real-time clock in nanoseconds since the epoch.
    public static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return nanoseconds(time)
    }

    private static func nanoseconds(_ time: timespec) -> Int {
        time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}
