import Foundation
import TestSupport
import Testing

/// `serve` under systemd, with systemd's side played by the test: `sd_notify` messages read from a
/// `NOTIFY_SOCKET` the test binds.
@Suite("serve under systemd", .serialized)
struct SystemdIntegrationTests {
    /// READY=1 once every listener answers, RELOADING=1 then READY=1 around a SIGHUP, WATCHDOG=1 pings while
    /// `WATCHDOG_USEC` is set, STOPPING=1 at SIGTERM.
    @Test func notifiesReadyReloadingWatchdogAndStopping() async throws {
        let folder = try TemporaryDirectory("serve-notify")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        try NBDServerHarness.makeImage(at: folder.file("a.img"), seed: 3, size: 1 << 20)
        let tftpPort = freeLoopbackPort()
        let nbdPort = freeLoopbackPort(udp: false)
        let configFile = try folder.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "root"

            [nbd]
            listen = ["127.0.0.1:\(nbdPort)"]

            [[nbd.export]]
            name = "a"
            file = "a.img"
            """)
        let notify = try NotifySocket(path: folder.file("notify.sock"))
        let log = ServeLog(path: folder.file("serve.log"))
        let server = try BackgroundProcess(
            "/usr/bin/env",
            [
                "NOTIFY_SOCKET=\(notify.path)", "WATCHDOG_USEC=400000", "/bin/sh", "-c",
                "exec \"$0\" \"$@\" 2>\"\(log.path)\"", try thinbootExecutable(), "serve", "--config", configFile,
            ])
        defer { server.stop() }

        let untilReady = try #require(await notify.messages(until: "READY=1"), "\(log.text)")
        // Ready means serving: both servers answer at once, no retry needed.
        #expect(!untilReady.contains { $0.contains("STOPPING=1") })
        let fetched = try await runTool(
            try thinbootExecutable(),
            [
                "tftp", "get", "--port", "\(tftpPort)", "--timeout", "1", "--retries", "3", "-o", "-", "127.0.0.1",
                "ready.txt",
            ],
            timeout: .seconds(20))
        #expect(fetched.stdoutText == "ready\n", "\(fetched.stderr)")
        let size = try await runTool("nbdinfo", ["--size", "nbd://127.0.0.1:\(nbdPort)/a"], timeout: .seconds(20))
        #expect(size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(1 << 20)", "\(size.stderr)")

        let pings = try #require(await notify.messages(until: "WATCHDOG=1"), "no watchdog ping: \(log.text)")
        #expect(!pings.isEmpty)

        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        let untilReloading = try #require(await notify.messages(until: "RELOADING=1"), "\(log.text)")
        let reloading = try #require(untilReloading.last)
        #expect(reloading.contains("MONOTONIC_USEC="), "\(reloading)")
        #expect(await notify.messages(until: "READY=1") != nil, "\(log.text)")
        try await log.wait(for: "config reloaded")

        let end = await server.terminate()
        #expect(await notify.messages(until: "STOPPING=1") != nil, "\(log.text)")
        #expect(end.exitStatus == 0, "\(log.text)")
    }
}
