import NIOCore

/// What a boot file request is answered with, whatever protocol asked: bytes in memory (a script's answer, or a
/// small static file shared by every transfer that sends it, never copied), or a file opened inside its confined
/// root, which the protocol streams. Bytes are complete before the first one goes out, so sizes are exact.
public enum BootContent: Sendable {
    case bytes(ByteBuffer)
    case file(OpenedFile)

    /// Bytes made in memory, copied once into a buffer.
    public static func bytes(_ bytes: [UInt8]) -> BootContent {
        .bytes(ByteBuffer(bytes: bytes))
    }

    /// Bytes to send.
    public var size: Int {
        switch self {
        case .bytes(let buffer): buffer.readableBytes
        case .file(let file): file.size
        }
    }
}
