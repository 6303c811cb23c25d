/// ISC dhcpd's lease file (`dhcpd.leases`, format in dhcpd.leases(5)): statements, among them
/// `lease IP { starts …; ends …; binding state active; hardware ethernet MAC; … }` blocks appended as leases
/// change. The last block for an address wins. A lease is bound when its `binding state` is `active` (or, in
/// files older than failover, absent) and its `ends` (`W YYYY/MM/DD HH:MM:SS` UTC, `epoch N`, or `never`) is
/// later. dhcpd rewrites the file under a new inode at start and now and then, which starts a new reader.
///
/// Stateful only in the line number carried between appended bytes.
public struct ISCLeaseReader: Sendable {
    /// Longest statement read; a longer one is skipped with a warning (a lease block is a few hundred bytes).
    public static let maxStatementLength = 65536

    private var lineNumber = 1

    public init() {}

    /// The leases in the complete statements of `bytes`, which continue what earlier calls consumed. A statement
    /// cut off at the end is left unconsumed (dhcpd may be writing it); pass it again, with what follows.
    public mutating func parse(_ bytes: [UInt8]) -> LeaseParse {
        var scanner = Scanner(bytes: bytes, line: lineNumber)
        var result = LeaseParse()
        while true {
            scanner.skipSpaceAndComments()
            let start = scanner.position
            let startLine = scanner.line
            switch scanner.statement() {
            case .complete(let tokens):
                if let first = tokens.first, scanner.text(first) == "lease" {
                    read(lease: tokens, line: startLine, scanner: scanner, into: &result)
                }
                result.consumed = scanner.position
                lineNumber = scanner.line
            case .stray:
                result.warnings.append(LeaseWarning(line: startLine, problem: "a `}` that closes nothing"))
                result.consumed = scanner.position
                lineNumber = scanner.line
            case .incomplete:
                guard scanner.bytes.count - start > Self.maxStatementLength else { return result }
                result.warnings.append(
                    LeaseWarning(line: startLine, problem: "a statement longer than \(Self.maxStatementLength) bytes"))
                scanner.skipPastBlockEnd(from: start)
                result.consumed = scanner.position
                lineNumber = scanner.line
            case .end:
                // Trailing space and comments are read too: the next bytes start a statement. A comment the bytes
                // end inside is not: dhcpd may be writing the rest of its line, which is no statement.
                result.consumed = scanner.cutOffComment ?? scanner.position
                lineNumber = scanner.line
                return result
            }
        }
    }

    private func read(lease tokens: [Token], line: Int, scanner: Scanner, into result: inout LeaseParse) {
        guard tokens.count >= 3, let address = LeaseText.address(scanner.bytes(tokens[1])),
            scanner.text(tokens[2]) == "{"
        else {
            result.warnings.append(LeaseWarning(line: line, problem: "not `lease IP { … }`"))
            return
        }
        var mac: [UInt8]?
        var ends: Int64?
        var state: String?
        var depth = 1
        var statement: [String] = []
        for token in tokens.dropFirst(3) {
            let text = scanner.text(token)
            switch text {
            case "{" where token.kind == .punctuation:
                depth += 1
            case "}" where token.kind == .punctuation:
                depth -= 1
                statement = []
            case ";" where token.kind == .punctuation && depth == 1:
                switch statement.first {
                case "hardware" where statement.count == 3 && statement[1] == "ethernet":
                    guard let parsed = LeaseText.hardwareAddress(statement[2].utf8) else {
                        result.warnings.append(
                            LeaseWarning(
                                line: line, problem: "lease \(address): not an Ethernet address: \(statement[2])"))
                        return
                    }
                    mac = parsed
                case "ends":
                    guard let time = Self.time(Array(statement.dropFirst())) else {
                        result.warnings.append(
                            LeaseWarning(
                                line: line,
                                problem: "lease \(address): ends is not a time: \(statement.joined(separator: " "))"))
                        return
                    }
                    ends = time
                case "binding" where statement.count == 3 && statement[1] == "state":
                    state = statement[2]
                default:
                    break
                }
                statement = []
            default:
                if depth == 1 { statement.append(text) }
            }
        }
        let never = ends == Int64.max
        result.leases.append(
            Lease(
                address: address, hardwareAddress: mac, expires: never ? nil : ends,
                isBound: state.map { $0 == "active" } ?? true))
    }

