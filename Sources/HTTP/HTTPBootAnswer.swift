import BootEvents
import Files
import NIOCore

/// What a provider answers: bytes made in memory (a generated file, sent from the buffer without a copy) or a
/// regular file it opened inside its confined root, which the server sends with `sendfile` and never reads into
/// memory.
///
/// `kind` says where the bytes come from, for the request-duration histogram: a script (`generated`), the static
/// root (`static`) or a file inside an image (`image`), whichever form they take.
public enum HTTPBootAnswer: Sendable {
    /// Content in memory; `contentType` nil means the type by the path's extension (``HTTPContentType``).
    case bytes(ByteBuffer, contentType: String?, kind: BootEvent.ContentKind = .generated)
    /// A regular file: exactly its size when opened is sent; ETag and Last-Modified come from its version.
    /// `contentType` nil means the type by the path's extension.
    case file(OpenedFile, kind: BootEvent.ContentKind = .static, contentType: String? = nil)

    /// Generated content from an array, copied once into a buffer.
    public static func bytes(_ bytes: [UInt8], contentType: String?) -> HTTPBootAnswer {
        .bytes(ByteBuffer(bytes: bytes), contentType: contentType)
    }
}
