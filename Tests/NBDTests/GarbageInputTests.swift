import NIOCore
import TestSupport
import Testing

@testable import NBD

/// Random bytes through the parsers: every input ends in messages, a protocol error, or a wait for more bytes —
/// never a crash (a fuzzer in miniature; the seeds make failures reproducible).
@Suite struct GarbageInputTests {
    @Test(arguments: 0..<200)
    func handshakeSurvivesGarbage(seed: Int) {
        var bytes = patternBytes(count: 64 + seed * 7, seed: UInt64(seed) + 1)
        // Half the cases start with a valid option prefix so the garbage reaches the option parsers.
        if seed % 2 == 0 {
            let prefix: [UInt8] = [
                0, 0, 0, 3, 0x49, 0x48, 0x41, 0x56, 0x45, 0x4F, 0x50, 0x54, 0, 0, 0, UInt8(seed % 12),
            ]
            bytes.replaceSubrange(0..<16, with: prefix)
        }
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = NBDHandshakeDecoder()
        // Past the greeting already: the decoder's client flags are skipped, its options reach the machine.
        var machine = negotiatingMachine()
        var steps = 0
        while steps < 1000, let message = try? decoder.decode(buffer: &buffer) {
            steps += 1
            if case .option = message, machine.receive(message).closes { break }
        }
        #expect(steps < 1000)
    }

    @Test(arguments: 0..<200)
    func requestDecoderSurvivesGarbage(seed: Int) {
        var bytes = patternBytes(count: 28 * (1 + seed % 5) + seed, seed: UInt64(seed) + 1000)
        for start in stride(from: 0, to: bytes.count - 4, by: 28) {
            bytes.replaceSubrange(start..<start + 4, with: [0x25, 0x60, 0x95, 0x13])
        }
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = NBDRequestDecoder()
        var decoded = 0
        while decoded < 100, let request = try? decoder.decode(buffer: &buffer) {
            decoded += 1
            if let payload = request.payload { #expect(payload.readableBytes == Int(request.length)) }
        }
        #expect(decoded < 100)
    }
}
