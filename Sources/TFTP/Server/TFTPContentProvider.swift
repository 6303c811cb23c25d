import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

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

    public init(path: String, mode: TFTPMode, options: [String: String], client: SocketAddress, local: SocketAddress) {
        self.init(
            path: path, mode: mode, requested: options.map { TFTPOption($0.key, $0.value) }, client: client,
            local: local)
    }

    init(path: String, mode: TFTPMode, requested: [TFTPOption], client: SocketAddress, local: SocketAddress) {
        self.path = path
        self.mode = mode
        self.requested = requested
        self.client = client
        self.local = local
    }
}

/// The transfer modes of RFC 1350 that a read can use.
public enum TFTPMode: String, Sendable, Hashable {
    case octet
    case netascii
}

/// What a provider answers with: bytes made in memory (complete before the OACK, so `tsize` is exact), or a file
/// the provider already opened inside its confined root, which the server streams.
public enum TFTPContent: Sendable {
    case bytes([UInt8])
    case file(OpenedFile)
}

/// A file opened read-only by a confined lookup, owned by one transfer; the descriptor closes with the object.
public final class OpenedFile: Sendable {
    /// The open descriptor.
    public let descriptor: CInt
    /// The size in bytes when opened.
    public let size: Int
    /// The path relative to its root, for logs.
    public let path: String

    public init(descriptor: CInt, size: Int, path: String) {
        self.descriptor = descriptor
        self.size = size
        self.path = path
    }

    deinit {
        _ = close(descriptor)
    }

    /// The file's bytes from the start, up to ``size``: fewer when it ended early or a read failed (callers that
    /// need it whole compare the count).
    public func readAll() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < buffer.count {
                let read = pread(descriptor, buffer.baseAddress! + count, buffer.count - count, off_t(count))
                if read < 0, errno == EINTR { continue }
                guard read > 0 else { return }
                count += read
            }
        }
    }
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

/// Answers read requests; the static root is one provider, the Lua router (which falls back to the static root)
/// another.
///
/// For every RRQ that passed protocol checks the server first asks ``immediateContent(for:)`` on the engine thread
/// that read it: a provider answers there what costs no more than opening a file (a static file, a cached answer),
/// which keeps a boot storm's many small requests free of thread hops. Only when it returns nil is
/// ``content(for:)`` called, off the engine, for work that may take a while (a script).
public protocol TFTPContentProvider: Sendable {
    /// The answer if it is at hand without blocking, nil to have ``content(for:)`` called instead.
    func immediateContent(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPContent?

    func content(for request: TFTPReadRequest) async throws(TFTPRefusal) -> TFTPContent
}

extension TFTPContentProvider {
    /// By default every request goes to ``content(for:)``.
    public func immediateContent(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPContent? { nil }
}
