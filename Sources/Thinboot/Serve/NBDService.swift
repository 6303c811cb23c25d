import BootEvents
import Logging
import NBD
import ServiceLifecycle

/// The NBD server as a service: binds at start, serves until graceful shutdown, then answers `ESHUTDOWN` and
/// closes. ``ReloadService`` hands it new exports on SIGHUP; connections are never dropped by a reload.
public struct NBDService: Service {
    /// The server; tests read its bound addresses.
    public let server: NBDServer

    public init(
        section: NBDSection, store: NBDExportStore? = nil, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents()
    ) {
        server = NBDServer(
            configuration: section.serverConfiguration(), store: store, logger: logger, events: events)
    }

    public func run() async throws {
        try await server.start()
        // Returns when graceful shutdown starts (or the task is cancelled).
        try? await gracefulShutdown()
        await server.shutdown()
    }
}
