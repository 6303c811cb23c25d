import Foundation
import TestSupport
import Testing

/// atftp's view of option negotiation: what its OACK trace shows, and RFC 7440's window of 1 (lockstep).
@Suite("atftp client", .serialized)
struct ATFTPClientTests {
    static let sizes = [0, 1, 511, 512, 513, 70_000]

    /// `atftp -g` with `--trace`, so the OACK it received is in its output.
    private func get(_ server: TFTPTestServer, _ remote: String, to local: String, options: [String])
        async throws -> ToolResult
    {
        try await runTool(
            "atftp",
            ["--trace"] + options.flatMap { ["--option", $0] }
                + ["-g", "-r", remote, "-l", local, server.host, "\(server.port)"],
            timeout: .seconds(120))
    }

    /// A window of 1 must behave exactly like RFC 1350: every size arrives whole.
    @Test func windowOfOneFetchesEverySize() async throws {
        try await TFTPTestServer.with { root in
            for size in Self.sizes {
                try root.write("file-\(size).bin", patternBytes(count: size, seed: UInt64(size + 31)))
            }
        } _: { server in
            let out = try TemporaryDirectory("atftp-out")
            defer { out.remove() }
            for size in Self.sizes {
                let local = out.file("file-\(size).bin")
                let result = try await get(
                    server, "file-\(size).bin", to: local, options: ["blksize 1468", "windowsize 1"])
                #expect(result.status == 0, "\(result.stderr)")
                #expect((result.stdoutText + result.stderr).contains("windowsize: 1,"), "\(result.stderr)")
                #expect(
                    try await sha256(file: local) == sha256(file: server.root.file("file-\(size).bin")), "size \(size)")
            }
        }
    }

    /// The OACK atftp received carries exactly the three options it asked for, with the values granted.
    @Test func optionAckHoldsWhatWasAskedWithTheGrantedValues() async throws {
        try await TFTPTestServer.with { root in
            try root.write("file.bin", patternBytes(count: 70_000, seed: 5))
        } _: { server in
            let out = try TemporaryDirectory("atftp-out")
            defer { out.remove() }
            let result = try await get(
                server, "file.bin", to: out.file("file.bin"), options: ["blksize 1468", "windowsize 8", "tsize 0"])
            let oack =
                (result.stdoutText + result.stderr).split(separator: "\n").first { $0.contains("received OACK") } ?? ""
            for granted in ["tsize: 70000,", "blksize: 1468,", "windowsize: 8,"] {
                #expect(oack.contains(granted), "\(oack)")
            }
            #expect(!oack.contains("timeout"), "\(oack)")
            #expect(try await sha256(file: out.file("file.bin")) == sha256(file: server.root.file("file.bin")))
        }
    }
}
