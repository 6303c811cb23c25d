import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Transfer sockets whose transfers ended, kept bound and in the engine's epoll set for a few seconds to serve the
/// next transfers from the same local address. A small-file transfer otherwise spends about a fifth of its CPU
/// creating, binding, registering and closing its socket.
///
/// Each transfer still has a socket of its own while it runs. Spares are lent oldest first, so a port comes back
/// only after the other spares did, and never to the client it last served: a late duplicate from that client
/// could otherwise pass for part of the new transfer. The engine drops what reaches a spare while it waits and
/// drains it again when lending it; what a transfer's socket then receives from an earlier client is a
/// stranger's datagram, answered with ERROR 5 like any other.
struct SpareSockets {
    /// Spares kept per engine at most; a socket ending past that is closed.
    static let capacity = 128
    /// How long a spare waits for a transfer before it is closed, so an idle server holds no ports.
    static let lifetime = Duration.seconds(5)

    private struct Spare {
        let descriptor: CInt
        let local: SocketAddress
        let lastClient: sockaddr_storage
        let expires: ContinuousClock.Instant
    }

    private var spares = CircularBuffer<Spare>(initialCapacity: 16)

    var isEmpty: Bool { spares.isEmpty }

    /// When the oldest spare expires.
    var nextExpiry: ContinuousClock.Instant? { spares.first?.expires }

    /// Whether `descriptor` is a spare.
    func contains(_ descriptor: CInt) -> Bool {
        spares.contains { $0.descriptor == descriptor }
    }

    /// A spare bound to `local` that did not last serve `client`, if there is one; it is the caller's now, with
    /// whatever reached it while it waited still to be drained.
    mutating func take(for local: SocketAddress, client: sockaddr_storage) -> CInt? {
        guard
            let index = spares.firstIndex(where: {
                $0.local == local && !SocketAddressBytes.sameEndpoint($0.lastClient, client)
            })
        else { return nil }
        return spares.remove(at: index).descriptor
    }

    /// Keeps `descriptor` (bound to `local`, last used for `client`) as a spare; false when full, and the caller
    /// closes it.
    mutating func keep(
        _ descriptor: CInt, local: SocketAddress, lastClient: sockaddr_storage, now: ContinuousClock.Instant
    ) -> Bool {
        guard spares.count < Self.capacity else { return false }
        spares.append(Spare(descriptor: descriptor, local: local, lastClient: lastClient, expires: now + Self.lifetime))
        return true
    }

    /// Removes and returns a spare that expired by `now`, oldest first.
    mutating func popExpired(now: ContinuousClock.Instant) -> CInt? {
        guard let first = spares.first, first.expires <= now else { return nil }
        return spares.removeFirst().descriptor
    }

    /// Removes and returns every spare.
    mutating func removeAll() -> [CInt] {
        defer { spares.removeAll() }
        return spares.map(\.descriptor)
    }
}
