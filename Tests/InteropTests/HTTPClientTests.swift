import Foundation
import TestSupport
import Testing

/// `thinboot serve` over HTTP against real clients: curl, wget and Python's http.client.
@Suite("HTTP boot, real clients", .serialized)
struct HTTPClientTests {
    static let efi = patternBytes(count: 3_000_000, seed: 5)

    private static func populate(_ root: TemporaryDirectory) throws {
        try root.write("boot/bootx64.efi", efi)
    }

    @Test func curlGetAndHeadMatchTheFile() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("http-out")
            defer { out.remove() }
            let get = try await server.curl(["-o", out.file("got"), "\(server.base)/boot/bootx64.efi"])
            #expect(get.status == 0, "\(get.stderr)")
            #expect(try await sha256(file: out.file("got")) == sha256(file: server.folder.file("boot/bootx64.efi")))
            let head = try await server.curl(["-I", "\(server.base)/boot/bootx64.efi"]).stdoutText.lowercased()
            #expect(head.contains("content-length: 3000000"), "\(head)")
            #expect(head.contains("content-type: application/efi"), "\(head)")
            // `//` and `/./` are served as they are, never redirected.
            let doubled = try await server.curl(
                ["--path-as-is", "-o", out.file("doubled"), "-w", "%{http_code}", "\(server.base)//boot/./bootx64.efi"])
            #expect(doubled.stdoutText == "200")
            #expect(try await sha256(file: out.file("doubled")) == sha256(file: out.file("got")))
        }
    }

    @Test func curlRangesAtTheStartInTheMiddleAndPastTheEnd() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let url = "\(server.base)/boot/bootx64.efi"
            let first = try await server.curl(["-r", "0-0", url])
            #expect(first.stdout == Data([Self.efi[0]]))
            let middle = try await server.curl(["-r", "1000000-1999999", url])
            #expect(try await sha256(middle.stdout) == sha256(Data(Self.efi[1_000_000..<2_000_000])))
            let headers = try await server.curl(["-r", "2999990-", "-D", "-", "-o", "/dev/null", url]).stdoutText
            #expect(headers.contains("206"), "\(headers)")
            #expect(headers.lowercased().contains("content-range: bytes 2999990-2999999/3000000"), "\(headers)")
            #expect(try await server.status(["-r", "3000000-", url]) == "416")
        }
    }

    @Test func curlHeadThenGetReuseOneConnection() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("http-out")
            defer { out.remove() }
            let url = "\(server.base)/boot/bootx64.efi"
            let result = try await server.curl([
                "-I", "-o", "/dev/null", "-w", "%{http_code} %{num_connects} ", url, "--next", "-sS", "-o",
                out.file("got"), "-w", "%{http_code} %{num_connects}", url,
            ])
            // The GET opened no new connection: it reused the HEAD's.
            #expect(result.stdoutText == "200 1 200 0", "\(result.stderr)")
            #expect(try await sha256(file: out.file("got")) == sha256(file: server.folder.file("boot/bootx64.efi")))
        }
    }

    @Test func curlConditionalGetsGet304() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let url = "\(server.base)/boot/bootx64.efi"
            let head = try await server.curl(["-I", url]).stdoutText
            let lines = head.components(separatedBy: "\r\n")
            let tag = try #require(lines.first { $0.lowercased().hasPrefix("etag:") }).dropFirst(5)
                .trimmingCharacters(in: .whitespaces)
            let modified = try #require(lines.first { $0.lowercased().hasPrefix("last-modified:") }).dropFirst(14)
                .trimmingCharacters(in: .whitespaces)
            #expect(try await server.status(["-H", "If-None-Match: \(tag)", url]) == "304")
            #expect(try await server.status(["-z", modified, url]) == "304")
            #expect(try await server.status(["-H", "If-None-Match: \"other\"", url]) == "200")
        }
    }

    @Test func curlSees405And414And431() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let url = "\(server.base)/boot/bootx64.efi"
            let post = try await server.curl(["-X", "POST", "-D", "-", "-o", "/dev/null", url]).stdoutText
            #expect(post.hasPrefix("HTTP/1.1 405"), "\(post)")
            #expect(post.contains("Allow: GET, HEAD"), "\(post)")
            #expect(try await server.status(["\(server.base)/\(String(repeating: "a", count: 9000))"]) == "414")
            #expect(try await server.status(["-H", "X-Big: \(String(repeating: "b", count: 17000))", url]) == "431")
            #expect(try await server.status(["\(server.base)/missing.efi"]) == "404")
        }
    }

    @Test func wgetGetsTheFile() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("http-out")
            defer { out.remove() }
            let result = try await runTool("wget", ["-q", "-O", out.file("got"), "\(server.base)/boot/bootx64.efi"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await sha256(file: out.file("got")) == sha256(file: server.folder.file("boot/bootx64.efi")))
            let missing = try await runTool("wget", ["-q", "-O", out.file("missing"), "\(server.base)/nothing"])
            #expect(missing.status == 8)  // wget: the server issued an error response
        }
    }

    /// Python's http.client on one connection: HEAD (a Content-Length, no body), GET, a range, all without
    /// reconnecting; then HTTP/1.0 without keep-alive is closed after its answer.
    @Test func pythonHTTPClientByteLevel() async throws {
        try await HTTPServeHarness.with(populate: Self.populate) { server in
            let script = """
                import http.client, hashlib, socket, sys
                c = http.client.HTTPConnection("127.0.0.1", \(server.httpPort), timeout=10)
                c.request("HEAD", "/boot/bootx64.efi")
                r = c.getresponse()
                assert r.status == 200 and r.getheader("Content-Length") == "3000000" and r.read() == b"", r.status
                sock = c.sock
                c.request("GET", "/boot/bootx64.efi")
                r = c.getresponse()
                body = r.read()
                assert c.sock is sock, "reconnected"
                c.request("GET", "/boot/bootx64.efi", headers={"Range": "bytes=10-19"})
                r = c.getresponse()
                part = r.read()
                assert r.status == 206 and part == body[10:20] and c.sock is sock, (r.status, part)
                s = socket.create_connection(("127.0.0.1", \(server.httpPort)), timeout=10)
                s.sendall(b"GET /ready.txt HTTP/1.0\\r\\n\\r\\n")
                raw = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk: break
                    raw += chunk
                assert raw.startswith(b"HTTP/1.0 200") and raw.endswith(b"\\r\\n\\r\\nready\\n"), raw
                print(hashlib.sha256(body).hexdigest())
                """
            let result = try await runTool("python3", ["-c", script])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                    == (try await sha256(file: server.folder.file("boot/bootx64.efi"))))
        }
    }
}
