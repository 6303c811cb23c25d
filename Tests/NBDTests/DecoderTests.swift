import NIOCore
import NIOTestUtils
import Testing

@testable import NBD

@Suite struct DecoderTests {
    @Test func handshakeDecoderReadsClientFlagsFirst() throws {
        var decoder = NBDHandshakeDecoder()
        var input = ByteBuffer(bytes: [0, 0, 0])
        #expect(try decoder.decode(buffer: &input) == nil)
        input.writeInteger(UInt8(3))
        #expect(try decoder.decode(buffer: &input) == .clientFlags([.fixedNewstyle, .noZeroes]))
    }

    @Test func handshakeDecoderFramesOptions() throws {
        var input = ByteBuffer()
        for (option, data) in [(NBDOption.structuredReply, ""), (.go, "abc"), (.list, "")] {
            input.writeInteger(NBDMagic.option)
            input.writeInteger(option.rawValue)
            input.writeInteger(UInt32(data.utf8.count))
            input.writeString(data)
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    input,
                    [
                        .option(.structuredReply, ByteBuffer()),
                        .option(.go, ByteBuffer(string: "abc")), .option(.list, ByteBuffer()),
                    ]
                )
            ], decoderFactory: { NBDHandshakeDecoder(expectingClientFlags: false) })
    }

    @Test func handshakeDecoderRefusesBadMagic() throws {
        var decoder = NBDHandshakeDecoder()
        var input = ByteBuffer()
        input.writeInteger(UInt32(1))
        input.writeString("NOTOPTS!")
        input.writeInteger(UInt64(0))
        #expect(try decoder.decode(buffer: &input) == .clientFlags(.fixedNewstyle))
        #expect(throws: NBDProtocolError.badMagic(0x4E4F_544F_5054_5321)) { try decoder.decode(buffer: &input) }
    }

    @Test func handshakeDecoderRefusesOversizedOptionBeforeBufferingIt() {
        var decoder = NBDHandshakeDecoder()
        var input = ByteBuffer()
        input.writeInteger(UInt32(1))
        input.writeInteger(NBDMagic.option)
        input.writeInteger(NBDOption.go.rawValue)
        input.writeInteger(UInt32(NBDLimits.maximumOptionLength + 1))
        _ = try? decoder.decode(buffer: &input)
        #expect(throws: NBDProtocolError.optionTooLong(UInt32(NBDLimits.maximumOptionLength + 1))) {
            try decoder.decode(buffer: &input)
        }
    }

    @Test func requestDecoderFramesRequestsAndWritePayloads() throws {
        let requests = [
            NBDRequest(command: .read, cookie: 1, offset: 4096, length: 512),
            NBDRequest(
                flags: .fua, command: .write, cookie: 2, offset: 0, length: 5, payload: ByteBuffer(string: "hello")),
            NBDRequest(command: .trim, cookie: 3, offset: 0, length: 1 << 30),
            NBDRequest(command: NBDCommand(rawValue: 42), cookie: 4, offset: 0, length: 0),
            NBDRequest(command: .disconnect, cookie: 5, offset: 0, length: 0),
        ]
        var input = ByteBuffer()
        for request in requests { request.encode(into: &input) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, requests)], decoderFactory: { NBDRequestDecoder() })
    }

    @Test func requestDecoderRefusesBadMagic() {
        var decoder = NBDRequestDecoder()
        var input = ByteBuffer(repeating: 0x41, count: 28)
        #expect(throws: NBDProtocolError.badMagic(0x4141_4141)) { try decoder.decode(buffer: &input) }
    }

    @Test func requestDecoderRefusesWritesOverTheCap() {
        var decoder = NBDRequestDecoder()
        var input = ByteBuffer()
        NBDRequest(command: .write, cookie: 1, offset: 0, length: NBDLimits.maximumRequestLength + 1).encode(
            into: &input)
        #expect(throws: NBDProtocolError.requestTooLong(NBDLimits.maximumRequestLength + 1)) {
            try decoder.decode(buffer: &input)
        }
    }

    @Test func requestDecoderWaitsForTheWholeWritePayload() throws {
        var decoder = NBDRequestDecoder()
        var input = ByteBuffer()
        NBDRequest(command: .write, cookie: 1, offset: 0, length: 10, payload: ByteBuffer(string: "0123456789"))
            .encode(into: &input)
        var partial = input.getSlice(at: 0, length: 33)!
        #expect(try decoder.decode(buffer: &partial) == nil)
        #expect(try decoder.decode(buffer: &input)?.payload == ByteBuffer(string: "0123456789"))
    }

    @Test func refusingDecoderDropsWritePayloadsAsTheyArrive() throws {
        let write = NBDRequest(
            command: .write, cookie: 2, offset: 0, length: 5000, payload: ByteBuffer(repeating: 7, count: 5000))
        let read = NBDRequest(command: .read, cookie: 3, offset: 0, length: 512)
        var input = ByteBuffer()
        write.encode(into: &input)
        read.encode(into: &input)
        var refused = write
        refused.payload = nil
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, [refused, read])], decoderFactory: { NBDRequestDecoder(refusesWrites: true) })

        // Each chunk of payload is consumed as it comes: nothing of it stays in the buffer.
        var decoder = NBDRequestDecoder(refusesWrites: true)
        var header = input.readSlice(length: 28)!
        #expect(try decoder.decode(buffer: &header) == nil)
        for _ in 0..<5 {
            var chunk = input.readSlice(length: 1000)!
            let delivered = try decoder.decode(buffer: &chunk)
            #expect(chunk.readableBytes == 0)
            #expect(delivered == (input.readableBytes == 28 ? refused : nil))
        }
        #expect(try decoder.decode(buffer: &input) == read)
    }
}
