import BootEvents
import Files
import Logging
import ServiceLifecycle
import TFTP

extension ThinbootServer {
    /// The TFTP server's service for `[tftp]`, answering from `routing` (shared with HTTP). Sockets from systemd
    /// replace the `listen` addresses.
    func makeTFTPService(
        _ section: TFTPSection, routing: LiveRouting, readiness: ServeReadiness,
        events: any BootEventSink = IgnoredBootEvents()
    ) -> TFTPService {
        TFTPService(
            configuration: tftpConfiguration(section, inherited: activated.sockets(for: "tftp")),
            provider: LiveTFTPProvider(live: routing), logger: logger, events: events
        ) { _ in readiness.bound() }
    }

    /// `[tftp]`'s server settings, listening on the sockets systemd passed when there are any.
    func tftpConfiguration(_ section: TFTPSection, inherited: [CInt] = []) -> TFTPServerConfiguration {
        var configuration = section.server
        if !inherited.isEmpty || !activated.sockets(for: "tftp").isEmpty {
            configuration.listen = []
        }
        configuration.inheritedSockets = inherited
        return configuration
    }
}
