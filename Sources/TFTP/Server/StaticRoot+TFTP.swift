import Files

/// The static root as a TFTP provider on its own (a config without routes): every request is a file opened, or
/// refused, on the engine thread.
extension StaticRoot: TFTPContentProvider {
    public func answer(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer {
        do throws(ConfinedDirectoryError) {
            return .content(try content(at: request.path))
        } catch {
            throw TFTPRefusal(error)
        }
    }
}

extension TFTPRefusal {
    /// What a TFTP client is told when the confined lookup refuses: ERROR 1 for a missing file, ERROR 2 for a
    /// folder, a file that is not regular or readable, or a path or symlink leading out.
    public init(_ error: ConfinedDirectoryError) {
        switch error.kind {
        case .notFound: self = .notFound
        case .unavailable, .failed: self.init(code: .notDefined, message: "Server error", outcome: .serverError)
        case .leavesDirectory, .symlinkLeavesDirectory, .tooManySymlinks, .symlinkRefused, .isDirectory,
            .notRegularFile, .permissionDenied:
            self.init(code: .accessViolation, message: "Access violation: \(error.reason)", outcome: .refused)
        }
    }
}
