/// How a transfer ended, for its log line.
struct TransferEnd: Sendable {
    /// `ok`, `client aborted`, `probe`, `timed out`, `server error`, `server stopped`.
    var outcome: String
    var statistics: TFTPReadTransfer<ContinuousClock.Instant>.Statistics
    /// The message of the client's ERROR, or of the ERROR the server sent.
    var message: String?
}
