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

/// A rewrite that keeps the file's size and modification time is still a new version: tools that preserve times
/// (`cp -p`, `rsync -t`, `touch -r`, an extracted archive) do it, and so does a clock tick coarser than the two
/// writes. The change time is what moves.
@Suite struct SameStampReloadTests {
    @Test func aScriptRewrittenAtTheSameSizeAndModificationTimeIsReloaded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("route.lua", "return function(req) return 'one' end\n")
        var original = stat()
        #expect(stat(script, &original) == 0)
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("one".utf8)))

        try rewriteKeepingModificationTime(script, "return function(req) return 'two' end\n")
        var rewritten = stat()
        #expect(stat(script, &rewritten) == 0)
        #expect(rewritten.st_ino == original.st_ino && rewritten.st_size == original.st_size)
        #expect(rewritten.st_mtim.tv_sec == original.st_mtim.tv_sec)
        #expect(rewritten.st_mtim.tv_nsec == original.st_mtim.tv_nsec)

        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("two".utf8)))
    }

    /// A new version with the same source (`touch`, a save without changes, a checkout) is read and compared,
    /// not compiled again: no reload is reported and the script keeps its state.
    @Test func aTouchedScriptIsNotReloaded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "route.lua", "local calls = 0\nreturn function(req) calls = calls + 1; return tostring(calls) end\n")
        let log = LogRecord()
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1, logger: log.logger)
        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("1".utf8)))
        // Both times set to now, the bytes left alone.
        #expect(utimensat(AT_FDCWD, script, nil, 0) == 0)
        #expect(try await pool.run(script: script, argument: .nil) == .bytes(Array("2".utf8)))
        #expect(!log.lines.contains { $0.contains("script reloaded") }, "\(log.lines)")
    }
}
