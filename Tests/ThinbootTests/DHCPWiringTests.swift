import DHCP
import Files
import Foundation
import Scripting
import TFTP
import TestSupport
import Testing

@testable import Thinboot

/// `[dhcp]` in the config, the boot script's `req` and return forms, and what DHCP teaches the TFTP router.
@Suite struct DHCPWiringTests {
    @Test func readsTheDHCPSection() throws {
        let config = try ThinbootConfig.parse(
            """
            [dhcp]
            proxy = true
            interfaces = ["br0", "tbd1"]
            boot = "scripts/boot.lua"
            next_server = "10.0.0.5"
            """, file: "/etc/thinboot/thinboot.toml")
        let dhcp = try #require(config.dhcp)
        #expect(dhcp.interfaces == ["br0", "tbd1"])
        #expect(dhcp.boot == "/etc/thinboot/scripts/boot.lua")
        #expect(dhcp.nextServer == IPv4Address(parsing: "10.0.0.5"))
        #expect(dhcp.answersPerMAC == 4)
        #expect(config.tftp == nil)
    }

    @Test(arguments: [
        ("[dhcp]\nboot = \"b.lua\"\n", "dhcp.proxy: is required"),
        ("[dhcp]\nproxy = false\nboot = \"b.lua\"\n", "dhcp.proxy: must be true"),
        ("[dhcp]\nproxy = true\n", "dhcp.boot: is required"),
        (
            "[dhcp]\nproxy = true\nboot = \"b.lua\"\nnext_server = \"host\"\n",
            "dhcp.next_server: \"host\" is not an IPv4"
        ),
        ("[dhcp]\nproxy = true\nboot = \"b.lua\"\ninterfaces = [\"\"]\n", "dhcp.interfaces[0]"),
        ("[dhcp]\nproxy = true\nboot = \"b.lua\"\nanswers_per_mac = 0\n", "dhcp.answers_per_mac: 0 is out of range"),
        ("[dhcp]\nproxy = true\nboot = \"b.lua\"\nrange = \"x\"\n", "dhcp.range: unknown key"),
    ])
    func refusesBadDHCPSections(text: String, expected: String) {
        #expect {
            try ThinbootConfig.parse(text, file: "/srv/t.toml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    /// A boot script in a fresh folder, on a pool like the server's.
    static func bootScript(_ source: String) throws -> (TemporaryDirectory, BootScript) {
        let directory = try TemporaryDirectory()
        try directory.write("tftpboot/ipxe.efi", "efi")
        let path = try directory.write("boot.lua", source)
        let host = ThinbootScriptHost(
            root: try ConfinedDirectory(path: directory.path + "/tftpboot"),
            dataRoot: try ConfinedDirectory(path: directory.path),
            nbd: nil, logger: LogRecord().logger)
        return (directory, BootScript(script: path, pool: ScriptPool(host: host, workers: 1)))
    }

    static func request(arch: UInt16? = 7, userClass: String? = nil, relay: String? = nil) throws -> PXEClientRequest {
        var message = DHCPMessage(operation: .request, transactionID: 1)
        message.clientHardwareAddress = [0x52, 0x54, 0, 0xC0, 0xFF, 0xEE] + Array(repeating: 0, count: 10)
        message.options.messageType = .discover
        message.options.vendorClass = "PXEClient:Arch:00007:UNDI:003000"
        if let arch { message.options[.clientArchitecture] = [UInt8(arch >> 8), UInt8(arch & 0xFF)] }
        message.options[.clientMachineIdentifier] = [0] + Array(repeating: 0xAB, count: 16)
        if let userClass { message.options[.userClass] = Array(userClass.utf8) }
        if let relay { message.relayAddress = IPv4Address(parsing: relay)! }
        return try #require(PXEClientRequest(message: message, interface: "tbd0", port: .dhcp))
    }

    @Test func scriptSeesTheRequest() async throws {
        let value = BootScript.requestValue(try Self.request(userClass: "iPXE", relay: "10.9.0.1"))
        #expect(
            value
                == .record([
                    "protocol": "dhcp", "mac": "52:54:00:c0:ff:ee", "arch": "x86_64-efi", "arch_code": 7,
                    "uuid": "abababab-abab-abab-abab-abababababab", "user_class": "iPXE",
                    "vendor_class": "PXEClient:Arch:00007:UNDI:003000", "relay": "10.9.0.1", "interface": "tbd0",
                    "message": "discover",
                ]))
        // 9 is the same machine as 7; an unknown code keeps its number with no name; no option 93, neither.
        #expect(BootScript.requestValue(try Self.request(arch: 9))["arch"] == "x86_64-efi")
        #expect(BootScript.requestValue(try Self.request(arch: 0x1234))["arch"] == .nil)
        #expect(BootScript.requestValue(try Self.request(arch: 0x1234))["arch_code"] == 4660)
        #expect(BootScript.requestValue(try Self.request(arch: nil))["arch_code"] == .nil)
        // And a script reads them as Lua values.
        let (directory, script) = try Self.bootScript(
            """
            return function(req)
              return req.protocol .. "-" .. req.arch .. "-" .. req.arch_code .. "-" .. req.message
            end
            """)
        defer { directory.remove() }
        #expect(
            try await script.choose(try Self.request(arch: 9))
                == .file("dhcp-x86_64-efi-9-discover", server: nil))
    }

