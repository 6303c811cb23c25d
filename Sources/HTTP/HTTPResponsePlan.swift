import NIOHTTP1

/// What to send for one answered request, decided without I/O: status, headers and which bytes of the body.
///
/// Rules: `Content-Length` always (HEAD too, generated content too); a single byte range gets 206 with
/// `Content-Range`, one starting past the end 416; for static files `If-None-Match` (which wins) or
/// `If-Modified-Since` give 304 with the validators and no body. HEAD plans the same headers as GET, with no body.
struct HTTPResponsePlan {
    /// What of the answer goes out after the head.
    enum Body: Equatable {
        case none
        /// These bytes of the generated content.
        case bytes(Range<Int>)
        /// These bytes of the file.
        case file(Range<Int>)
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body
    /// For the log line: `first-last` of a 206, else nil.
    var range: String?

    /// Plans the response to `method` with request `headers` for an answer of `length` bytes.
    /// - Parameters:
    ///   - validators: ETag and modification time of a static file; nil for generated content.
    ///   - isFile: whether the body comes from a file (else from memory).
    init(
        method: HTTPMethod, requestHeaders: HTTPHeaders, path: String, length: Int, contentType: String?,
        validators: (entityTag: String, modifiedSeconds: Int)?, isFile: Bool
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType ?? HTTPContentType.of(path: path))
        headers.add(name: "Accept-Ranges", value: "bytes")
        if let validators {
            headers.add(name: "ETag", value: validators.entityTag)
            headers.add(name: "Last-Modified", value: HTTPDate.format(validators.modifiedSeconds))
            if Self.notModified(requestHeaders, validators) {
                headers.remove(name: "Content-Type")
                self.init(status: .notModified, headers: headers, body: .none, range: nil)
                return
            }
        }
        let wanted = HTTPByteRange(header: requestHeaders.first(name: "range"), length: length)
        let sent: Range<Int>
        let status: HTTPResponseStatus
        var range: String?
        switch wanted {
        case .whole:
            sent = 0..<length
            status = .ok
        case .partial(let bytes):
            sent = bytes
            status = .partialContent
            range = "\(bytes.lowerBound)-\(bytes.upperBound - 1)"
            headers.add(name: "Content-Range", value: "bytes \(range!)/\(length)")
        case .unsatisfiable:
            headers.add(name: "Content-Range", value: "bytes */\(length)")
            headers.add(name: "Content-Length", value: "0")
            self.init(status: .rangeNotSatisfiable, headers: headers, body: .none, range: nil)
            return
        }
        headers.add(name: "Content-Length", value: String(sent.count))
        let body: Body =
            method == .HEAD || sent.isEmpty ? .none : isFile ? .file(sent) : .bytes(sent)
        self.init(status: status, headers: headers, body: body, range: range)
    }

    /// A refusal: the status with a one-line plain-text body.
    init(refusal: HTTPRefusal, method: HTTPMethod) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: HTTPContentType.textPlain)
        headers.add(name: "Content-Length", value: String(refusal.message.utf8.count + 1))
        if refusal.status == 503 { headers.add(name: "Retry-After", value: "1") }
        self.init(
            status: HTTPResponseStatus(statusCode: refusal.status), headers: headers,
            body: method == .HEAD ? .none : .bytes(0..<(refusal.message.utf8.count + 1)), range: nil)
    }

    private init(status: HTTPResponseStatus, headers: HTTPHeaders, body: Body, range: String?) {
        self.status = status
        self.headers = headers
        self.body = body
        self.range = range
    }

    /// RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison, `*` matches); otherwise
    /// If-Modified-Since when the file is not newer than the date.
    private static func notModified(
        _ headers: HTTPHeaders, _ validators: (entityTag: String, modifiedSeconds: Int)
    ) -> Bool {
        let noneMatch = headers[canonicalForm: "if-none-match"]
        if !noneMatch.isEmpty {
            return noneMatch.contains { tag in
                tag == "*" || tag == validators.entityTag || tag == "W/" + validators.entityTag
            }
        }
        guard let since = headers.first(name: "if-modified-since"), let date = HTTPDate.parse(since) else {
            return false
        }
        return validators.modifiedSeconds <= date
    }
}
