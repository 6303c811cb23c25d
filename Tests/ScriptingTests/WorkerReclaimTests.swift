import Foundation
import NIOConcurrencyHelpers
import Scripting
import TestSupport
import Testing

/// The pool's capacity always comes back: a worker stuck where no clock is read is replaced, and shutting down
/// never waits for a queue of scripts.
@Suite struct WorkerReclaimTests {
    static let limits = TimeLimitTests.limits

    /// A call stuck where no clock is read (here a host callback that blocks) is failed from outside shortly
    /// after its limit, and a fresh worker answers the next call while the stuck thread is still blocked.
    @Test func aStuckWorkerIsReplaced() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let host = BlockingHost(root: directory.path, blockFor: .seconds(8))
        let blocking = try directory.write(
            "block.lua", "return function(req) thinboot.log('info', 'x') return 'late' end\n")
        let good = try directory.write("good.lua", "return function(req) return 'ok' end\n")
        let pool = ScriptPool(host: host, limits: Self.limits, workers: 1)

        let outcome = await ended(within: .seconds(20)) { try await pool.run(script: blocking, argument: .nil) }
        guard case .failed(let error) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(error.kind == .timeout)
        #expect(error.reason.contains("its worker was replaced"), "\(error)")
        #expect(host.isBlocking, "the error came only once the host call returned")
        #expect(try await pool.run(script: good, argument: .nil) == .bytes(Array("ok".utf8)))
        #expect(host.isBlocking, "a replacement answered while the stuck worker still blocks")
    }

    /// Shutting the pool down fails the queued calls at once (a server stopping never waits for a queue of
    /// scripts); the running call still ends at its limit.
    @Test func shutdownFailsQueuedCallsAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try directory.write("loop.lua", "return function(req) while true do end end\n")
        let limits = ScriptLimits(
            memoryBytes: 16 << 20, instructions: 1 << 60, maxResultBytes: 1 << 20, maxDuration: .seconds(4))
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: limits, workers: 1)
        let calls = (0..<4).map { _ in
            Task { await ended(within: .seconds(30)) { try await pool.run(script: loop, argument: .nil) } }
        }
        try await Task.sleep(for: .milliseconds(300))
        pool.shutdown()
        var outcomes: [CallOutcome] = []
        for call in calls { outcomes.append(await call.value) }
        let kinds = outcomes.map { outcome -> ScriptError.Kind? in
            if case .failed(let error) = outcome { return error.kind }
            return nil
        }
        #expect(kinds.filter { $0 == .timeout }.count == 1, "\(outcomes)")
        #expect(kinds.filter { $0 == .unavailable }.count == 3, "\(outcomes)")
        let after = await ended(within: .seconds(20)) { try await pool.run(script: loop, argument: .nil) }
        if case .failed(let error) = after { #expect(error.kind == .unavailable) } else { Issue.record("\(after)") }
    }
}

/// A host whose `thinboot.log` blocks for a while: a call stuck where no clock is read.
final class BlockingHost: ScriptHost {
    private let inner: TestHost
    private let blockFor: Duration
    private let blocking = NIOLockedValueBox(false)

    init(root: String, blockFor: Duration) {
        inner = TestHost(root: root)
        self.blockFor = blockFor
    }

    /// Whether a `log` call is blocked right now.
    var isBlocking: Bool { blocking.withLockedValue { $0 } }

    func exports(for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue { try inner.exports(for: call) }
    func file(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String {
        try inner.file(path, for: call)
    }
    func read(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [UInt8] {
        try inner.read(path, for: call)
    }
    func data(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue {
        try inner.data(path, for: call)
    }
    func log(_ level: ScriptLogLevel, _ message: String, for call: ScriptCallInfo) {
        blocking.withLockedValue { $0 = true }
        Thread.sleep(forTimeInterval: Double(blockFor.components.seconds))
        blocking.withLockedValue { $0 = false }
    }
}
