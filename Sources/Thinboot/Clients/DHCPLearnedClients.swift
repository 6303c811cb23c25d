import NIOConcurrencyHelpers
import NIOCore

/// What ProxyDHCP taught about each client, by MAC: the firmware's own architecture (option 93), its UUID,
/// user class, and its IP once known (a port-4011 request's `ciaddr`, or the address its REQUEST to the site's
/// server asks for). Later TFTP and HTTP requests whose MAC is known take the architecture from here instead of
/// guessing it from a boot loader's name, and a request from a tied IP takes its MAC from here. Bounded in size
/// and age like ``ClientMemory``: past `capacity` MACs the one updated longest ago is forgotten, in O(1).
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

    private struct Tables {
        var byMAC: RecencyTable<MACAddress, Entry>
        /// The MAC each tied IP belongs to; an entry is dropped with its MAC's, so it is bounded the same way.
        var byIP: [String: MACAddress] = [:]

        mutating func forget(_ mac: MACAddress, _ entry: Entry) {
            if let ip = entry.facts.ip, byIP[ip] == mac { byIP[ip] = nil }
        }
    }

    /// Expired entries dropped per update at most, beside the one a full table evicts: the cost stays flat.
    private static let expiredDropsPerUpdate = 2

    private let tables: NIOLockedValueBox<Tables>
    private let lifetime: TimeAmount

    /// Remembers clients for `lifetime` (a boot takes minutes; an hour covers a session), at most `capacity`.
    public init(lifetime: TimeAmount = .hours(1), capacity: Int = 65536) {
        self.lifetime = lifetime
        tables = NIOLockedValueBox(Tables(byMAC: RecencyTable(capacity: max(1, capacity))))
    }

    /// Records what a DHCP request told; fields it did not carry keep what an earlier request told.
    public func learn(
        mac: MACAddress, arch: String?, archCode: UInt16?, uuid: String?, userClass: String?, ip: String?
    ) {
        let now = NIODeadline.now()
        tables.withLockedValue { tables in
            // The table is ordered by update time: expired entries are at its old end.
            for _ in 0..<Self.expiredDropsPerUpdate {
                guard let oldest = tables.byMAC.oldestEntry, oldest.value.updated + lifetime <= now else { break }
                tables.forget(oldest.key, oldest.value)
                tables.byMAC.removeOldest()
            }
            var entry =
                tables.byMAC.value(for: mac).flatMap { $0.updated + lifetime > now ? $0 : nil }
                ?? Entry(facts: Facts(), updated: now)
            if let archCode {
                entry.facts.arch = arch
                entry.facts.archCode = archCode
            }
            if let uuid { entry.facts.uuid = uuid }
            if let userClass { entry.facts.userClass = userClass }
            if let ip, ip != entry.facts.ip {
                if let old = entry.facts.ip, tables.byIP[old] == mac { tables.byIP[old] = nil }
                entry.facts.ip = ip
                tables.byIP[ip] = mac
            }
            entry.updated = now
            let evictedMAC = tables.byMAC.oldestEntry?.key
            if let evicted = tables.byMAC.store(entry, for: mac), let evictedMAC {
                tables.forget(evictedMAC, evicted)
            }
        }
    }

    /// What is known about `mac`, while it is fresh.
    public func facts(for mac: MACAddress) -> Facts? {
        let now = NIODeadline.now()
        return tables.withLockedValue { tables in
            guard let entry = tables.byMAC.value(for: mac), entry.updated + lifetime > now else { return nil }
            return entry.facts
        }
    }

    /// The architecture DHCP taught for `mac`.
    public func arch(for mac: MACAddress) -> String? { facts(for: mac)?.arch }

    /// The MAC DHCP tied to `ip`, while fresh and still that MAC's latest IP.
    public func mac(forIP ip: String) -> MACAddress? {
        let now = NIODeadline.now()
        return tables.withLockedValue { tables in
            guard let mac = tables.byIP[ip], let entry = tables.byMAC.value(for: mac),
                entry.updated + lifetime > now, entry.facts.ip == ip
            else { return nil }
            return mac
        }
    }

    /// Clients tracked now (for tests of the bound).
    public var count: Int { tables.withLockedValue { $0.byMAC.count } }

    /// IPs tied now (for tests of the bound).
    var tiedIPs: Int { tables.withLockedValue { $0.byIP.count } }
}
