import NIOCore
import Testing

@testable import NBD

@Suite struct HandshakeTests {
    @Test func greetingAdvertisesFixedNewstyleAndNoZeroes() {
        var machine = NBDHandshakeStateMachine(directory: TestDirectory())
        var bytes = machine.start(style: .newstyle).bytes
        #expect(bytes.readInteger(as: UInt64.self) == 0x4E42_444D_4147_4943)  // NBDMAGIC
        #expect(bytes.readInteger(as: UInt64.self) == 0x4948_4156_454F_5054)  // IHAVEOPT
        #expect(bytes.readInteger(as: UInt16.self) == 3)
        #expect(bytes.readableBytes == 0)
    }

    @Test func unknownClientFlagsDisconnect() {
        var machine = NBDHandshakeStateMachine(directory: TestDirectory())
        _ = machine.start(style: .newstyle)
        #expect(machine.receive(.clientFlags(NBDClientFlags(rawValue: 1 << 7))).closes)
    }

    @Test func listNamesEveryExportThenAcks() throws {
        var machine = negotiatingMachine()
        let replies = try #require(optionReplies(machine.receive(.option(.list, ByteBuffer())).bytes))
        #expect(replies.map(\.type) == [2, 2, 1])
        var first = ByteBuffer(bytes: replies[0].data)
        let length = first.readInteger(as: UInt32.self) ?? 0
        #expect(first.readString(length: Int(length)) == "trusty-amd64")
        #expect(first.readString(length: first.readableBytes) == "Ubuntu 14.04 amd64")
    }

    @Test func listWithDataIsInvalid() throws {
        var machine = negotiatingMachine()
        let replies = try #require(optionReplies(machine.receive(.option(.list, ByteBuffer(bytes: [1]))).bytes))
        #expect(replies.map(\.type) == [NBDOptionReplyType.errorInvalid.rawValue])
    }

