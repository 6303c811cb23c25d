/// How a request or transfer ended: the one `tftp.outcome` of its log line. Only the log line reads the raw string.
public enum TransferOutcome: String, Sendable, Hashable, CustomStringConvertible {
    /// Every block acknowledged.
    case ok
    /// ERROR 1: neither a route nor the root has the file.
    case notFound = "not found"
    /// A request the server will not serve: a bad path, a write, an option it cannot honour, a stray packet.
    case refused
    /// The client sent an ERROR during the transfer.
    case clientAborted = "client aborted"
    /// The client asked for `tsize`, read the OACK and ended with an ERROR: it only wanted the size.
    case probe
    /// The client stopped answering.
    case timedOut = "timed out"
    /// A transfer limit or the source's rate of new transfers was reached: the request got no answer, so the
    /// client's own retransmitted request comes back later.
    case busy
    /// A half-open transfer (no ACK yet) whose slot went to a newer request when every slot was taken; it ends
    /// without a word, and a real client's retransmitted request starts again.
    case displaced
    /// The route's script failed.
    case scriptError = "script error"
    /// The server could not read or send what it had to.
    case serverError = "server error"
    /// The server stopped before or during the transfer.
    case serverStopped = "server stopped"

    /// Whether the log line carries byte and block counts: refusals never sent any.
    var sentData: Bool {
        switch self {
        case .refused, .busy, .notFound: false
        default: true
        }
    }

    public var description: String { rawValue }
}
