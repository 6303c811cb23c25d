@testable import TFTP

/// The refusal `attempt` throws, or nil when it succeeds (or fails otherwise): what a client would be told.
func refusal<Result>(of attempt: () throws -> Result) -> TFTPRefusal? {
    do {
        _ = try attempt()
        return nil
    } catch {
        return error as? TFTPRefusal
    }
}
