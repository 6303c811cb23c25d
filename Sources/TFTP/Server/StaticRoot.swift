#if canImport(Glibc)
    import Glibc
#endif

/// Serves files from a folder, confined to it: no request, symlink or `..` ever reaches a file outside.
///
/// Every lookup walks the path one component at a time from a descriptor of the root, opening each component with
/// `O_NOFOLLOW`. A symlink is resolved by hand against the components walked so far: a relative target that stays
/// inside the root is followed, an absolute one or one that climbs above the root is refused. A component swapped for
/// a symlink between two lookups is caught by `O_NOFOLLOW` itself, so there is no check-then-open race.
///
/// Small files are kept in memory while they stay unchanged (see ``SmallFileCache``).
public final class StaticRoot: TFTPContentProvider {
    /// The folder, as given.
    public let path: String
    private let rootDescriptor: CInt
    private let cache: SmallFileCache

    /// `O_PATH` (Linux): Glibc only exports it under `_GNU_SOURCE`. A descriptor usable for `openat` only, which needs
    /// search but not read permission on the folder.
    private static let oPath: CInt = 0o10_000_000

    /// How many symlinks one lookup may follow (Linux's own limit is 40).
    private static let maximumSymlinkHops = 40

    /// Opens the root folder; fails if it does not exist or is not a readable folder.
    public convenience init(path: String) throws(StaticRootError) {
        try self.init(path: path, cache: SmallFileCache())
    }

    init(path: String, cache: SmallFileCache) throws(StaticRootError) {
        let descriptor = Glibc.open(path, Self.oPath | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StaticRootError(path: path, errno: errno) }
        self.path = path
        self.rootDescriptor = descriptor
        self.cache = cache
    }

    deinit {
        _ = close(rootDescriptor)
    }

    /// The file at the request's path (see ``content(at:)``): a few system calls, cheap enough for the engine
    /// thread.
    public func immediateContent(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPContent? {
        try content(at: request.path)
    }

    /// The file at the request's path (see ``content(at:)``).
    public func content(for request: TFTPReadRequest) async throws(TFTPRefusal) -> TFTPContent {
        try content(at: request.path)
    }

    /// The file at `relativePath`: its bytes when it is small and unchanged since they were cached, else the file
    /// opened confined (see ``open(relativePath:)``).
    public func content(at relativePath: String) throws(TFTPRefusal) -> TFTPContent {
        if let cached = cache.bytes(of: relativePath, under: rootDescriptor) { return .bytes(cached) }
        let (file, info) = try openWithStatus(relativePath: relativePath)
        if let bytes = cache.store(file, info: info, path: relativePath) { return .bytes(bytes) }
        return .file(file)
    }

    /// Opens the regular file at `relativePath` (already normalised, see ``TFTPPath``) inside the root.
    ///
    /// Refusals: ERROR 1 when it does not exist; ERROR 2 when it is a directory or not a regular file, is not
    /// readable, or a symlink on the way leads outside the root.
    public func open(relativePath: String) throws(TFTPRefusal) -> OpenedFile {
        try openWithStatus(relativePath: relativePath).file
    }

    /// ``open(relativePath:)``, with the file's `fstat`.
    private func openWithStatus(relativePath: String) throws(TFTPRefusal) -> (file: OpenedFile, info: stat) {
        // Components still to walk, next one last.
        var pending = Self.components(of: relativePath)
        // Directories walked so far below the root; `..` pops one.
        var directories: [CInt] = []
        defer { for descriptor in directories { _ = close(descriptor) } }
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard let descriptor = directories.popLast() else { throw Self.refusal("path leaves the root") }
                _ = close(descriptor)
                continue
            }
            let parent = directories.last ?? rootDescriptor
            let isLast = pending.isEmpty
            let flags =
                isLast
                ? O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
                : Self.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
            let descriptor = openat(parent, component, flags)
            if descriptor >= 0 {
                if isLast { return try Self.regularFile(descriptor, path: relativePath) }
                directories.append(descriptor)
                continue
            }
            let error = errno
            // A symlink shows up as ELOOP (O_NOFOLLOW) or, for O_PATH|O_DIRECTORY, as ENOTDIR.
            guard error == ELOOP || error == ENOTDIR, let target = Self.symlinkTarget(parent, component) else {
                throw Self.refusal(errno: error)
            }
            hops += 1
            guard hops <= Self.maximumSymlinkHops else { throw Self.refusal("too many symlinks") }
            guard !target.hasPrefix("/") else { throw Self.refusal("symlink leads outside the root") }
            pending.append(contentsOf: Self.components(of: target))
        }
        throw TFTPRefusal.notFound
    }

    /// The components of `path`, last first, cut at every `/` byte. Not at `/` characters: a `/` followed by a
    /// combining mark is one character with it, and would hand `openat` a name with a slash inside to resolve
    /// unchecked.
    private static func components(of path: String) -> [String] {
        path.utf8.split(separator: 0x2F, omittingEmptySubsequences: true).reversed().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    private static func regularFile(_ descriptor: CInt, path: String) throws(TFTPRefusal) -> (
        file: OpenedFile, info: stat
    ) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = errno
            _ = close(descriptor)
            throw refusal(errno: error)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            _ = close(descriptor)
            throw refusal((status.st_mode & S_IFMT == S_IFDIR) ? "is a directory" : "not a regular file")
        }
        return (OpenedFile(descriptor: descriptor, size: Int(status.st_size), path: path), status)
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

    private static func refusal(_ reason: String) -> TFTPRefusal {
        TFTPRefusal(code: .accessViolation, message: "Access violation: \(reason)", outcome: .refused)
    }

    private static func refusal(errno error: CInt) -> TFTPRefusal {
        switch error {
        case ENOENT, ENOTDIR, ENAMETOOLONG: .notFound
        case EACCES, EPERM: refusal("permission denied")
        case ELOOP: refusal("symlink refused")
        default: TFTPRefusal(code: .notDefined, message: "Server error", outcome: .serverError)
        }
    }
}

/// The static root folder cannot be opened.
public struct StaticRootError: Error, Sendable, CustomStringConvertible {
    /// The root folder as configured.
    public let path: String
    /// Why `open` failed.
    public let errno: CInt

    public var description: String {
        "cannot open the TFTP root \(path): \(String(cString: strerror(errno))) (set [tftp] root to a readable folder)"
    }
}
