/// A single `Range: bytes=…` of RFC 9110 §14, resolved against the body's length.
///
/// Only one range is served (iPXE's `sanboot` asks for one at a time); several ranges, another unit or a malformed
/// value are ignored and the whole body is sent with 200, as the RFC allows.
public enum HTTPByteRange: Equatable, Sendable {
    /// No usable range: send everything with 200.
    case whole
    /// Send `range` with 206 and `Content-Range: bytes first-last/length`.
    case partial(Range<Int>)
    /// 416 with `Content-Range: bytes */length`: the range starts at or past the end.
    case unsatisfiable

    /// The range `header` asks for in a body of `length` bytes; nil header means none.
    public init(header: String?, length: Int) {
        guard let header else {
            self = .whole
            return
        }
        let trimmed = header.trimmingSpaces
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else {
            self = .whole
            return
        }
        let spec = trimmed.dropFirst("bytes=".count).trimmingSpaces
        guard let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let firstText = spec[..<dash].trimmingSpaces
        let lastText = spec[spec.index(after: dash)...].trimmingSpaces
        guard firstText.allSatisfy(\.isASCIIDigit), lastText.allSatisfy(\.isASCIIDigit) else {
            self = .whole
            return
        }
        if firstText.isEmpty {
            // Suffix form `-N`: the last N bytes.
            guard let suffix = Int(lastText) else {
                self = lastText.isEmpty ? .whole : .partial(0..<length)
                return
            }
            guard suffix > 0, length > 0 else {
                self = .unsatisfiable
                return
            }
            self = .partial(max(0, length - suffix)..<length)
            return
        }
        guard let first = Int(firstText) else {
            self = .unsatisfiable
            return
        }
        let last = lastText.isEmpty ? Int.max : (Int(lastText) ?? Int.max)
        guard last >= first else {
            self = .whole
            return
        }
        guard first < length else {
            self = .unsatisfiable
            return
        }
        self = .partial(first..<(min(last, length - 1) + 1))
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: Substring {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
