import NIOConcurrencyHelpers

/// The transfers in flight, shared by all listeners: counted in total and per client IP, so a storm gets
/// "server busy" instead of an unbounded queue, and awaited when the server stops.
/// The lock is held for a counter or dictionary update only.
final class TransferRegistry: Sendable {
    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
        var stopped = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let total: Int
    private let perClient: Int
    private let state = NIOLockedValueBox(State())

    init(total: Int, perClient: Int) {
        self.total = total
        self.perClient = perClient
    }

    /// Whether a request may start a transfer.
    enum Admission {
        case admitted
        /// A limit is reached.
        case busy
        /// The server is being cancelled.
        case stopping
    }

    /// Takes a slot for `client`, unless either limit is reached or the server is stopping.
    func acquire(client: String) -> Admission {
        state.withLockedValue { state in
            let mine = state.perClient[client, default: 0]
            guard !state.stopped else { return .stopping }
            guard state.total < total, mine < perClient else { return .busy }
            state.total += 1
            state.perClient[client] = mine + 1
            return .admitted
        }
    }

    /// Returns a slot taken by ``acquire(client:)``.
    func release(client: String) {
        let waiters = state.withLockedValue { state in
            state.total -= 1
            let mine = state.perClient[client, default: 1] - 1
            state.perClient[client] = mine > 0 ? mine : nil
            guard state.total == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Refuses every new transfer from now on (the server is being cancelled).
    func stop() {
        state.withLockedValue { $0.stopped = true }
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLockedValue { $0.stopped } }

    /// Returns once no slot is taken.
    func idle() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let idle = state.withLockedValue { state in
                if state.total == 0 { return true }
                state.idleWaiters.append(waiter)
                return false
            }
            if idle { waiter.resume() }
        }
    }
}
