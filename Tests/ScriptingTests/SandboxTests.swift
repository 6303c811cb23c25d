import Foundation
import Scripting
import TestSupport
import Testing

/// Every way out of the sandbox is refused: the script fails with a runtime error and nothing happens.
@Suite struct SandboxTests {
    @Test(arguments: [
        ("io.open('/etc/passwd')", "global 'io'"),
        ("os.execute('touch /tmp/thinboot-escaped')", "global 'os'"),
        ("debug.getregistry()", "global 'debug'"),
        ("require('socket')", "global 'require'"),
        ("load('return 1')()", "global 'load'"),
        ("dofile('/etc/passwd')", "global 'dofile'"),
        ("loadfile('/etc/passwd')()", "global 'loadfile'"),
        ("collectgarbage('stop')", "global 'collectgarbage'"),
        ("package.loadlib('libc.so.6', 'system')", "global 'package'"),
        ("string.dump(function() end)", "field 'dump'"),
        ("print('to stdout')", "global 'print'"),
        // Lua runs finalizers with hooks off: an endless __gc could never be stopped.
        ("setmetatable({}, {__gc = function() while true do end end})", "__gc metamethods are not allowed"),
        ("thinboot.read('../../../etc/passwd')", "outside the root"),
        ("thinboot.file('/etc/passwd')", "outside the root"),
    ])
    func escapeIsRefused(attempt: String, expected: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("escape.lua", "return function(req)\n  \(attempt)\n  return 'escaped'\nend\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) {
            try await pool.run(script: script, argument: .record([:]))
        }
        #expect(error?.kind == .runtime)
        #expect(error?.line == 2)
        #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/thinboot-escaped"))
    }

    @Test func bytecodeIsNeverLoaded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // The header of a Lua 5.4 binary chunk; the loader must refuse it before looking further.
        let script = try directory.write(
            "binary.lua", [0x1B, 0x4C, 0x75, 0x61, 0x54, 0x00] + Array(repeating: 0, count: 32))
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) {
            try await pool.run(script: script, argument: .nil)
        }
        #expect(error?.kind == .compile)
        #expect(error?.reason.contains("binary chunk") == true, "\(error?.reason ?? "")")
    }

    @Test func onlyTheSafeLibrariesAreOpen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "globals.lua",
            """
            return function(req)
              local names = {}
              for name, value in pairs(_G) do
                if type(value) == "table" and name ~= "_G" then names[#names + 1] = name end
              end
              table.sort(names)
              return table.concat(names, ",")
            end
            """)
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let output = try await pool.run(script: script, argument: .nil)
        #expect(output == .bytes(Array("math,string,table,thinboot,utf8".utf8)))
    }

    @Test func scriptsDoNotShareGlobals() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try directory.write("writer.lua", "secret = 'mine'\nreturn function(req) return secret end\n")
        let reader = try directory.write("reader.lua", "return function(req) return tostring(secret) end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        #expect(try await pool.run(script: writer, argument: .nil) == .bytes(Array("mine".utf8)))
        #expect(try await pool.run(script: reader, argument: .nil) == .bytes(Array("nil".utf8)))
    }
}
