/// The retransmission deadlines of one engine's transfers, earliest first (a binary min-heap). Entries are never
/// removed early: a transfer that ended or re-armed leaves its entry to be recognised as stale when it comes
/// up, by its serial, which is cheaper than finding it.
struct DeadlineHeap {
    struct Entry {
        let deadline: ContinuousClock.Instant
        /// The transfer's socket, its key in the engine.
        let descriptor: CInt
        /// Which transfer on that socket (descriptors are reused) and which of its timers.
        let serial: UInt64
    }

    private var entries: [Entry] = []

    var earliest: ContinuousClock.Instant? { entries.first?.deadline }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: ContinuousClock.Instant) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let smaller = right < entries.count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[smaller].deadline < entries[parent].deadline else { break }
            entries.swapAt(parent, smaller)
            parent = smaller
        }
        return first
    }
}
