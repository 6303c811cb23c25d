/// A route's path glob: `*` matches within one path segment, `**` matches any number of whole segments (also
/// none), `{name}` matches within a segment and captures under `name`. `**/pxelinux.cfg/*` thus matches
/// `pxelinux.cfg/default` and `ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56` alike.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case literal(Character)
        case star
        case named(String)
    }

    enum Segment: Sendable, Hashable {
        case anySegments
        case tokens([Token])
    }

    /// The glob as written.
    public let description: String
    let segments: [Segment]

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
        var segments: [Segment] = []
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
            var tokens: [Token] = []
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
    }

    /// Matches a normalised request path; nil when it does not match.
    public func match(_ path: String) -> RouteMatch? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        var match = RouteMatch()
        return Self.match(segments[...], parts[...], &match) ? match : nil
    }

    private static func match(
        _ segments: ArraySlice<Segment>, _ parts: ArraySlice<[Character]>, _ result: inout RouteMatch
    )
        -> Bool
    {
        guard let segment = segments.first else { return parts.isEmpty }
        switch segment {
        case .anySegments:
            // Fewest segments first, so a later literal anchors as early as it can.
            for count in 0...parts.count {
                var attempt = result
                attempt.captures.append(parts.prefix(count).map { String($0) }.joined(separator: "/"))
                if match(segments.dropFirst(), parts.dropFirst(count), &attempt) {
                    result = attempt
                    return true
                }
            }
            return false
        case .tokens(let tokens):
            guard let part = parts.first else { return false }
            var attempt = result
            guard matchSegment(tokens[...], part[...], &attempt),
                match(segments.dropFirst(), parts.dropFirst(), &attempt)
            else { return false }
            result = attempt
            return true
        }
    }

    private static func matchSegment(
        _ tokens: ArraySlice<Token>, _ characters: ArraySlice<Character>, _ result: inout RouteMatch
    ) -> Bool {
        guard let token = tokens.first else { return characters.isEmpty }
        switch token {
        case .literal(let expected):
            guard characters.first == expected else { return false }
            return matchSegment(tokens.dropFirst(), characters.dropFirst(), &result)
        case .star, .named:
            // A named capture needs at least one character; `*` may match none.
            let minimum = token == .star ? 0 : 1
            guard characters.count >= minimum else { return false }
            for count in stride(from: characters.count, through: minimum, by: -1) {
                var attempt = result
                let text = String(characters.prefix(count))
                if case .named(let name) = token { attempt.params[name] = text } else { attempt.captures.append(text) }
                if matchSegment(tokens.dropFirst(), characters.dropFirst(count), &attempt) {
                    result = attempt
                    return true
                }
            }
            return false
        }
    }
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
