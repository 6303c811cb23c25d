import NIOHTTP1
import Testing

@testable import HTTP

/// The sans-IO rules: targets, ranges, types, conditional requests.
@Suite struct RequestRulesTests {
    @Test(arguments: [
        ("/boot/bootx64.efi", "boot/bootx64.efi"), ("//boot//bootx64.efi", "boot/bootx64.efi"),
        ("/boot/./bootx64.efi", "boot/bootx64.efi"), ("/boot\\bootx64.efi", "boot/bootx64.efi"),
        ("/boot%2Fbootx64.efi", "boot/bootx64.efi"), ("/a%20b", "a b"), ("/x?mac=1", "x"), ("/x#frag", "x"),
        ("http://host:8080/boot.ipxe?x", "boot.ipxe"),
    ])
    func normalisedWithoutRedirect(uri: String, path: String) throws {
        #expect(try HTTPRequestTarget(parsing: uri).path == path)
    }

    @Test(arguments: [
        "/../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd", "/a/%2e%2e/%2e%2e/b", "/a%2f..%2f..%2fb",
        "/a\\..\\..\\b", "/a%5c..%5cb", "/x%00.efi", "/x%0a", "/x%7f", "/%c0%ae%c0%ae/etc", "/%e0%80%ae%e0%80%ae/x",
        "/%ff%fe", "/..", "/a/..",
    ])
    func escapesAreForbidden(uri: String) {
        do {
            let target = try HTTPRequestTarget(parsing: uri)
            Issue.record("\(uri) was accepted as \(target.path)")
        } catch {
            #expect(error.status == 403, "\(uri): \(error)")
        }
    }

    @Test func badPercentEncodingIsABadRequest() {
        #expect(throws: HTTPRefusal(status: 400, message: "Bad percent-encoding in the path", outcome: "refused")) {
            try HTTPRequestTarget(parsing: "/a%zz")
        }
    }

    @Test func nothingLeftIsNotFound() {
        #expect(throws: HTTPRefusal.notFound) { try HTTPRequestTarget(parsing: "/") }
        #expect(throws: HTTPRefusal.notFound) { try HTTPRequestTarget(parsing: "//./") }
    }

    @Test func queryIsDecoded() throws {
        let target = try HTTPRequestTarget(parsing: "/boot.ipxe?mac=52%3a54%3A00%3a00%3a00%3a01&arch=x86+64&mac=2&e")
        #expect(target.query == ["mac": "52:54:00:00:00:01", "arch": "x86 64", "e": ""])
    }

    @Test(arguments: [
        (nil, 100, HTTPByteRange.whole), ("bytes=0-0", 100, .partial(0..<1)), ("bytes=10-19", 100, .partial(10..<20)),
        ("bytes=90-", 100, .partial(90..<100)), ("bytes=90-500", 100, .partial(90..<100)),
        ("bytes=-10", 100, .partial(90..<100)), ("bytes=-500", 100, .partial(0..<100)),
        ("bytes=100-", 100, .unsatisfiable), ("bytes=200-300", 100, .unsatisfiable), ("bytes=-0", 100, .unsatisfiable),
        ("bytes=0-1,5-6", 100, .whole), ("items=0-1", 100, .whole), ("bytes=5-1", 100, .whole),
        ("bytes=x-", 100, .whole),
        ("bytes=0-", 0, .unsatisfiable),
    ])
    func ranges(header: String?, length: Int, expected: HTTPByteRange) {
        #expect(HTTPByteRange(header: header, length: length) == expected)
    }

    @Test(arguments: [
        ("boot/bootx64.efi", "application/efi"), ("boot.ipxe", "text/plain; charset=utf-8"),
        ("pxelinux.cfg/default", "text/plain; charset=utf-8"),
        ("pxelinux.cfg/01-52-54-00-00-00-01", "text/plain; charset=utf-8"),
        ("ltsp/amd64/lts.conf", "text/plain; charset=utf-8"), ("grub/grub.cfg", "text/plain; charset=utf-8"),
        ("vmlinuz", "application/octet-stream"), ("initrd.img", "application/octet-stream"),
        ("images/live.iso", "application/x-iso9660-image"), ("BOOTX64.EFI", "application/efi"),
        ("menus/menü.cfg", "text/plain; charset=utf-8"), ("früh/vmlinuz", "application/octet-stream"),
        ("pxelinux.cfg/.hidden", "text/plain; charset=utf-8"), (".efi", "application/octet-stream"),
        ("ipxe/", "application/octet-stream"), ("default", "text/plain; charset=utf-8"),
    ])
    func contentTypes(path: String, type: String) {
        #expect(HTTPContentType.of(path: path) == type)
    }

    @Test func datesRoundTrip() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
    }

    @Test func conditionalRequestsOnStaticFiles() {
        let validators = (entityTag: "\"1-2-3-4\"", modifiedSeconds: 784_111_777)
        func plan(_ headers: [(String, String)]) -> HTTPResponsePlan {
            HTTPResponsePlan(
                method: .GET, requestHeaders: HTTPHeaders(headers), path: "vmlinuz", length: 10, contentType: nil,
                validators: validators, isFile: true)
        }
        #expect(plan([("If-None-Match", "\"1-2-3-4\"")]).status == .notModified)
        #expect(plan([("If-None-Match", "\"other\", \"1-2-3-4\"")]).status == .notModified)
        #expect(plan([("If-None-Match", "\"other\"")]).status == .ok)
        // If-None-Match wins over If-Modified-Since.
        #expect(
            plan([("If-None-Match", "\"other\""), ("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]).status == .ok
        )
        #expect(plan([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]).status == .notModified)
        #expect(plan([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")]).status == .ok)
        #expect(plan([("If-Modified-Since", "garbage")]).status == .ok)
        let notModified = plan([("If-None-Match", "\"1-2-3-4\"")])
        #expect(notModified.body == .none)
        #expect(notModified.headers.first(name: "etag") == "\"1-2-3-4\"")
    }

    @Test func headPlansTheHeadersOfAGet() {
        let get = HTTPResponsePlan(
            method: .GET, requestHeaders: [:], path: "x.cfg", length: 42, contentType: nil, validators: nil,
            isFile: false)
        let head = HTTPResponsePlan(
            method: .HEAD, requestHeaders: [:], path: "x.cfg", length: 42, contentType: nil, validators: nil,
            isFile: false)
        #expect(get.headers == head.headers)
        #expect(head.headers.first(name: "content-length") == "42")
        #expect(head.body == .none)
        #expect(get.body == .bytes(0..<42))
    }
}
