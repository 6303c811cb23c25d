import NIOCore
import NIOPosix
import TFTP

/// A UDP socket on 127.0.0.1 that speaks raw TFTP datagrams, for the rules no real client lets a test provoke
/// (strangers, busy servers, malformed requests).
struct RawPeer {
    typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    /// Runs `body` with a bound peer; the socket closes afterwards.
    static func with<T: Sendable>(_ body: (inout Inbox, RawPeer) async throws -> T) async throws -> T {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Channel(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var inbox = Inbox(iterator: inbound.makeAsyncIterator())
            return try await body(&inbox, RawPeer(channel: channel))
        }
    }

    /// Sends `packet` to 127.0.0.1:`port`.
    func send(_ packet: TFTPPacket, to port: Int) async throws {
        try await send(Array(packet.encoded().readableBytesView), to: port)
    }

    /// Sends raw bytes to 127.0.0.1:`port`.
    func send(_ bytes: [UInt8], to port: Int) async throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        try await channel.channel.writeAndFlush(
            AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
    }

    /// The datagrams this peer receives, decoded, with the port they came from.
    struct Inbox {
        var iterator: NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>.AsyncIterator

        mutating func next() async throws -> (packet: TFTPPacket, port: Int) {
            guard let envelope = try await iterator.next() else { throw PeerClosed() }
            return (try TFTPPacket(decoding: envelope.data), envelope.remoteAddress.port ?? 0)
        }
    }

    struct PeerClosed: Error {}
}
