import Logging
import NIOCore
import NIOPosix

/// Serves one export over stdin/stdout for inetd (`thinboot nbd inetd`), the job `nbdrootd` did: inetd accepts
/// the connection and hands the socket over as fds 0 and 1. Any export name selects the export, as on a
/// legacy port.
public enum NBDStandardIOServer {
    /// Serves `export` on stdin/stdout until the client disconnects. Logs go to the logger (stderr), never stdout.
    public static func serve(
        export: NBDExportDefinition, style: NBDHandshakeStyle = .newstyle, handshakeTimeout: TimeAmount = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws {
        let store = NBDExportStore(exports: [export])
        // Fail with a clear message before the handshake rather than with a bare disconnect.
        _ = try store.open(export)
        let directory = NBDListenerDirectory(store: store, scope: .legacy(exportName: export.name), logger: logger)
        let channel = try await NIOPipeBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            // The same reply water mark as a listener's connections (NIO's default of 64 KiB would pause after every
            // READ).
            .channelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: NBDServerConfiguration.defaultMaxQueuedReplyBytes / 8,
                    high: NBDServerConfiguration.defaultMaxQueuedReplyBytes)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NBDConnectionHandler(
                            directory: directory, style: style, handshakeTimeout: handshakeTimeout,
                            shutdownGrace: .seconds(0), logger: logger))
                }
            }
            .takingOwnershipOfDescriptors(input: 0, output: 1)
            .get()
        try await channel.closeFuture.get()
    }
}
