import Foundation
import Logging
import NIOCore
import Testing

@testable import NBD

@Suite final class TransmissionTests {
    let fixture: ImageFixture
    let logger = Logger(label: "test")

    init() throws { fixture = try ImageFixture() }
    deinit { fixture.remove() }

    func transmission(
        cow: Bool = false, cowLimit: UInt64 = 1 << 20, readOnly: Bool = true, structured: Bool = false,
        context: Bool = false
    ) throws -> NBDTransmission {
        let definition = NBDExportDefinition(
            name: "image", path: fixture.path,
            access: cow ? .copyOnWrite(limit: cowLimit) : readOnly ? .readOnly : .writable)
        let export = try NBDExportStore(exports: [definition]).open(definition)
        return NBDTransmission(
            export: export,
            negotiation: NBDNegotiation(
                requestedName: "image", structuredReplies: structured, allocationContextID: context ? 1 : nil),
            allocator: ByteBufferAllocator(), logger: logger)
    }

    /// The simple reply's error and the data after it.
    func simple(_ outcome: NBDTransmission.Outcome, cookie: UInt64) -> (NBDErrorCode, [UInt8])? {
        guard case .reply(var parts) = outcome else { return nil }
        var header = parts.removeFirst()
        guard header.readInteger(as: UInt32.self) == NBDMagic.simpleReply,
            let error = header.readInteger(as: UInt32.self),
            header.readInteger(as: UInt64.self) == cookie
        else { return nil }
        let data = parts.reduce(into: [UInt8]()) { $0 += $1.readableBytesView }
        return (NBDErrorCode(rawValue: error), data + (header.readBytes(length: header.readableBytes) ?? []))
    }

    func read(_ t: inout NBDTransmission, _ offset: Int, _ length: Int) -> (NBDErrorCode, [UInt8])? {
        simple(
            t.handle(
                NBDRequest(command: .read, cookie: 9, offset: UInt64(offset), length: UInt32(length)),
                shuttingDown: false), cookie: 9)
    }

    @Test func readReturnsTheImageBytes() throws {
        var t = try transmission()
        let (error, data) = try #require(read(&t, 60000, 10000))
        #expect(error == .ok)
        #expect(data == Array(fixture.bytes[60000..<70000]))
    }

    @Test(arguments: [(262144, 1), (262000, 1000), (0, 0), (Int(UInt32.max), 4096)])
    func readOutsideTheExportIsEINVAL(offset: Int, length: Int) throws {
        var t = try transmission()
        #expect(try #require(read(&t, offset, length)) == (.invalid, []))
    }

    @Test func readOverTheRequestCapIsEINVAL() throws {
        var t = try transmission()
        let outcome = t.handle(
            NBDRequest(command: .read, cookie: 1, offset: 0, length: NBDLimits.maximumRequestLength + 1),
            shuttingDown: false)
        #expect(simple(outcome, cookie: 1)?.0 == .invalid)
    }

    @Test(arguments: [NBDCommand.write, .trim, .writeZeroes])
    func modificationsOfReadOnlyExportsAreEPERM(command: NBDCommand) throws {
        var t = try transmission()
        let payload = command == .write ? ByteBuffer(bytes: [1, 2, 3, 4]) : nil
        let outcome = t.handle(
            NBDRequest(command: command, cookie: 5, offset: 0, length: 4, payload: payload), shuttingDown: false)
        #expect(simple(outcome, cookie: 5)?.0 == .notPermitted)
        #expect(try #require(read(&t, 0, 4)).1 == Array(fixture.bytes[0..<4]))
    }

    @Test func unknownCommandIsEINVAL() throws {
        var t = try transmission()
        let outcome = t.handle(
            NBDRequest(command: NBDCommand(rawValue: 77), cookie: 3, offset: 0, length: 0), shuttingDown: false)
        #expect(simple(outcome, cookie: 3)?.0 == .invalid)
    }

