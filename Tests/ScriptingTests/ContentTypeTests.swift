import Foundation
import Scripting
import TestSupport
import Testing

/// A route function's second return value, `{ content_type = "…" }`: read beside a string or file answer, checked
/// as an HTTP header value (1-255 bytes of 0x20-0x7E, no leading space), refused like a bad return otherwise.
@Suite struct ContentTypeTests {
    static let accepted: [(body: String, output: ScriptOutput, contentType: String?)] = [
        ("return 'x', { content_type = 'application/json' }", .bytes(Array("x".utf8)), "application/json"),
        (
            "return 'x', { content_type = 'text/html; charset=utf-8', other = 1, [1] = 2 }", .bytes(Array("x".utf8)),
            "text/html; charset=utf-8"
        ),
        ("return 'x'", .bytes(Array("x".utf8)), nil),
        ("return 'x', {}", .bytes(Array("x".utf8)), nil),
        // A count beside a string (`return s:gsub(...)`) is no options table: ignored, as before.
        ("return ('x'):gsub('y', 'z')", .bytes(Array("x".utf8)), nil),
        ("return 'x', 'text/html'", .bytes(Array("x".utf8)), nil),
        (
            "return thinboot.file('a.efi'), { content_type = 'application/octet-stream' }", .file("a.efi"),
            "application/octet-stream"
        ),
        ("return 'x', { content_type = ('t'):rep(255) }", .bytes(Array("x".utf8)), String(repeating: "t", count: 255)),
        ("return 'x', { content_type = '~ !' }", .bytes(Array("x".utf8)), "~ !"),
        // nil falls to the static root: the type is not used, so not checked.
        ("return nil, { content_type = 'a\\r\\nb' }", .nothing, nil),
    ]

    static let refused: [String] = [
        "return 'x', { content_type = 'text/plain\\r\\nX-Injected: 1' }",
        "return 'x', { content_type = 'a\\nb' }",
        "return 'x', { content_type = 'a\\0b' }",
        "return 'x', { content_type = 'a\\tb' }",
        "return 'x', { content_type = 'a\\127' }",
        "return 'x', { content_type = 'caf\\195\\169' }",
        "return 'x', { content_type = '' }",
        "return 'x', { content_type = ' text/plain' }",
        "return 'x', { content_type = ('t'):rep(256) }",
        "return 'x', { content_type = 42 }",
        "return 'x', { content_type = true }",
        "return thinboot.file('a.efi'), { content_type = 'a\\rb' }",
    ]

    func pool(_ directory: TemporaryDirectory) -> ScriptPool {
        ScriptPool(host: TestHost(root: directory.path), limits: FailureTests.small, workers: 1)
    }

    @Test(arguments: accepted)
    func acceptedTypes(case: (body: String, output: ScriptOutput, contentType: String?)) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a.efi", "efi")
        let script = try directory.write("route.lua", "return function(req)\n  \(`case`.body)\nend\n")
        let answer = try await pool(directory).answer(script: script, argument: .record([:]))
        // The host hands a file back by its full path.
        let expected: ScriptOutput
        if case .file(let path) = `case`.output {
            expected = .file(directory.file(path))
        } else {
            expected = `case`.output
        }
        #expect(answer.output == expected, "\(`case`.body): \(answer)")
        #expect(answer.contentType == `case`.contentType, "\(`case`.body)")
    }

    @Test(arguments: refused)
    func refusedTypesFailTheCall(body: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a.efi", "efi")
        let script = try directory.write("route.lua", "return function(req)\n  \(body)\nend\n")
        let error = await #expect(throws: ScriptError.self, "\(body)") {
            try await pool(directory).answer(script: script, argument: .record([:]))
        }
        #expect(error?.kind == .badReturn, "\(body)")
        #expect(error?.reason.contains("content_type must be 1-255 printable ASCII characters") == true, "\(body)")
    }

    /// DHCP boot scripts return a table of fields; a second value there is not read.
    @Test func fieldCallsIgnoreASecondValue() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write(
            "boot.lua", "return function(req) return { file = 'ipxe.efi' }, { content_type = '\\r\\n' } end\n")
        let answer = try await pool(directory).answer(
            script: script, argument: .record([:]), info: ScriptCallInfo(script: script, acceptsFields: true))
        #expect(answer.output == .fields(["file": Array("ipxe.efi".utf8)]))
        #expect(answer.contentType == nil)
    }

    @Test func theRuleItself() {
        #expect(ScriptAnswer.isValidContentType(Array("application/json".utf8)))
        #expect(!ScriptAnswer.isValidContentType([UInt8]()))
        #expect(!ScriptAnswer.isValidContentType(Array(" a".utf8)))
        #expect(!ScriptAnswer.isValidContentType([0x61, 0x0D, 0x0A, 0x62]))
        #expect(!ScriptAnswer.isValidContentType([0x61, 0x80]))
        #expect(ScriptAnswer.isValidContentType([UInt8](repeating: 0x61, count: 255)))
        #expect(!ScriptAnswer.isValidContentType([UInt8](repeating: 0x61, count: 256)))
    }
}
