/// A route's path glob: `*` matches within one path segment, `**` matches any number of whole segments (also
/// none), `{name}` matches within a segment and captures under `name`. `**/pxelinux.cfg/*` thus matches
/// `pxelinux.cfg/default` and `ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56` alike.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// One piece of a segment: `Unit` is a `Character`, or a UTF-8 byte for an ASCII glob.
    enum Token<Unit: Sendable & Hashable>: Sendable, Hashable {
        case literal(Unit)
        case star
        case named(String)
    }

    enum Segment<Unit: Sendable & Hashable>: Sendable, Hashable {
        case anySegments
        case tokens([Token<Unit>])
    }

    /// The glob as written.
    public let description: String
    let segments: [Segment<Character>]
    /// The same segments in bytes when the glob is ASCII: an ASCII path (nearly every one) is then matched byte by
    /// byte, with no `Character` made for it (that was most of a static file's route lookup).
    private let asciiSegments: [Segment<UInt8>]?

    /// The named captures, in order.
    public var names: [String] {
        segments.flatMap { segment -> [String] in
            guard case .tokens(let tokens) = segment else { return [] }
            return tokens.compactMap { if case .named(let name) = $0 { name } else { nil } }
        }
    }

    /// Parses a glob; the error says what is wrong with it.
    public init(_ glob: String) throws(RoutePatternError) {
        description = glob
        var trimmed = Substring(glob)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        guard !trimmed.isEmpty else { throw RoutePatternError("is empty: write a path such as \"pxelinux.cfg/*\"") }
        var segments: [Segment<Character>] = []
        var seen: Set<String> = []
        for text in trimmed.split(separator: "/", omittingEmptySubsequences: false) {
            if text == "**" {
                segments.append(.anySegments)
                continue
            }
            guard !text.isEmpty else { throw RoutePatternError("has an empty segment (\"//\")") }
            guard !text.contains("**") else {
                throw RoutePatternError("uses ** inside a segment: ** stands alone between slashes")
            }
            var tokens: [Token<Character>] = []
            var index = text.startIndex
            while index < text.endIndex {
                let character = text[index]
                if character == "*" {
                    tokens.append(.star)
                } else if character == "{" {
                    guard let close = text[index...].firstIndex(of: "}") else {
                        throw RoutePatternError("has an unclosed { in \"\(text)\"")
                    }
                    let name = String(text[text.index(after: index)..<close])
                    guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                        throw RoutePatternError("has a bad capture name {\(name)}: use letters, digits and _")
                    }
                    guard seen.insert(name).inserted else { throw RoutePatternError("captures {\(name)} twice") }
                    tokens.append(.named(name))
                    index = close
                } else if character == "}" {
                    throw RoutePatternError("has a } without {")
                } else {
                    tokens.append(.literal(character))
                }
                index = text.index(after: index)
            }
            segments.append(.tokens(tokens))
        }
        self.segments = segments
        asciiSegments = Self.ascii(segments)
    }

    /// `segments` with every literal as its byte, or nil when one is not ASCII.
    private static func ascii(_ segments: [Segment<Character>]) -> [Segment<UInt8>]? {
        var bytes: [Segment<UInt8>] = []
        for segment in segments {
            guard case .tokens(let tokens) = segment else {
                bytes.append(.anySegments)
                continue
            }
            var converted: [Token<UInt8>] = []
            for token in tokens {
                switch token {
                case .literal(let character):
                    guard let byte = character.asciiValue else { return nil }
                    converted.append(.literal(byte))
                case .star: converted.append(.star)
                case .named(let name): converted.append(.named(name))
                }
            }
            bytes.append(.tokens(converted))
        }
        return bytes
    }

    /// Matches a normalised request path; nil when it does not match.
    ///
    /// `**` tries the fewest segments first, `*` and `{name}` the most characters first; the first way that matches
    /// gives the captures. Whether the rest of a pattern matches the rest of a path depends only on where both
    /// stand, so each such position is tried at most once, and a wildcard that failed from one place fails from
    /// every later one (it had all of their choices): the time is linear in the path's length times the pattern's
    /// (plain backtracking was exponential: `*a*a*a*a*a*a*b` against a long run of `a`, from a client; trying each
    /// wildcard's every choice from every place was still quadratic: `**/*/**/b` against 4000 segments).
    public func match(_ path: String) -> RouteMatch? {
        if let asciiSegments, path.utf8.allSatisfy({ $0 < 0x80 }) {
            var matcher = RouteMatcher(segments: asciiSegments, units: Array(path.utf8), separator: 0x2F) {
                String(decoding: $0, as: UTF8.self)
            }
            return matcher.match()
        }
        var matcher = RouteMatcher(segments: segments, units: Array(path), separator: "/") { String($0) }
        return matcher.match()
    }
}

/// One match of a pattern against a path, in units of `Unit` (characters, or bytes of an ASCII path): the positions
/// known to fail, and the captures of the way being tried.
private struct RouteMatcher<Unit: Sendable & Hashable> {
    /// What one wildcard took: whole segments (`**`), or units of one segment (`*`, or `{name}` when named).
    private enum Capture {
        case segments(Range<Int>)
        case characters(part: Int, Range<Int>, name: String?)
    }

    private let segments: [RoutePattern.Segment<Unit>]
    private let units: [Unit]
    /// Each path segment's range in `units`.
    private let parts: [Range<Int>]
    private let text: (ArraySlice<Unit>) -> String
    /// (segment, part) positions from which the rest cannot match.
    private var failedSegments = PositionSet()
    /// Per segment: the first part from which it is known to fail, when it is `**` (a later part fails too).
    private var anySegmentsFailFrom = FailPoints()
    /// (token, unit) positions within the segment being matched from which its rest cannot match.
    private var failedTokens = PositionSet()
    /// Per token of the segment being matched: the first unit from which it is known to fail, when it is `*` or
    /// `{name}` (a later unit fails too).
    private var wildcardFailFrom = FailPoints()
    private var captures: [Capture] = []

