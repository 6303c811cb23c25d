import Testing

@testable import TFTP

@Suite("Netascii")
struct NetasciiTests {
    @Test func encodesLineEndsAndBareCarriageReturns() {
        let input = Array("a\nb\rc\r\n".utf8)
        let expected: [UInt8] = [0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x00, 0x63, 0x0D, 0x00, 0x0D, 0x0A]
        #expect(Netascii.encode(input) == expected)
        #expect(Netascii.encodedCount(input) == expected.count)
    }

    @Test func decodeInvertsEncodeAcrossEverySplit() {
        let original = Array("line one\nline\rtwo\r\n\n\r".utf8)
        let encoded = Netascii.encode(original)
        for split in 0...encoded.count {
            var decoder = Netascii.Decoder()
            let decoded = decoder.decode(encoded[..<split]) + decoder.decode(encoded[split...]) + decoder.finish()
            #expect(decoded == original, "split at \(split)")
        }
    }

    @Test func lenientWithBareCarriageReturn() {
        var decoder = Netascii.Decoder()
        #expect(decoder.decode([0x61, 0x0D, 0x62]) == [0x61, 0x0D, 0x62])
        #expect(decoder.decode([0x0D]) == [])
        #expect(decoder.finish() == [0x0D])
    }
}
