import Foundation
import HTTP
import NIOCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What boot firmware needs from the server, checked on the wire with exact bytes.
@Suite(.serialized) struct ServerBehaviourTests {
    let root: TemporaryDirectory
    let provider: TestProvider

    init() throws {
        root = try makeRoot()
        provider = TestProvider(root: root.path, generated: ["gen/menu.ipxe": Array("#!ipxe\nmenu\n".utf8)])
    }

    private var efi: [UInt8] { patternBytes(count: 300_000) }

    @Test func headThenGetOnOneConnection() async throws {
        let efi = efi
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("HEAD /boot/bootx64.efi HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try connection.response(bodyless: true)
            #expect(head.status == 200)
            #expect(head.header("content-length") == "300000")
            #expect(head.header("content-type") == "application/efi")
            try connection.send("GET /boot/bootx64.efi HTTP/1.1\r\nHost: x\r\n\r\n")
            let get = try connection.response()
            #expect(get.status == 200)
            #expect(get.body == efi)
            #expect(get.header("etag") == head.header("etag"))
            // Generated content: Content-Length on HEAD too, and the connection still serves.
            try connection.send("HEAD /gen/menu.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            let generatedHead = try connection.response(bodyless: true)
            #expect(generatedHead.header("content-length") == "12")
            #expect(generatedHead.header("content-type") == "text/plain; charset=utf-8")
            try connection.send("GET /gen/menu.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().body == Array("#!ipxe\nmenu\n".utf8))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            // The slow generated one first: its answer must still come first.
            try connection.send(
                "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "HEAD /a/b/file.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().body == Array("slow\n".utf8))
            #expect(try connection.response().body == Array("#!ipxe\nchain http://example/x\n".utf8))
            #expect(try connection.response(bodyless: true).header("content-length") == "1000")
            #expect(try connection.response().status == 404)
        }
    }

    @Test func rangesOnStaticAndGeneratedContent() async throws {
        let efi = efi
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            func get(_ path: String, _ range: String) throws -> RawHTTPConnection.Response {
                try connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\nRange: \(range)\r\n\r\n")
                return try connection.response()
            }
            let first = try get("/boot/bootx64.efi", "bytes=0-0")
            #expect(first.status == 206)
            #expect(first.header("content-range") == "bytes 0-0/300000")
            #expect(first.body == [efi[0]])
            let middle = try get("/boot/bootx64.efi", "bytes=100000-165535")
            #expect(middle.status == 206)
            #expect(middle.body == Array(efi[100_000...165_535]))
            let tail = try get("/boot/bootx64.efi", "bytes=-10")
            #expect(tail.body == Array(efi[299_990...]))
            let past = try get("/boot/bootx64.efi", "bytes=300000-")
            #expect(past.status == 416)
            #expect(past.header("content-range") == "bytes */300000")
            let generated = try get("/gen/menu.ipxe", "bytes=7-10")
            #expect(generated.status == 206)
            #expect(generated.body == Array("menu".utf8))
            #expect(generated.header("content-range") == "bytes 7-10/12")
            #expect(try get("/gen/menu.ipxe", "bytes=12-").status == 416)
        }
    }

    @Test func conditionalGetsOfStaticFiles() async throws {
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET /a/b/file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try connection.response()
            let tag = try #require(first.header("etag"))
            let modified = try #require(first.header("last-modified"))
            try connection.send("GET /a/b/file.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(tag)\r\n\r\n")
            let byTag = try connection.response()
            #expect(byTag.status == 304)
            #expect(byTag.body.isEmpty)
            try connection.send("GET /a/b/file.bin HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: \(modified)\r\n\r\n")
            #expect(try connection.response().status == 304)
            try connection.send("GET /a/b/file.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"stale\"\r\n\r\n")
            #expect(try connection.response().body.count == 1000)
        }
    }

