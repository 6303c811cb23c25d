import CFuzzDriver
import Glibc
import NBD
import NIOCore

// The transmission-phase byte stream through the request decoder, for a writable and a read-only export. The first
// input byte picks how the stream is cut into reads (as the socket may deliver it); the rest is the stream.
// Beyond "no crash":
// - the requests do not depend on how the stream was cut (all at once versus in chunks);
// - a delivered WRITE carries exactly `length` payload bytes, or none on a read-only export;
// - every request (but a refused WRITE) re-encodes to bytes that decode to the same request.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNBDRequest(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let chunk = Int(start[0]) + 1
    let stream = Array(UnsafeBufferPointer(start: start + 1, count: count - 1))
    for refusesWrites in [false, true] {
        let whole = decodeAll(stream, chunk: max(stream.count, 1), refusesWrites: refusesWrites)
        let cut = decodeAll(stream, chunk: chunk, refusesWrites: refusesWrites)
        precondition(whole == cut, "cutting the stream every \(chunk) bytes changed what was decoded")
        for request in whole.requests { check(request, refusesWrites: refusesWrites) }
    }
    return 0
}

/// One delivered request: its payload matches its header, and it round-trips through the encoder.
/// (Its own function: Swift 6.3.1's CopyPropagation pass crashed on this loop inlined in the entry point at -O.)
@inline(never)
func check(_ request: NBDRequest, refusesWrites: Bool) {
    if request.command == .write {
        precondition(request.payload?.readableBytes == (refusesWrites ? nil : Int(request.length)))
    } else {
        precondition(request.payload == nil)
    }
    // A refused WRITE was delivered without the payload its header announces: nothing to re-encode.
    guard !(refusesWrites && request.command == .write) else { return }
    var encoded = ByteBuffer()
    request.encode(into: &encoded)
    let again = decodeAll(Array(encoded.readableBytesView), chunk: 28, refusesWrites: refusesWrites)
    precondition(again == Decoded(requests: [request], failed: false), "\(request) did not round-trip")
}

struct Decoded: Equatable {
    var requests: [NBDRequest] = []
    var failed = false
}

/// What the decoder delivers when `stream` arrives `chunk` bytes at a time, as NIO's ByteToMessageHandler runs it:
/// unread bytes stay in one buffer, and decoding runs after each read until it asks for more.
func decodeAll(_ stream: [UInt8], chunk: Int, refusesWrites: Bool) -> Decoded {
    var decoder = NBDRequestDecoder(refusesWrites: refusesWrites)
    var buffer = ByteBuffer()
    var result = Decoded()
    var offset = 0
    while offset < stream.count {
        let end = min(offset + chunk, stream.count)
        buffer.writeBytes(stream[offset..<end])
        offset = end
        do {
            while let request = try decoder.decode(buffer: &buffer) { result.requests.append(request) }
        } catch {
            result.failed = true
            return result
        }
    }
    return result
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
