import Foundation
import Scripting
import TestSupport
import Testing

/// Values cross between Swift and Lua intact, and the `thinboot` table reaches the host.
@Suite struct LibraryTests {
    @Test func stringsKeepNulAndInvalidUTF8() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("echo.lua", "return function(req) return req.blob .. '|' .. #req.blob end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let blob: [UInt8] = [0x61, 0x00, 0xFF, 0xFE, 0x62]
        let output = try await pool.run(script: script, argument: .record(["blob": .string(blob)]))
        #expect(output == .bytes(blob + Array("|5".utf8)))
    }

    @Test func requestValuesArriveTyped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "types.lua",
            """
            return function(req)
              return string.format("%s %s %s %s %s %d", math.type(req.port), type(req.ok), tostring(req.ratio),
                tostring(req.absent), req.list[2], #req.list)
            end
            """)
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let output = try await pool.run(
            script: script,
            argument: .record(["port": 2070, "ok": true, "ratio": .number(1.5), "list": .list(["a", "b", "c"])]))
        #expect(output == .bytes(Array("integer boolean 1.5 nil b 3".utf8)))
    }

    @Test func theThinbootTableReachesTheHost() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tftpboot/banner.txt", "hello from the root\n")
        let script = try directory.write(
            "api.lua",
            """
            return function(req)
              local export = thinboot.exports()[1]
              local inventory = thinboot.data("clients.toml")
              thinboot.log("info", "serving " .. req.path)
              return string.format("%s %d %s|%s|%s %d %s", export.name, export.size, export.nbdroot,
                thinboot.read("tftpboot/banner.txt"), inventory.groups[2], inventory.count, tostring(inventory.open))
            end
            """)
        let host = TestHost(root: directory.path)
        let pool = ScriptPool(host: host, workers: 1)
        let output = try await pool.run(
            script: script, argument: .record(["path": "pxelinux.cfg/default"]),
            info: ScriptCallInfo(script: script, serverAddress: "192.168.202.4"))
        #expect(
            output
                == .bytes(
                    Array(
                        "trusty-amd64 1048576 192.168.202.4,trusty-amd64,nbd0|hello from the root\n|office 2 true".utf8)
                ))
        #expect(host.logged.withLockedValue { $0 } == ["info: serving pxelinux.cfg/default"])
    }

    @Test func fileReturnsAFileToStream() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "file.lua", "return function(req) return thinboot.file('boot/' .. req.name) end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let output = try await pool.run(script: script, argument: .record(["name": "vmlinuz"]))
        #expect(output == .file("\(directory.path)/boot/vmlinuz"))
    }

    @Test func nilMeansNotAnsweredHere() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("none.lua", "return function(req) return nil end\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        #expect(try await pool.run(script: script, argument: .nil) == .nothing)
    }

    @Test func hostErrorsCanBeCaughtByTheScript() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "caught.lua",
            "return function(req)\n  local ok, message = pcall(thinboot.read, 'missing.txt')\n  return message\nend\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let output = try await pool.run(script: script, argument: .nil)
        #expect(output == .bytes(Array("thinboot.read: missing.txt: no such file".utf8)))
    }

    @Test func badLogLevelIsAnErrorWithALine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("log.lua", "return function(req)\n\n  thinboot.log('loud', 'x')\nend\n")
        let pool = ScriptPool(host: TestHost(root: directory.path), workers: 1)
        let error = await #expect(throws: ScriptError.self) { try await pool.run(script: script, argument: .nil) }
        #expect(error?.line == 3)
        #expect(error?.reason.hasPrefix("thinboot.log: the first argument is the level") == true)
    }
}
