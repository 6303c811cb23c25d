#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Device and inode of a file: equal identities are the same file, whatever its path is now.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    /// The identity of whatever is at `path` now, with its size; nil if it cannot be stat'ed.
    static func current(path: String) -> (FileIdentity, UInt64)? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return (FileIdentity(status), UInt64(status.st_size))
    }
}
