import Foundation

/// The answers in progress, at most a maximum: a receiving thread that wants one more waits until one finishes, so a
/// storm's requests wait in the socket's receive buffer instead of being dropped and resent seconds later.
final class AnswerSlots: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var taken = 0
    private var closed = false

    /// Takes one of `maximum` slots (a reload may change it), waiting while all are taken; false once closed.
    func take(of maximum: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while taken >= maximum && !closed { condition.wait() }
        guard !closed else { return false }
        taken += 1
        return true
    }

    /// Gives back a slot ``take(of:)`` gave, waking a thread that waits for one.
    func release() {
        condition.lock()
        defer { condition.unlock() }
        taken -= 1
        condition.signal()
    }

    /// Ends every wait, now and later: the server is stopping.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
    }
}
