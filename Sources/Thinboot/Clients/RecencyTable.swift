/// A table of at most `capacity` entries that forgets the one stored longest ago first: every operation is O(1)
/// (a dictionary into a doubly linked list of slots kept in one array), so it costs the same whether it holds ten
/// entries or is full and evicting on every insert. Not thread-safe: its owner holds it behind a lock.
struct RecencyTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Slot {
        var key: Key?
        var value: Value?
        /// The slots stored just before and just after this one (-1: none).
        var older: Int
        var newer: Int
    }

    let capacity: Int
    private var positions: [Key: Int] = [:]
    private var slots: [Slot] = []
    /// Slots emptied by a removal, reused before the array grows.
    private var free: [Int] = []
    private var oldest = -1
    private var newest = -1

    init(capacity: Int) {
        precondition(capacity > 0, "a table holds at least one entry")
        self.capacity = capacity
    }

    var count: Int { positions.count }

    func value(for key: Key) -> Value? {
        positions[key].flatMap { slots[$0].value }
    }

    /// Every value, the one stored last first.
    func newestFirst() -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(count)
        var position = newest
        while position >= 0 {
            if let value = slots[position].value { values.append(value) }
            position = slots[position].older
        }
        return values
    }

    /// The entry stored longest ago.
    var oldestEntry: (key: Key, value: Value)? {
        guard oldest >= 0, let key = slots[oldest].key, let value = slots[oldest].value else { return nil }
        return (key, value)
    }

    /// Stores `value` as the newest entry for `key`, replacing any earlier one, and returns the entry it evicted
    /// to stay within `capacity`, if any.
    @discardableResult
    mutating func store(_ value: Value, for key: Key) -> Value? {
        if let position = positions[key] {
            slots[position].value = value
            unlink(position)
            link(position)
            return nil
        }
        let evicted = count >= capacity ? removeOldest() : nil
        let slot = Slot(key: key, value: value, older: -1, newer: -1)
        let position: Int
        if let reused = free.popLast() {
            slots[reused] = slot
            position = reused
        } else {
            slots.append(slot)
            position = slots.count - 1
        }
        positions[key] = position
        link(position)
        return evicted
    }

    @discardableResult
    mutating func removeValue(for key: Key) -> Value? {
        guard let position = positions[key] else { return nil }
        return remove(at: position)
    }

    @discardableResult
    mutating func removeOldest() -> Value? {
        guard oldest >= 0 else { return nil }
        return remove(at: oldest)
    }

    private mutating func remove(at position: Int) -> Value? {
        unlink(position)
        let value = slots[position].value
        if let key = slots[position].key { positions[key] = nil }
        // Emptied, not just unlinked: a removed entry's value (a generated file) must not stay alive in its slot.
        slots[position].key = nil
        slots[position].value = nil
        free.append(position)
        return value
    }

    /// Makes `position` the newest.
    private mutating func link(_ position: Int) {
        slots[position].older = newest
        slots[position].newer = -1
        if newest >= 0 { slots[newest].newer = position } else { oldest = position }
        newest = position
    }

    private mutating func unlink(_ position: Int) {
        let older = slots[position].older
        let newer = slots[position].newer
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { newest = older }
    }
}
