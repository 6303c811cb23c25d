import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import NBD

/// An `NBDConnectionHandler` on an `EmbeddedChannel`, past the oldstyle greeting (which starts transmission at
/// once), so tests drive the transmission byte by byte with no socket.
struct EmbeddedNBDConnection {
    let channel: EmbeddedChannel

    init(store: NBDExportStore, exportName: String) throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let directory = NBDListenerDirectory(store: store, scope: .legacy(exportName: exportName), logger: logger)
        channel = EmbeddedChannel(
            handler: NBDConnectionHandler(
                directory: directory, style: .oldstyle, handshakeTimeout: .seconds(10), shutdownGrace: .seconds(2),
                logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 10809)).wait()
        let greeting = outbound()
        try #require(greeting.readableBytes == 152, "oldstyle greeting")
    }

    /// Everything the server has written so far, in one buffer.
    func outbound() -> ByteBuffer {
        var all = ByteBuffer()
        while var part = try? channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&part) }
        return all
    }
}
