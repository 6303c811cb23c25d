import Foundation
import TestSupport
import Testing

/// `thinboot serve` with a `[tftp]` config, as an admin runs it: the built binary in a temporary folder.
@Suite("thinboot serve (TFTP)", .serialized)
struct TFTPServeCommandTests {
    /// A folder with `thinboot.toml` listening on `listen` and a `root` holding `ready.txt`.
    private func makeSetup(listen: String, extra: String = "") throws -> TemporaryDirectory {
        let folder = try TemporaryDirectory("serve-tftp")
        try folder.write("root/ready.txt", "ready\n")
        try folder.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["\(listen)"]
            root = "root"
            \(extra)
            """)
        return folder
    }

    /// A port another server holds: `serve` names the address and the reason, and exits non-zero at once.
    @Test func bindFailureNamesTheAddressAndExitsNonZero() async throws {
        try await TFTPTestServer.with { _ in
        } _: { occupant in
            let setup = try makeSetup(listen: "127.0.0.1:\(occupant.port)")
            defer { setup.remove() }
            let result = try await runTool(
                try thinbootExecutable(), ["serve", "--config", setup.file("thinboot.toml")], timeout: .seconds(30))
            #expect(!result.timedOut)
            #expect(result.status != 0)
            #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(occupant.port) for TFTP"), "\(result.stderr)")
            #expect(result.stderr.contains("Address already in use"), "\(result.stderr)")
        }
    }

    /// Port 69 without privileges: the error says what is needed.
    @Test func privilegedPortNamesWhatItNeeds() async throws {
        let firstUnprivileged = try String(
            contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8)
        try #require(Int(firstUnprivileged.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 69)
        let setup = try makeSetup(listen: "127.0.0.1:69")
        defer { setup.remove() }
        let result = try await runTool(
            "setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", try thinbootExecutable(), "serve", "--config",
                setup.file("thinboot.toml"),
            ], timeout: .seconds(30))
        #expect(result.status != 0 && !result.timedOut)
        #expect(
            result.stderr.contains(
                "cannot listen on 127.0.0.1:69 for TFTP: Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
            ), "\(result.stderr)")
    }

    /// SIGTERM ends `serve` with status 0.
    @Test func sigtermStopsWithStatusZero() async throws {
        let port = freeLoopbackPort()
        let setup = try makeSetup(listen: "127.0.0.1:\(port)")
        defer { setup.remove() }
        let server = try BackgroundProcess(
            try thinbootExecutable(), ["serve", "--config", setup.file("thinboot.toml")])
        try await waitUntilTFTPServes(port: port)
        let end = await server.terminate()
        #expect(end.exitStatus == 0, "\(end.stderr)")
        #expect(end.stderr.contains("tftp.outcome=ok"))
    }

    /// A client that vanished after negotiating `timeout 255` (allowed here by `max_timeout`) does not hold SIGTERM
    /// for minutes: after the grace period its transfer is cut (`server stopped`) and `serve` still exits 0.
    @Test func sigtermCutsAVanishedClientsTransferAfterTheGrace() async throws {
        let port = freeLoopbackPort()
        let setup = try makeSetup(listen: "127.0.0.1:\(port)", extra: "max_timeout = 255")
        defer { setup.remove() }
        let server = try BackgroundProcess(
            try thinbootExecutable(), ["serve", "--config", setup.file("thinboot.toml")])
        try await waitUntilTFTPServes(port: port)
        let answer = try await RawTFTPClient.send(
            RawTFTPClient.readRequest(Array("ready.txt".utf8), options: [("timeout", "255")]), host: "127.0.0.1",
            port: port)
        #expect(answer.op == "OACK")
        // The client is gone (its socket closed); the server would wait 255 s per resend.
        let end = await server.terminate(grace: .seconds(60))
        #expect(end.exitStatus == 0, "\(end.stderr)")
        #expect(end.stderr.contains("tftp.outcome=\"server stopped\""), "\(end.stderr)")
    }

    /// A file the server's user cannot read gets ERROR 2 and the server goes on. The tests run as root, which reads
    /// any file, so this server runs as `nobody`.
    @Test func unreadableFileIsAnAccessViolation() async throws {
        let port = freeLoopbackPort()
        let setup = try makeSetup(listen: "127.0.0.1:\(port)")
        defer { setup.remove() }
        let secret = try setup.write("root/secret.bin", patternBytes(count: 100))
        #expect(chmod(secret, 0) == 0)
        let server = try BackgroundProcess(
            "setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", try thinbootExecutable(), "serve", "--config",
                setup.file("thinboot.toml"),
            ])
        defer { server.stop() }
        try await waitUntilTFTPServes(port: port)
        let result = try await runTool(
            "tftp", ["-m", "binary", "127.0.0.1", "\(port)", "-c", "get", "secret.bin", "/dev/null"])
        #expect(result.stdoutText.contains("Error code 2: Access violation: permission denied"), "\(result.stdoutText)")
        try await waitUntilTFTPServes(port: port)
    }
}