    /// `never` (Int64.max), `epoch N`, or `W YYYY/MM/DD HH:MM:SS` in UTC.
    static func time(_ words: [String]) -> Int64? {
        if words == ["never"] { return Int64.max }
        if words.count == 2, words[0] == "epoch" { return LeaseText.integer(words[1].utf8) }
        guard words.count == 3, LeaseText.integer(words[0].utf8) != nil else { return nil }
        let date = words[1].split(separator: "/", omittingEmptySubsequences: false).map { LeaseText.integer($0.utf8) }
        let clock = words[2].split(separator: ":", omittingEmptySubsequences: false).map { LeaseText.integer($0.utf8) }
        guard date.count == 3, clock.count == 3, let year = date[0], let month = date[1], let day = date[2],
            let hour = clock[0], let minute = clock[1], let second = clock[2], (1970...9999).contains(year),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return daysSinceEpoch(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days algorithm, run backwards).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shifted = month <= 2 ? year - 1 : year
        let era = shifted / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    // MARK: Tokens

    struct Token {
        enum Kind { case word, string, punctuation }
        var kind: Kind
        var range: Range<Int>
    }

    enum Statement {
        /// Tokens up to a `;` or a closing `}` at the top level.
        case complete([Token])
        /// A `}` at the top level: skipped.
        case stray
        /// The bytes end inside a statement.
        case incomplete
        /// Nothing but space and comments left.
        case end
    }

    struct Scanner {
        let bytes: [UInt8]
        var position = 0
        var line: Int
        /// Where a comment starts that the bytes end inside (no line break yet), if the last skip met one.
        var cutOffComment: Int?

        init(bytes: [UInt8], line: Int) {
            self.bytes = bytes
            self.line = line
        }

        func bytes(_ token: Token) -> ArraySlice<UInt8> { bytes[token.range] }
        func text(_ token: Token) -> String { String(decoding: bytes[token.range], as: UTF8.self) }

        /// The next top-level statement; on `.incomplete` the position is back where the statement began.
        mutating func statement() -> Statement {
            let start = position
            let startLine = line
            var tokens: [Token] = []
            var depth = 0
            while let token = next() {
                guard let token else {
                    position = start
                    line = startLine
                    return .incomplete
                }
                if token.kind == .punctuation {
                    switch bytes[token.range.lowerBound] {
                    case UInt8(ascii: "{"):
                        depth += 1
                    case UInt8(ascii: "}"):
                        if depth == 0 { return .stray }
                        depth -= 1
                        if depth == 0 {
                            tokens.append(token)
                            return .complete(tokens)
                        }
                    case UInt8(ascii: ";") where depth == 0:
                        return .complete(tokens)
                    default:
                        break
                    }
                }
                tokens.append(token)
            }
            if tokens.isEmpty { return .end }
            position = start
            line = startLine
            return .incomplete
        }

        mutating func skipSpaceAndComments() {
            // At the end already: what the skip that got there found still holds.
            guard position < bytes.count else { return }
            cutOffComment = nil
            while position < bytes.count {
                let byte = bytes[position]
                if byte == LeaseText.newline {
                    line += 1
                    position += 1
                } else if LeaseText.isSpace(byte) {
                    position += 1
                } else if byte == UInt8(ascii: "#") {
                    let start = position
                    while position < bytes.count, bytes[position] != LeaseText.newline { position += 1 }
                    if position == bytes.count { cutOffComment = start }
                } else {
                    break
                }
            }
        }

        /// The next token; nil at the end of the bytes, `.some(nil)` for a string cut off by the end.
        private mutating func next() -> Token?? {
            skipSpaceAndComments()
            guard position < bytes.count else { return nil }
            let start = position
            let byte = bytes[position]
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: ";")
                || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ",")
            {
                position += 1
                return .some(Token(kind: .punctuation, range: start..<position))
            }
            if byte == UInt8(ascii: "\"") {
                position += 1
                while position < bytes.count {
                    switch bytes[position] {
                    case UInt8(ascii: "\\"): position += 2
                    case UInt8(ascii: "\""):
                        position += 1
                        return .some(Token(kind: .string, range: start..<position))
                    case LeaseText.newline:
                        line += 1
                        position += 1
                    default: position += 1
                    }
                }
                position = bytes.count
                return .some(nil)
            }
            while position < bytes.count {
                let byte = bytes[position]
                if LeaseText.isSpace(byte) || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
                    || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ",")
                    || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "#")
                {
                    break
                }
                position += 1
            }
            return .some(Token(kind: .word, range: start..<position))
        }

        /// Past a statement too long to read: to the end of the next line that starts with `}`, or of the bytes.
        mutating func skipPastBlockEnd(from start: Int) {
            position = start
            while position < bytes.count {
                if bytes[position] == LeaseText.newline {
                    line += 1
                    if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "}") {
                        position += 2
                        return
                    }
                }
                position += 1
            }
        }
    }
}
