/// What a provider answers: bytes made in memory (a generated file) or a regular file it opened inside its
/// confined root, which the server sends with `sendfile` and never reads into memory.
public enum HTTPBootAnswer: Sendable {
    /// Generated content; `contentType` nil means the type by the path's extension (``HTTPContentType``).
    case bytes([UInt8], contentType: String?)
    /// A static file; ETag and Last-Modified come from its status.
    case file(HTTPBootFile)
}
