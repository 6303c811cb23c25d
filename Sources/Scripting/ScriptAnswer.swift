/// What a route function returned: its answer and, from an optional second return value
/// `{ content_type = "…" }`, the HTTP Content-Type it asks for.
public struct ScriptAnswer: Sendable, Equatable {
    public var output: ScriptOutput
    /// The `content_type` of the table returned beside a string or file answer, checked with
    /// ``isValidContentType(_:)``; nil when the script named none (or answered nil or a table).
    public var contentType: String?

    public init(_ output: ScriptOutput, contentType: String? = nil) {
        self.output = output
        self.contentType = contentType
    }

    /// The longest Content-Type a script may set.
    public static let maxContentTypeBytes = 255

    /// Why a `content_type` is refused, as its log line says.
    public static let contentTypeRule =
        "content_type must be 1-255 printable ASCII characters (0x20-0x7E, no leading space)"

    /// Whether `bytes` may go out as a Content-Type header value: 1…255 bytes of visible ASCII and spaces, not
    /// starting with a space. HTTP header validation is off in the server, so this is what keeps a script from
    /// writing CR, LF, NUL or other bytes into the response head.
    public static func isValidContentType(_ bytes: some Collection<UInt8>) -> Bool {
        guard (1...maxContentTypeBytes).contains(bytes.count), bytes.first != 0x20 else { return false }
        return bytes.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
