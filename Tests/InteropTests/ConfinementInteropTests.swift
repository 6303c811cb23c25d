import Foundation
import TestSupport
import Testing

/// Every confinement case of ``ConfinementFixture`` as busybox (which prints the error code), atftp (the message)
/// and curl (the exit status) report it: what stays inside the root is served, nothing else is.
@Suite("TFTP confinement, real clients", .serialized)
struct ConfinementInteropTests {
    private func busybox(_ server: TFTPTestServer, _ remote: String, to local: String) async throws -> ToolResult {
        try await runTool(
            "busybox", ["tftp", "-b", "1468", "-g", "-r", remote, "-l", local, server.host, "\(server.port)"])
    }

    @Test(arguments: ConfinementFixture.servedNames)
    func busyboxGetsNamesThatStayInside(name: String) async throws {
        try await TFTPTestServer.with(populate: ConfinementFixture.populate) { server in
            let out = try TemporaryDirectory("confined-out")
            defer { out.remove() }
            let result = try await busybox(server, name, to: out.file("got"))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await sha256(file: out.file("got")) == sha256(file: server.root.file("served.bin")))
        }
    }

    /// BusyBox prints `server error: (CODE) message`; atftp `error received from server <message>`.
    @Test(arguments: ConfinementFixture.refusals)
    func busyboxAndAtftpReportTheRefusal(_ refusal: ConfinementFixture.Refusal) async throws {
        try await TFTPTestServer.with(populate: ConfinementFixture.populate) { server in
            let out = try TemporaryDirectory("confined-out")
            defer { out.remove() }
            let busybox = try await busybox(server, refusal.name, to: out.file("b"))
            #expect(busybox.status != 0)
            #expect(busybox.stderr.contains("server error: (\(refusal.code)) "), "\(busybox.stderr)")
            #expect(busybox.stderr.contains(refusal.message), "\(busybox.stderr)")
            let atftp = try await runTool(
                "atftp", ["-g", "-r", refusal.name, "-l", out.file("a"), server.host, "\(server.port)"])
            #expect(atftp.status != 0)
            #expect(atftp.stderr.contains("error received from server <"), "\(atftp.stderr)")
            #expect(atftp.stderr.contains(refusal.message), "\(atftp.stderr)")
        }
    }

    /// curl decodes `%2F` and `%5C` before sending, so a URL can carry a leading `/`, `..` and backslashes; its exit
    /// status names the TFTP error (68: not found, 69: access violation).
    @Test(arguments: [
        ("%2Fserved.bin", Int32(0)),
        ("inlink", 0),
        ("missing.bin", 68),
        ("%2E%2E/served.bin", 69),
        ("sub%5C..%5C..%5Cserved.bin", 69),
        ("outlink", 69),
        ("sub/uplink", 69),
        ("fifo", 69),
    ])
    func curlAnswersWithTheRightStatus(path: String, exitStatus: Int32) async throws {
        try await TFTPTestServer.with(populate: ConfinementFixture.populate) { server in
            let out = try TemporaryDirectory("confined-out")
            defer { out.remove() }
            let result = try await runTool(
                "curl",
                [
                    "-sS", "--tftp-blksize", "1468", "-o", out.file("got"),
                    "tftp://\(server.host):\(server.port)/\(path)",
                ])
            #expect(result.status == exitStatus, "\(result.stderr)")
            if exitStatus == 0 {
                #expect(try await sha256(file: out.file("got")) == sha256(file: server.root.file("served.bin")))
            }
        }
    }
}
