import Foundation
import TestSupport
import Testing

/// `thinboot tftp get` against tftp-hpa's server: the bundled client must fetch what a reference server serves.
@Suite(.serialized) struct ClientAgainstTFTPHPATests {
    /// Runs in.tftpd on a loopback port with `files` in its root, then `body` with the port.
    private func withTFTPHPA(
        _ files: [String: [UInt8]], _ body: (TemporaryDirectory, Int) async throws -> Void
    ) async throws {
        let root = try TemporaryDirectory("tftphpa-root")
        defer { root.remove() }
        for (name, bytes) in files { try root.write(name, bytes) }
        let port = freeLoopbackPort()
        let server = try BackgroundProcess("in.tftpd", ["-L", "-s", "-a", "127.0.0.1:\(port)", root.path])
        defer { server.stop() }
        // in.tftpd binds before it serves; the client's own retries cover the short start-up.
        try await body(root, port)
    }

    private func get(_ port: Int, _ remote: String, _ extra: [String], to output: String) async throws -> ToolResult {
        try await runTool(
            try thinbootExecutable(),
            ["tftp", "get", "--port", "\(port)", "--retries", "5", "-o", output] + extra + ["127.0.0.1", remote],
            timeout: .seconds(60))
    }

    @Test(arguments: [[], ["--blksize", "1468", "--tsize"], ["--blksize", "8"], ["--blksize", "65464", "--tsize"]])
    func fetchesByteExactFiles(options: [String]) async throws {
        let sizes = [0, 1, 511, 512, 513, 300_000]
        var files: [String: [UInt8]] = [:]
        for size in sizes { files["f\(size).bin"] = patternBytes(count: size, seed: UInt64(size) + 7) }
        try await withTFTPHPA(files) { root, port in
            let out = try TemporaryDirectory("client-out")
            defer { out.remove() }
            for size in sizes {
                let result = try await get(port, "f\(size).bin", options, to: out.file("f\(size).bin"))
                #expect(result.status == 0, "\(result.stderr)")
                #expect(try await sha256(file: out.file("f\(size).bin")) == sha256(file: root.file("f\(size).bin")))
            }
        }
    }

    @Test func decodesNetasciiToLocalLineEnds() async throws {
        try await withTFTPHPA(["text.txt": Array("one\ntwo\n".utf8)]) { _, port in
            let result = try await get(port, "text.txt", ["--mode", "netascii"], to: "-")
            #expect(result.status == 0)
            #expect(result.stdoutText == "one\ntwo\n")
        }
    }

    @Test func reportsTheServersErrorAndLeavesNoFile() async throws {
        try await withTFTPHPA([:]) { _, port in
            let out = try TemporaryDirectory("client-out")
            defer { out.remove() }
            let result = try await get(port, "missing.bin", [], to: out.file("missing.bin"))
            #expect(result.status != 0)
            #expect(result.stderr.contains("server error 1: File not found"))
            #expect(!FileManager.default.fileExists(atPath: out.file("missing.bin")))
        }
    }
}
