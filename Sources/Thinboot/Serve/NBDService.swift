import BootEvents
import Logging
import NBD
import ServiceLifecycle

/// The NBD server as a service: binds at start, serves until graceful shutdown, then answers `ESHUTDOWN` and
/// closes. ``ReloadService`` hands it new exports on SIGHUP; connections are never dropped by a reload.
public struct NBDService: Service {
    /// The server; tests read its bound addresses.
    public let server: NBDServer
    private let onBound: @Sendable () -> Void

    /// - Parameter inheritedListeners: sockets from systemd, served instead of `[nbd] listen`.
    /// - Parameter onBound: told once every listener is bound.
    public init(
        section: NBDSection, store: NBDExportStore? = nil, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents(), inheritedListeners: [CInt] = [],
        onBound: @escaping @Sendable () -> Void = {}
    ) {
        var configuration = section.serverConfiguration()
        configuration.inheritedListeners = inheritedListeners
        server = NBDServer(configuration: configuration, store: store, logger: logger, events: events)
        self.onBound = onBound
    }

    public func run() async throws {
        try await server.start()
        onBound()
        // Returns when graceful shutdown starts (or the task is cancelled).
        try? await gracefulShutdown()
        await server.shutdown()
    }
}
