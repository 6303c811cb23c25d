import TestSupport
import Testing

/// The test harness's own guarantee: a hung peer is killed at its time limit, even when several hang at once.
@Suite struct RunToolTests {
    @Test func killsHungPeersAtTheirLimit() async throws {
        try await withThrowingTaskGroup(of: ToolResult.self) { group in
            for _ in 0..<4 {
                group.addTask { try await runTool("sleep", ["30"], timeout: .milliseconds(300)) }
            }
            for try await result in group {
                #expect(result.timedOut)
                #expect(result.status != 0)
            }
        }
    }

    @Test func returnsOutputAndStatus() async throws {
        let result = try await runTool("sh", ["-c", "printf out; printf err >&2; exit 3"])
        #expect(result.stdoutText == "out" && result.stderr == "err" && result.status == 3 && !result.timedOut)
    }
}
