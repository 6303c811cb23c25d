import NIOCore
import NIOEmbedded
import Testing

@testable import NBD

/// Back-pressure on the handler, driven by hand: while the channel is not writable no buffered request is
/// answered, and a half-close waits until they are.
@Suite struct BackPressureTests {
    @Test func requestsWaitWhileUnwritableAndAHalfCloseWaitsForThem() throws {
        let fixture = try ImageFixture()
        defer { fixture.remove() }
        let store = NBDExportStore(exports: [NBDExportDefinition(name: "image", path: fixture.path)])
        let connection = try EmbeddedNBDConnection(store: store, exportName: "image")
        var requests = ByteBuffer()
        for cookie in 0..<3 {
            NBDRequest(command: .read, cookie: UInt64(cookie), offset: UInt64(cookie) * 4096, length: 4096)
                .encode(into: &requests)
        }
        connection.channel.isWritable = false
        try connection.channel.writeInbound(requests)
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(connection.outbound().readableBytes == 0)
        #expect(connection.channel.isActive)

        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        connection.channel.embeddedEventLoop.run()
        var replies = connection.outbound()
        for cookie in 0..<3 {
            #expect(replies.readInteger(as: UInt32.self) == NBDMagic.simpleReply)
            #expect(replies.readInteger(as: UInt32.self) == 0)
            #expect(replies.readInteger(as: UInt64.self) == UInt64(cookie))
            #expect(replies.readBytes(length: 4096) == Array(fixture.bytes[cookie * 4096..<(cookie + 1) * 4096]))
        }
        #expect(replies.readableBytes == 0)
        #expect(!connection.channel.isActive)
    }
}
