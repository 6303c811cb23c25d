import Foundation
import TestSupport
import Testing

/// Lua routes through real TFTP clients: what they fetch, how failures look to them, and that one failing
/// script never disturbs another transfer.
@Suite(.serialized) struct LuaRouteInteropTests {
    static let config = """
        [tftp]
        root = "tftpboot"
        [tftp.scripts]
        memory_mib = 16
        instructions = 5000000
        max_result_kib = 64
        workers = 4
        [[tftp.route]]
        path = "fail/{mode}"
        script = "fail.lua"
        [[tftp.route]]
        path = "**/pxelinux.cfg/*"
        script = "echo.lua"
        [[tftp.route]]
        path = "reload.txt"
        script = "reload.lua"
        """

    /// `memory` takes 64 KiB a step: with 100-byte steps, ThreadSanitizer's slower allocator made the 2 s time
    /// limit fire first.
    static let failScript = """
        return function(req)
          local mode = req.params.mode
          if mode == "error" then error("inventory has no entry for " .. req.ip) end
          if mode == "loop" then while true do end end
          if mode == "memory" then local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(65536) .. i end end
          if mode == "type" then return { "not", "a", "string" } end
          if mode == "large" then return ("x"):rep(65 * 1024) end
          return "fine"
        end
        """

    static let files = [
        "tftpboot/big.bin": String(repeating: "0123456789abcdef", count: 256 * 1024),  // 4 MiB
        "tftpboot/pxelinux.0": "boot loader",
        "tftpboot/efi/bootx64.efi": "efi loader",
        "fail.lua": failScript,
        "echo.lua":
            "return function(req) return 'mac=' .. tostring(req.mac) .. ' arch=' .. tostring(req.arch) .. '\\n' end\n",
        "reload.lua": "return function(req) return 'version 1\\n' end\n",
    ]

    @Test func eachFailureIsAnErrorWhileAParallelTransferCompletes() async throws {
        try await RoutedTestServer.with(config: Self.config, files: Self.files) { server in
            let out = try TemporaryDirectory("lua-interop")
            defer { out.remove() }
            // A 4 MiB static transfer with the smallest blocks runs while every failure mode is tried.
            async let big = runTool(
                try thinbootExecutable(),
                ["tftp", "get", "--port", "\(server.port)", "-o", out.file("big.bin"), "127.0.0.1", "big.bin"])
            for mode in ["error", "loop", "memory", "type", "large"] {
                let result = try await runTool(
                    "busybox",
                    ["tftp", "-g", "-r", "fail/\(mode)", "-l", out.file(mode), "127.0.0.1", "\(server.port)"])
                #expect(result.status != 0, "\(mode)")
                #expect(result.stderr.contains("(0) Script error"), "\(mode): \(result.stderr)")
            }
            let fine = try await server.fetch("fail/fine", to: out.file("fine"))
            #expect(fine.status == 0, "\(fine.stderr)")
            #expect(try String(contentsOfFile: out.file("fine"), encoding: .utf8) == "fine")
            let bigResult = try await big
            #expect(bigResult.status == 0, "\(bigResult.stderr)")
            #expect(
                try await sha256(file: out.file("big.bin")) == sha256(file: server.directory.file("tftpboot/big.bin")))

            // One log line per failed request (clients that resend their request while a script runs fail again).
            let failures = server.log.matching("route script failed")
            let paths = Set(failures.compactMap { $0.split(separator: " ").first { $0.hasPrefix("tftp.path=") } })
            #expect(paths.count == 5, "\(failures)")
            for (kind, line) in [
                ("runtime error", "3"), ("instruction budget exhausted", "4"),
                ("memory limit exceeded", nil), ("bad return value", nil), ("result too large", nil),
            ] as [(String, String?)] {
                let entry = failures.first { $0.contains("kind=\(kind)") }
                #expect(entry != nil, "\(kind): \(failures)")
                #expect(entry?.contains("script=\(server.directory.file("fail.lua"))") == true)
                if let line { #expect(entry?.contains("line=\(line) ") == true, "\(entry ?? "")") }
            }
        }
    }

