import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `serve` started by systemd's own `systemd-socket-activate`, which binds the listeners, passes them by name
/// (`LISTEN_FDS`, `LISTEN_FDNAMES`) and execs `serve` in its own process on the first datagram, as a `.socket`
/// unit does; `sd_notify` messages are read from a `NOTIFY_SOCKET` the test binds.
@Suite("serve with sockets from systemd", .serialized)
struct SocketActivationTests {
    /// A UDP TFTP socket and TCP HTTP, NBD and admin sockets passed by name: real clients fetch through each,
    /// while the `listen` addresses of the config stay unbound; READY=1, RELOADING=1/READY=1 around a SIGHUP,
    /// WATCHDOG=1 pings and STOPPING=1 reach the notify socket.
    @Test func servesTheNamedSocketsAndNotifiesSystemd() async throws {
        let folder = try TemporaryDirectory("serve-activated")
        defer { folder.remove() }
        let kernel = try folder.write("root/vmlinuz", patternBytes(count: 300_000, seed: 11))
        let image = folder.file("root.img")
        try NBDServerHarness.makeImage(at: image, seed: 5, size: 2 << 20)
        let sockets = (
            tftp: freeLoopbackPort(), http: freeLoopbackPort(udp: false), nbd: freeLoopbackPort(udp: false),
            admin: freeLoopbackPort(udp: false)
        )
        // What the config names is never bound: the sockets from systemd replace it.
        let configured = (
            tftp: freeLoopbackPort(), http: freeLoopbackPort(udp: false), nbd: freeLoopbackPort(udp: false),
            admin: freeLoopbackPort(udp: false)
        )
        let config = try folder.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(configured.tftp)"]
            root = "root"

            [http]
            listen = ["127.0.0.1:\(configured.http)"]

            [nbd]
            listen = ["127.0.0.1:\(configured.nbd)"]

            [[nbd.export]]
            name = "root"
            file = "root.img"

            [admin]
            listen = ["127.0.0.1:\(configured.admin)"]
            """)
        let thinboot = try thinbootExecutable()
        let notify = try NotifySocket(path: folder.file("notify.sock"))
        let log = ServeLog(path: folder.file("serve.log"))
        // systemd-socket-activate makes one kind of socket per run (--datagram or not), so one holds the UDP socket
        // and execs another, which adds the TCP ones and passes all three on, in order, under its --fdname list.
        // Each execs in place: the PID the test started is serve's from first to last, and it is the one stopped
        // and reaped. Not a Foundation Process: systemd-socket-activate closes what Foundation watches it by.
        // systemd-socket-activate passes on only the variables named: under scripts/test --sanitize, serve's
        // sanitizer settings (report files, suppressions) as well.
        let sanitizerSettings = ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"]
            .filter { ProcessInfo.processInfo.environment[$0] != nil }.map { "--setenv=\($0)" }
        let server = try SpawnedProcess(
            "/bin/sh",
            [
                "-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"", try which("systemd-socket-activate"),
                "--datagram", "--listen=127.0.0.1:\(sockets.tftp)", "--fdname=tftp",
                "--setenv=NOTIFY_SOCKET=\(notify.path)", "--setenv=WATCHDOG_USEC=2000000",
            ] + sanitizerSettings + [
                try which("systemd-socket-activate"), "--listen=127.0.0.1:\(sockets.http)",
                "--listen=127.0.0.1:\(sockets.nbd)", "--listen=127.0.0.1:\(sockets.admin)",
                "--fdname=tftp:http:nbd:admin", "--setenv=NOTIFY_SOCKET", "--setenv=WATCHDOG_USEC",
            ] + sanitizerSettings + [thinboot, "serve", "--config", config])
        defer { server.stop() }

        // The first request is what starts serve; it waits in the socket meanwhile.
        async let fetched = runTool(
            thinboot,
            [
                "tftp", "get", "--port", "\(sockets.tftp)", "--timeout", "1", "--retries", "5", "-o", "-",
                "127.0.0.1", "vmlinuz",
            ], timeout: .seconds(30))
        let untilReady = try #require(await notify.messages(until: "READY=1"), "\(log.text)")
        #expect(!untilReady.contains { $0.contains("STOPPING=1") })
        let tftp = try await fetched
        #expect(try await sha256(tftp.stdout) == sha256(file: kernel), "\(tftp.stderr) \(log.text)")
        try await log.wait(for: "sockets from systemd")

        let http = try await runTool(
            "curl", ["-sS", "--max-time", "20", "http://127.0.0.1:\(sockets.http)/vmlinuz"], timeout: .seconds(30))
        #expect(try await sha256(http.stdout) == sha256(file: kernel), "\(http.stderr)")
        let nbd = try await runTool(
            "nbdcopy", ["nbd://127.0.0.1:\(sockets.nbd)/root", "-"], timeout: .seconds(30))
        #expect(try await sha256(nbd.stdout) == sha256(file: image), "\(nbd.stderr)")
        let metrics = try await runTool(
            "curl", ["-sS", "--max-time", "20", "http://127.0.0.1:\(sockets.admin)/metrics"], timeout: .seconds(30))
        // Every byte nbdcopy read is counted by the time it has it, its connections closed or not.
        #expect(
            metrics.stdoutText.contains(#"thinboot_nbd_bytes_read_total{export="root"} \#(2 << 20)"#),
            "\(metrics.stdoutText) \(metrics.stderr)")
        for port in [configured.http, configured.admin] {
            let unbound = try await runTool(
                "curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(port)/"], timeout: .seconds(10))
            #expect(unbound.status == 7, "curl: connection refused on the configured address: \(unbound.stderr)")
        }

        #expect(await notify.messages(until: "WATCHDOG=1") != nil, "no watchdog ping: \(log.text)")
        #expect(kill(server.processIdentifier, SIGHUP) == 0)
        #expect(await notify.messages(until: "RELOADING=1") != nil, "\(log.text)")
        #expect(await notify.messages(until: "READY=1") != nil, "\(log.text)")
        try await log.wait(for: "config reloaded")
        // Still serving the same sockets after the reload.
        let again = try await runTool(
            "curl", ["-sS", "--max-time", "20", "http://127.0.0.1:\(sockets.http)/vmlinuz"], timeout: .seconds(30))
        #expect(try await sha256(again.stdout) == sha256(file: kernel), "\(again.stderr)")

        let status = await server.terminate()
        #expect(await notify.messages(until: "STOPPING=1") != nil, "\(log.text)")
        #expect(status == 0, "\(log.text)")
    }

    /// Both ProxyDHCP sockets under one name, `dhcp`, as one `.socket` unit passes them, in a namespace: a PXE
    /// DISCOVER broadcast to port 67 from `thinboot dhcp probe` gets the script's file, and so does a UEFI
    /// firmware's REQUEST to port 4011 (Debian's Python playing the firmware).
    @Test func servesBothDHCPSocketsPassedByName() async throws {
        let directory = try TemporaryDirectory("activated-dhcp")
        defer { directory.remove() }
        try await ProxyDHCPInteropTests.withLab { lab in
            let lan = try await lab.lan("l")
            let host = try await lab.namespace("t")
            let client = try await lab.namespace("c")
            try await lab.plug(host, into: lan, interface: "tbdt\(lab.tag)", address: "10.98.0.2/24")
            try await lab.plug(
                client, into: lan, interface: "tbdc\(lab.tag)", address: "10.98.0.5/24", mac: "52:54:00:98:00:05")
            try directory.write("boot.lua", ProxyDHCPInteropTests.bootScript)
            let config = try directory.write(
                "thinboot.toml", "[dhcp]\nproxy = true\nboot = \"boot.lua\"\nanswers_per_mac = 100\n")
            let log = ServeLog(path: directory.file("serve.log"))
            let server = try SpawnedProcess(
                "ip",
                [
                    "netns", "exec", host, "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\"",
                    try which("systemd-socket-activate"), "--datagram", "--listen=0.0.0.0:67",
                    "--listen=0.0.0.0:4011", "--fdname=dhcp:dhcp", try thinbootExecutable(), "serve", "--config",
                    config,
                ])
            defer { server.stop() }

            let offers = try await ProxyDHCPInteropTests.probe(
                in: client, interface: "tbdc\(lab.tag)", mac: "52:54:00:98:00:05", arch: "x86-bios", expectLines: 1)
            #expect(
                offers.contains {
                    $0.hasPrefix("proxy server=10.98.0.2 type=offer ") && $0.contains(" file=undionly.kpxe ")
                },
                "\(offers) \(log.text)")
            try await log.wait(for: "sockets from systemd")
            #expect(log.text.contains("dhcp×2"), "\(log.text)")

            let ack = try await runTool(
                "ip", ["netns", "exec", client, "/usr/bin/python3", "-c", Self.bootServerRequest], timeout: .seconds(30)
            )
            #expect(ack.stdoutText == "ack file=ipxe.efi\n", "\(ack.stderr) \(log.text)")
            #expect(await server.terminate() == 0, "\(log.text)")
        }
    }

    /// What OVMF sends to port 4011 after the proxy's offer (option 60 `PXEClient`, arch 7, its address in
    /// `ciaddr`, a PXE boot item in option 43), resent each second until an answer comes (at most 10 times):
    /// prints the answer's type and boot file.
    static let bootServerRequest = """
        import socket, struct
        mac = bytes.fromhex("525400980005")
        vendor = b"PXEClient:Arch:00007:UNDI:003016"
        options = (bytes([53, 1, 3, 60, len(vendor)]) + vendor + bytes([93, 2, 0, 7, 97, 17, 0]) + bytes(10) + mac
                   + bytes([43, 7, 71, 4, 0x80, 0, 0, 0, 255, 255]))
        request = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x98000005, 0, 0,
                              socket.inet_aton("10.98.0.5"), bytes(4), bytes(4), bytes(4), mac + bytes(10), bytes(64),
                              bytes(128)) + bytes([99, 130, 83, 99]) + options
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("10.98.0.5", 0))
        s.settimeout(1)
        for attempt in range(10):
            s.sendto(request, ("10.98.0.2", 4011))
            try:
                answer = s.recv(4096)
                break
            except socket.timeout:
                answer = None
        if answer is None:
            raise SystemExit("no answer from port 4011")
        at, kind = 240, None
        while at < len(answer) and answer[at] != 255:
            if answer[at] == 0:
                at += 1
                continue
            if answer[at] == 53:
                kind = answer[at + 2]
            at += 2 + answer[at + 1]
        print({5: "ack", 2: "offer"}.get(kind, kind), "file=" + answer[108:236].split(b"\\0")[0].decode())
        """
}
