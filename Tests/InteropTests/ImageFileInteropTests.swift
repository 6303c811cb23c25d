import Foundation
import TestSupport
import Testing

/// Files served from inside images by a route (`thinboot.image_file`), fetched by real clients: tftp-hpa, the
/// bundled client, curl and `thinboot render` all get the original bytes; a missing file is ERROR 1 / 404; a
/// corrupt image fails its own request with one log line while another transfer completes.
@Suite("Files inside images, real clients", .serialized)
struct ImageFileInteropTests {
    static let script: [String: [UInt8]] = [
        "scripts/image.lua": Array(
            """
            return function(req)
              return thinboot.image_file(req.params.image, req.captures[1])
            end
            """.utf8),
        "scripts/typed.lua": Array(
            """
            return function(req)
              return thinboot.image_file(req.params.image, req.captures[1]), { content_type = "application/x-thinboot-test" }
            end
            """.utf8),
        "scripts/menu.lua": Array(
            """
            return function(req)
              local lines = {}
              for _, export in ipairs(thinboot.exports()) do
                lines[#lines + 1] = export.name .. " " .. (export.format or "?") .. " " .. (export.version or "?")
              end
              for _, name in ipairs(thinboot.image_list("root", "/boot")) do lines[#lines + 1] = name end
              lines[#lines + 1] = thinboot.image_read("root", "etc/passwd")
              local ok, err = pcall(thinboot.image_read, "root", "boot/missing")
              lines[#lines + 1] = tostring(err)
              return table.concat(lines, "\\n")
            end
            """.utf8),
    ]

    /// Routes and an `[nbd]` section on a free port exporting `exports` (name → image file).
    static func config(_ exports: [String: String]) -> String {
        var text = """
            [[tftp.route]]
            path = "images/{image}/**"
            script = "scripts/image.lua"

            [[tftp.route]]
            path = "typed/{image}/**"
            script = "scripts/typed.lua"

            [[tftp.route]]
            path = "menu"
            script = "scripts/menu.lua"

            [nbd]
            listen = ["127.0.0.1:\(freeLoopbackPort(udp: false))"]

            """
        for (name, file) in exports.sorted(by: { $0.key < $1.key }) {
            text += "[[nbd.export]]\nname = \"\(name)\"\nfile = \"\(file)\"\n\n"
        }
        return text
    }

