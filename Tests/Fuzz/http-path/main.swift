import HTTP
import TFTP

// A request target as NIOHTTP1 hands it over (any bytes; NIO itself does not validate the target), through the
// parser every GET and HEAD goes through: percent-decoding, then HTTPPath's normalisation. Beyond "no crash":
// - a path that parses stays confined: relative, no empty, `.` or `..` component, no `\`, no control character;
// - HTTPPath and TFTPPath agree (one file has one name over both protocols): same path, or 403 where TFTP refuses
//   access and 404 where it finds nothing to name. TFTP alone drops a ROM's trailing 0xFF padding, so names ending
//   in 0xFF are left out of that comparison.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPPath(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let target = try? HTTPRequestTarget(parsing: String(decoding: bytes, as: UTF8.self)) {
        checkConfined(target.path)
    }
    if bytes.last != 0xFF { checkAgreement(bytes) }
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

func checkAgreement(_ bytes: [UInt8]) {
    let http: Result<String, HTTPRefusal> = Result { () throws(HTTPRefusal) in try HTTPPath.normalise(bytes) }
    let tftp: Result<String, TFTPRefusal> = Result { () throws(TFTPRefusal) in try TFTPPath.normalise(bytes) }
    switch (http, tftp) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "HTTP names \(bytes) \(a), TFTP \(b)")
    case (.failure(let refusal), .failure(let tftpRefusal)):
        let expected = tftpRefusal.code == .accessViolation ? 403 : 404
        precondition(refusal.status == expected, "HTTP answers \(refusal.status) where TFTP sends \(tftpRefusal.code)")
    default:
        fatalError("HTTP and TFTP disagree on \(bytes): \(http) versus \(tftp)")
    }
}
