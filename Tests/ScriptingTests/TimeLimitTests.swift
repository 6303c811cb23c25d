import Foundation
import Scripting
import TestSupport
import Testing

/// Every script run ends within its wall-clock limit, whatever it calls, and the worker serves the next call.
/// The instruction budget is set out of reach here, so only the time limit (or the memory cap) can end a run.
@Suite struct TimeLimitTests {
    static let limits = ScriptLimits(
        memoryBytes: 64 << 20, instructions: 1 << 60, maxResultBytes: 1 << 20, maxDuration: .seconds(1))

    @Test(arguments: HostileScripts.timeLimited)
    func endsWithinTheLimit(run: (name: String, body: String, ends: Set<HostileScripts.End>)) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let stuck = try directory.write("stuck.lua", "return function(req)\n  \(run.body)\nend\n")
        let good = try directory.write("good.lua", "return function(req) return 'ok' end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: Self.limits, workers: 1)

        let outcome = await ended(within: .seconds(20)) { try await pool.run(script: stuck, argument: .nil) }
        guard case .failed(let error) = outcome else {
            Issue.record("\(run.name): \(outcome)")
            return
        }
        #expect(run.ends.contains { $0.rawValue == error.kind.rawValue }, "\(run.name): \(error)")
        if error.kind == .timeout {
            #expect(error.reason.contains("time limit of 1 s ([tftp.scripts] max_seconds)"), "\(error)")
        }
        // The one worker serves the next call: its capacity came back.
        #expect(try await pool.run(script: good, argument: .nil) == .bytes(Array("ok".utf8)), "\(run.name)")
    }

    /// `(""):rep(n)` copies nothing n times in the stock function; the answer is the empty string, at once.
    @Test func anEmptyRepeatIsEmptyAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "rep.lua",
            "return function(req) return ('') :rep(math.maxinteger) .. ('x'):rep(3, '') .. ('ab'):rep(2, '-') end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: Self.limits, workers: 1)
        let outcome = await ended(within: .seconds(20)) { try await pool.run(script: script, argument: .nil) }
        #expect(outcome == .answered(.bytes(Array("xxxab-ab".utf8))), "\(outcome)")
    }
}
