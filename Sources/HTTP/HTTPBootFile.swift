#if canImport(Glibc)
    import Glibc
#endif

/// A regular file opened by a confined lookup, with what the response needs from its status: the size (the
/// body's length, whatever the file does later), the modification time and an entity tag.
///
/// The descriptor belongs to `owner` (the provider's own open-file object), which is kept alive as long as this is.
public final class HTTPBootFile: Sendable {
    /// The open descriptor, valid while this object lives.
    public let descriptor: CInt
    /// The size when opened: exactly this many bytes are sent.
    public let size: Int
    /// Seconds since the epoch of the last modification, for `Last-Modified` and `If-Modified-Since`.
    public let modifiedSeconds: Int
    /// A strong entity tag (quoted): device, inode, size and modification time in nanoseconds, so a file replaced
    /// by rename or rewritten in place gets a new one.
    public let entityTag: String
    private let owner: any Sendable

    /// Describes `descriptor` (one `fstat`); nil when it cannot be examined or is not a regular file.
    /// - Parameter owner: the object that closes the descriptor; kept alive with this one.
    public init?(descriptor: CInt, owner: any Sendable) {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        self.descriptor = descriptor
        self.owner = owner
        size = Int(status.st_size)
        modifiedSeconds = Int(status.st_mtim.tv_sec)
        let nanoseconds = UInt64(status.st_mtim.tv_sec) &* 1_000_000_000 &+ UInt64(status.st_mtim.tv_nsec)
        entityTag =
            "\"\(String(status.st_dev, radix: 16))-\(String(status.st_ino, radix: 16))-\(String(status.st_size, radix: 16))-\(String(nanoseconds, radix: 16))\""
    }
}
