import Foundation
import NIOConcurrencyHelpers
import Scripting

/// How a call ended, or that it did not within the test's bound.
enum CallOutcome: Sendable, Equatable, CustomStringConvertible {
    case answered(ScriptOutput)
    case failed(ScriptError)
    case stillRunning

    static func == (left: CallOutcome, right: CallOutcome) -> Bool {
        switch (left, right) {
        case (.answered(let a), .answered(let b)): return a == b
        case (.failed(let a), .failed(let b)): return a.kind == b.kind && a.reason == b.reason
        case (.stillRunning, .stillRunning): return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case .answered(let output): return "answered \(output)"
        case .failed(let error): return "failed: \(error.kind.rawValue): \(error)"
        case .stillRunning: return "still running at the test's bound (the limit did not end it)"
        }
    }
}

/// Waits for `call`, at most `bound` (a bound on the test, far above the limit under test, never a speed check).
/// The call runs in a task of its own: one the limit fails to end must not hold the test up too.
func ended(within bound: Duration, _ call: @escaping @Sendable () async throws -> ScriptOutput) async -> CallOutcome {
    let first = FirstOutcome()
    return await withCheckedContinuation { continuation in
        first.wait(continuation)
        Task {
            do {
                first.give(.answered(try await call()))
            } catch let error as ScriptError {
                first.give(.failed(error))
            } catch {
                first.give(
                    .failed(ScriptError(kind: .runtime, script: "-", line: nil, reason: "not a ScriptError: \(error)")))
            }
        }
        Task {
            try? await Task.sleep(for: bound)
            first.give(.stillRunning)
        }
    }
}

/// The first of several outcomes, handed to one waiter.
final class FirstOutcome: Sendable {
    private let state = NIOLockedValueBox<(CheckedContinuation<CallOutcome, Never>?, CallOutcome?)>((nil, nil))

    func wait(_ continuation: CheckedContinuation<CallOutcome, Never>) {
        let ready = state.withLockedValue { state -> CallOutcome? in
            if let outcome = state.1 { return outcome }
            state.0 = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    func give(_ outcome: CallOutcome) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<CallOutcome, Never>? in
            guard state.1 == nil else { return nil }
            state.1 = outcome
            defer { state.0 = nil }
            return state.0
        }
        waiter?.resume(returning: outcome)
    }
}
