import Files

/// The request target of a request line, split into the normalised path and the decoded query.
///
/// The path is percent-decoded first and then normalised by the rule of every protocol (``RequestPath``), so an
/// encoded `..`, `/`, NUL or an overlong UTF-8 form is judged after decoding, exactly as if it had been sent raw.
/// The query is decoded as a form (`+` is a space); it is never used to name a file.
public struct HTTPRequestTarget: Sendable, Equatable {
    /// The normalised path relative to the root.
    public let path: String
    /// The decoded query parameters; the first of repeated names wins.
    public let query: [String: String]

    /// Parses `uri` as sent in the request line (origin form; an absolute form's path is used).
    public init(parsing uri: String) throws(HTTPRefusal) {
        // Cut at bytes, not characters: a request target is ASCII (RFC 3986), and searching its characters was a
        // measurable share of a small response.
        var target = Substring(uri)
        if let fragment = target.utf8.firstIndex(of: UInt8(ascii: "#")) { target = target[..<fragment] }
        // Absolute form (`http://host/path`), as proxies send: only the path names a file.
        if target.utf8.first != UInt8(ascii: "/"), let colon = target.utf8.firstIndex(of: UInt8(ascii: ":")),
            target[..<colon].allSatisfy(\.isLetter), target[colon...].hasPrefix("://")
        {
            let afterHost = target[target.utf8.index(colon, offsetBy: 3)...]
            target = afterHost.utf8.firstIndex(of: UInt8(ascii: "/")).map { afterHost[$0...] } ?? ""
        }
        let rawPath: Substring
        var rawQuery: Substring = ""
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            rawPath = target[..<mark]
            rawQuery = target[target.utf8.index(after: mark)...]
        } else {
            rawPath = target
        }
        guard let decoded = Self.percentDecoded(Array(rawPath.utf8), plusIsSpace: false) else {
            throw HTTPRefusal(status: 400, message: "Bad percent-encoding in the path", outcome: "refused")
        }
        do throws(RequestPath.Refusal) {
            path = try RequestPath.normalise(decoded)
        } catch .empty {
            throw .notFound
        } catch {
            throw .forbidden("Forbidden: \(error.reason)")
        }
        query = Self.decodeQuery(rawQuery)
    }

    /// `a=1&b=x+y` as a dictionary; undecodable pairs are skipped.
    static func decodeQuery(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let valueText = parts.count > 1 ? parts[1] : ""
            guard let name = percentDecoded(Array(parts[0].utf8), plusIsSpace: true),
                let value = percentDecoded(Array(valueText.utf8), plusIsSpace: true),
                !name.isEmpty
            else { continue }
            let key = String(decoding: name, as: UTF8.self)
            if result[key] == nil { result[key] = String(decoding: value, as: UTF8.self) }
        }
        return result
    }

    /// The bytes of `text` with every `%XX` replaced by its byte; nil for a `%` not followed by two hex digits.
    static func percentDecoded(_ text: [UInt8], plusIsSpace: Bool) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
                else { return nil }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
