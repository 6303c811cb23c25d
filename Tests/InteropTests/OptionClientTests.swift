import Foundation
import TestSupport
import Testing

/// Clients that negotiate options: atftp (blksize, windowsize), curl (`--tftp-blksize`, tsize), busybox (`-b`).
@Suite("TFTP clients with options", .serialized)
struct OptionClientTests {
    static let sizes = [0, 1, 511, 512, 513, 70_000]

    private static func populate(_ root: TemporaryDirectory) throws {
        for size in sizes { try root.write("f\(size)", patternBytes(count: size, seed: UInt64(size + 11))) }
    }

    @Test(arguments: [["blksize 512"], ["blksize 1468"], ["blksize 1024", "windowsize 8"], ["windowsize 16"]])
    func atftp(_ options: [String]) async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("atftp-out")
            defer { out.remove() }
            for size in Self.sizes {
                let result = try await runTool(
                    "atftp",
                    options.flatMap { ["--option", $0] }
                        + ["-g", "-r", "f\(size)", "-l", out.file("f\(size)"), server.host, "\(server.port)"])
                #expect(result.status == 0, "\(options) size \(size): \(result.stderr)")
                #expect(try await sha256(file: out.file("f\(size)")) == sha256(file: server.root.file("f\(size)")))
            }
        }
    }

    @Test(arguments: [512, 1024, 1468, 8192])
    func curl(blockSize: Int) async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("curl-out")
            defer { out.remove() }
            for size in Self.sizes {
                let result = try await runTool(
                    "curl",
                    [
                        "-sS", "--tftp-blksize", "\(blockSize)", "-o", out.file("f\(size)"),
                        "tftp://\(server.host):\(server.port)/f\(size)",
                    ])
                #expect(result.status == 0, "blksize \(blockSize) size \(size): \(result.stderr)")
                #expect(try await sha256(file: out.file("f\(size)")) == sha256(file: server.root.file("f\(size)")))
            }
        }
    }

    @Test(arguments: [512, 1428, 4096])
    func busybox(blockSize: Int) async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            let out = try TemporaryDirectory("busybox-out")
            defer { out.remove() }
            for size in Self.sizes {
                let result = try await runTool(
                    "busybox",
                    [
                        "tftp", "-b", "\(blockSize)", "-g", "-r", "f\(size)", "-l", out.file("f\(size)"), server.host,
                        "\(server.port)",
                    ])
                #expect(result.status == 0, "blksize \(blockSize) size \(size): \(result.stderr)")
                #expect(try await sha256(file: out.file("f\(size)")) == sha256(file: server.root.file("f\(size)")))
            }
        }
    }

    /// curl names the TFTP error class in its exit status: 68 not found, 69 access violation.
    @Test(arguments: [("missing", Int32(68)), ("../etc/passwd", Int32(69)), ("dir", Int32(69))])
    func curlReportsRefusals(_ path: String, _ status: Int32) async throws {
        try await TFTPTestServer.with { root in
            try root.write("dir/x", "x")
        } _: { server in
            let out = try TemporaryDirectory("curl-out")
            defer { out.remove() }
            let result = try await runTool(
                "curl", ["-sS", "--path-as-is", "-o", out.file("x"), "tftp://\(server.host):\(server.port)/\(path)"])
            #expect(result.status == status, "\(result.stderr)")
        }
    }

    @Test func atftpAndBusyboxReportTheServersMessage() async throws {
        try await TFTPTestServer.with { _ in
        } _: { server in
            let out = try TemporaryDirectory("err-out")
            defer { out.remove() }
            let atftp = try await runTool(
                "atftp", ["-g", "-r", "../x", "-l", out.file("a"), server.host, "\(server.port)"])
            #expect(atftp.status != 0)
            #expect(atftp.stderr.contains("Access violation"), "\(atftp.stderr)")
            let busybox = try await runTool(
                "busybox", ["tftp", "-g", "-r", "nothing", "-l", out.file("b"), server.host, "\(server.port)"])
            #expect(busybox.status != 0)
            #expect(busybox.stderr.contains("(1) File not found"), "\(busybox.stderr)")
        }
    }
}