    init(
        segments: [RoutePattern.Segment<Unit>], units: [Unit], separator: Unit,
        text: @escaping (ArraySlice<Unit>) -> String
    ) {
        self.segments = segments
        self.units = units
        self.text = text
        var parts: [Range<Int>] = []
        var start = 0
        for (index, unit) in units.enumerated() where unit == separator {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<units.count)
        self.parts = parts
    }

    mutating func match() -> RouteMatch? {
        // Without `**` a pattern matches only paths of as many segments: most misses end here.
        if segments.count != parts.count, !segments.contains(.anySegments) { return nil }
        guard matchSegments(from: 0, part: 0) else { return nil }
        var result = RouteMatch()
        for capture in captures {
            switch capture {
            case .segments(let range):
                result.captures.append(parts[range].map { text(units[$0]) }.joined(separator: "/"))
            case .characters(let part, let range, let name):
                let start = parts[part].lowerBound
                let captured = text(units[start + range.lowerBound..<start + range.upperBound])
                if let name { result.params[name] = captured } else { result.captures.append(captured) }
            }
        }
        return result
    }

    private mutating func matchSegments(from segment: Int, part: Int) -> Bool {
        guard segment < segments.count else { return part == parts.count }
        let key = segment * (parts.count + 1) + part
        guard !failedSegments.contains(key) else { return false }
        switch segments[segment] {
        case .anySegments:
            // From a later part it tried every end from there on: those ends fail.
            let failFrom = anySegmentsFailFrom[segment]
            guard part < failFrom else { return false }
            for count in 0...(min(parts.count, failFrom - 1) - part) {
                captures.append(.segments(part..<part + count))
                if matchSegments(from: segment + 1, part: part + count) { return true }
                captures.removeLast()
            }
            anySegmentsFailFrom.set(segment, part)
        case .tokens(let tokens):
            if part < parts.count {
                let mark = captures.count
                failedTokens.removeAll()
                wildcardFailFrom.removeAll()
                // The tokens' first match is as good as any: what follows depends only on the next part.
                if matchTokens(tokens, from: 0, part: part, character: 0) {
                    if matchSegments(from: segment + 1, part: part + 1) { return true }
                }
                captures.removeSubrange(mark...)
            }
        }
        failedSegments.insert(key)
        return false
    }

    private mutating func matchTokens(
        _ tokens: [RoutePattern.Token<Unit>], from token: Int, part: Int, character: Int
    ) -> Bool {
        let characters = units[parts[part]]
        guard token < tokens.count else { return character == characters.count }
        let key = token * (characters.count + 1) + character
        guard !failedTokens.contains(key) else { return false }
        switch tokens[token] {
        case .literal(let expected):
            if character < characters.count, characters[characters.startIndex + character] == expected,
                matchTokens(tokens, from: token + 1, part: part, character: character + 1)
            {
                return true
            }
        case .star, .named:
            let failFrom = wildcardFailFrom[token]
            guard character < failFrom else { return false }
            // A named capture needs at least one character; `*` may match none.
            var name: String? = nil
            if case .named(let captured) = tokens[token] { name = captured }
            let minimum = name == nil ? 0 : 1
            // From a later unit it tried every end from there on: those ends fail.
            let available = min(characters.count, failFrom == Int.max ? Int.max : failFrom + minimum - 1) - character
            if available >= minimum {
                for count in stride(from: available, through: minimum, by: -1) {
                    captures.append(.characters(part: part, character..<character + count, name: name))
                    if matchTokens(tokens, from: token + 1, part: part, character: character + count) { return true }
                    captures.removeLast()
                }
            }
            wildcardFailFrom.set(token, character)
        }
        failedTokens.insert(key)
        return false
    }
}

/// A set of small integers as bits: the matcher's memory of failed positions, where hashing each one into a `Set`
/// was most of a match's time. Storage comes with the first insert: a match that succeeds at once allocates none.
private struct PositionSet {
    private var words: [UInt64] = []
    /// Words written since the last `removeAll`: only those need clearing.
    private var used = 0

    func contains(_ position: Int) -> Bool {
        let word = position / 64
        return word < used && words[word] & (1 << UInt64(position % 64)) != 0
    }

    mutating func insert(_ position: Int) {
        let word = position / 64
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word + 1 - words.count)) }
        words[word] |= 1 << UInt64(position % 64)
        used = max(used, word + 1)
    }

    mutating func removeAll() {
        for word in 0..<used { words[word] = 0 }
        used = 0
    }
}

/// Per wildcard (by index): the first position from which it is known to fail; none known is `Int.max`.
private struct FailPoints {
    private var points: [Int] = []

    subscript(index: Int) -> Int { index < points.count ? points[index] : Int.max }

    mutating func set(_ index: Int, _ position: Int) {
        if index >= points.count { points.append(contentsOf: repeatElement(Int.max, count: index + 1 - points.count)) }
        points[index] = position
    }

    mutating func removeAll() { points.removeAll(keepingCapacity: true) }
}

/// What a pattern captured: `{name}`s by name, `*` and `**` in order.
public struct RouteMatch: Sendable, Hashable {
    public var params: [String: String]
    public var captures: [String]

    public init(params: [String: String] = [:], captures: [String] = []) {
        self.params = params
        self.captures = captures
    }
}

/// A glob that cannot be used, with what to fix.
public struct RoutePatternError: Error, Sendable, CustomStringConvertible {
    public let problem: String
    init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}
