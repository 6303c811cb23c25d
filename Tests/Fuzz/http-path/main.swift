import CFuzzDriver
import Files
import Glibc
import HTTP

// A request target as NIOHTTP1 hands it over (any bytes; NIO itself does not validate the target), through the
// parser every GET and HEAD goes through: percent-decoding, then RequestPath's normalisation. Beyond "no crash":
// - a target that parses names a confined path: relative, no empty, `.` or `..` component, no `\`, no control
//   character;
// - percent-encoding every byte of a path changes nothing: the target `/%XX%YY…` parses to what RequestPath makes
//   of the raw bytes, or is refused where they are (404 for nothing named, 403 otherwise).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPPath(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let target = try? HTTPRequestTarget(parsing: String(decoding: bytes, as: UTF8.self)) {
        checkConfined(target.path)
    }
    checkEncodedEqualsRaw(bytes)
    return 0
}

func checkConfined(_ path: String) {
    precondition(!path.isEmpty && !path.hasPrefix("/"), "the target parsed to \(path)")
    for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        let text = Array(component)
        precondition(!text.isEmpty && text != [0x2E] && text != [0x2E, 0x2E], "the target parsed to \(path)")
        precondition(!text.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x5C }, "the target parsed to \(path)")
    }
}

func checkEncodedEqualsRaw(_ bytes: [UInt8]) {
    let encoded = "/" + bytes.map { "%" + String($0, radix: 16, uppercase: true).leftPadded }.joined()
    let http = Result { () throws(HTTPRefusal) in try HTTPRequestTarget(parsing: encoded).path }
    let raw = Result { () throws(RequestPath.Refusal) in try RequestPath.normalise([UInt8(ascii: "/")] + bytes) }
    switch (http, raw) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "the encoded target names \(a), the raw bytes \(b)")
    case (.failure(let refusal), .failure(let reason)):
        precondition(refusal.status == (reason == .empty ? 404 : 403), "\(refusal.status) for \(reason)")
    default:
        fatalError("encoded \(encoded) gives \(http), the raw bytes \(raw)")
    }
}

extension String {
    /// Two hex digits.
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