    @Test func flushAndCacheSucceed() throws {
        var t = try transmission()
        #expect(
            simple(
                t.handle(NBDRequest(command: .flush, cookie: 1, offset: 0, length: 0), shuttingDown: false), cookie: 1)?
                .0 == .ok)
        #expect(
            simple(
                t.handle(NBDRequest(command: .cache, cookie: 2, offset: 0, length: 65536), shuttingDown: false),
                cookie: 2)?.0 == .ok)
    }

    @Test func disconnectEndsTransmission() throws {
        var t = try transmission()
        guard
            case .disconnect = t.handle(
                NBDRequest(command: .disconnect, cookie: 1, offset: 0, length: 0), shuttingDown: false)
        else {
            Issue.record("DISC did not disconnect")
            return
        }
    }

    @Test func requestsDuringShutdownAreESHUTDOWN() throws {
        var t = try transmission()
        let outcome = t.handle(NBDRequest(command: .read, cookie: 4, offset: 0, length: 512), shuttingDown: true)
        #expect(simple(outcome, cookie: 4)?.0 == .shutdown)
    }

    @Test func structuredReadIsOneFinalOffsetDataChunk() throws {
        var t = try transmission(structured: true)
        guard
            case .reply(let parts) = t.handle(
                NBDRequest(command: .read, cookie: 8, offset: 4096, length: 100), shuttingDown: false)
        else {
            Issue.record("no reply")
            return
        }
        var header = parts[0]
        #expect(header.readInteger(as: UInt32.self) == NBDMagic.structuredReply)
        #expect(header.readInteger(as: UInt16.self) == 1)  // DONE
        #expect(header.readInteger(as: UInt16.self) == 1)  // OFFSET_DATA
        #expect(header.readInteger(as: UInt64.self) == 8)
        #expect(header.readInteger(as: UInt32.self) == 108)
        #expect(header.readInteger(as: UInt64.self) == 4096)
        #expect(Array(parts[1].readableBytesView) == Array(fixture.bytes[4096..<4196]))
    }

    @Test func structuredErrorsAreErrorChunks() throws {
        var t = try transmission(structured: true)
        guard
            case .reply(let parts) = t.handle(
                NBDRequest(command: .read, cookie: 8, offset: 1 << 30, length: 100), shuttingDown: false)
        else {
            Issue.record("no reply")
            return
        }
        var header = parts[0]
        header.moveReaderIndex(forwardBy: 6)
        #expect(header.readInteger(as: UInt16.self) == NBDStructuredReplyType.error.rawValue)
        header.moveReaderIndex(forwardBy: 12)
        #expect(header.readInteger(as: UInt32.self) == NBDErrorCode.invalid.rawValue)
    }

    @Test func blockStatusReportsHolesFromTheFile() throws {
        var t = try transmission(structured: true, context: true)
        guard
            case .reply(let parts) = t.handle(
                NBDRequest(command: .blockStatus, cookie: 2, offset: 0, length: UInt32(ImageFixture.size)),
                shuttingDown: false)
        else {
            Issue.record("no reply")
            return
        }
        var reply = parts[0]
        reply.moveReaderIndex(forwardBy: 6)
        #expect(reply.readInteger(as: UInt16.self) == NBDStructuredReplyType.blockStatus.rawValue)
        reply.moveReaderIndex(forwardBy: 12)
        #expect(reply.readInteger(as: UInt32.self) == 1)
        var extents: [[UInt32]] = []
        while let length = reply.readInteger(as: UInt32.self), let flags = reply.readInteger(as: UInt32.self) {
            extents.append([length, flags])
        }
        #expect(extents == [[65536, 0], [131072, 3], [65536, 0]])
    }

    @Test func blockStatusWithoutContextIsEINVAL() throws {
        var t = try transmission()
        let outcome = t.handle(
            NBDRequest(command: .blockStatus, cookie: 2, offset: 0, length: 4096), shuttingDown: false)
        #expect(simple(outcome, cookie: 2)?.0 == .invalid)
    }

    @Test func copyOnWriteKeepsWritesPerConnection() throws {
        var writer = try transmission(cow: true)
        var other = try transmission(cow: true)
        let payload = ByteBuffer(repeating: 0xAB, count: 5000)
        let written = writer.handle(
            NBDRequest(command: .write, cookie: 1, offset: 1000, length: 5000, payload: payload), shuttingDown: false)
        #expect(simple(written, cookie: 1)?.0 == .ok)
        var expected = Array(fixture.bytes[0..<8192])
        expected.replaceSubrange(1000..<6000, with: repeatElement(0xAB, count: 5000))
        #expect(try #require(read(&writer, 0, 8192)).1 == expected)
        #expect(try #require(read(&other, 0, 8192)).1 == Array(fixture.bytes[0..<8192]))
        let zeroed = writer.handle(
            NBDRequest(command: .writeZeroes, cookie: 2, offset: 0, length: 100), shuttingDown: false)
        #expect(simple(zeroed, cookie: 2)?.0 == .ok)
        #expect(try #require(read(&writer, 0, 100)).1 == [UInt8](repeating: 0, count: 100))
    }

    @Test func copyOnWriteReadsMixOverlayAndImageRuns() throws {
        var t = try transmission(cow: true)
        let written = t.handle(
            NBDRequest(command: .write, cookie: 1, offset: 10000, length: 3, payload: ByteBuffer(bytes: [1, 2, 3])),
            shuttingDown: false)
        #expect(simple(written, cookie: 1)?.0 == .ok)
        var expected = Array(fixture.bytes[0..<70000])
        expected.replaceSubrange(10000..<10003, with: [1, 2, 3])
        #expect(try #require(read(&t, 0, 70000)).1 == expected)
    }

    @Test func copyOnWriteOverTheLimitIsENOSPC() throws {
        var t = try transmission(cow: true, cowLimit: 8192)
        let ok = t.handle(
            NBDRequest(
                command: .write, cookie: 1, offset: 0, length: 8192, payload: ByteBuffer(repeating: 1, count: 8192)),
            shuttingDown: false)
        #expect(simple(ok, cookie: 1)?.0 == .ok)
        let full = t.handle(
            NBDRequest(command: .write, cookie: 2, offset: 8192, length: 1, payload: ByteBuffer(bytes: [1])),
            shuttingDown: false)
        #expect(simple(full, cookie: 2)?.0 == .noSpace)
    }

    @Test func writableExportWritesTheFile() throws {
        var t = try transmission(readOnly: false)
        let outcome = t.handle(
            NBDRequest(
                flags: .fua, command: .write, cookie: 1, offset: 100, length: 3, payload: ByteBuffer(bytes: [7, 8, 9])),
            shuttingDown: false)
        #expect(simple(outcome, cookie: 1)?.0 == .ok)
        let onDisk = try Array(Data(contentsOf: URL(fileURLWithPath: fixture.path))[100..<103])
        #expect(onDisk == [7, 8, 9])
    }

    @Test func truncatedImageGivesEIOAndIsMarkedStale() throws {
        var t = try transmission()
        fixture.truncate(to: 65536)
        #expect(try #require(read(&t, 0, 4096)).0 == .ok)
        #expect(try #require(read(&t, 200_000, 4096)).0 == .io)
        #expect(t.export.image.isStale)
    }
}
