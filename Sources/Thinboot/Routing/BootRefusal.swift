import Files

/// Why a request gets no content; each protocol turns it into its own error (TFTP ERROR 1/2/0, HTTP 404/403/500).
public enum BootRefusal: Error, Sendable, Equatable {
    /// No such file, and no route answered.
    case notFound
    /// The path names something that may not be served (outside the root, a directory, unreadable): the reason,
    /// short, safe to show the client.
    case forbidden(String)
    /// The route's script failed (its log line says why).
    case scriptError
    /// Something on the server failed (its log line says why).
    case serverError

    /// What the static root's confined lookup refused.
    init(_ error: ConfinedDirectoryError) {
        switch error.kind {
        case .notFound: self = .notFound
        case .unavailable, .failed: self = .serverError
        case .leavesDirectory, .symlinkLeavesDirectory, .tooManySymlinks, .symlinkRefused, .isDirectory,
            .notRegularFile, .permissionDenied:
            self = .forbidden(error.reason)
        }
    }
}