    @Test func otherMethodsGet405WithAllowAndTheConnectionGoesOn() async throws {
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
                try connection.send("\(method) /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try connection.response()
                #expect(response.status == 405)
                #expect(response.header("allow") == "GET, HEAD")
            }
            try connection.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().status == 200)
        }
    }

    @Test func bodiesAreRefusedAndTheConnectionClosed() async throws {
        try await withHTTPServer(provider: provider) { port in
            let sized = try RawHTTPConnection(port: port)
            try sized.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            let tooLarge = try sized.response()
            #expect(tooLarge.status == 413)
            #expect(tooLarge.header("connection") == "close")
            #expect(sized.isClosedByServer())
            let chunked = try RawHTTPConnection(port: port)
            try chunked.send(
                "GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            #expect(try chunked.response().status == 400)
            #expect(chunked.isClosedByServer())
        }
    }

    @Test func longRequestLineGets414AndLargeHeadGets431() async throws {
        try await withHTTPServer(provider: provider) { port in
            let longLine = try RawHTTPConnection(port: port)
            try longLine.send("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try longLine.response().status == 414)
            #expect(longLine.isClosedByServer())
            let largeHead = try RawHTTPConnection(port: port)
            var head = "GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n"
            for index in 0..<20 { head += "X-Filler-\(index): \(String(repeating: "b", count: 1000))\r\n" }
            try largeHead.send(head + "\r\n")
            #expect(try largeHead.response().status == 431)
            // A line just under the limit is served (here: not found).
            let fits = try RawHTTPConnection(port: port)
            try fits.send("GET /\(String(repeating: "a", count: 8000)) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try fits.response().status == 404)
        }
    }

    @Test func brokenRequestGets400() async throws {
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("THIS IS NOT HTTP\r\n\r\n")
            #expect(try connection.response().status == 400)
        }
    }

    @Test func keepAliveRulesOfHTTP10And11() async throws {
        try await withHTTPServer(provider: provider) { port in
            let plain10 = try RawHTTPConnection(port: port)
            try plain10.send("GET /boot.ipxe HTTP/1.0\r\n\r\n")
            #expect(try plain10.response().status == 200)
            #expect(plain10.isClosedByServer())
            let kept10 = try RawHTTPConnection(port: port)
            try kept10.send("GET /boot.ipxe HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept10.response().header("connection") == "keep-alive")
            try kept10.send("GET /boot.ipxe HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept10.response().status == 200)
            let closing = try RawHTTPConnection(port: port)
            try closing.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try closing.response().header("connection") == "close")
            #expect(closing.isClosedByServer())
        }
    }

    @Test func refusalsAndScriptErrorsLeaveOthersServed() async throws {
        try await withHTTPServer(provider: provider) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET /script-error HTTP/1.1\r\nHost: x\r\n\r\n")
            let failed = try connection.response()
            #expect(failed.status == 500)
            #expect(failed.body == Array("Script error\n".utf8))
            try connection.send("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().status == 403)
            try connection.send("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().status == 404)
            try connection.send("GET /echo?mac=52%3A54%3A00%3A00%3A00%3A01&arch=x86_64 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(
                String(decoding: try connection.response().body, as: UTF8.self) == "arch=x86_64&mac=52:54:00:00:00:01")
        }
    }

    @Test func oneLogLinePerRequest() async throws {
        let logs = CapturedLogs()
        try await withHTTPServer(provider: provider, logs: logs) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send(
                "GET /boot/bootx64.efi HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\nUser-Agent: iPXE/1.21\r\n\r\n")
            _ = try connection.response()
        }
        let lines = logs.all.filter { $0["http.path"] != nil }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line["http.method"] == "GET")
        #expect(line["http.path"] == "/boot/bootx64.efi")
        #expect(line["http.status"] == "206")
        #expect(line["http.bytes"] == "100")
        #expect(line["http.range"] == "0-99")
        #expect(line["http.user_agent"] == "iPXE/1.21")
        #expect(line["http.outcome"] == "ok")
        #expect(line["http.local"] == "127.0.0.1")
        #expect(line["http.duration_ms"] != nil)
        #expect(line["http.peer"].map { "\($0)".hasPrefix("127.0.0.1:") } == true)
    }
}
