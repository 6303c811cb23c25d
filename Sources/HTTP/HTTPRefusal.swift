/// Why a provider does not answer with content: what the client gets (status and a one-line body) and what the
/// request's log line records as `http.outcome`.
public struct HTTPRefusal: Error, Sendable, Equatable {
    /// The HTTP status code sent.
    public let status: Int
    /// The one-line body: short, no internals.
    public let message: String
    /// For the log line: `not found`, `refused`, `script error`, `busy`, `server error`.
    public let outcome: String

    public init(status: Int, message: String, outcome: String) {
        self.status = status
        self.message = message
        self.outcome = outcome
    }

    /// 404: nothing under the root or the routes has this name.
    public static let notFound = HTTPRefusal(status: 404, message: "Not found", outcome: "not found")
    /// 403: the path would leave the root, names a directory or a file that may not be read.
    public static func forbidden(_ reason: String = "Forbidden") -> HTTPRefusal {
        HTTPRefusal(status: 403, message: reason, outcome: "refused")
    }
    /// 500: the route script failed; its log line has the details.
    public static let scriptError = HTTPRefusal(status: 500, message: "Script error", outcome: "script error")
    /// 500: anything else that went wrong on the server.
    public static let serverError = HTTPRefusal(status: 500, message: "Server error", outcome: "server error")
    /// 503: past a limit; the client may try again.
    public static let unavailable = HTTPRefusal(status: 503, message: "Server busy", outcome: "busy")
}
