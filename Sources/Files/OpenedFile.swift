#if canImport(Glibc)
    import Glibc
#endif

/// A regular file opened read-only, with the version `fstat` gave right after opening; the descriptor closes with
/// the object. Confined lookups (``ConfinedDirectory``) and plain paths (script files) both hand these out.
///
/// Every read of file bytes into memory goes through ``read(into:at:)`` (`pread` until done) or ``readWhole(limit:)``.
public final class OpenedFile: Sendable {
    /// The open descriptor.
    public let descriptor: CInt
    /// The file's version when opened.
    public let version: FileVersion
    /// The path it was opened by (relative to its directory when confined), for logs and messages.
    public let path: String

    /// The size in bytes when opened.
    public var size: Int { version.size }

    /// How many times one read is retried after a signal interrupted it.
    private static let maximumInterruptions = 100

    /// Takes ownership of `descriptor`, an open regular file whose `fstat` gave `version`.
    init(adopting descriptor: CInt, version: FileVersion, path: String) {
        self.descriptor = descriptor
        self.version = version
        self.path = path
    }

    /// Opens the regular file at `path` (symlinks followed: for files the admin configured, not for requests).
    public convenience init(path: String) throws(FileReadError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileReadError(path: path, kind: .cannotOpen(errno: errno)) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = errno
            _ = close(descriptor)
            throw FileReadError(path: path, kind: .failed(errno: error))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            _ = close(descriptor)
            throw FileReadError(path: path, kind: .notRegularFile)
        }
        self.init(adopting: descriptor, version: FileVersion(info), path: path)
    }

    /// Takes ownership of `descriptor`, an open regular file that has no confined path (a copy extracted from an
    /// image, an in-memory file); closes it when it is not a regular file.
    public convenience init(adopting descriptor: CInt, path: String) throws(FileReadError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            let error = errno
            _ = close(descriptor)
            throw FileReadError(path: path, kind: .failed(errno: error))
        }
        self.init(adopting: descriptor, version: FileVersion(info), path: path)
    }

    deinit {
        _ = close(descriptor)
    }

    /// Fills `buffer` with the file's bytes from `offset`, calling `pread` until it is full or the file ends.
    /// Returns how many bytes it read: fewer than `buffer.count` only where the file ends.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileReadError) -> Int {
        var done = 0
        var interruptions = 0
        while done < buffer.count {
            let result = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if result < 0, errno == EINTR, interruptions < Self.maximumInterruptions {
                interruptions += 1
                continue
            }
            guard result >= 0 else { throw FileReadError(path: path, kind: .failed(errno: errno)) }
            guard result > 0 else { break }
            done += result
        }
        return done
    }

    /// Reads the whole file, ``size`` bytes from the start, into `buffer` (exactly ``size`` bytes long). Throws when
    /// the file ends early: it is changing under the reader, whose caller should not keep half a file.
    public func readWhole(into buffer: UnsafeMutableRawBufferPointer) throws(FileReadError) {
        precondition(buffer.count == size, "readWhole(into:) needs a buffer of the file's size")
        guard try read(into: buffer, at: 0) == size else { throw FileReadError(path: path, kind: .endedEarly) }
    }

    /// The whole file, ``size`` bytes from the start; refused when it is larger than `limit`.
    public func readWhole(limit: Int = .max) throws(FileReadError) -> [UInt8] {
        guard size <= limit else { throw FileReadError(path: path, kind: .tooLarge(size: size, limit: limit)) }
        var failure: FileReadError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            do throws(FileReadError) {
                try readWhole(into: UnsafeMutableRawBufferPointer(buffer))
                count = size
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
