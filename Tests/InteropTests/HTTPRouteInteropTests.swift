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

    static let typedRoutes = """
        [[tftp.route]]
        path = "typed/json.txt"
        script = "scripts/json.lua"

        [[tftp.route]]
        path = "typed/a.efi"
        script = "scripts/file.lua"

        [[tftp.route]]
        path = "typed/bad"
        script = "scripts/bad.lua"
        """
    static let typedFiles: [String: [UInt8]] = [
        "scripts/json.lua": Array(
            """
            return function(req) return '{"via":"' .. req.protocol .. '"}', { content_type = "application/json" } end
            """.utf8),
        "scripts/file.lua": Array(
            """
            return function(req) return thinboot.file("a.efi"), { content_type = "application/octet-stream" } end
            """.utf8),
        "scripts/bad.lua": Array(
            """
            return function(req) return "x", { content_type = "text/plain\\r\\nX-Injected: 1" } end
            """.utf8),
    ]

    /// The lowercased `content-type` values among curl's `-i`/`-I` output.
    static func contentTypes(_ output: String) -> [String] {
        output.lowercased().split(whereSeparator: \.isNewline).filter { $0.hasPrefix("content-type:") }.map {
            $0.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
        }
    }

    /// A route's `{ content_type = … }` is the Content-Type of GET and HEAD, 200 and 206, generated (and cached) or a
    /// named file; an unsafe one fails the request as a script error; TFTP serves the same bytes and ignores it.
    @Test func scriptSetsTheContentType() async throws {
        var serverLog = ""
        try await HTTPServeHarness.with(
            routes: Self.typedRoutes, files: Self.typedFiles,
            populate: { root in try root.write("a.efi", Array("EFI image bytes\n".utf8)) },
            logs: { serverLog = $0 }
        ) { server in
            let json = "\(server.base)/typed/json.txt"
            let get = try await server.curl(["-i", json])
            #expect(get.status == 0, "\(get.stderr)")
            #expect(get.stdoutText.hasSuffix("\r\n\r\n{\"via\":\"http\"}"), "\(get.stdoutText)")
            #expect(Self.contentTypes(get.stdoutText) == ["application/json"], "\(get.stdoutText)")
            // HEAD and a second GET are answered from the generated-content cache: the type is kept with the bytes.
            let head = try await server.curl(["-I", json])
            #expect(Self.contentTypes(head.stdoutText) == ["application/json"], "\(head.stdoutText)")
            let again = try await server.curl(["-i", json])
            #expect(Self.contentTypes(again.stdoutText) == ["application/json"], "\(again.stdoutText)")
            let partial = try await server.curl(["-i", "-r", "0-3", json])
            #expect(partial.stdoutText.hasPrefix("HTTP/1.1 206"), "\(partial.stdoutText)")
            #expect(Self.contentTypes(partial.stdoutText) == ["application/json"], "\(partial.stdoutText)")

            let efi = "\(server.base)/typed/a.efi"
            let file = try await server.curl(["-i", efi])
            #expect(file.stdoutText.hasSuffix("EFI image bytes\n"), "\(file.stdoutText)")
            #expect(Self.contentTypes(file.stdoutText) == ["application/octet-stream"], "\(file.stdoutText)")
            let fileHead = try await server.curl(["-I", efi])
            #expect(Self.contentTypes(fileHead.stdoutText) == ["application/octet-stream"], "\(fileHead.stdoutText)")
            let filePartial = try await server.curl(["-i", "-r", "0-2", efi])
            #expect(filePartial.stdoutText.hasPrefix("HTTP/1.1 206"), "\(filePartial.stdoutText)")
            #expect(
                Self.contentTypes(filePartial.stdoutText) == ["application/octet-stream"], "\(filePartial.stdoutText)")
            // Without a type the static file keeps the type by extension.
            let plain = try await server.curl(["-I", "\(server.base)/a.efi"])
            #expect(Self.contentTypes(plain.stdoutText) == ["application/efi"], "\(plain.stdoutText)")

            for method in [["-i"], ["-I"]] {
                let bad = try await server.curl(method + ["\(server.base)/typed/bad"])
                #expect(bad.stdoutText.hasPrefix("HTTP/1.1 500"), "\(bad.stdoutText)")
                #expect(!bad.stdoutText.lowercased().contains("x-injected"), "\(bad.stdoutText)")
            }

            func tftpGet(_ path: String) async throws -> ToolResult {
                try await runTool(
                    try thinbootExecutable(),
                    ["tftp", "get", "--port", "\(server.tftpPort)", "-o", "-", "127.0.0.1", path])
            }
            let tftpJSON = try await tftpGet("typed/json.txt")
            #expect(tftpJSON.status == 0, "\(tftpJSON.stderr)")
            #expect(tftpJSON.stdoutText == "{\"via\":\"tftp\"}")
            let tftpFile = try await tftpGet("typed/a.efi")
            #expect(tftpFile.stdoutText == "EFI image bytes\n", "\(tftpFile.stderr)")
            let tftpBad = try await tftpGet("typed/bad")
            #expect(tftpBad.status != 0)
            #expect(tftpBad.stderr.contains("Script error"), "\(tftpBad.stderr)")
        }
        let refusals = serverLog.split(whereSeparator: \.isNewline).filter {
            $0.contains("content_type must be 1-255 printable ASCII characters")
        }
        // One line per failed request: GET, HEAD, TFTP.
        #expect(refusals.count == 3, "\(serverLog)")
        #expect(refusals.allSatisfy { $0.contains("bad.lua") }, "\(serverLog)")
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
