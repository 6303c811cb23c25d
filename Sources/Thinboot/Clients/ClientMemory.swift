import NIOConcurrencyHelpers
import NIOCore

/// What this server learned about clients from earlier requests, by client IP: the MAC a route found (and where),
/// and the architecture the boot loader it fetched revealed. Entries expire; past `capacity` clients the one updated
/// longest ago is forgotten, in O(1), so a request from a new client costs the same with 10 or a million before it.
public final class ClientMemory: Sendable {
    struct Entry {
        var mac: MACAddress?
        var macSource: MACSource?
        var arch: String?
        var updated: NIODeadline
    }

    /// Expired entries dropped per update at most, beside the one a full table evicts: the cost stays flat.
    private static let expiredDropsPerUpdate = 2

    private let entries: NIOLockedValueBox<RecencyTable<String, Entry>>
    private let lifetime: TimeAmount

    /// Remembers clients for `lifetime` (a boot takes minutes; an hour covers a session), at most `capacity`.
    public init(lifetime: TimeAmount = .hours(1), capacity: Int = 65536) {
        self.lifetime = lifetime
        entries = NIOLockedValueBox(RecencyTable(capacity: capacity))
    }

    /// Clients remembered now (expired ones may still be counted until an update drops them).
    var count: Int { entries.withLockedValue { $0.count } }

    public func remember(mac: MACAddress, from source: MACSource, for ip: String) {
        update(ip) {
            $0.mac = mac
            $0.macSource = source
        }
    }

    public func remember(arch: String, for ip: String) {
        update(ip) { $0.arch = arch }
    }

    public func mac(for ip: String) -> MACAddress? { entry(ip)?.mac }
    /// The MAC remembered for `ip` and where it was first found.
    public func learnedMAC(for ip: String) -> (mac: MACAddress, source: MACSource)? {
        guard let entry = entry(ip), let mac = entry.mac, let source = entry.macSource else { return nil }
        return (mac, source)
    }
    public func arch(for ip: String) -> String? { entry(ip)?.arch }

    private func entry(_ ip: String) -> Entry? {
        let now = NIODeadline.now()
        return entries.withLockedValue { entries in
            guard let entry = entries.value(for: ip), entry.updated + lifetime > now else { return nil }
            return entry
        }
    }

    private func update(_ ip: String, _ change: (inout Entry) -> Void) {
        let now = NIODeadline.now()
        entries.withLockedValue { entries in
            // The table is ordered by update time: expired entries are at its old end.
            for _ in 0..<Self.expiredDropsPerUpdate {
                guard let oldest = entries.oldestEntry, oldest.value.updated + lifetime <= now else { break }
                entries.removeOldest()
            }
            var entry = entries.value(for: ip).flatMap { $0.updated + lifetime > now ? $0 : nil } ?? Entry(updated: now)
            change(&entry)
            entry.updated = now
            entries.store(entry, for: ip)
        }
    }
}
