import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Serves files from a folder, confined to it (see ``ConfinedDirectory``), small ones from memory while they stay
/// unchanged (see ``SmallFileCache``): the static root every protocol falls back to. Each protocol turns its
/// refusals into its own errors (TFTP ERROR 1 and 2, HTTP 404 and 403).
public final class StaticRoot: Sendable {
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

    /// The file at `relativePath` (already normalised): its bytes when it is small and unchanged since they were
    /// cached, else the file opened confined. A few system calls: cheap enough for an engine or event-loop thread.
    public func content(at relativePath: String) throws(ConfinedDirectoryError) -> BootContent {
        if let cached = cache.bytes(of: relativePath, in: directory) { return .bytes(cached) }
        let file = try directory.open(relativePath)
        if let bytes = cache.store(file) { return .bytes(bytes) }
        return .file(file)
    }
}

/// The static root folder cannot be opened.
public struct StaticRootError: Error, Sendable, CustomStringConvertible {
    /// The root folder as configured.
    public let path: String
    /// Why it cannot be opened.
    public let cause: ConfinedDirectoryError

    public var description: String {
        "cannot open the static root \(path): \(cause.reason) (set [tftp] root to a readable folder)"
    }
}