    @Test func everyClientGetsTheOriginalBytesFromInsideASquashfs() async throws {
        let tree = try TestImageTree(large: 100 << 20)
        defer { tree.remove() }
        let images = try TemporaryDirectory("interop-images")
        defer { images.remove() }
        let image = images.file("root.img")
        try await tree.squashfs("zstd", at: image)
        try await HTTPServeHarness.with(routes: Self.config(["root": image]), files: Self.script) { server in
            let out = try TemporaryDirectory("image-out")
            defer { out.remove() }
            let paths: [(String, String)] = [
                ("empty", "empty"), ("one", "one"), ("etc/fragment", "etc/fragment"), ("sparse", "sparse"),
                ("vmlinuz", TestImageTree.kernel), ("chain-40", TestImageTree.kernel),
                ("initrd.img", TestImageTree.initrd), ("escape", "etc/passwd"), ("large", "large"),
            ]
            for (index, (path, original)) in paths.enumerated() {
                let expected = try await sha256(Data(tree.files[original]!))
                let remote = "images/root/\(path)"
                let bundled = out.file("bundled-\(index)")
                let get = try await runTool(
                    try thinbootExecutable(),
                    [
                        "tftp", "get", "--port", "\(server.tftpPort)", "--blksize", "65464", "--windowsize", "16",
                        "--tsize", "-o", bundled, "127.0.0.1", remote,
                    ], timeout: .seconds(240))
                #expect(get.status == 0, "\(path): \(get.stderr)")
                #expect(try await sha256(file: bundled) == expected, "bundled tftp \(path)")
                let curl = try await server.curl(["\(server.base)/\(remote)"])
                #expect(curl.status == 0, "\(path): \(curl.stderr)")
                #expect(try await sha256(curl.stdout) == expected, "http \(path)")
                if original != "large" {
                    let hpa = out.file("hpa-\(index)")
                    let result = try await runTool(
                        "tftp", ["-m", "binary", "127.0.0.1", "\(server.tftpPort)", "-c", "get", remote, hpa])
                    #expect(result.status == 0 && result.stdoutText.isEmpty, "\(path): \(result.stdoutText)")
                    #expect(try await sha256(file: hpa) == expected, "tftp-hpa \(path)")
                }
                let render = try await runTool(
                    try thinbootExecutable(),
                    [
                        "render", "--config", server.configFile, "--mac", "52:54:00:12:34:56", "--ip", "127.0.0.1",
                        remote,
                    ],
                    timeout: .seconds(240))
                #expect(render.status == 0, "\(path): \(render.stderr)")
                #expect(try await sha256(render.stdout) == expected, "render \(path)")
            }
            // A miss answers like a missing static file; so do a loop and a folder, refused.
            let miss = try await runTool(
                "tftp",
                ["-m", "binary", "127.0.0.1", "\(server.tftpPort)", "-c", "get", "images/root/nope", out.file("x")])
            #expect(miss.stdoutText.contains("Error code 1"), "\(miss.stdoutText)")
            #expect(try await server.status(["\(server.base)/images/root/nope"]) == "404")
            #expect(try await server.status(["\(server.base)/images/root/loop-a"]) == "403")
            #expect(try await server.status(["\(server.base)/images/nosuch/vmlinuz"]) == "404")
            // Range requests on a file from an image, as iPXE's sanboot sends them.
            let range = try await server.curl(["-r", "1000-1999", "\(server.base)/images/root/vmlinuz"])
            #expect(range.stdout == Data(tree.files[TestImageTree.kernel]![1000..<2000]))

            let menu = try await server.curl(["\(server.base)/menu"])
            let lines = menu.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first?.hasPrefix("root squashfs ") == true, "\(menu.stdoutText)")
            #expect(lines.contains("vmlinuz-6.1.0-21-amd64") && lines.contains("current"), "\(menu.stdoutText)")
            #expect(menu.stdoutText.contains("root:x:0:0:image root"), "\(menu.stdoutText)")
            #expect(menu.stdoutText.contains("no such file in the image"), "\(menu.stdoutText)")
        }
    }

    @Test func aCorruptImageFailsItsOwnRequestWhileAnotherTransferCompletes() async throws {
        let tree = try TestImageTree(large: 32 << 20)
        defer { tree.remove() }
        let images = try TemporaryDirectory("interop-corrupt")
        defer { images.remove() }
        let good = images.file("good.img")
        try await tree.squashfs("gzip", at: good)
        let broken = try images.write("broken.img", patternBytes(count: 1 << 20, seed: 3))
        let truncated = images.file("truncated.img")
        try FileManager.default.copyItem(atPath: good, toPath: truncated)
        #expect(truncate(truncated, 4 << 20) == 0)
        let captured = CapturedText()
        try await HTTPServeHarness.with(
            routes: Self.config(["good": good, "broken": broken, "truncated": truncated]), files: Self.script,
            logs: { captured.text = $0 }
        ) { server in
            let out = try TemporaryDirectory("corrupt-out")
            defer { out.remove() }
            async let long = server.curl([
                "-o", out.file("large"), "--limit-rate", "16M", "\(server.base)/images/good/large",
            ])
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await server.status(["\(server.base)/images/broken/vmlinuz"]) == "500")
            let tftp = try await runTool(
                "tftp",
                [
                    "-m", "binary", "127.0.0.1", "\(server.tftpPort)", "-c", "get", "images/truncated/large",
                    out.file("t"),
                ])
            #expect(tftp.stdoutText.contains("Error code"), "\(tftp.stdoutText)")
            let finished = try await long
            #expect(finished.status == 0, "\(finished.stderr)")
            #expect(try await sha256(file: out.file("large")) == sha256(Data(tree.files["large"]!)))
        }
        let lines = captured.text.split(separator: "\n").filter { $0.contains("image file failed") }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.contains { $0.contains("export=broken") && $0.contains("not a squashfs") }, "\(lines)")
        #expect(lines.contains { $0.contains("export=truncated") && $0.contains("corrupt image") }, "\(lines)")
    }

    /// A route's `{ content_type = … }` beside `thinboot.image_file` is the Content-Type of GET, HEAD and a range
    /// (206) of a file from inside an image, with the file's own bytes; the same file by an untyped route keeps the
    /// type by extension.
    @Test func aScriptSetsTheContentTypeOfAFileFromAnImage() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let images = try TemporaryDirectory("interop-image-typed")
        defer { images.remove() }
        let image = images.file("root.img")
        try await tree.squashfs("gzip", at: image)
        try await HTTPServeHarness.with(routes: Self.config(["root": image]), files: Self.script) { server in
            let original = tree.files[TestImageTree.kernel]!
            let typed = "\(server.base)/typed/root/vmlinuz"
            let get = try await server.curl(["-D", "-", "-o", "/dev/null", typed])
            #expect(
                HTTPRouteInteropTests.contentTypes(get.stdoutText) == ["application/x-thinboot-test"],
                "\(get.stdoutText)")
            let body = try await server.curl([typed])
            #expect(try await sha256(body.stdout) == sha256(Data(original)))
            let head = try await server.curl(["-I", typed])
            #expect(
                HTTPRouteInteropTests.contentTypes(head.stdoutText) == ["application/x-thinboot-test"],
                "\(head.stdoutText)")
            let partial = try await server.curl(["-i", "-r", "0-9", typed])
            #expect(partial.stdoutText.hasPrefix("HTTP/1.1 206"), "\(partial.stdoutText)")
            #expect(
                HTTPRouteInteropTests.contentTypes(partial.stdoutText) == ["application/x-thinboot-test"],
                "\(partial.stdoutText)")
            #expect(partial.stdout.suffix(10) == Data(original.prefix(10)))
            let untyped = try await server.curl(["-I", "\(server.base)/images/root/vmlinuz"])
            let types = HTTPRouteInteropTests.contentTypes(untyped.stdoutText)
            #expect(types.count == 1 && types != ["application/x-thinboot-test"], "\(untyped.stdoutText)")
        }
    }

    /// A file from inside an image counts as `kind="image"` in the TFTP transfer and HTTP request duration
    /// histograms, beside a static file (`static`) and a script's own answer (`generated`), each fetched once by
    /// TFTP and once by HTTP.
    @Test func filesFromImagesCountAsImageInTheDurationHistograms() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let images = try TemporaryDirectory("interop-image-kind")
        defer { images.remove() }
        let image = images.file("root.img")
        try await tree.squashfs("gzip", at: image)
        let adminPort = freeLoopbackPort(udp: false)
        let routes = Self.config(["root": image]) + "[admin]\nlisten = [\"127.0.0.1:\(adminPort)\"]\n"
        try await HTTPServeHarness.with(
            routes: routes, files: Self.script, populate: { try $0.write("static.txt", "static\n") }
        ) { server in
            for path in ["images/root/etc/fragment", "static.txt", "menu"] {
                let tftp = try await runTool(
                    try thinbootExecutable(),
                    ["tftp", "get", "--port", "\(server.tftpPort)", "-o", "/dev/null", "127.0.0.1", path],
                    timeout: .seconds(30))
                #expect(tftp.status == 0, "\(path): \(tftp.stderr)")
                #expect(try await server.status(["\(server.base)/\(path)"]) == "200", "\(path)")
            }
            // Each transfer is counted when the server has its last ACK, a moment after the client: wait for it.
            let expected = [
                #"thinboot_tftp_transfer_duration_seconds_count{kind="image"} 1"#,
                #"thinboot_tftp_transfer_duration_seconds_count{kind="static"} 1"#,
                #"thinboot_tftp_transfer_duration_seconds_count{kind="generated"} 1"#,
                #"thinboot_http_request_duration_seconds_count{kind="image"} 1"#,
                #"thinboot_http_request_duration_seconds_count{kind="generated"} 1"#,
            ]
            var metrics = ""
            for _ in 0..<50 {
                metrics = try await server.curl(["http://127.0.0.1:\(adminPort)/metrics"]).stdoutText
                if expected.allSatisfy(metrics.contains) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            for line in expected { #expect(metrics.contains(line), "\(line) in \(metrics)") }
        }
    }
}

/// The server's stderr, handed over once it stopped.
private final class CapturedText: @unchecked Sendable {
    var text = ""
}
