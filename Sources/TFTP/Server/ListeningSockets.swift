import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The server's listening sockets, shared by all engines. A descriptor must not be closed while another engine
/// may still read it (its number could already name a new socket), so each engine lets go in turn and the last
/// one closes them.
final class ListeningSockets: Sendable {
    let descriptors: [CInt]
    /// The bound addresses (real ports when port 0 was asked), in the same order.
    let addresses: [SocketAddress]
    private struct State {
        var holders: Int
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: NIOLockedValueBox<State>

    init(descriptors: [CInt], addresses: [SocketAddress], holders: Int) {
        self.descriptors = descriptors
        self.addresses = addresses
        state = NIOLockedValueBox(State(holders: holders))
    }

    /// One holder lets go; the last closes the sockets.
    func release() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLockedValue { state in
            state.holders -= 1
            guard state.holders == 0 else { return [] }
            for descriptor in descriptors { _ = close(descriptor) }
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the sockets are closed.
    func closed() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.closed { return true }
                state.waiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }
}
