import Files
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import TFTP

@Suite("Netascii")
struct NetasciiTests {
    @Test func encodesLineEndsAndBareCarriageReturns() {
        let input = Array("a\nb\rc\r\n".utf8)
        let expected: [UInt8] = [0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x00, 0x63, 0x0D, 0x00, 0x0D, 0x0A]
        #expect(Netascii.encode(input) == expected)
        #expect(input.withUnsafeBytes { Netascii.encodedCount($0) } == expected.count)
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

    /// Output pieces of any length (a block size), with input arriving in pieces of another length: a pair split
    /// across pieces is finished in the next one, and the pieces together are the whole conversion.
    @Test(arguments: [1, 2, 3, 5, 512])
    func encoderCutsOutputAnywhere(pieceSize: Int) {
        let original = Array("\n\r\r\nab\n\ncd\r\r\n\n".utf8) + Array(repeating: UInt8(0x0A), count: 20)
        var encoder = Netascii.Encoder()
        var output: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: pieceSize)
        for _ in 0..<200 {
            let input = original[min(encoder.inputOffset, original.count)...].prefix(3)
            let written = Array(input).withUnsafeBytes { source in
                piece.withUnsafeMutableBytes { encoder.encode(source, into: $0) }
            }
            guard written > 0 else { break }
            output += piece[0..<written]
        }
        #expect(output == Netascii.encode(original))
    }

    /// A file with a netascii `TransferSource`, the way the engine uses it: windows laid out in order, resent,
    /// restarted after an earlier block, and one jump to a block no window reached; every block's payload is the
    /// slice of the whole conversion it should be.
    @Test(arguments: [1, 3, 7, 512])
    func streamedBlocksMatchTheWholeConversion(blockSize: Int) throws {
        let folder = try TemporaryDirectory("netascii-stream")
        defer { folder.remove() }
        let alphabet = Array("ab\n\r\r\nxyz\n".utf8)
        let original = patternBytes(count: 5000, seed: UInt64(blockSize)).map { alphabet[Int($0) % alphabet.count] }
        let expected = Netascii.encode(original)
        let source = try TransferSource(.file(try open(folder.write("text.txt", original))), mode: .netascii)
        #expect(source.size == expected.count)
        let blockCount = expected.count / blockSize + 1

        func check(_ blocks: ClosedRange<Int>) {
            var buffer = ByteBuffer()
            #expect(source.writeDatagrams(blocks, blockSize: blockSize, into: &buffer))
            for block in blocks {
                let header = buffer.readBytes(length: 4) ?? []
                #expect(header == [0, 3, UInt8(block >> 8 & 0xFF), UInt8(block & 0xFF)])
                let start = (block - 1) * blockSize
                let slice = Array(expected[min(start, expected.count)..<min(start + blockSize, expected.count)])
                #expect(buffer.readBytes(length: slice.count) == slice, "block \(block)")
            }
            #expect(buffer.readableBytes == 0)
        }

        let window = 4
        var first = 1
        var round = 0
        while first <= blockCount {
            let last = min(first + window - 1, blockCount)
            check(first...last)
            round += 1
            if round % 3 == 0 { check(first...last) }  // a timeout resends the window
            // An ACK for the middle of the window every other round restarts the window after it.
            first = round % 2 == 0 && last > first ? first + (last - first) / 2 + 1 : last + 1
        }
        // Far from any kept point, and back to the start: converted again from the nearest point or the start.
        check(max(1, blockCount - 2)...blockCount)
        check(1...min(2, blockCount))
    }

    /// A file that shrank after it was counted ends the window with false (the engine sends ERROR), never with
    /// made-up bytes.
    @Test func fileThatShrankIsRefusedNotInvented() throws {
        let folder = try TemporaryDirectory("netascii-shrink")
        defer { folder.remove() }
        let path = try folder.write("text.txt", [UInt8](repeating: 0x0A, count: 4000))
        let source = try TransferSource(.file(try open(path)), mode: .netascii)
        #expect(truncate(path, 100) == 0)
        var buffer = ByteBuffer()
        #expect(!source.writeDatagrams(1...8, blockSize: 1024, into: &buffer))
    }

    /// The counting pass is cached per file version: the same file counted once; the file rewritten in place at the
    /// same size with other line ends is counted again.
    @Test func sizesAreCachedPerFileVersion() throws {
        let folder = try TemporaryDirectory("netascii-sizes")
        defer { folder.remove() }
        let path = try folder.write("text.txt", Array("a\nb\nc\n".utf8))
        // Counts of files younger than the settle time are not kept (the freshness rule): none here.
        let sizes = NetasciiSizes(settle: .zero)
        let first = try open(path)
        #expect(sizes.cachedSize(of: first) == nil)
        #expect(TransferSource.countsWholeFile(.file(first), mode: .netascii, sizes: sizes))
        #expect(sizes.size(of: first) == 9)
        #expect(sizes.cachedSize(of: try open(path)) == 9)
        #expect(!TransferSource.countsWholeFile(.file(try open(path)), mode: .netascii, sizes: sizes))
        #expect(!TransferSource.countsWholeFile(.file(try open(path)), mode: .octet, sizes: sizes))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("abcd\ne".utf8))
        try handle.close()
        #expect(sizes.cachedSize(of: try open(path)) == nil)
        #expect(sizes.size(of: try open(path)) == 7)
        let rewritten = try TransferSource(.file(try open(path)), mode: .netascii)
        var buffer = ByteBuffer()
        #expect(rewritten.writeDatagrams(1...1, blockSize: 512, into: &buffer))
        #expect(Array(buffer.readableBytesView.dropFirst(4)) == Array("abcd\r\ne".utf8))
    }

    /// A file changed within the settle time is counted on every request: its version cannot vouch for its bytes.
    @Test func aFreshFilesSizeIsNotKept() throws {
        let folder = try TemporaryDirectory("netascii-fresh")
        defer { folder.remove() }
        let path = try folder.write("text.txt", Array("a\nb\n".utf8))
        let sizes = NetasciiSizes()
        #expect(sizes.size(of: try open(path)) == 6)
        #expect(sizes.cachedSize(of: try open(path)) == nil)
    }

    private func open(_ path: String) throws -> OpenedFile {
        try OpenedFile(path: path)
    }
}
