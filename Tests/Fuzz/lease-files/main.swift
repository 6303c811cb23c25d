import CFuzzDriver
import DHCP
import Glibc

// A lease file as `[clients] leases` reads it, through the format detection and all three readers. The first input
// byte picks where the file is cut, the rest is the file. Beyond "no crash": for the append-only formats (Kea's CSV,
// ISC dhcpd's blocks), reading the file in two parts — up to the cut, then on from what the first read consumed, as
// when the server appends while Thinboot reads — gives the same leases as reading it whole; no reader ever
// consumes more than it was given.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLeaseFiles(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let file = Array(UnsafeBufferPointer(start: start + 1, count: count - 1))
    let cut = file.count * Int(start[0]) / 255
    _ = LeaseFormat.detect(file)
    precondition(DnsmasqLeaseReader.parse(file).consumed <= file.count)
    checkAppending(file, cut: cut, format: "kea") { reader, bytes in
        var kea = reader ?? KeaLeaseReader()
        let parse = kea.parse(bytes)
        reader = kea
        return parse
    }
    checkAppending(file, cut: cut, format: "isc") { reader, bytes in
        var isc = reader ?? ISCLeaseReader()
        let parse = isc.parse(bytes)
        reader = isc
        return parse
    }
    return 0
}

/// Reads `file` whole with a fresh reader, and in two parts with another; `read` parses with the reader it is
/// given (nil: a fresh one) and keeps it for the next call.
func checkAppending<Reader>(
    _ file: [UInt8], cut: Int, format: String, _ read: (inout Reader?, [UInt8]) -> LeaseParse
) {
    var whole: Reader? = nil
    let all = read(&whole, file)
    precondition(all.consumed <= file.count, "\(format) consumed more than the file")
    var parts: Reader? = nil
    let first = read(&parts, Array(file[..<cut]))
    precondition(first.consumed <= cut, "\(format) consumed more than the first part")
    let second = read(&parts, Array(file[first.consumed...]))
    // Blank space or a comment before a cut-off statement may count as consumed or not: only leases must agree.
    precondition(first.consumed + second.consumed <= file.count, "\(format) consumed more than the file")
    precondition(
        first.leases + second.leases == all.leases,
        "\(format): reading in two parts cut at \(cut) gives other leases than reading whole")
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
