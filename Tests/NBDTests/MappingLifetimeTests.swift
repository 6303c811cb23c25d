import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import NBD

#if canImport(Glibc)
    import Glibc
#endif

/// A READ reply points into the image mapping until the socket has taken it. However the connection ends and
/// however the image goes away (renamed over, export removed by SIGHUP), the mapping must outlive every queued
/// reply, or `writev` reads unmapped memory: EFAULT, or another mapping's bytes.
@Suite struct MappingLifetimeTests {
    /// How the connection ends while READ replies are still queued.
    enum Ending: String, CaseIterable, CustomStringConvertible {
        case halfClose, disconnect, shutdown, channelClosed
        var description: String { rawValue }
    }

    /// How the image is dropped by the store while the connection still has replies queued.
    enum Replacement: String, CaseIterable, CustomStringConvertible {
        case renamedOver, exportRemoved
        var description: String { rawValue }
    }

    static let readCount = 32
    static let readLength = 4096

    @Test(arguments: Ending.allCases, Replacement.allCases)
    func queuedRepliesKeepTheirImageMapped(ending: Ending, replacement: Replacement) throws {
        try checkQueuedReplies(ending: ending, replacement: replacement, copyOnWrite: false)
    }

    @Test(arguments: Ending.allCases)
    func queuedRepliesOnACopyOnWriteExportKeepTheirImageMapped(ending: Ending) throws {
        try checkQueuedReplies(ending: ending, replacement: .renamedOver, copyOnWrite: true)
    }

    func checkQueuedReplies(ending: Ending, replacement: Replacement, copyOnWrite: Bool) throws {
        let fixture = try ImageFixture()
        defer { fixture.remove() }
        let definition = NBDExportDefinition(
            name: "image", path: fixture.path, access: copyOnWrite ? .copyOnWrite(limit: 1 << 20) : .readOnly)
        // Replaced versions are not kept for NAME@VERSION here, so the last reference is the connection's.
        let store = NBDExportStore(exports: [definition], keepReplaced: .zero)
        let connection = try EmbeddedNBDConnection(store: store, exportName: "image")
        weak var image = try store.open(definition).image

        // A copy-on-write connection with a written block reads both from its overlay and the mapping.
        if copyOnWrite {
            var write = ByteBuffer()
            NBDRequest(
                command: .write, cookie: 999, offset: 0, length: 4, payload: ByteBuffer(bytes: [1, 2, 3, 4])
            ).encode(into: &write)
            try connection.channel.writeInbound(write)
        }
        var requests = ByteBuffer()
        for index in 0..<Self.readCount {
            NBDRequest(
                command: .read, cookie: UInt64(index), offset: UInt64(index * 8192), length: UInt32(Self.readLength)
            ).encode(into: &requests)
        }
        if ending == .disconnect {
            NBDRequest(command: .disconnect, cookie: 1000, offset: 0, length: 0).encode(into: &requests)
        }
        // The requests arrive; their replies are queued, none written yet.
        try connection.channel.writeInbound(requests)

        let newer = try ImageFixture(seed: 99)
        defer { newer.remove() }
        switch replacement {
        case .renamedOver:
            #expect(rename(newer.path, fixture.path) == 0)
            // The next client maps the new file; the store lets go of the old mapping.
            #expect(try store.open(definition).image !== image)
        case .exportRemoved:
            store.replace([])
        }

        switch ending {
        case .halfClose: connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case .disconnect: break
        case .shutdown:
            connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            connection.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        case .channelClosed: connection.channel.close(promise: nil)
        }
        connection.channel.embeddedEventLoop.run()

        try #require(image != nil, "the image was unmapped while \(Self.readCount) replies into it were queued")
        var replies = connection.outbound()
        if copyOnWrite {
            #expect(replies.readInteger(as: UInt32.self) == NBDMagic.simpleReply)
            #expect(replies.readInteger(as: UInt32.self) == 0)
            #expect(replies.readInteger(as: UInt64.self) == 999)
        }
        var expected = fixture.bytes
        if copyOnWrite { expected.replaceSubrange(0..<4, with: [1, 2, 3, 4]) }
        for index in 0..<Self.readCount {
            #expect(replies.readInteger(as: UInt32.self) == NBDMagic.simpleReply)
            #expect(replies.readInteger(as: UInt32.self) == 0)
            #expect(replies.readInteger(as: UInt64.self) == UInt64(index))
            let data = replies.readBytes(length: Self.readLength)
            #expect(data == Array(expected[index * 8192..<index * 8192 + Self.readLength]), "reply \(index)")
        }
        _ = try? connection.channel.finish()
        replies = ByteBuffer()
        store.refresh()
        // Once nothing points into it and its keep time is over, the old mapping goes: no leak either.
        #expect(image == nil)
    }
}
