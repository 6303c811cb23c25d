import Foundation
import Scripting
import TestSupport
import Testing

/// Scripts are compiled once and reloaded when their file changes; a broken edit keeps the last good version.
@Suite struct ReloadTests {
    @Test func aChangedScriptIsReloadedOnTheNextCall() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("route.lua", "return function(req) return 'v1' end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 2)
        for _ in 0..<4 { #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("v1".utf8))) }
        try directory.write("route.lua", "return function(req) return 'version two' end\n")
        // Every worker sees the new version, not only the one that noticed the change first.
        for _ in 0..<4 {
            #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("version two".utf8)))
        }
    }

    @Test func aScriptThatNoLongerCompilesKeepsThePreviousVersion() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("route.lua", "return function(req) return 'good' end\n")
        let log = LogRecord()
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 2, logger: log.logger)
        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("good".utf8)))

        try directory.write("route.lua", "return function(req)\n  return 'broken' +\nend\n")
        for _ in 0..<4 { #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("good".utf8))) }
        let reports = log.lines.filter { $0.contains("does not compile") }
        #expect(reports.count == 1, "\(reports)")
        #expect(reports.first?.contains("line=3") == true, "\(reports)")
        #expect(reports.first?.contains("script=\(script)") == true, "\(reports)")

        try directory.write("route.lua", "return function(req) return 'fixed' end\n")
        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("fixed".utf8)))
    }

    @Test func aScriptThatNeverCompiledReportsFileAndLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("route.lua", "local x = 1\nreturn function(req)\n  return x +\nend\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) { try await pool.check(script: script) }
        #expect(error?.kind == .compile)
        #expect(error?.line == 4)
        #expect(error?.description.hasPrefix("\(script):4: ") == true, "\(String(describing: error))")
    }

    @Test func aChunkThatReturnsNoFunctionIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("route.lua", "return 'not a function'\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) { try await pool.run(script: script, argument: .nil) }
        #expect(error?.kind == .notAFunction)
    }

    @Test func aMissingScriptIsAnError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) {
            try await pool.run(script: directory.file("absent.lua"), argument: .nil)
        }
        #expect(error?.kind == .compile)
    }
}
