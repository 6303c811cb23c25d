import Foundation
import NIOCore
import Scripting
import TFTP
import TestSupport
import Testing

@testable import Thinboot

/// The router: first match wins, nil and unmatched paths fall through to the root, failures answer ERROR 0, and
/// scripts see the client's context.
@Suite struct RouterTests {
    /// A config with three routes whose scripts print what they see.
    func fixture() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        try directory.write("tftpboot/static.txt", "static file\n")
        try directory.write("tftpboot/pxelinux.cfg/default", "static default\n")
        try directory.write("tftpboot/boot/vmlinuz", "kernel bytes")
        let echo = """
            return function(req)
              local params = {}
              for k, v in pairs(req.params) do params[#params + 1] = k .. "=" .. v end
              table.sort(params)
              return string.format("path=%s mac=%s arch=%s ip=%s port=%d local=%s blksize=%s params=%s captures=%s",
                req.path, tostring(req.mac), tostring(req.arch), req.ip, req.port, tostring(req.local_ip),
                tostring(req.options.blksize), table.concat(params, ","), table.concat(req.captures, ","))
            end
            """
        try directory.write("echo.lua", echo)
        try directory.write("none.lua", "return function(req) return nil end\n")
        try directory.write("file.lua", "return function(req) return thinboot.file('boot/vmlinuz') end\n")
        try directory.write("fail.lua", "return function(req)\n  local t = nil\n  return t.field\nend\n")
        // A different answer every time it runs (Lua 5.4 seeds math.random per state).
        try directory.write("count.lua", "return function(req) return 'answer ' .. math.random(1 << 50) end\n")
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            root = "tftpboot"
            [[tftp.route]]
            path = "none/*"
            script = "none.lua"
            [[tftp.route]]
            path = "pxelinux.cfg/default"
            script = "none.lua"
            [[tftp.route]]
            path = "kernel/*"
            script = "file.lua"
            [[tftp.route]]
            path = "broken/*"
            script = "fail.lua"
            [[tftp.route]]
            path = "count/*"
            script = "count.lua"
            [[tftp.route]]
            path = "{image}/{arch}/lts.conf"
            script = "echo.lua"
            [[tftp.route]]
            path = "mac/{mac}"
            script = "echo.lua"
            [[tftp.route]]
            path = "**/pxelinux.cfg/*"
            script = "echo.lua"
            [[tftp.route]]
            path = "**"
            script = "none.lua"
            """)
        return (directory, config)
    }

    @Test func scriptsSeeTheClientContext() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        let content = try await router.content(
            for: readRequest(
                "ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56", options: ["blksize": "1408", "tsize": "0"]))
        #expect(
            text(of: content)
                == "path=ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56 mac=52:54:00:12:34:56 arch=nil "
                + "ip=192.168.202.31 port=2070 local=192.168.202.10 blksize=1408 params= "
                + "captures=ltsp-trusty/i386,01-52-54-00-12-34-56")
    }

    /// One route table whatever the protocol: `req.protocol` says which, and each protocol's own fields are there.
    @Test func scriptsSeeTheProtocolAndItsFields() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(
            "proto.lua",
            """
            return function(req)
              if req.protocol == "tftp" then
                return string.format("tftp mode=%s blksize=%s method=%s", req.mode, req.options.blksize,
                  tostring(req.method))
              end
              return string.format("%s method=%s agent=%s mac=%s mode=%s", req.protocol, req.method,
                req.headers["user-agent"], req.query.mac, tostring(req.mode))
            end
            """)
        let config = try directory.write(
            "thinboot.toml", "[tftp]\nroot = \".\"\n[[tftp.route]]\npath = \"boot.ipxe\"\nscript = \"proto.lua\"\n")
        let router = try makeRouter(configFile: config)
        let overTFTP = try await router.content(for: readRequest("boot.ipxe", options: ["blksize": "1432"]))
        #expect(text(of: overTFTP) == "tftp mode=octet blksize=1432 method=nil")
        let overHTTP = try await router.answer(
            BootRequest(
                path: "boot.ipxe", ip: "192.168.202.31", port: 40000,
                fields: .http(method: "GET", headers: ["user-agent": "iPXE/1.21"], query: ["mac": "52-54-00-12-34-56"]))
        )
        #expect(text(of: overHTTP) == "http method=GET agent=iPXE/1.21 mac=52-54-00-12-34-56 mode=nil")
    }

    @Test(arguments: [
        ("mac/01-52-54-00-AA-BB-CC", "52:54:00:aa:bb:cc"),
        ("mac/52-54-00-aa-bb-cc", "52:54:00:aa:bb:cc"),
        ("mac/52:54:00:AA:BB:CC", "52:54:00:aa:bb:cc"),
        ("mac/525400aabbcc", "52:54:00:aa:bb:cc"),
        ("pxelinux.cfg/01-52-54-00-aa-bb-cd", "52:54:00:aa:bb:cd"),
        ("pxelinux.cfg/C0A8CA1F", "nil"),
    ])
    func macFromThePath(path: String, mac: String) async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        let answer = text(of: try await router.content(for: readRequest(path)))
        #expect(answer.contains(" mac=\(mac) "), "\(answer)")
    }

    @Test func macFromTheNeighbourTableThenFromMemory() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let neighbours: @Sendable (String) -> MACAddress? = { ip in
            ip == "192.168.202.40" ? MACAddress(parsing: "52:54:00:00:00:40") : nil
        }
        let router = try makeRouter(configFile: config, neighbours: neighbours)
        let viaNeighbours = text(
            of: try await router.content(for: readRequest("ltsp/i386/lts.conf", from: "192.168.202.40")))
        #expect(viaNeighbours.contains(" mac=52:54:00:00:00:40 "), "\(viaNeighbours)")
        // 192.168.202.41 is not in the neighbour table, but an earlier request of its own named its MAC.
        _ = try await router.content(for: readRequest("pxelinux.cfg/01-52-54-00-00-00-41", from: "192.168.202.41"))
        let remembered = text(
            of: try await router.content(for: readRequest("ltsp/i386/lts.conf", from: "192.168.202.41")))
        #expect(remembered.contains(" mac=52:54:00:00:00:41 "), "\(remembered)")
        let unknown = text(of: try await router.content(for: readRequest("ltsp/i386/lts.conf", from: "192.168.202.42")))
        #expect(unknown.contains(" mac=nil "), "\(unknown)")
        // What the boot status says about how each MAC was learned.
        #expect(router.clients.learnedMAC(for: "192.168.202.40")?.source == .neighbourTable)
        #expect(router.clients.learnedMAC(for: "192.168.202.41")?.source == .path)
        #expect(router.clients.learnedMAC(for: "192.168.202.42") == nil)
    }

    @Test func archFromACaptureOrTheBootLoaderFetchedEarlier() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        let captured = text(of: try await router.content(for: readRequest("ltsp/amd64/lts.conf")))
        #expect(captured.contains(" arch=amd64 "))
        #expect(captured.contains("params=arch=amd64,image=ltsp"), "\(captured)")

        let before = text(of: try await router.content(for: readRequest("pxelinux.cfg/default2", from: "10.0.0.5")))
        #expect(before.contains(" arch=nil "))
        // The client fetched its boot loader (absent here: the fetch still tells the architecture).
        await #expect(throws: TFTPRefusal.self) {
            try await router.content(for: readRequest("efi/BOOTX64.EFI", from: "10.0.0.5"))
        }
        let after = text(of: try await router.content(for: readRequest("pxelinux.cfg/default3", from: "10.0.0.5")))
        #expect(after.contains(" arch=x86_64-efi "), "\(after)")
        let other = text(of: try await router.content(for: readRequest("pxelinux.cfg/default3", from: "10.0.0.6")))
        #expect(other.contains(" arch=nil "))
    }

    @Test func nilAndUnmatchedFallThroughToTheRoot() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        #expect(text(of: try await router.content(for: readRequest("static.txt"))) == "static file\n")
        #expect(text(of: try await router.content(for: readRequest("pxelinux.cfg/default"))) == "static default\n")
        let missing = await #expect(throws: TFTPRefusal.self) {
            try await router.content(for: readRequest("none/absent"))
        }
        #expect(missing?.code == .fileNotFound)
    }

    @Test func fileAnswersStreamAFileUnderTheRoot() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        let content = try await router.content(for: readRequest("kernel/anything"))
        guard case .file(let file) = content else {
            Issue.record("expected a file, got \(content)")
            return
        }
        #expect(file.path == "boot/vmlinuz")
        #expect(text(of: content) == "kernel bytes")
    }

    @Test func aFailingScriptAnswersErrorZeroAndLogsScriptLineReason() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let log = LogRecord()
        let router = try makeRouter(configFile: config, log: log)
        let refusal = await #expect(throws: TFTPRefusal.self) {
            try await router.content(for: readRequest("broken/x"))
        }
        #expect(refusal?.code == .notDefined)
        #expect(refusal?.message == "Script error")
        let lines = log.lines.filter { $0.contains("route script failed") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("line=3") == true, "\(lines)")
        #expect(lines.first?.contains("script=\(directory.path)/fail.lua") == true, "\(lines)")
        #expect(lines.first?.contains("reason=attempt to index a nil value (local 't')") == true, "\(lines)")
    }

    @Test func aRetryFromTheSameClientGetsTheSameBytes() async throws {
        let (directory, config) = try fixture()
        defer { directory.remove() }
        let router = try makeRouter(configFile: config)
        let probe = text(of: try await router.content(for: readRequest("count/a", options: ["tsize": "0"])))
        let transfer = text(of: try await router.content(for: readRequest("count/a", port: 2071)))
        #expect(probe == transfer)
        // Another client, or another path, runs the script again.
        let other = text(of: try await router.content(for: readRequest("count/a", from: "192.168.202.99")))
        let otherPath = text(of: try await router.content(for: readRequest("count/b")))
        #expect(Set([probe, other, otherPath]).count == 3)
    }
}
