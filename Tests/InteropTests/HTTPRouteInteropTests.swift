import Foundation
import TestSupport
import Testing

/// Routes over HTTP through the built binary: the same bytes as over TFTP and as `thinboot render`, routes limited
/// to one protocol, `thinboot.url`, `--only http` and `thinboot check`.
@Suite("HTTP routes, real clients", .serialized)
struct HTTPRouteInteropTests {
    static let routes = """
        [[tftp.route]]
        path = "pxelinux.cfg/*"
        script = "\("scripts/pxelinux.lua")"

        [[tftp.route]]
        path = "boot.ipxe"
        script = "scripts/ipxe.lua"
        protocols = ["http"]
        """
    static let files: [String: [UInt8]] = [
        "scripts/pxelinux.lua": Array(
            """
            return function(req)
              return "DEFAULT linux\\nLABEL linux\\n  KERNEL vmlinuz\\n  APPEND mac=" .. (req.mac or "none")
                .. " path=" .. req.path .. "\\n"
            end
            """.utf8),
        "scripts/ipxe.lua": Array(
            """
            return function(req)
              return "#!ipxe\\nkernel " .. thinboot.url("vmlinuz") .. " mac=" .. (req.mac or "none")
                .. " via=" .. req.protocol .. "\\n"
            end
            """.utf8),
    ]

    @Test func generatedRouteGivesTheSameBytesOverHTTPTFTPAndRender() async throws {
        try await HTTPServeHarness.with(routes: Self.routes, files: Self.files) { server in
            let path = "pxelinux.cfg/01-52-54-00-12-34-56"
            let out = try TemporaryDirectory("http-out")
            defer { out.remove() }
            let http = try await server.curl(["\(server.base)/\(path)"])
            #expect(http.status == 0, "\(http.stderr)")
            let tftp = try await runTool(
                try thinbootExecutable(),
                [
                    "tftp", "get", "--port", "\(server.tftpPort)", "--blksize", "1408", "--tsize", "-o", "-",
                    "127.0.0.1", path,
                ])
            #expect(tftp.status == 0, "\(tftp.stderr)")
            let render = try await runTool(
                try thinbootExecutable(),
                ["render", "--config", server.configFile, "--mac", "52:54:00:12:34:56", "--ip", "127.0.0.1", path])
            #expect(render.status == 0, "\(render.stderr)")
            #expect(http.stdoutText.contains("APPEND mac=52:54:00:12:34:56 path=\(path)"), "\(http.stdoutText)")
            #expect(http.stdout == tftp.stdout)
            #expect(http.stdout == render.stdout)
            let head = try await server.curl(["-I", "\(server.base)/\(path)"]).stdoutText.lowercased()
            #expect(head.contains("content-length: \(http.stdout.count)"), "\(head)")
        }
    }

    @Test func httpOnlyRouteAndThinbootURL() async throws {
        try await HTTPServeHarness.with(routes: Self.routes, files: Self.files) { server in
            let ipxe = try await server.curl(["\(server.base)/boot.ipxe?mac=52-54-00-aa-bb-cc"])
            #expect(
                ipxe.stdoutText
                    == "#!ipxe\nkernel http://127.0.0.1:\(server.httpPort)/vmlinuz mac=52:54:00:aa:bb:cc via=http\n",
                "\(ipxe.stderr)")
            let render = try await runTool(
                try thinbootExecutable(),
                [
                    "render", "--config", server.configFile, "--protocol", "http", "--mac", "52:54:00:aa:bb:cc", "--ip",
                    "127.0.0.1", "boot.ipxe",
                ])
            #expect(render.stdout == ipxe.stdout, "\(render.stderr)")
            // The route is HTTP only: over TFTP the name falls to the root, where it does not exist.
            let tftp = try await runTool(
                try thinbootExecutable(),
                ["tftp", "get", "--port", "\(server.tftpPort)", "-o", "-", "127.0.0.1", "boot.ipxe"])
            #expect(tftp.status != 0)
            #expect(tftp.stderr.contains("File not found"), "\(tftp.stderr)")
        }
    }

    @Test func onlyHTTPRunsNoTFTP() async throws {
        try await HTTPServeHarness.with(only: "http") { server in
            #expect(try await server.curl(["\(server.base)/ready.txt"]).stdoutText == "ready\n")
            let tftp = try await runTool(
                try thinbootExecutable(),
                [
                    "tftp", "get", "--port", "\(server.tftpPort)", "--timeout", "1", "--retries", "1", "-o", "-",
                    "127.0.0.1", "ready.txt",
                ])
            #expect(tftp.status != 0)
            let check = try await runTool(try thinbootExecutable(), ["check", "--config", server.configFile])
            #expect(check.status == 0, "\(check.stderr)")
            #expect(
                check.stdoutText.contains("http: the tftp root and routes, listening on 127.0.0.1:\(server.httpPort)"))
        }
    }
}