    @Test func archFromTheBootLoaderFetchedEarlier() async throws {
        try await RoutedTestServer.with(config: Self.config, files: Self.files) { server in
            let out = try TemporaryDirectory("lua-interop")
            defer { out.remove() }
            _ = try await server.fetch("ltsp/pxelinux.cfg/C0A8CA04", to: out.file("before"))
            #expect(try String(contentsOfFile: out.file("before"), encoding: .utf8) == "mac=nil arch=nil\n")
            let loader = try await server.fetch("efi/bootx64.efi", to: out.file("loader"))
            #expect(loader.status == 0, "\(loader.stderr)")
            _ = try await server.fetch("ltsp/pxelinux.cfg/C0A8CA05", to: out.file("after"))
            #expect(try String(contentsOfFile: out.file("after"), encoding: .utf8) == "mac=nil arch=x86_64-efi\n")
            _ = try await server.fetch("pxelinux.cfg/01-52-54-00-aa-bb-cc", to: out.file("mac"))
            #expect(
                try String(contentsOfFile: out.file("mac"), encoding: .utf8)
                    == "mac=52:54:00:aa:bb:cc arch=x86_64-efi\n")
        }
    }

    @Test func aChangedScriptServesItsNewVersionAndABrokenEditKeepsTheOld() async throws {
        try await RoutedTestServer.with(config: Self.config, files: Self.files) { server in
            let out = try TemporaryDirectory("lua-interop")
            defer { out.remove() }
            // Each fetch comes from another loopback address: answers are kept 5 seconds per client and path
            // (so a retry gets the same bytes), and a new client sees the current script at once.
            var client = 1
            func fetched() async throws -> String {
                client += 1
                let result = try await runTool(
                    "curl", ["-sS", "--interface", "127.0.0.\(client)", "tftp://127.0.0.1:\(server.port)/reload.txt"])
                #expect(result.status == 0, "\(result.stderr)")
                return result.stdoutText
            }
            #expect(try await fetched() == "version 1\n")
            try server.directory.write("reload.lua", "return function(req) return 'version 2\\n' end\n")
            #expect(try await fetched() == "version 2\n")
            try server.directory.write("reload.lua", "return function(req) return 'version 3' .. end\n")
            #expect(try await fetched() == "version 2\n")
            #expect(server.log.matching("does not compile").count == 1)
        }
    }

    /// The example: `thinboot check` passes with its image folders empty, as in git; once images are copied in,
    /// what `render` prints is byte for byte what clients fetch, and the kernel and initrd it names, fetched from
    /// inside the image version it pins, are that image's own.
    @Test func renderEqualsWhatClientsFetch() async throws {
        let empty = try await runTool(
            try thinbootExecutable(), ["check", "--config", LTSPExampleCopy.example + "/thinboot.toml"])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdoutText.contains("route **/pxelinux.cfg/*"))
        #expect(
            empty.stdoutText.contains(
                "route images/{image}/** -> \(LTSPExampleCopy.example)/scripts/image.lua (compiled)"))

        let copy = try await LTSPExampleCopy()
        defer { copy.remove() }
        let configFile = copy.configFile
        // What check says the folder's image is: the pinned root the config must name.
        let check = try await runTool(try thinbootExecutable(), ["check", "--config", configFile])
        #expect(check.status == 0, "\(check.stderr)")
        let exportLine = try #require(
            check.stdoutText.split(separator: "\n").first { $0.hasPrefix("  export trusty-i386 ") },
            "\(check.stdoutText)")
        let pinnedRoot = try #require(exportLine.firstMatch(of: /pinned nbdroot=(\S+)$/)?.output.1, "\(exportLine)")
        try await RoutedTestServer.serve(directory: copy.folder, configFile: configFile) { server in
            let out = try TemporaryDirectory("ltsp-out")
            defer { out.remove() }
            let name = "ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-00-01-01"
            let render = try await runTool(
                try thinbootExecutable(),
                ["render", "--config", configFile, "--mac", "52:54:00:00:01:01", "--ip", "127.0.0.1", name])
            #expect(render.status == 0, "\(render.stderr)")
            #expect(render.stdoutText.contains(" nbdroot=\(pinnedRoot)\n"), "\(render.stdoutText)")
            // probe walks pxelinux's order and lands on the same file (first: the server learns the MAC of
            // 127.0.0.1 from it, and would answer the UUID name after that).
            let probe = try await runTool(
                try thinbootExecutable(),
                [
                    "tftp", "probe", "--port", "\(server.port)", "--mac", "52:54:00:00:01:01", "--ip", "192.168.202.31",
                    "--uuid", "b8945908-d6a6-41a9-611d-74a6ab80b83d", "--folder", "ltsp-trusty/i386", "127.0.0.1",
                ])
            #expect(probe.status == 0, "\(probe.stderr)")
            #expect(try await sha256(probe.stdout) == sha256(render.stdout))
            #expect(
                probe.stderr.contains("ltsp-trusty/i386/pxelinux.cfg/b8945908-d6a6-41a9-611d-74a6ab80b83d: not found"))
            #expect(probe.stderr.contains("\(name): answered, \(render.stdout.count) bytes"), "\(probe.stderr)")
            let fetched = try await server.fetch(name, to: out.file("cfg"))
            #expect(fetched.status == 0, "\(fetched.stderr)")
            let tftpHPA = try await runTool(
                "tftp", ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "get", name, out.file("hpa")])
            #expect(tftpHPA.status == 0, "\(tftpHPA.stderr)")
            let rendered = try await sha256(render.stdout)
            #expect(try await sha256(file: out.file("cfg")) == rendered)
            #expect(try await sha256(file: out.file("hpa")) == rendered)

            // The KERNEL and initrd= of the config, as pxelinux fetches them (leading `/`: from the TFTP root).
            let config = render.stdoutText
            let kernel = try #require(config.firstMatch(of: /KERNEL \/(\S+)/)?.output.1, "\(config)")
            let initrd = try #require(config.firstMatch(of: #/ initrd=\/(\S+)/#)?.output.1, "\(config)")
            let pinned = String(pinnedRoot.split(separator: ",")[1])
            #expect(kernel == "images/\(pinned)/vmlinuz" && initrd == "images/\(pinned)/initrd.img", "\(config)")
            for (path, original) in [(kernel, copy.kernels["trusty-i386"]!), (initrd, copy.initrds["trusty-i386"]!)] {
                let expected = try await sha256(Data(original))
                let bundled = try await server.fetch(String(path), to: out.file("bundled"))
                #expect(bundled.status == 0, "\(path): \(bundled.stderr)")
                #expect(try await sha256(file: out.file("bundled")) == expected, "\(path) by the bundled client")
                let hpa = try await runTool(
                    "tftp", ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "get", String(path), out.file("hpa")])
                #expect(hpa.status == 0, "\(hpa.stderr)")
                #expect(try await sha256(file: out.file("hpa")) == expected, "\(path) by tftp-hpa")
            }
        }
    }
}
