import Foundation
import TestSupport
import Testing

/// A route script stuck in a backtracking pattern (the count hook never runs inside the matcher) answers a TFTP
/// error within `max_seconds`, while another route keeps answering and the pool's workers come back.
@Suite(.serialized) struct StuckScriptInteropTests {
    static let config = """
        [tftp]
        root = "tftpboot"
        [tftp.scripts]
        max_seconds = 1
        workers = 2
        [[tftp.route]]
        path = "stuck.txt"
        script = "stuck.lua"
        [[tftp.route]]
        path = "good/*"
        script = "good.lua"
        """

    static let files = [
        "tftpboot/pxelinux.0": "boot loader",
        "stuck.lua": #"return function(req) return tostring(string.find(("a"):rep(60000), ("a-"):rep(20) .. "b")) end"#,
        "good.lua": "return function(req) return 'good ' .. req.captures[1] .. '\\n' end\n",
    ]

    @Test func aStuckRouteAnswersAnErrorWithinTheLimitWhileAnotherAnswers() async throws {
        try await RoutedTestServer.with(config: Self.config, files: Self.files) { server in
            let out = try TemporaryDirectory("stuck-interop")
            defer { out.remove() }
            // One RRQ, no resend inside the limit: the answer is the script's own error, not a retry's.
            async let stuck = runTool(
                try thinbootExecutable(),
                [
                    "tftp", "get", "--port", "\(server.port)", "--timeout", "20", "--retries", "0", "-o",
                    out.file("stuck"), "127.0.0.1", "stuck.txt",
                ], timeout: .seconds(60))
            // Meanwhile the other route answers, on the worker the stuck run does not hold.
            for index in 0..<10 {
                let result = try await server.fetch("good/\(index)", to: out.file("good-\(index)"))
                #expect(result.status == 0, "\(result.stderr)")
                #expect(try String(contentsOfFile: out.file("good-\(index)"), encoding: .utf8) == "good \(index)\n")
            }
            let stuckResult = try await stuck
            #expect(!stuckResult.timedOut, "the stuck route never answered")
            #expect(stuckResult.status != 0)
            #expect(stuckResult.stderr.contains("Script error"), "\(stuckResult.stderr)")
            let failure = server.log.matching("route script failed").first { $0.contains("tftp.path=stuck.txt") }
            #expect(failure?.contains("kind=time limit exceeded") == true, "\(server.log.lines)")
            #expect(failure?.contains("max_seconds") == true, "\(failure ?? "")")
            // Both workers are back: two stuck runs at once each end, and the good route still answers after.
            async let first = server.fetch("stuck.txt", to: out.file("stuck-1"))
            async let second = server.fetch("stuck.txt", to: out.file("stuck-2"))
            let (one, two) = try await (first, second)
            #expect(one.stderr.contains("Script error") && two.stderr.contains("Script error"), "\(one) \(two)")
            let after = try await server.fetch("good/after", to: out.file("after"))
            #expect(after.status == 0, "\(after.stderr)")
        }
    }
}
