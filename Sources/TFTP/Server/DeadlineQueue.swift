import NIOCore

/// The retransmission deadlines of one engine's transfers, earliest first. Entries are never removed early: a
/// transfer that ended or re-armed leaves its entry to be recognised as stale when it comes up, by its serial,
/// which is cheaper than finding it.
///
/// Nearly every deadline is "now + the transfer's timeout", so deadlines mostly arrive in time order: those go to
/// the back of a first-in-first-out lane at no cost. The rest (a re-arm at an earlier deadline, a client that asked
/// for a shorter timeout) go to a binary min-heap. The earliest entry is at the front of one of the two.
struct DeadlineQueue {
    struct Entry {
        let deadline: ContinuousClock.Instant
        /// The transfer's socket, its key in the engine.
        let descriptor: CInt
        /// Which transfer on that socket (descriptors are reused) and which of its timers.
        let serial: UInt64
    }

    private var inOrder = CircularBuffer<Entry>(initialCapacity: 64)
    private var heap: [Entry] = []

    var earliest: ContinuousClock.Instant? {
        switch (inOrder.first, heap.first) {
        case (nil, nil): nil
        case (let entry?, nil), (nil, let entry?): entry.deadline
        case (let ordered?, let heaped?): min(ordered.deadline, heaped.deadline)
        }
    }

    mutating func insert(_ entry: Entry) {
        if inOrder.last.map({ $0.deadline <= entry.deadline }) ?? true {
            inOrder.append(entry)
            return
        }
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: ContinuousClock.Instant) -> Entry? {
        let ordered = inOrder.first.flatMap { $0.deadline <= now ? $0 : nil }
        let heaped = heap.first.flatMap { $0.deadline <= now ? $0 : nil }
        switch (ordered, heaped) {
        case (nil, nil):
            return nil
        case (let entry?, nil):
            _ = inOrder.removeFirst()
            return entry
        case (let first?, let top?) where first.deadline <= top.deadline:
            _ = inOrder.removeFirst()
            return first
        default:
            return popHeap()
        }
    }

    private mutating func popHeap() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let smaller = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
            guard heap[smaller].deadline < heap[parent].deadline else { break }
            heap.swapAt(parent, smaller)
            parent = smaller
        }
        return top
    }
}
