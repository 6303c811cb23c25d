#if canImport(Glibc)
    import Glibc
#endif

/// A folder whose files are opened without ever leaving it: no path, symlink or `..` reaches a file outside.
///
/// Every lookup walks the path one component at a time from a descriptor of the folder, opening each component
/// with `O_NOFOLLOW`. A symlink is resolved by hand against the components walked so far: a relative target that
/// stays inside is followed, an absolute one or one that climbs above the folder is refused. A component swapped
/// for a symlink between two lookups is caught by `O_NOFOLLOW` itself, so there is no check-then-open race.
///
/// Paths are cut at `/` bytes, never at `/` characters: a `/` followed by a combining mark is one character with
/// it, and would otherwise hand `openat` a name with a slash inside to resolve unchecked.
public final class ConfinedDirectory: Sendable {
    /// The folder, as given.
    public let path: String
    private let descriptor: CInt

    /// `O_PATH` (Linux): Glibc only exports it under `_GNU_SOURCE`. A descriptor usable for `openat` only, which
    /// needs search but not read permission on the folder.
    private static let oPath: CInt = 0o10_000_000

    /// How many symlinks one lookup may follow (Linux's own limit is 40).
    private static let maximumSymlinkHops = 40

    /// Opens the folder; fails if it does not exist or is not a folder that can be searched.
    public init(path: String) throws(ConfinedDirectoryError) {
        let descriptor = Glibc.open(path, Self.oPath | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ConfinedDirectoryError(path: path, kind: .unavailable(errno: errno)) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        _ = close(descriptor)
    }

    /// Opens the regular file at `relativePath` (already normalised: no leading `/`, no control characters) inside
    /// the folder.
    public func open(_ relativePath: String) throws(ConfinedDirectoryError) -> OpenedFile {
        // A NUL byte ends the name `openat` sees: `..\0x` would pass the `..` check below and climb out anyway.
        guard !relativePath.utf8.contains(0) else { throw refusal(relativePath, .notFound) }
        // Components still to walk, next one last.
        var pending = Self.components(of: relativePath)
        // Directories walked so far below the folder; `..` pops one.
        var directories: [CInt] = []
        defer { for directory in directories { _ = close(directory) } }
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard let directory = directories.popLast() else { throw refusal(relativePath, .leavesDirectory) }
                _ = close(directory)
                continue
            }
            let parent = directories.last ?? descriptor
            let isLast = pending.isEmpty
            let flags =
                isLast
                ? O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
                : Self.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
            let opened = openat(parent, component, flags)
            if opened >= 0 {
                if isLast { return try regularFile(opened, path: relativePath) }
                directories.append(opened)
                continue
            }
            let error = errno
            // A symlink shows up as ELOOP (O_NOFOLLOW) or, for O_PATH|O_DIRECTORY, as ENOTDIR.
            guard error == ELOOP || error == ENOTDIR, let target = Self.symlinkTarget(parent, component) else {
                throw refusal(relativePath, errno: error)
            }
            hops += 1
            guard hops <= Self.maximumSymlinkHops else { throw refusal(relativePath, .tooManySymlinks) }
            guard !target.hasPrefix("/") else { throw refusal(relativePath, .symlinkLeavesDirectory) }
            pending.append(contentsOf: Self.components(of: target))
        }
        throw refusal(relativePath, .notFound)
    }

    /// The version of what `relativePath` names now, with one `fstatat` and symlinks followed: for a cache to
    /// check that a file it opened confined is still the one there. Not a confined lookup: a caller that gets a
    /// different version (or nil) must ``open(_:)`` again.
    public func version(of relativePath: String) -> FileVersion? {
        var info = stat()
        guard !relativePath.utf8.contains(0), fstatat(descriptor, relativePath, &info, 0) == 0 else { return nil }
        return FileVersion(info)
    }

    /// The components of `path`, last first, cut at every `/` byte.
    private static func components(of path: String) -> [String] {
        path.utf8.split(separator: 0x2F, omittingEmptySubsequences: true).reversed().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    private func regularFile(_ opened: CInt, path: String) throws(ConfinedDirectoryError) -> OpenedFile {
        var info = stat()
        guard fstat(opened, &info) == 0 else {
            let error = errno
            _ = close(opened)
            throw refusal(path, errno: error)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            _ = close(opened)
            throw refusal(path, (info.st_mode & S_IFMT == S_IFDIR) ? .isDirectory : .notRegularFile)
        }
        return OpenedFile(adopting: opened, version: FileVersion(info), path: path)
    }

    /// The target of `name` in `directory` if it is a symlink.
    private static func symlinkTarget(_ directory: CInt, _ name: String) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX)) { buffer in
            let length = readlinkat(directory, name, buffer.baseAddress!, buffer.count)
            guard length > 0, length < buffer.count else { return nil }
            return String(
                decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }

    private func refusal(_ relativePath: String, _ kind: ConfinedDirectoryError.Kind) -> ConfinedDirectoryError {
        ConfinedDirectoryError(path: relativePath, kind: kind)
    }

    private func refusal(_ relativePath: String, errno error: CInt) -> ConfinedDirectoryError {
        switch error {
        case ENOENT, ENOTDIR, ENAMETOOLONG: refusal(relativePath, .notFound)
        case EACCES, EPERM: refusal(relativePath, .permissionDenied)
        case ELOOP: refusal(relativePath, .symlinkRefused)
        default: refusal(relativePath, .failed(errno: error))
        }
    }
}
