import NIOConcurrencyHelpers

/// The requests pending and transfers in flight, shared by all engines: a ``TransferAdmission`` behind a lock (held
/// for its decision only), and what ``TFTPServer/run()`` awaits when the server stops.
final class TransferRegistry: Sendable {
    private struct State {
        var admission: TransferAdmission
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: NIOLockedValueBox<State>

    init(limits: TransferAdmission.Limits) {
        state = NIOLockedValueBox(State(admission: TransferAdmission(limits: limits)))
    }

    /// See ``TransferAdmission/admit(_:now:)``.
    func admit(_ endpoint: TransferAdmission.Endpoint) -> TransferAdmission.Verdict {
        state.withLockedValue { $0.admission.admit(endpoint, now: .now) }
    }

    /// See ``TransferAdmission/establish(_:)``.
    func establish(_ ticket: TransferAdmission.Ticket) -> Bool {
        state.withLockedValue { $0.admission.establish(ticket) }
    }

    /// See ``TransferAdmission/isDisplaced(_:)``.
    func isDisplaced(_ ticket: TransferAdmission.Ticket) -> Bool {
        state.withLockedValue { $0.admission.isDisplaced(ticket) }
    }

    /// See ``TransferAdmission/release(_:established:refused:)``; wakes ``idle()`` when nothing is left.
    func release(_ ticket: TransferAdmission.Ticket, established: Bool, refused: Bool) {
        let waiters = state.withLockedValue { state in
            state.admission.release(ticket, established: established, refused: refused)
            guard state.admission.transfers == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Admits nothing from now on (the server is being cancelled).
    func stop() {
        state.withLockedValue { $0.admission.stop() }
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLockedValue { $0.admission.isStopped } }

    /// Returns once no request is pending.
    func idle() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let idle = state.withLockedValue { state in
                if state.admission.transfers == 0 { return true }
                state.idleWaiters.append(waiter)
                return false
            }
            if idle { waiter.resume() }
        }
    }
}
