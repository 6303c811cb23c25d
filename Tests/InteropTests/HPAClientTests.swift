import Foundation
import TestSupport
import Testing

@Suite("tftp-hpa client", .serialized)
struct HPAClientTests {
    static let sizes = [0, 1, 511, 512, 513, 70_000]

    @Test func fetchesEverySizeByteForByte() async throws {
        try await TFTPTestServer.with { root in
            for size in Self.sizes {
                try root.write("file-\(size).bin", patternBytes(count: size, seed: UInt64(size + 1)))
            }
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            for size in Self.sizes {
                let local = out.file("file-\(size).bin")
                let result = try await runTool(
                    "tftp", ["-m", "binary", server.host, "\(server.port)", "-c", "get", "file-\(size).bin", local])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(
                    try await sha256(file: local) == sha256(file: server.root.file("file-\(size).bin")), "size \(size)")
            }
        }
    }
}
