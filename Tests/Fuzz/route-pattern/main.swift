import CFuzzDriver
import Glibc

@testable import Thinboot

// A route glob and a request path, split at the first newline: the glob is parsed as `[[tftp.route]] path` is, and
// matched against the path as every request is. Beyond "no crash" (and, with libFuzzer's -timeout, no runaway
// backtracking): a match explains the whole path — the glob with its captures put back is the path itself.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoutePattern(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeBufferPointer(start: start, count: count)
    let newline = input.firstIndex(of: 0x0A) ?? input.endIndex
    guard let pattern = try? RoutePattern(String(decoding: input[..<newline], as: UTF8.self)) else { return 0 }
    let rest = newline < input.endIndex ? input[(newline + 1)...] : input[input.endIndex...]
    // Requests reach the router normalised: no empty segments.
    let path = String(decoding: rest, as: UTF8.self).split(separator: "/").joined(separator: "/")
    guard let match = pattern.match(path) else { return 0 }
    precondition(rebuilt(pattern, match) == path, "\(pattern) matched \(path) as \(match)")
    return 0
}

/// The path `pattern` stands for with `match`'s captures in place of its wildcards.
func rebuilt(_ pattern: RoutePattern, _ match: RouteMatch) -> String {
    var captures = match.captures.makeIterator()
    var parts: [String] = []
    for segment in pattern.segments {
        switch segment {
        case .anySegments:
            guard let capture = captures.next() else { fatalError("\(pattern): a ** without its capture") }
            if !capture.isEmpty { parts.append(capture) }
        case .tokens(let tokens):
            var part = ""
            for token in tokens {
                switch token {
                case .literal(let character): part.append(character)
                case .star:
                    guard let capture = captures.next() else { fatalError("\(pattern): a * without its capture") }
                    precondition(!capture.contains("/"), "\(pattern): a * captured \(capture)")
                    part += capture
                case .named(let name):
                    guard let value = match.params[name], !value.isEmpty, !value.contains("/") else {
                        fatalError("\(pattern): {\(name)} captured \(match.params[name] ?? "nothing")")
                    }
                    part += value
                }
            }
            parts.append(part)
        }
    }
    precondition(captures.next() == nil, "\(pattern): more captures than wildcards")
    return parts.joined(separator: "/")
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