    @Test func goSendsExportInfoBlockSizeAndStartsTransmission() throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.go, exportRequest("trusty-i386")))
        let replies = try #require(optionReplies(action.bytes))
        #expect(replies.map(\.type) == [3, 3, 1])
        #expect(replies[0].data == [0, 0] + [0, 0, 0, 0, 0, 0, 0x10, 0] + [0, 3])  // INFO_EXPORT 4096 bytes, RO
        #expect(replies[1].data == [0, 3] + [0, 0, 0, 1] + [0, 0, 0x10, 0] + [0x02, 0, 0, 0])  // 1, 4096, 32 MiB
        #expect(action.transmission?.export.name == "trusty-i386")
        #expect(action.transmission?.negotiation.structuredReplies == false)
    }

    @Test func goSendsNameAndDescriptionWhenAsked() throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.go, exportRequest("", infos: [.name, .description])))
        let replies = try #require(optionReplies(action.bytes))
        #expect(replies.map(\.type) == [3, 3, 3, 3, 1])
        #expect(replies[1].data == [0, 1] + Array("trusty-amd64".utf8))
        #expect(replies[2].data == [0, 2] + Array("Ubuntu 14.04 amd64".utf8))
        #expect(action.transmission?.export.name == "trusty-amd64")
    }

    @Test func infoAnswersWithoutStartingTransmission() throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.info, exportRequest("trusty-amd64")))
        #expect(action.transmission == nil)
        #expect(!action.closes)
        #expect(try #require(optionReplies(action.bytes)).last?.type == 1)
    }

    @Test func unknownExportIsErrUnknownAndTheHandshakeGoesOn() throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.go, exportRequest("nope")))
        #expect(try #require(optionReplies(action.bytes)).map(\.type) == [NBDOptionReplyType.errorUnknown.rawValue])
        #expect(machine.receive(.option(.go, exportRequest("trusty-i386"))).transmission != nil)
    }

    @Test func emptyNameWithoutDefaultIsUnknown() throws {
        var directory = TestDirectory()
        directory.defaultName = nil
        var machine = negotiatingMachine(directory)
        let replies = try #require(optionReplies(machine.receive(.option(.go, exportRequest(""))).bytes))
        #expect(replies.map(\.type) == [NBDOptionReplyType.errorUnknown.rawValue])
    }

    @Test(arguments: [
        exportRequest("trusty-amd64", lyingNameLength: 200),
        exportRequest("trusty-amd64", lyingNameLength: 3),
        exportRequest(String(repeating: "x", count: 4097)),
        ByteBuffer(bytes: [0, 0]),
    ])
    func malformedGoIsInvalid(data: ByteBuffer) throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.go, data))
        #expect(try #require(optionReplies(action.bytes)).map(\.type) == [NBDOptionReplyType.errorInvalid.rawValue])
        #expect(!action.closes)
    }

    @Test func exportNameRepliesWithSizeFlagsAndZeroesUnlessNoZeroes() {
        var plain = negotiatingMachine(flags: [.fixedNewstyle])
        let padded = plain.receive(.option(.exportName, ByteBuffer(string: "trusty-i386")))
        #expect(padded.bytes.readableBytes == 8 + 2 + 124)
        var compact = negotiatingMachine()
        var bytes = compact.receive(.option(.exportName, ByteBuffer(string: "trusty-i386"))).bytes
        #expect(bytes.readInteger(as: UInt64.self) == 4096)
        #expect(bytes.readInteger(as: UInt16.self) == 3)
        #expect(bytes.readableBytes == 0)
    }

    @Test func exportNameForUnknownExportCanOnlyDisconnect() {
        var machine = negotiatingMachine()
        #expect(machine.receive(.option(.exportName, ByteBuffer(string: "nope"))).closes)
        var long = negotiatingMachine()
        #expect(long.receive(.option(.exportName, ByteBuffer(string: String(repeating: "x", count: 5000)))).closes)
    }

    @Test func abortIsAcknowledgedThenClosed() throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(.abort, ByteBuffer()))
        #expect(action.closes)
        #expect(try #require(optionReplies(action.bytes)).map(\.type) == [1])
    }

    @Test(arguments: [NBDOption.startTLS, .peekExport, .extendedHeaders, NBDOption(rawValue: 99)])
    func otherOptionsAreUnsupported(option: NBDOption) throws {
        var machine = negotiatingMachine()
        let action = machine.receive(.option(option, ByteBuffer()))
        #expect(try #require(optionReplies(action.bytes)).map(\.type) == [NBDOptionReplyType.errorUnsupported.rawValue])
        #expect(!action.closes)
    }

    @Test func structuredRepliesAndAllocationContextCarryIntoTransmission() throws {
        var machine = negotiatingMachine()
        let refused = machine.receive(
            .option(.setMetaContext, metaContextRequest("trusty-amd64", queries: ["base:allocation"])))
        #expect(try #require(optionReplies(refused.bytes)).map(\.type) == [NBDOptionReplyType.errorInvalid.rawValue])
        #expect(
            try #require(optionReplies(machine.receive(.option(.structuredReply, ByteBuffer())).bytes)).map(\.type) == [
                1
            ])
        let set = machine.receive(
            .option(
                .setMetaContext,
                metaContextRequest("trusty-amd64", queries: ["base:allocation", "qemu:dirty-bitmap:x"])))
        let replies = try #require(optionReplies(set.bytes))
        #expect(replies.map(\.type) == [4, 1])
        #expect(replies[0].data == [0, 0, 0, 1] + Array("base:allocation".utf8))
        let go = machine.receive(.option(.go, exportRequest("trusty-amd64")))
        #expect(
            go.transmission?.negotiation
                == NBDNegotiation(requestedName: "trusty-amd64", structuredReplies: true, allocationContextID: 1))
    }

    @Test func contextSelectedForAnotherExportIsNotUsed() {
        var machine = negotiatingMachine()
        _ = machine.receive(.option(.structuredReply, ByteBuffer()))
        _ = machine.receive(.option(.setMetaContext, metaContextRequest("trusty-i386", queries: ["base:allocation"])))
        #expect(
            machine.receive(.option(.go, exportRequest("trusty-amd64"))).transmission?.negotiation.allocationContextID
                == nil)
    }

    @Test(arguments: [([String](), true), (["base:"], true), (["base:allocation"], true), (["qemu:"], false)])
    func listMetaContext(queries: [String], lists: Bool) throws {
        var machine = negotiatingMachine()
        let replies = try #require(
            optionReplies(
                machine.receive(.option(.listMetaContext, metaContextRequest("trusty-amd64", queries: queries))).bytes))
        #expect(replies.map(\.type) == (lists ? [4, 1] : [1]))
    }

    @Test func metaContextForUnknownExportIsErrUnknown() throws {
        var machine = negotiatingMachine()
        let replies = try #require(
            optionReplies(machine.receive(.option(.listMetaContext, metaContextRequest("nope", queries: []))).bytes))
        #expect(replies.map(\.type) == [NBDOptionReplyType.errorUnknown.rawValue])
    }

    @Test func malformedMetaContextIsInvalid() throws {
        var data = metaContextRequest("trusty-amd64", queries: ["base:allocation"])
        data.moveWriterIndex(to: data.writerIndex - 3)  // the query's length now lies
        var machine = negotiatingMachine()
        let replies = try #require(optionReplies(machine.receive(.option(.listMetaContext, data)).bytes))
        #expect(replies.map(\.type) == [NBDOptionReplyType.errorInvalid.rawValue])
    }

    @Test func tooManyOptionsDisconnect() {
        var machine = negotiatingMachine()
        for _ in 0..<NBDLimits.maximumOptionCount {
            #expect(!machine.receive(.option(.structuredReply, ByteBuffer())).closes)
        }
        #expect(machine.receive(.option(.structuredReply, ByteBuffer())).closes)
    }

    @Test func optionsBeforeClientFlagsDisconnect() {
        var machine = NBDHandshakeStateMachine(directory: TestDirectory())
        _ = machine.start(style: .newstyle)
        #expect(machine.receive(.option(.list, ByteBuffer())).closes)
    }

    @Test func oldstyleSendsSizeAndFlagsAndStartsTransmission() {
        var machine = NBDHandshakeStateMachine(directory: TestDirectory())
        let action = machine.start(style: .oldstyle)
        var bytes = action.bytes
        #expect(bytes.readInteger(as: UInt64.self) == 0x4E42_444D_4147_4943)
        #expect(bytes.readInteger(as: UInt64.self) == 0x0000_4202_8186_1253)
        #expect(bytes.readInteger(as: UInt64.self) == 1 << 20)
        #expect(bytes.readInteger(as: UInt32.self) == 3)
        #expect(bytes.readableBytes == 124)
        #expect(action.transmission?.export.name == "trusty-amd64")
    }
}
