import Foundation
import Scripting
import TestSupport
import Testing

/// A script that raises, loops, allocates without bound, returns the wrong type or too much fails only its own
/// call: the next call on the same worker, and a call running next to it, succeed.
@Suite struct FailureTests {
    static let small = ScriptLimits(memoryBytes: 8 << 20, instructions: 2_000_000, maxResultBytes: 64 << 10)

    static let failures: [(name: String, body: String, kind: ScriptError.Kind, line: Int?)] = [
        ("raises", "error('inventory has no group for ' .. req.mac)", .runtime, 2),
        ("indexes nil", "return req.missing.field", .runtime, 2),
        ("loops", "while true do end", .budget, 2),
        ("catches the budget error", "while true do pcall(function() while true do end end) end", .budget, 2),
        ("recurses", "local function f() return 1 + f() end return f()", .memory, nil),
        ("allocates a table", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end", .memory, nil),
        ("allocates a string", "return ('x'):rep(1 << 30)", .memory, nil),
        ("catches the memory error", "pcall(string.rep, 'x', 1 << 30) return 'survived'", .memory, nil),
        ("returns a table", "return {}", .badReturn, nil),
        ("returns a number", "return 42", .badReturn, nil),
        ("returns a boolean", "return true", .badReturn, nil),
        ("returns a function", "return string.len", .badReturn, nil),
        ("returns too much", "return ('x'):rep(65537)", .tooLarge, nil),
        ("raises a table", "error({code = 1})", .runtime, nil),
    ]

    @Test(arguments: failures)
    func failsOnlyThisCall(failure: (name: String, body: String, kind: ScriptError.Kind, line: Int?)) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bad = try directory.write("bad.lua", "return function(req)\n  \(failure.body)\nend\n")
        let good = try directory.write("good.lua", "return function(req) return 'ok ' .. req.mac end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: Self.small, workers: 1)
        let request: ScriptValue = .record(["mac": "52:54:00:12:34:56"])

        let error = await #expect(throws: ScriptError.self, "\(failure.name)") {
            try await pool.run(script: bad, argument: request)
        }
        #expect(error?.kind == failure.kind, "\(failure.name): \(String(describing: error))")
        #expect(error?.script == bad)
        if let line = failure.line { #expect(error?.line == line, "\(failure.name): \(String(describing: error))") }
        // The same worker (and whatever state replaced a poisoned one) answers the next call.
        #expect(try await pool.run(script: good, argument: request) == .bytes(Array("ok 52:54:00:12:34:56".utf8)))
        // And the failure is the same the second time: nothing was left behind by the first.
        let again = await #expect(throws: ScriptError.self) { try await pool.run(script: bad, argument: request) }
        #expect(again?.kind == failure.kind)
    }

    /// Each call builds 4 MiB of strings under an 8 MiB cap and drops them: the garbage of earlier calls is the
    /// collector's to free, never the next call's failure (the cap counts garbage, so reaching it must first let
    /// Lua's emergency collection run).
    @Test func garbageFromEarlierCallsNeverFailsALaterOne() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let churn = try directory.write(
            "churn.lua",
            "return function(req) local t = {} for i = 1, 30000 do t[i] = ('x'):rep(100) .. i end return 'built ' .. #t end\n"
        )
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: Self.small, workers: 1)
        for call in 0..<30 {
            let output = try await pool.run(script: churn, argument: .nil)
            #expect(output == .bytes(Array("built 30000".utf8)), "call \(call)")
        }
    }

    @Test func aLoopingScriptDoesNotHoldUpOthers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try directory.write("loop.lua", "return function(req) while true do end end\n")
        let good = try directory.write("good.lua", "return function(req) return req.path end\n")
        // The time limit out of reach: the instruction budget is what ends this loop.
        let limits = ScriptLimits(
            memoryBytes: 8 << 20, instructions: 200_000_000, maxResultBytes: 1 << 20, maxDuration: .seconds(600))
        let pool = ScriptPool(host: TestHost(root: directory.path), limits: limits, workers: 2)
        let looping = Task { () -> ScriptError? in
            do throws(ScriptError) {
                _ = try await pool.run(script: loop, argument: .nil)
                return nil
            } catch {
                return error
            }
        }
        var answers: [ScriptOutput] = []
        for index in 0..<20 {
            answers.append(try await pool.run(script: good, argument: .record(["path": .text("file-\(index)")])))
        }
        #expect(answers == (0..<20).map { .bytes(Array("file-\($0)".utf8)) })
        #expect(await looping.value?.kind == .budget)
    }
}
