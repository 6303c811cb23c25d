#if canImport(Glibc)
    import Glibc
#endif

/// A file could not be opened or read whole.
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `open` failed.
        case cannotOpen(errno: CInt)
        /// It is a folder, a device or a FIFO.
        case notRegularFile
        /// Larger than the reader accepts.
        case tooLarge(size: Int, limit: Int)
        /// It ended before the size it had when opened: it is being rewritten.
        case endedEarly
        /// `fstat` or `pread` failed.
        case failed(errno: CInt)
    }

    /// The path as the file was opened.
    public let path: String
    public let kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .cannotOpen(let error): "\(path): cannot open (\(String(cString: strerror(error))))"
        case .notRegularFile: "\(path): not a regular file"
        case .tooLarge(let size, let limit): "\(path) is \(size) bytes, over the limit of \(limit)"
        case .endedEarly: "\(path): changed while being read (try again once it is written)"
        case .failed(let error): "\(path): cannot read (\(String(cString: strerror(error))))"
        }
    }
}
