import Files

/// A TFTP file name as a path relative to the root: ``RequestPath``'s rule for every protocol, after the trailing
/// 0xFF bytes some PXE ROMs pad the name with, and its refusals as TFTP errors (ERROR 2, or ERROR 1 when nothing
/// is left to name a file).
public enum TFTPPath {
    /// The normalised path for `filename`, or ERROR 2 (access violation) / ERROR 1 (nothing left to name a file).
    public static func normalise(_ filename: [UInt8]) throws(TFTPRefusal) -> String {
        var end = filename.count
        while end > 0, filename[end - 1] == 0xFF { end -= 1 }
        do throws(RequestPath.Refusal) {
            return try RequestPath.normalise(filename[..<end])
        } catch .empty {
            throw TFTPRefusal.notFound
        } catch {
            throw TFTPRefusal(code: .accessViolation, message: "Access violation: \(error.reason)", outcome: .refused)
        }
    }

    /// Convenience for names given as text (tests, scripts).
    public static func normalise(_ filename: String) throws(TFTPRefusal) -> String {
        try normalise(Array(filename.utf8))
    }
}
