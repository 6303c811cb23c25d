/// A check of TOML text before it reaches toml++ (CTOMLReader). toml++ asserts, and so aborts the
/// process, instead of reporting five kinds of error, so a config or inventory edited with a stray character would
/// kill a running server on reload:
/// - a non-ASCII byte outside strings and comments (`[é]`, `é = 1`): TOML allows it nowhere else;
/// - a table header whose name starts with a byte that starts no key (``[ `a]``, `[[{x]]`, `[` then a line
///   break): toml++ checks the first character of the name only by assertion;
/// - a `}` inside an array (`a = ["x", }`): toml++ 3.3 takes it for the start of a value, and asserts;
/// - a date, one space and a lone digit (`a = 2000-01-01 1`): toml++ reads on for a time, and asserts at the end;
/// - a date and `T` with no digit after it (`a = 2000-01-01Tz:`): toml++ asserts that a time starts with one.
/// Each is an error in any TOML, so the check never refuses a valid file; each gives the line it is on.
enum TOMLText {
    /// What the check found, with its 1-based line.
    struct Problem: Equatable, CustomStringConvertible {
        let line: Int
        let description: String
        /// Whether quoting a key is the cure (a stray character in a key or table name).
        var quotingHelps = true
    }

    /// The first problem outside strings and comments, or nil.
    static func problem(in text: String) -> Problem? {
        var scanner = Scanner(Array(text.utf8))
        // toml++ skips a UTF-8 byte order mark at the start (Windows editors write one): it is no stray character.
        if scanner.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3 }
        return scanner.run()
    }

    private struct Scanner {
        /// Where the scan is in TOML's line structure: a table header is a `[` that starts a line outside any
        /// value; inside a value (an array or inline table may span lines) a `[` is an array.
        enum Place {
            case lineStart
            case header
            case keyOrValue
        }

        let bytes: [UInt8]
        var index = 0
        var line = 1
        var place = Place.lineStart
        /// The `[` and `{` of the value being read that are still open, innermost last.
        var open: [UInt8] = []

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func run() -> Problem? {
            while index < bytes.count {
                let byte = bytes[index]
                if startsTriple(UInt8(ascii: "\"")) {
                    skipString(quote: UInt8(ascii: "\""), delimiter: 3, escapes: true)
                } else if startsTriple(UInt8(ascii: "'")) {
                    skipString(quote: UInt8(ascii: "'"), delimiter: 3, escapes: false)
                } else if byte == UInt8(ascii: "\"") {
                    skipString(quote: byte, delimiter: 1, escapes: true)
                } else if byte == UInt8(ascii: "'") {
                    skipString(quote: byte, delimiter: 1, escapes: false)
                } else if byte == UInt8(ascii: "#") {
                    while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                } else if byte >= 0x80 {
                    return Problem(line: line, description: "a non-ASCII character outside a string")
                } else if byte == UInt8(ascii: "\n") {
                    line += 1
                    if place != .keyOrValue || open.isEmpty { place = .lineStart }
                    index += 1
                } else if place == .lineStart && byte == UInt8(ascii: "[") {
                    if let problem = checkHeader() { return problem }
                    place = .header
                    index += 1
                } else if place == .keyOrValue && byte == UInt8(ascii: "}") && open.last == UInt8(ascii: "[") {
                    return Problem(
                        line: line, description: "a '}' inside an array, where a value, ',' or ']' belongs",
                        quotingHelps: false)
                } else {
                    if place == .keyOrValue, let problem = checkDateWithoutTime() { return problem }
                    step(byte)
                    index += 1
                }
            }
            return nil
        }

        /// At a byte inside a value or key: whether a value starts here that toml++ takes for a date and a time but
        /// that has no time, which toml++ asserts on instead of reporting:
        /// - ten characters (underscores not counted, a digit first and `-` fifth and eighth), one space, one digit
        ///   and a byte that ends a value: toml++ scans on from that byte for the time, and asserts it is no such
        ///   byte;
        /// - a date of digits (`2000-01-01`), then `T` or `t`, and no digit: toml++ asserts the time starts with one.
        /// Valid TOML has a time of two-digit hours in both places.
        func checkDateWithoutTime() -> Problem? {
            guard Self.isDigit(bytes[index]), index > 0, Self.precedesValue(bytes[index - 1]) else { return nil }
            if startsDigitDate(), index + 10 < bytes.count,
                bytes[index + 10] == UInt8(ascii: "T") || bytes[index + 10] == UInt8(ascii: "t"),
                index + 11 == bytes.count || !Self.isDigit(bytes[index + 11])
            {
                return Problem(
                    line: line, description: "a date and 'T' must go on with a time of two-digit hours (HH:MM:SS)",
                    quotingHelps: false)
            }
            var end = index
            var counted = 0
            var dashesInPlace = 0
            while end < bytes.count, !Self.endsValue(bytes[end]), counted <= 10 {
                if bytes[end] != UInt8(ascii: "_") {
                    if (counted == 4 || counted == 7) && bytes[end] == UInt8(ascii: "-") { dashesInPlace += 1 }
                    counted += 1
                }
                end += 1
            }
            guard counted == 10, dashesInPlace == 2, end + 2 < bytes.count, bytes[end] == UInt8(ascii: " "),
                Self.isDigit(bytes[end + 1]), Self.endsValue(bytes[end + 2])
            else { return nil }
            return Problem(
                line: line, description: "a date and a space must go on with a time of two-digit hours (HH:MM:SS)",
                quotingHelps: false)
        }

        /// Whether `YYYY-MM-DD` in digits starts at `index`.
        func startsDigitDate() -> Bool {
            guard index + 10 <= bytes.count else { return false }
            for offset in 0..<10 {
                let byte = bytes[index + offset]
                guard offset == 4 || offset == 7 ? byte == UInt8(ascii: "-") : Self.isDigit(byte) else { return false }
            }
            return true
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// What toml++ ends a value's text at: ASCII white space, `]`, `}`, `,` or `#`.
        static func endsValue(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0A...0x0D, UInt8(ascii: "]"), UInt8(ascii: "}"),
                UInt8(ascii: ","), UInt8(ascii: "#"):
                return true
            default:
                return false
            }
        }

        /// What may come right before a value: white space, `=`, or an array's or inline table's `[`, `{`, `,`.
        static func precedesValue(_ byte: UInt8) -> Bool {
            endsValue(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{")
        }

        /// Moves `place` and `open` past one byte that is not a string, comment or line break.
        mutating func step(_ byte: UInt8) {
            switch place {
            case .lineStart:
                if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") {
                    place = .keyOrValue
                }
            case .header:
                break
            case .keyOrValue:
                if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    open.append(byte)
                } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    _ = open.popLast()
                }
            }
        }

        /// At the `[` of a table header: the first byte of its name (after `[[` and spaces) must start a key.
        /// A non-ASCII byte is left to the main scan, which names it as such.
        func checkHeader() -> Problem? {
            var next = index + 1
            if next < bytes.count && bytes[next] == UInt8(ascii: "[") { next += 1 }
            while next < bytes.count && (bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t")) {
                next += 1
            }
            guard next < bytes.count, bytes[next] < 0x80, !Self.startsName(bytes[next]) else { return nil }
            let byte = bytes[next]
            let shown = byte > 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "a control character"
            return Problem(
                line: line,
                description: "a table name must start with a letter, a digit, _, - or a quote, not \(shown)")
        }

        /// What may follow `[` or `[[` and spaces: a bare key's first byte, a quote, or the `]` of an empty
        /// name (toml++ reports that one itself).
        static func startsName(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""),
                UInt8(ascii: "'"), UInt8(ascii: "]"):
                return true
            default:
                return false
            }
        }

        /// Whether three `quote`s start at `index` (compared in place: this runs for every byte).
        func startsTriple(_ quote: UInt8) -> Bool {
            index + 2 < bytes.count && bytes[index] == quote && bytes[index + 1] == quote && bytes[index + 2] == quote
        }

        /// Skips a string from its opening delimiter to just past its closing one, counting lines. A multi-line
        /// string's content may end in up to two quotes right before the closing three (`"""a""""`).
        mutating func skipString(quote: UInt8, delimiter: Int, escapes: Bool) {
            if place == .lineStart { place = .keyOrValue }
            index += delimiter
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") { line += 1 }
                if escapes && byte == UInt8(ascii: "\\") {
                    index += 1
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                    continue
                }
                if byte == quote {
                    var run = 0
                    while index + run < bytes.count && bytes[index + run] == quote { run += 1 }
                    if run >= delimiter {
                        index += delimiter == 3 ? min(run, 5) : 1
                        return
                    }
                    index += run
                    continue
                }
                index += 1
            }
        }
    }
}
