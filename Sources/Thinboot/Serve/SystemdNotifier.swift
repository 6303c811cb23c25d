import CSystemd

/// The messages `serve` sends to systemd's `NOTIFY_SOCKET` (`Type=notify` or `notify-reload` units): `READY=1`
/// once every listener is bound, `RELOADING=1` then `READY=1` around a SIGHUP reload, `STOPPING=1` at shutdown,
/// and `WATCHDOG=1` pings. Without `NOTIFY_SOCKET` (not under systemd) every call does nothing.
enum SystemdNotifier {
    static func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// `MONOTONIC_USEC` lets `Type=notify-reload` units tell this reload from an earlier one.
    static func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send("RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
    }

    static func stopping() { send("STOPPING=1") }

    static func watchdog() { send("WATCHDOG=1") }

    /// The watchdog interval systemd asked for (`WatchdogSec=`), or nil when there is no watchdog.
    static func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    private static func send(_ state: String) {
        // A failed notify is not worth stopping a server for: systemd then times the unit out and says so.
        _ = sd_notify(0, state)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
