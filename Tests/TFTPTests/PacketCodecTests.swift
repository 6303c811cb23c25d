import NIOCore
import Testing

@testable import TFTP

@Suite("TFTP packet codec")
struct PacketCodecTests {
    private func bytes(_ packet: TFTPPacket) -> [UInt8] {
        Array(packet.encoded().readableBytesView)
    }

    private func decode(_ bytes: [UInt8]) throws(TFTPPacketError) -> TFTPPacket {
        try TFTPPacket(decoding: ByteBuffer(bytes: bytes))
    }

    @Test(arguments: [
        TFTPPacket.readRequest(TFTPRequest(filename: "pxelinux.0")),
        .readRequest(
            TFTPRequest(
                filename: "a/b", mode: .netascii,
                options: [TFTPOption("tsize", "0"), TFTPOption("blksize", "1408")])),
        .writeRequest(TFTPRequest(filename: "upload.bin")),
        .data(block: 1, payload: ByteBuffer(bytes: [1, 2, 3])),
        .data(block: 65535, payload: ByteBuffer()),
        .ack(block: 0),
        .ack(block: 65535),
        .error(code: .fileNotFound, message: "File not found"),
        .error(code: .notDefined, message: ""),
        .optionAck([TFTPOption("blksize", "1432"), TFTPOption("tsize", "42")]),
    ])
    func roundTrip(_ packet: TFTPPacket) throws {
        #expect(try decode(bytes(packet)) == packet)
    }

    @Test func readRequestLayout() {
        let packet = TFTPPacket.readRequest(
            TFTPRequest(filename: "f", mode: .octet, options: [TFTPOption("tsize", "0")]))
        #expect(bytes(packet) == [0, 1, 0x66, 0] + Array("octet".utf8) + [0] + Array("tsize".utf8) + [0, 0x30, 0])
    }

    @Test func dataHeaderWrittenInPlace() {
        var bytes: [UInt8] = [7, 7, 7, 7, 9, 9]
        bytes.withUnsafeMutableBytes { TFTPPacket.writeDataHeader(block: 0x1234, at: $0.baseAddress!) }
        #expect(bytes == [0, 3, 0x12, 0x34, 9, 9])
    }

    @Test func optionNamesAndModeAreCaseInsensitive() throws {
        let wire: [UInt8] = [0, 1] + Array("f\0OcTeT\0BlkSize\01024\0TSIZE\00\0".utf8)
        let packet = try decode(wire)
        #expect(
            packet
                == .readRequest(
                    TFTPRequest(
                        filename: "f", mode: .octet,
                        options: [TFTPOption("blksize", "1024"), TFTPOption("tsize", "0")])))
    }

    @Test func unknownOptionsAreKeptForTheNegotiatorToIgnore() throws {
        let wire: [UInt8] = [0, 1] + Array("f\0octet\0multicast\0\0blksize\0512\0".utf8)
        guard case .readRequest(let request) = try decode(wire) else {
            Issue.record("not an RRQ")
            return
        }
        #expect(request.options.map(\.name) == ["multicast", "blksize"])
    }

    @Test func repeatedOptionKeepsFirstValue() throws {
        let wire: [UInt8] = [0, 1] + Array("f\0octet\0blksize\0512\0BLKSIZE\01024\0".utf8)
        guard case .readRequest(let request) = try decode(wire) else {
            Issue.record("not an RRQ")
            return
        }
        #expect(request.options == [TFTPOption("blksize", "512")])
    }

    @Test func fileNameBytesArePreserved() throws {
        let wire: [UInt8] = [0, 1, 0x61, 0xFF, 0xFF, 0] + Array("octet\0".utf8)
        guard case .readRequest(let request) = try decode(wire) else {
            Issue.record("not an RRQ")
            return
        }
        #expect(request.filename == [0x61, 0xFF, 0xFF])
    }

    @Test func requestOfExactly512BytesIsAccepted() throws {
        let name = String(repeating: "a", count: 512 - 2 - 1 - 6)
        let wire: [UInt8] = [0, 1] + Array(name.utf8) + [0] + Array("octet\0".utf8)
        #expect(wire.count == 512)
        _ = try decode(wire)
    }

    @Test func unknownErrorCodeIsStillAnError() throws {
        #expect(try decode([0, 5, 0, 42, 0x78, 0]) == .error(code: .notDefined, message: "x"))
    }

    static let malformed: [(String, [UInt8], TFTPPacketError.Kind)] = [
        ("empty", [], .truncated),
        ("one byte", [0], .truncated),
        ("opcode 0", [0, 0, 1, 2], .unknownOpcode(0)),
        ("opcode 7", [0, 7], .unknownOpcode(7)),
        ("opcode 0x0100", [1, 0], .unknownOpcode(256)),
        ("RRQ without anything", [0, 1], .unterminatedString),
        ("RRQ name unterminated", [0, 1, 0x61], .unterminatedString),
        ("RRQ empty name", [0, 1, 0] + Array("octet\0".utf8), .emptyFilename),
        ("RRQ without mode", [0, 1, 0x61, 0], .unterminatedString),
        ("RRQ mode unterminated", [0, 1, 0x61, 0] + Array("octet".utf8), .unterminatedString),
        ("RRQ mail mode", [0, 1, 0x61, 0] + Array("mail\0".utf8), .unsupportedMode("mail")),
        ("RRQ empty mode", [0, 1, 0x61, 0, 0], .unsupportedMode("")),
        ("RRQ option without value", [0, 1, 0x61, 0] + Array("octet\0tsize\0".utf8), .malformedOption),
        ("RRQ option value unterminated", [0, 1, 0x61, 0] + Array("octet\0tsize\00".utf8), .unterminatedString),
        ("RRQ empty option name", [0, 1, 0x61, 0] + Array("octet\0\0".utf8), .malformedOption),
        ("WRQ unterminated", [0, 2, 0x61], .unterminatedString),
        ("DATA without block", [0, 3, 0], .truncated),
        ("ACK without block", [0, 4], .truncated),
        ("ACK short block", [0, 4, 1], .truncated),
        ("ACK with trailing bytes", [0, 4, 0, 1, 0], .trailingBytes),
        ("ERROR without code", [0, 5, 0], .truncated),
        ("ERROR message unterminated", [0, 5, 0, 1, 0x78], .unterminatedString),
        ("ERROR without message", [0, 5, 0, 1], .unterminatedString),
        ("ERROR with trailing bytes", [0, 5, 0, 1, 0, 0x78], .trailingBytes),
        ("OACK empty", [0, 6], .emptyOptionAck),
        ("OACK name without value", [0, 6] + Array("blksize\0".utf8), .malformedOption),
    ]

    @Test(arguments: malformed)
    func malformedPacketIsRejected(_ name: String, _ wire: [UInt8], _ expected: TFTPPacketError.Kind) {
        #expect(throws: TFTPPacketError(expected), "\(name)") { try decode(wire) }
    }

    @Test func requestOver512BytesIsRejected() {
        let name = String(repeating: "a", count: 512 - 2 - 1 - 6 + 1)
        let wire: [UInt8] = [0, 1] + Array(name.utf8) + [0] + Array("octet\0".utf8)
        #expect(throws: TFTPPacketError(.requestTooLarge(513))) { try decode(wire) }
    }

    @Test func errorMessagesNameTheProblem() {
        #expect(TFTPPacketError(.unsupportedMode("mail")).description.contains("octet or netascii"))
        #expect(TFTPPacketError(.unknownOpcode(9)).description == "unknown opcode 9")
    }
}
