import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The receive buffer of a UDP listening socket (TFTP, ProxyDHCP), sized for a boot storm: when the power comes
/// back, every client sends its first request within milliseconds, and what the buffer cannot hold until the server
/// reads it, the kernel drops. Each drop costs its client a timeout and a resend (PXE ROMs wait seconds). At the
/// kernel's default of 208 KiB a burst of 500 TFTP RRQs lost 243 of them on loopback, and a burst of 1000
/// ProxyDHCP requests got 437 answers.
public enum ListenerReceiveBuffer {
    /// Bytes asked for; the kernel reports and accounts twice as much. 8 MiB hold about 10 000 RRQs on loopback,
    /// and a few thousand from network cards that give each datagram a larger buffer.
    static let wanted: CInt = 4 << 20
    /// What the kernel reports for `wanted`.
    static let wantedAsReported = 2 * Int(wanted)

    /// Enlarges `descriptor`'s buffer unless it is as large already; returns the size the kernel reports. Past
    /// `net.core.rmem_max` only with CAP_NET_ADMIN (root); otherwise a socket of our own gets what `rmem_max`
    /// allows, and one bound by someone else (systemd's `ReceiveBuffer=`) is left as it is, never cut back.
    public static func enlarge(_ descriptor: CInt, ownSocket: Bool) -> Int {
        let current = size(of: descriptor)
        guard isShort(current) else { return current }
        var bytes = wanted
        let length = socklen_t(MemoryLayout<CInt>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, length) != 0, ownSocket {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &bytes, length)
        }
        return size(of: descriptor)
    }

    /// Whether `size` (from ``enlarge(_:ownSocket:)``) fell short of what was asked for.
    static func isShort(_ size: Int) -> Bool { size < wantedAsReported }

    /// One notice when the smallest of `sizes` (from ``enlarge(_:ownSocket:)``) fell short: what it costs and how
    /// to raise it. `server` names the listener and prefixes the metadata keys (`tftp`, `dhcp`).
    public static func noticeIfShort(_ sizes: [Int], server: String, logger: Logger) {
        guard let short = sizes.filter(isShort).min() else { return }
        logger.notice(
            "\(server) listener receive buffer smaller than asked for: a boot storm's requests past what it holds are dropped and resent; raise net.core.rmem_max (sysctl), or set ReceiveBuffer=4M in the .socket unit",
            metadata: [
                "\(server).receive_buffer_bytes": "\(short)",
                "\(server).wanted_bytes": "\(wantedAsReported)",
            ])
    }

    private static func size(of descriptor: CInt) -> Int {
        var bytes: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &bytes, &length) == 0 else { return 0 }
        return Int(bytes)
    }
}
