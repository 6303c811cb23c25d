import Logging
import NIOConcurrencyHelpers

/// Counts the servers that have bound their listeners; when the last one has, `serve` is ready: it logs so and
/// tells systemd (`READY=1`), so a unit ordered after it finds every port answering.
final class ServeReadiness: Sendable {
    private let remaining: NIOLockedValueBox<Int>
    private let logger: Logger

    init(servers: Int, logger: Logger) {
        remaining = NIOLockedValueBox(servers)
        self.logger = logger
    }

    /// One server's listeners are bound.
    func bound() {
        let left = remaining.withLockedValue { count in
            count -= 1
            return count
        }
        guard left == 0 else { return }
        logger.notice("serving")
        SystemdNotifier.ready(status: "serving")
    }
}
