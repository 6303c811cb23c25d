import BootEvents
import Files
import NIOCore

/// A read request as a content provider sees it: the path normalised and confined, options parsed.
public struct TFTPReadRequest: Sendable {
    /// Normalised path relative to the root: no leading `/`, `/` separators, no `..`, no control characters.
    public var path: String
    /// The transfer mode the client asked for.
    public var mode: TFTPMode
    /// The options the client requested, names lowercased, values as sent.
    public var options: [String: String] {
        var options: [String: String] = [:]
        for option in requested where options[option.name] == nil { options[option.name] = option.value }
        return options
    }
    /// The options as they came, kept as a list: most providers never look, so no dictionary is built for them.
    var requested: [TFTPOption]
    /// The client's address and port.
    public var client: SocketAddress
    /// The server address the request was sent to (the transfer answers from it).
    public var local: SocketAddress
    /// ``client``'s IP as text (`?` when it has none): made once per request, for the provider and the log line.
    public var clientIP: String
    /// ``local``'s IP as text, made once per request.
    public var localIP: String?

    public init(path: String, mode: TFTPMode, options: [String: String], client: SocketAddress, local: SocketAddress) {
        self.init(
            path: path, mode: mode, requested: options.map { TFTPOption($0.key, $0.value) }, client: client,
            local: local, clientIP: client.ipAddress ?? "?", localIP: local.ipAddress)
    }

    init(
        path: String, mode: TFTPMode, requested: [TFTPOption], client: SocketAddress, local: SocketAddress,
        clientIP: String, localIP: String?
    ) {
        self.path = path
        self.mode = mode
        self.requested = requested
        self.client = client
        self.local = local
        self.clientIP = clientIP
        self.localIP = localIP
    }
}

/// The transfer modes of RFC 1350 that a read can use.
public enum TFTPMode: String, Sendable, Hashable {
    case octet
    case netascii
}

/// A refusal a provider returns: the TFTP error the client sees and the outcome the transfer log records.
public struct TFTPRefusal: Error, Sendable {
    public let code: TFTPErrorCode
    /// Sent to the client in the ERROR packet: short, no internals.
    public let message: String
    /// For the request's log line.
    public let outcome: TransferOutcome

    public init(code: TFTPErrorCode, message: String, outcome: TransferOutcome) {
        self.code = code
        self.message = message
        self.outcome = outcome
    }

    /// ERROR 1, logged as `not found`.
    public static let notFound = TFTPRefusal(code: .fileNotFound, message: "File not found", outcome: .notFound)
}

/// RFC 1350 and RFC 2347 error codes.
public enum TFTPErrorCode: UInt16, Sendable, Hashable {
    case notDefined = 0
    case fileNotFound = 1
    case accessViolation = 2
    case diskFull = 3
    case illegalOperation = 4
    case unknownTransferID = 5
    case fileExists = 6
    case noSuchUser = 7
    case optionNegotiationFailed = 8
}

/// How a provider answers a read request: with content at hand, or with work that takes a while (a script).
public enum TFTPAnswer: Sendable {
    /// `kind`: where the bytes come from (a static file, or a script's answer still cached), for the duration
    /// histogram.
    case content(BootContent, kind: BootEvent.ContentKind = .static)
    /// Runs on the provider's own threads (never the engine's) and calls its completion once, from any thread.
    case compute(Computation)

    /// Work that computes the content and hands it to its completion, once, with where its bytes come from (a
    /// script, the static root, a file inside an image: the duration histogram's `kind`).
    public typealias Computation =
        @Sendable (
            _ completion: @escaping @Sendable (Result<BootContent, TFTPRefusal>, BootEvent.ContentKind) -> Void
        ) -> Void
}

/// Answers read requests; the static root is one provider, the Lua router (which falls back to the static root)
/// another.
///
/// For every RRQ that passed protocol checks the server calls ``answer(for:)`` on the engine thread that read it:
/// a provider answers there what costs no more than opening a file (a static file, a cached answer), which keeps a
/// boot storm's many small requests free of thread hops. Anything slower it hands back as a computation, which
/// the provider runs on its own threads; the engine gets the result posted back. That is two thread switches per
/// script request, engine to worker and back.
public protocol TFTPContentProvider: Sendable {
    func answer(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer
}