    @Test func returnForms() async throws {
        let (directory, script) = try Self.bootScript(
            """
            return function(req)
              if req.user_class == "iPXE" then return "http://10.0.0.1/boot.ipxe" end
              if req.arch == "x86_64-efi" then return { file = "ipxe.efi", server = "10.0.0.7" } end
              if req.arch == "x86-bios" then return "undionly.kpxe" end
              if req.arch == "arm64-efi" then return thinboot.file("ipxe.efi") end
              if req.arch_code == 6 then return { server = "10.0.0.7" } end
              if req.arch_code == 10 then return { file = "a.efi", server = "not-an-ip" } end
              return nil
            end
            """)
        defer { directory.remove() }
        #expect(
            try await script.choose(try Self.request(userClass: "iPXE"))
                == .url("http://10.0.0.1/boot.ipxe"))
        #expect(
            try await script.choose(try Self.request(arch: 7))
                == .file("ipxe.efi", server: IPv4Address(parsing: "10.0.0.7")))
        #expect(
            try await script.choose(try Self.request(arch: 0))
                == .file("undionly.kpxe", server: nil))
        #expect(
            try await script.choose(try Self.request(arch: 11))
                == .file("ipxe.efi", server: nil))
        #expect(try await script.choose(try Self.request(arch: 27)) == .silent)
        await #expect(throws: BootScriptError.self) {
            try await script.choose(try Self.request(arch: 6))
        }
        await #expect(throws: BootScriptError.self) {
            try await script.choose(try Self.request(arch: 10))
        }
    }

    /// With `[http]` on a wildcard address, `thinboot.url` in the boot script names the address the DHCP request
    /// reached — the one the client can reach — as it does for TFTP and HTTP requests (it gave 127.0.0.1, which
    /// sent iPXE to its own loopback).
    @Test func bootScriptURLNamesTheAddressTheRequestReached() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("boot.lua", "return function(req) return thinboot.url(\"boot.ipxe\") end\n")
        try directory.write("tftpboot/boot.ipxe", "#!ipxe\n")
        let config = try ThinbootConfig.parse(
            "[tftp]\nroot = \"tftpboot\"\n\n[http]\nlisten = [\"0.0.0.0:8080\"]\n\n"
                + "[dhcp]\nproxy = true\nboot = \"boot.lua\"\n",
            file: directory.path + "/thinboot.toml")
        let script = try BootScript.make(config: config, dhcp: try #require(config.dhcp), logger: LogRecord().logger)
        var message = DHCPMessage(operation: .request, transactionID: 1)
        message.clientHardwareAddress = [0x52, 0x54, 0, 0xC0, 0xFF, 0xEE] + Array(repeating: 0, count: 10)
        message.options.messageType = .discover
        message.options.vendorClass = "PXEClient:Arch:00007:UNDI:003000"
        message.options[.userClass] = Array("iPXE".utf8)
        let request = try #require(
            PXEClientRequest(
                message: message, interface: "tbd0", port: .dhcp, localAddress: IPv4Address(parsing: "10.77.0.1")))
        #expect(try await script.choose(request) == .url("http://10.77.0.1:8080/boot.ipxe"))
    }

    @Test func failingScriptAndOverlongFileAreScriptErrors() async throws {
        let (directory, script) = try Self.bootScript(
            """
            return function(req)
              if req.arch_code == 0 then return string.rep("a", 128) end
              error("inventory missing")
            end
            """)
        defer { directory.remove() }
        await #expect(throws: BootScriptError.self) {
            try await script.choose(try Self.request(arch: 0))
        }
        do {
            _ = try await script.choose(try Self.request(arch: 7))
            Issue.record("the script raised; choose must throw")
        } catch {
            #expect("\(error)".contains("inventory missing"))
        }
    }

    @Test func routeScriptsStillRefuseTables() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tftpboot/x", "x")
        try directory.write("table.lua", "return function(req) return { file = 'x' } end\n")
        let config = try directory.write(
            "thinboot.toml", "[tftp]\nroot = \"tftpboot\"\n[[tftp.route]]\npath = \"t/*\"\nscript = \"table.lua\"\n")
        let log = LogRecord()
        let router = try makeRouter(configFile: config, log: log)
        await #expect(throws: TFTPRefusal.self) { try await router.content(for: readRequest("t/1")) }
        #expect(!log.matching("return a string").isEmpty)
    }

    @Test func tftpRequestsOfAKnownMACSeeTheArchDHCPTaught() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tftpboot/x", "x")
        try directory.write(
            "echo.lua", "return function(req) return tostring(req.mac) .. ' ' .. tostring(req.arch) end\n")
        let configFile = try directory.write(
            "thinboot.toml", "[tftp]\nroot = \"tftpboot\"\n[[tftp.route]]\npath = \"cfg/*\"\nscript = \"echo.lua\"\n")
        let config = try ThinbootConfig.load(path: configFile)
        let tftp = try #require(config.tftp)
        let learned = DHCPLearnedClients()
        let mac = try #require(MACAddress(parsing: "52:54:00:c0:ff:ee"))
        learned.learn(mac: mac, arch: "x86_64-efi", archCode: 9, uuid: nil, userClass: nil, ip: nil)
        let host = ThinbootScriptHost(
            root: try ConfinedDirectory(path: tftp.root), dataRoot: try ConfinedDirectory(path: config.directory),
            nbd: nil,
            logger: LogRecord().logger)
        let router = Router(
            routes: tftp.routes, root: try StaticRoot(path: tftp.root), pool: ScriptPool(host: host, workers: 1),
            learned: learned, neighbours: { ip in ip == "10.0.0.5" ? mac : nil }, logger: LogRecord().logger)
        // Its first file, a boot loader name that would say BIOS, and still the firmware's own answer wins.
        _ = try? await router.content(for: readRequest("undionly.kpxe", from: "10.0.0.5"))
        #expect(
            text(of: try await router.content(for: readRequest("cfg/a", from: "10.0.0.5")))
                == "52:54:00:c0:ff:ee x86_64-efi")
        #expect(text(of: try await router.content(for: readRequest("cfg/b", from: "10.0.0.6"))) == "nil nil")
    }

    @Test func learnedClientsAreBounded() throws {
        let learned = DHCPLearnedClients(capacity: 16)
        for index in 0..<500 {
            let mac = try #require(MACAddress(bytes: [2, 0, 0, 0, UInt8(index >> 8), UInt8(index & 0xFF)]))
            learned.learn(mac: mac, arch: "x86-bios", archCode: 0, uuid: nil, userClass: nil, ip: nil)
        }
        #expect(learned.count <= 16)
        #expect(learned.arch(for: MACAddress(bytes: [2, 0, 0, 0, 1, 0xF3])!) == "x86-bios")
    }

    @Test func checkCompilesTheBootScriptOfTheConfig() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("good.lua", "return function(req) return 'ipxe.efi' end\n")
        try directory.write("bad.lua", "return function(req) return x.y end end\n")
        for (name, compiles) in [("good.lua", true), ("bad.lua", false)] {
            let file = try directory.write(
                "\(name).toml", "[dhcp]\nproxy = true\nboot = \"\(name)\"\n")
            let config = try ThinbootConfig.load(path: file)
            let script = try BootScript.make(
                config: config, dhcp: try #require(config.dhcp), logger: LogRecord().logger)
            do {
                try await script.check()
                #expect(compiles, "\(name) compiled")
            } catch {
                #expect(!compiles, "\(name): \(error)")
                #expect(error.description.contains("bad.lua:1"))
            }
        }
    }

    /// `examples/ltsp-split/dhcp.toml` and its boot script: BIOS, UEFI and iPXE clients of the inventory each get
    /// their file; a client the inventory does not know gets silence.
    @Test func ltspExampleBootScript() async throws {
        let config = try ThinbootConfig.load(path: examplesFolder() + "/ltsp-split/dhcp.toml")
        let dhcp = try #require(config.dhcp)
        let script = try BootScript.make(config: config, dhcp: dhcp, logger: LogRecord().logger)
        func request(mac: UInt8, arch: UInt16, userClass: String? = nil) throws -> PXEClientRequest {
            var message = DHCPMessage(operation: .request, transactionID: 1)
            message.clientHardwareAddress = [0x52, 0x54, 0, 0, 0x01, mac] + Array(repeating: 0, count: 10)
            message.options.messageType = .discover
            message.options.vendorClass = "PXEClient"
            message.options[.clientArchitecture] = [0, UInt8(arch)]
            if let userClass { message.options[.userClass] = Array(userClass.utf8) }
            return try #require(PXEClientRequest(message: message, interface: "br0", port: .dhcp))
        }
        #expect(
            try await script.choose(try request(mac: 1, arch: 0))
                == .file("ltsp-trusty/i386/pxelinux.0", server: nil))
        #expect(
            try await script.choose(try request(mac: 1, arch: 7)) == .file("ipxe.efi", server: nil))
        #expect(
            try await script.choose(try request(mac: 1, arch: 9)) == .file("ipxe.efi", server: nil))
        #expect(
            try await script.choose(try request(mac: 1, arch: 7, userClass: "iPXE"))
                == .url("http://192.168.202.4/boot.ipxe"))
        #expect(
            try await script.choose(try request(mac: 1, arch: 11))
                == .file("arm64/ipxe.efi", server: IPv4Address(parsing: "192.168.202.6")))
        #expect(try await script.choose(try request(mac: 0x99, arch: 7)) == .silent)
    }
}
