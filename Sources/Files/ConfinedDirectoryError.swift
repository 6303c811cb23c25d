#if canImport(Glibc)
    import Glibc
#endif

/// A ``ConfinedDirectory`` cannot be opened, or refuses a path.
public struct ConfinedDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The folder itself cannot be opened (missing, not a folder, no search permission).
        case unavailable(errno: CInt)
        /// Nothing by that name (or a component on the way is not a folder).
        case notFound
        /// A `..` climbs above the folder.
        case leavesDirectory
        /// A symlink on the way is absolute: it would resolve outside the folder.
        case symlinkLeavesDirectory
        /// More symlinks on the way than a lookup follows (a loop).
        case tooManySymlinks
        /// A symlink that cannot be read.
        case symlinkRefused
        /// The path names a folder.
        case isDirectory
        /// The path names a FIFO, socket or device.
        case notRegularFile
        /// The file or a folder on the way is not readable.
        case permissionDenied
        /// Another system error.
        case failed(errno: CInt)
    }

    /// The folder for ``Kind/unavailable(errno:)``, else the path asked for, relative to the folder.
    public let path: String
    public let kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// What went wrong, without the folder's own location (a script or client may read it).
    public var reason: String {
        switch kind {
        case .unavailable(let error): String(cString: strerror(error))
        case .notFound: "no such file"
        case .leavesDirectory: "path leaves the root"
        case .symlinkLeavesDirectory: "symlink leads outside the root"
        case .tooManySymlinks: "too many symlinks"
        case .symlinkRefused: "symlink refused"
        case .isDirectory: "is a directory"
        case .notRegularFile: "not a regular file"
        case .permissionDenied: "permission denied"
        case .failed(let error): "cannot open (\(String(cString: strerror(error))))"
        }
    }

    public var description: String { "\(path): \(reason)" }
}
