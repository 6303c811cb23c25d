/// How a transfer ended, for its log line.
struct TransferEnd: Sendable {
    var outcome: TransferOutcome
    var statistics: TFTPReadTransfer<ContinuousClock.Instant>.Statistics
    /// The message of the client's ERROR, or of the ERROR the server sent.
    var message: String?
    /// Whether the client had acknowledged anything (the transfer was no longer half-open).
    var established = false
}
