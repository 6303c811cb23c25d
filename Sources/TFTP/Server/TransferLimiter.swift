import NIOConcurrencyHelpers

/// Counts transfers in flight, in total and per client IP, so a storm gets "server busy" instead of an unbounded
/// queue. Shared by all listeners; the lock is held for a dictionary update only.
final class TransferLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    private let total: Int
    private let perClient: Int
    private let counts = NIOLockedValueBox(Counts())

    init(total: Int, perClient: Int) {
        self.total = total
        self.perClient = perClient
    }

    /// Takes a slot for `client`, or returns false when either limit is reached.
    func acquire(client: String) -> Bool {
        counts.withLockedValue { counts in
            let mine = counts.perClient[client, default: 0]
            guard counts.total < total, mine < perClient else { return false }
            counts.total += 1
            counts.perClient[client] = mine + 1
            return true
        }
    }

    /// Returns a slot taken by ``acquire(client:)``.
    func release(client: String) {
        counts.withLockedValue { counts in
            counts.total -= 1
            let mine = counts.perClient[client, default: 1] - 1
            counts.perClient[client] = mine > 0 ? mine : nil
        }
    }
}
