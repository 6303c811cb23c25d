import Foundation
import TestSupport
import Testing

/// tftp-hpa's `tftp` (RFC 1350 only: no options, 512-byte lockstep) against Thinboot's server.
@Suite("tftp-hpa client", .serialized)
struct HPAClientTests {
    static let sizes = [0, 1, 511, 512, 513, 70_000]
    /// Over 65535 blocks of 512 bytes: block numbers roll over to 0 and go on.
    static let rolloverSize = 512 * 65_600 + 77

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
                let result = try await hpaGet(server, "file-\(size).bin", to: local)
                #expect(result.status == 0 && result.stdoutText.isEmpty, "\(result.stdoutText) \(result.stderr)")
                #expect(
                    try await sha256(file: local) == sha256(file: server.root.file("file-\(size).bin")), "size \(size)")
            }
        }
    }

    @Test func fetchesAFileOver65535BlocksAcrossTheRollover() async throws {
        try await TFTPTestServer.with { root in
            try root.write("big.img", patternBytes(count: Self.rolloverSize, seed: 9))
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            let result = try await hpaGet(server, "big.img", to: out.file("big.img"), timeout: .seconds(240))
            #expect(result.status == 0 && !result.timedOut, "\(result.stdoutText) \(result.stderr)")
            #expect(try await sha256(file: out.file("big.img")) == sha256(file: server.root.file("big.img")))
        }
    }

    @Test func fetchesOverIPv6() async throws {
        try await TFTPTestServer.with(host: "::1") { root in
            try root.write("v6.bin", patternBytes(count: 3000, seed: 6))
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            let result = try await runTool(
                "tftp", ["-6", "-m", "binary", "::1", "\(server.port)", "-c", "get", "v6.bin", out.file("v6.bin")])
            #expect(result.status == 0 && result.stdoutText.isEmpty, "\(result.stdoutText) \(result.stderr)")
            #expect(try await sha256(file: out.file("v6.bin")) == sha256(file: server.root.file("v6.bin")))
        }
    }

    @Test func netasciiRoundTripsLineEnds() async throws {
        let text = "DEFAULT linux\nLABEL linux\r\n  KERNEL vmlinuz\rAPPEND quiet\n"
        try await TFTPTestServer.with { root in
            try root.write("pxelinux.cfg/default", text)
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            let result = try await runTool(
                "tftp",
                ["-m", "netascii", server.host, "\(server.port)", "-c", "get", "pxelinux.cfg/default", out.file("d")])
            #expect(result.status == 0, "\(result.stdoutText) \(result.stderr)")
            #expect(try String(contentsOfFile: out.file("d"), encoding: .utf8) == text)
        }
    }

    /// Each refusal as tftp-hpa reports it: `Error code N: message`.
    @Test(arguments: [
        ("missing.bin", "Error code 1: File not found"),
        ("../outside.bin", "Error code 2: Access violation"),
        ("..\\outside.bin", "Error code 2: Access violation"),
        ("sub/../../outside.bin", "Error code 2: Access violation"),
        ("escape", "Error code 2: Access violation: symlink leads outside the root"),
        ("climb", "Error code 2: Access violation: path leaves the root"),
        ("sub", "Error code 2: Access violation: is a directory"),
        ("/sub/", "Error code 2: Access violation: is a directory"),
    ])
    func refusals(_ path: String, _ expected: String) async throws {
        let outside = try TemporaryDirectory("outside")
        defer { outside.remove() }
        try outside.write("outside.bin", "secret")
        try await TFTPTestServer.with { root in
            try root.write("sub/inside.bin", "inside")
            try FileManager.default.createSymbolicLink(
                atPath: root.file("escape"), withDestinationPath: outside.file("outside.bin"))
            try FileManager.default.createSymbolicLink(atPath: root.file("climb"), withDestinationPath: "sub/../../x")
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            let result = try await hpaGet(server, path, to: out.file("x"))
            #expect((result.stdoutText + result.stderr).contains(expected), "\(result.stdoutText) \(result.stderr)")
        }
    }

    @Test func symlinkInsideTheRootIsFollowed() async throws {
        try await TFTPTestServer.with { root in
            try root.write("boot/pxelinux.0", patternBytes(count: 4000, seed: 4))
            try FileManager.default.createSymbolicLink(
                atPath: root.file("pxelinux.0"), withDestinationPath: "boot/./pxelinux.0")
        } _: { server in
            let out = try TemporaryDirectory("hpa-out")
            defer { out.remove() }
            let result = try await hpaGet(server, "/pxelinux.0", to: out.file("p"))
            #expect(result.status == 0 && result.stdoutText.isEmpty, "\(result.stdoutText) \(result.stderr)")
            #expect(try await sha256(file: out.file("p")) == sha256(file: server.root.file("boot/pxelinux.0")))
        }
    }

    @Test func writeRequestIsRefusedWithAccessViolation() async throws {
        try await TFTPTestServer.with { _ in
        } _: { server in
            let local = try TemporaryDirectory("hpa-put")
            defer { local.remove() }
            try local.write("upload.bin", "data")
            let result = try await runTool(
                "tftp", ["-m", "binary", server.host, "\(server.port)", "-c", "put", "upload.bin", "upload.bin"],
                currentDirectory: local.path)
            #expect((result.stdoutText + result.stderr).contains("Error code 2: Access violation"))
            #expect(!FileManager.default.fileExists(atPath: server.root.file("upload.bin")))
        }
    }

    private func hpaGet(_ server: TFTPTestServer, _ path: String, to local: String, timeout: Duration = .seconds(60))
        async throws -> ToolResult
    {
        try await runTool(
            "tftp", ["-m", "binary", server.host, "\(server.port)", "-c", "get", path, local], timeout: timeout)
    }
}
