import NIOCore
import Synchronization

/// What this server learned about clients from earlier requests, by client IP: the MAC a path named, and the
/// architecture the boot loader it fetched revealed. Entries expire, and the table is bounded.
public final class ClientMemory: Sendable {
    struct Entry {
        var mac: MACAddress?
        var arch: String?
        var updated: NIODeadline
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let lifetime: TimeAmount
    private let capacity: Int

    /// Remembers clients for `lifetime` (a boot takes minutes; an hour covers a session), at most `capacity`.
    public init(lifetime: TimeAmount = .hours(1), capacity: Int = 65536) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func remember(mac: MACAddress, for ip: String) {
        update(ip) { $0.mac = mac }
    }

    public func remember(arch: String, for ip: String) {
        update(ip) { $0.arch = arch }
    }

    public func mac(for ip: String) -> MACAddress? { entry(ip)?.mac }
    public func arch(for ip: String) -> String? { entry(ip)?.arch }

    private func entry(_ ip: String) -> Entry? {
        let now = NIODeadline.now()
        return entries.withLock { entries in
            guard let entry = entries[ip], entry.updated + lifetime > now else { return nil }
            return entry
        }
    }

    private func update(_ ip: String, _ change: (inout Entry) -> Void) {
        let now = NIODeadline.now()
        entries.withLock { entries in
            if entries.count >= capacity, entries[ip] == nil {
                entries = entries.filter { $0.value.updated + lifetime > now }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.updated < $1.value.updated }) {
                    entries[oldest.key] = nil
                }
            }
            var entry = entries[ip] ?? Entry(updated: now)
            change(&entry)
            entry.updated = now
            entries[ip] = entry
        }
    }
}
