import Logging
import ServiceLifecycle

/// systemd's side of the service group: pings the watchdog every half `WatchdogSec=` while the group runs, and
/// says `STOPPING=1` as soon as graceful shutdown starts (it is the last service, so its shutdown starts first).
struct SystemdService: Service {
    func run() async throws {
        let interval = SystemdNotifier.watchdogInterval()
        await cancelWhenGracefulShutdown {
            guard let interval else {
                try? await gracefulShutdown()
                return
            }
            // Half the interval, as sd_watchdog_enabled(3) advises: a late ping kills the service.
            while !Task.isCancelled {
                SystemdNotifier.watchdog()
                try? await Task.sleep(for: interval / 2)
            }
        }
        SystemdNotifier.stopping()
    }
}
