import Files

#if canImport(Glibc)
    import Glibc
#endif

/// Serves files from a folder, confined to it (see ``ConfinedDirectory``), small ones from memory while they stay
/// unchanged (see ``SmallFileCache``). Refusals are the TFTP errors a client sees: ERROR 1 when a file does not
/// exist, ERROR 2 when it is a folder or not a regular file, is not readable, or a symlink on the way leads out.
public final class StaticRoot: TFTPContentProvider {
    /// The confined folder: what scripts' `thinboot.file` and `thinboot.read` open too.
    public let directory: ConfinedDirectory
    private let cache: SmallFileCache

    /// The folder, as given.
    public var path: String { directory.path }

    /// Opens the root folder; fails if it does not exist or is not a readable folder.
    public convenience init(path: String) throws(StaticRootError) {
        try self.init(path: path, cache: SmallFileCache())
    }

    init(path: String, cache: SmallFileCache) throws(StaticRootError) {
        do throws(ConfinedDirectoryError) {
            directory = try ConfinedDirectory(path: path)
        } catch {
            throw StaticRootError(path: path, cause: error)
        }
        self.cache = cache
    }

    /// The file at the request's path (see ``content(at:)``): a few system calls, cheap enough for the engine
    /// thread.
    public func answer(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer {
        .content(try content(at: request.path))
    }

    /// The file at `relativePath`: its bytes when it is small and unchanged since they were cached, else the file
    /// opened confined (see ``open(relativePath:)``).
    public func content(at relativePath: String) throws(TFTPRefusal) -> TFTPContent {
        if let cached = cache.bytes(of: relativePath, in: directory) { return .bytes(cached) }
        let file = try open(relativePath: relativePath)
        if let bytes = cache.store(file) { return .bytes(bytes) }
        return .file(file)
    }

    /// Opens the regular file at `relativePath` (already normalised, see ``TFTPPath``) inside the root.
    public func open(relativePath: String) throws(TFTPRefusal) -> OpenedFile {
        do throws(ConfinedDirectoryError) {
            return try directory.open(relativePath)
        } catch {
            throw Self.refusal(error)
        }
    }

    /// What a TFTP client is told when the confined lookup refuses.
    static func refusal(_ error: ConfinedDirectoryError) -> TFTPRefusal {
        switch error.kind {
        case .notFound: .notFound
        case .unavailable, .failed: TFTPRefusal(code: .notDefined, message: "Server error", outcome: "server error")
        case .leavesDirectory, .symlinkLeavesDirectory, .tooManySymlinks, .symlinkRefused, .isDirectory,
            .notRegularFile, .permissionDenied:
            TFTPRefusal(code: .accessViolation, message: "Access violation: \(error.reason)", outcome: "refused")
        }
    }
}

/// The static root folder cannot be opened.
public struct StaticRootError: Error, Sendable, CustomStringConvertible {
    /// The root folder as configured.
    public let path: String
    /// Why it cannot be opened.
    public let cause: ConfinedDirectoryError

    public var description: String {
        "cannot open the TFTP root \(path): \(cause.reason) (set [tftp] root to a readable folder)"
    }
}
