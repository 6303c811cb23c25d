import NIOCore
import Synchronization

/// What ProxyDHCP taught about each client, by MAC: the firmware's own architecture (option 93), its UUID,
/// user class, and its IP once known. Later TFTP requests whose MAC is known take the architecture from here
/// instead of guessing it from a boot loader's name. Bounded in size and age, like ``ClientMemory``.
public final class DHCPLearnedClients: Sendable {
    /// One client's facts.
    public struct Facts: Sendable, Hashable {
        public var arch: String?
        public var archCode: UInt16?
        public var uuid: String?
        public var userClass: String?
        public var ip: String?
    }

    private struct Entry {
        var facts: Facts
        var updated: NIODeadline
    }

    private let entries = Mutex<[MACAddress: Entry]>([:])
    private let lifetime: TimeAmount
    private let capacity: Int

    /// Remembers clients for `lifetime` (a boot takes minutes; an hour covers a session), at most `capacity`.
    public init(lifetime: TimeAmount = .hours(1), capacity: Int = 65536) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    /// Records what a DHCP request told; fields it did not carry keep what an earlier request told.
    public func learn(
        mac: MACAddress, arch: String?, archCode: UInt16?, uuid: String?, userClass: String?, ip: String?
    ) {
        update(mac) { facts in
            if let archCode {
                facts.arch = arch
                facts.archCode = archCode
            }
            if let uuid { facts.uuid = uuid }
            if let userClass { facts.userClass = userClass }
            if let ip { facts.ip = ip }
        }
    }

    /// What is known about `mac`, while it is fresh.
    public func facts(for mac: MACAddress) -> Facts? {
        let now = NIODeadline.now()
        return entries.withLock { entries in
            guard let entry = entries[mac], entry.updated + lifetime > now else { return nil }
            return entry.facts
        }
    }

    /// The architecture DHCP taught for `mac`.
    public func arch(for mac: MACAddress) -> String? { facts(for: mac)?.arch }

    /// Clients tracked now (for tests of the bound).
    public var count: Int { entries.withLock { $0.count } }

    private func update(_ mac: MACAddress, _ change: (inout Facts) -> Void) {
        let now = NIODeadline.now()
        entries.withLock { entries in
            if entries.count >= capacity, entries[mac] == nil {
                entries = entries.filter { $0.value.updated + lifetime > now }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.updated < $1.value.updated }) {
                    entries[oldest.key] = nil
                }
            }
            var entry = entries[mac] ?? Entry(facts: Facts(), updated: now)
            change(&entry.facts)
            entry.updated = now
            entries[mac] = entry
        }
    }
}
