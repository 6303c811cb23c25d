import CFuzzDriver
import Glibc
import NIOCore
import TFTP

// One datagram as the server's socket hands it over: decoded, and for a request also negotiated and its file name
// normalised, as the server does before anything else. Checked beyond "no crash":
// - what decodes re-encodes to a datagram that decodes to the same packet;
// - negotiation grants values inside the RFC ranges and the server's caps, answers only options that were asked
//   for, in the client's order;
// - a normalised path is relative, has no empty, `.` or `..` component, and no control character.

/// The caps a server with `[tftp]` defaults has, and a tight one, so both sides of every `min` are reached.
let limitSets = [
    TFTPOptionNegotiation.Limits(),
    TFTPOptionNegotiation.Limits(maxBlockSize: 1024, maxWindowSize: 4, defaultTimeout: 2, maxTimeout: 10),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFTPPacket(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let datagram = ByteBuffer(bytes: UnsafeBufferPointer(start: start, count: count))
    guard let packet = try? TFTPPacket(decoding: datagram) else { return 0 }
    checkRoundTrip(packet)
    if case .readRequest(let request) = packet {
        for limits in limitSets { checkNegotiation(request, limits) }
        checkNormalisedPath(request.filename)
    }
    return 0
}

func checkRoundTrip(_ packet: TFTPPacket) {
    let encoded = packet.encoded()
    // Invalid UTF-8 in a mode or option decodes to U+FFFD (three bytes), so a request near the size limit may
    // re-encode past it: then the limit, not the codec, refuses it.
    if case .readRequest = packet, encoded.readableBytes > TFTPPacket.maximumRequestSize { return }
    if case .writeRequest = packet, encoded.readableBytes > TFTPPacket.maximumRequestSize { return }
    guard let again = try? TFTPPacket(decoding: encoded) else {
        fatalError("\(packet) encodes to bytes that do not decode")
    }
    precondition(again == packet, "\(packet) round-trips to \(again)")
}

func checkNegotiation(_ request: TFTPRequest, _ limits: TFTPOptionNegotiation.Limits) {
    for transferSize in [0, 1 << 20] {
        guard
            let negotiated = try? TFTPOptionNegotiation(
                requested: request.options, limits: limits, pathBlockSizeLimit: 1468, transferSize: transferSize)
        else { continue }
        precondition(TFTPOptionNegotiation.blockSizeRange.contains(negotiated.blockSize))
        precondition(negotiated.blockSize <= max(limits.maxBlockSize, 8) && negotiated.blockSize <= 1468)
        precondition((1...max(1, limits.maxWindowSize)).contains(negotiated.windowSize))
        precondition(negotiated.timeout == limits.defaultTimeout || negotiated.timeout <= limits.maxTimeout)
        let asked = request.options.map(\.name)
        var position = asked.startIndex
        for option in negotiated.acknowledged {
            guard let found = asked[position...].firstIndex(of: option.name) else {
                fatalError("OACK \(negotiated.acknowledged) answers what \(asked) did not ask, or out of order")
            }
            position = found + 1
            if option.name == TFTPOption.transferSize { precondition(option.value == String(transferSize)) }
        }
    }
}

func checkNormalisedPath(_ filename: [UInt8]) {
    guard let path = try? TFTPPath.normalise(filename) else { return }
    precondition(!path.isEmpty && !path.hasPrefix("/"), "normalised \(filename) to \(path)")
    for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        let text = Array(component)
        precondition(!text.isEmpty && text != [0x2E] && text != [0x2E, 0x2E], "normalised \(filename) to \(path)")
        precondition(!text.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x5C }, "normalised \(filename) to \(path)")
    }
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
