import Foundation
import TestSupport
import Testing

/// `thinboot serve` on loopback against floods and crowds: garbage and valid-looking requests while a real
/// transfer runs, and 500 clients from 500 addresses. The server's log goes to a file, which the tests count.
@Suite(.serialized) struct TFTPFloodInteropTests {
    /// A running `thinboot serve` on 127.0.0.1 and where its log goes.
    struct Server {
        let process: BackgroundProcess
        let port: Int
        let log: String
        var pid: Int32 { process.processIdentifier }
        var logLines: [Substring] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        }
    }

    static func withServer(
        _ directory: TemporaryDirectory, settings: String = "", _ body: (Server) async throws -> Void
    ) async throws {
        let port = freeLoopbackPort()
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(port)"]
            root = "tftpboot"
            \(settings)
            """)
        let log = directory.file("server.log")
        let process = try BackgroundProcess(
            "sh", ["-c", #"exec "$0" serve --config "$1" 2>"$2""#, try thinbootExecutable(), config, log])
        defer { process.stop() }
        let server = Server(process: process, port: port, log: log)
        for _ in 0..<100 {
            let probe = try await runTool(
                try thinbootExecutable(),
                [
                    "tftp", "get", "--port", "\(port)", "--retries", "1", "--timeout", "1", "-o", "/dev/null",
                    "127.0.0.1",
                    "missing",
                ], timeout: .seconds(10))
            if probe.stderr.contains("not found") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await body(server)
    }

    /// The RSS of `pid` in KiB.
    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// 100 000 random datagrams, then 100 000 valid-looking RRQs (files present and missing, random options,
    /// from 16 addresses and fresh ports), at the TFTP port while tftp-hpa fetches 4 MiB in 512-byte lockstep:
    /// the fetch arrives intact, the server's RSS stays within 64 MiB of where it started, and the flood costs at
    /// most one log line per datagram.
    ///
    /// The flood fills the listener's receive buffer, so the kernel may drop the fetch's RRQ: tftp-hpa resends it
    /// after 5 s, as on a real network. (This test once hung there for 120 s in whole runs: tftp-hpa had inherited
    /// SIGALRM blocked from the test process and never resent; see ``withSignalsUnblocked(_:)``.)
    @Test(.timeLimit(.minutes(3)))
    func aFloodOfGarbageAndRequestsDoesNotStopARealTransfer() async throws {
        let directory = try TemporaryDirectory("tftp-flood")
        defer { directory.remove() }
        let file = patternBytes(count: 4 << 20, seed: 162)
        try directory.write("tftpboot/big.bin", file)
        try directory.write("tftpboot/small.bin", patternBytes(count: 3000, seed: 163))
        try await Self.withServer(directory) { server in
            let linesBefore = server.logLines.count
            let rssBefore = Self.rssKiB(server.pid)
            let output = directory.file("fetched")
            let started = ContinuousClock.now
            async let flood = Self.timed {
                try await runTool(
                    "python3", ["-c", Self.flood, "\(server.port)", "\(server.pid)"], timeout: .seconds(120))
            }
            try await Task.sleep(for: .milliseconds(300))
            let (fetched, fetchEnded) = try await Self.timed {
                try await runTool(
                    "tftp",
                    ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "get", "big.bin", output],
                    timeout: .seconds(120))
            }
            let (flooded, floodEnded) = try await flood
            // What a failure needs to be understood: when each side ended, and the server's lines for the real
            // client (its transfer's outcome, blocks, retransmits).
            let timing = "flood ended after \(floodEnded - started), fetch after \(fetchEnded - started)"
            let realClient = server.logLines.filter { $0.contains("tftp.peer=127.0.0.1:") }.suffix(5)
            #expect(flooded.status == 0, "\(flooded.stderr)")
            let killed = fetched.timedOut ? " (killed at its time limit)" : ""
            #expect(
                fetched.status == 0,
                "tftp exit \(fetched.status)\(killed): \(fetched.stderr); \(timing); server lines for 127.0.0.1: \(realClient)"
            )
            #expect(try await sha256(file: output) == sha256(Data(file)))
            let report = flooded.stdoutText.split(whereSeparator: \.isWhitespace)
            let datagrams = Int(report.first ?? "") ?? 0
            let peakKiB = Int(report.dropFirst().first ?? "") ?? .max
            #expect(datagrams == 200_000)
            // Under AddressSanitizer (scripts/test --sanitize address) its quarantine, redzones and allocator caches
            // grow the RSS by more than the bound (+67 to +94 MiB measured; +0.4 MiB without): the bound triples
            // there, and growth without end still fails.
            let allowedKiB = ProcessInfo.processInfo.environment["ASAN_OPTIONS"] == nil ? 64 << 10 : 192 << 10
            #expect(peakKiB - rssBefore < allowedKiB, "RSS \(rssBefore) KiB before, peak \(peakKiB) KiB")
            // Let the refused and half-open requests' lines come out.
            try await Task.sleep(for: .seconds(8))
            let lines = server.logLines.count - linesBefore
            #expect(lines <= datagrams + 1, "\(lines) log lines for \(datagrams) datagrams")
            print(
                "tftp flood: \(timing); \(datagrams) datagrams, \(lines) log lines, RSS \(rssBefore) KiB before, peak \(peakKiB)"
            )
        }
    }

    /// Runs `body` and says when it ended.
    static func timed<T>(_ body: () async throws -> T) async rethrows -> (T, ContinuousClock.Instant) {
        let result = try await body()
        return (result, .now)
    }

    /// Random datagrams, then RRQs, from 16 addresses; prints the datagrams sent and the server's peak RSS (KiB).
    static let flood = #"""
        import os, random, socket, sys
        port, pid = int(sys.argv[1]), int(sys.argv[2])
        random.seed(16)
        def rss():
            for line in open("/proc/%d/status" % pid):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        sockets = []
        for i in range(16):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.9.0.%d" % (i + 1), 0))
            s.setblocking(False)
            sockets.append(s)
        def send(s, packet):
            try:
                s.sendto(packet, ("127.0.0.1", port))
            except (BlockingIOError, ConnectionRefusedError):
                pass
        peak, sent = rss(), 0
        for i in range(100000):
            send(sockets[i % 16], os.urandom(random.randrange(0, 600)))
            sent += 1
            if i % 2000 == 0:
                peak = max(peak, rss())
        names = [b"big.bin", b"small.bin", b"missing", b"pxelinux.cfg/default", b"/small.bin", b"../etc/passwd"]
        options = [b"", b"tsize\0" + b"0\0", b"blksize\x00" + b"1468\0", b"windowsize\x00" + b"16\0", b"timeout\x00" + b"255\0",
                   b"blksize\x00" + b"1\0", b"tsize\0" + b"0\0blksize\x00" + b"65464\0windowsize\x00" + b"65535\0"]
        for i in range(100000):
            if i % 1000 == 0:
                # fresh ports now and then, as a spoofer's would be
                old = sockets[(i // 1000) % 16]
                fresh = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                fresh.bind((old.getsockname()[0], 0))
                fresh.setblocking(False)
                old.close()
                sockets[(i // 1000) % 16] = fresh
            packet = b"\0\1" + random.choice(names) + b"\0" + random.choice([b"octet", b"netascii", b"OCTET"]) + b"\0"
            send(sockets[i % 16], packet + random.choice(options))
            sent += 1
            if i % 2000 == 0:
                peak = max(peak, rss())
        print(sent, max(peak, rss()))
        """#

    /// 1000 clients send their first RRQ within a few milliseconds, as a boot storm does when the power comes back,
    /// and none resends: every one gets an answer (none ACKs, so all 1000 stay half open, within the default
    /// `max_half_open` of 1024). The listener's receive buffer holds the burst until the engine
    /// reads it; at the kernel's default (208 KiB) a burst of 500 lost 243 requests, each costing its client a
    /// timeout and a resend.
    @Test(.timeLimit(.minutes(2))) func aBurstOfRequestsWaitsInTheListenerInsteadOfBeingDropped() async throws {
        let directory = try TemporaryDirectory("tftp-burst")
        defer { directory.remove() }
        try directory.write("tftpboot/pxelinux.0", patternBytes(count: 1024, seed: 165))
        let settings = """
            max_transfers_per_client = 4096
            max_half_open_per_client = 4096
            new_transfers_per_second = 1000000
            """
        try await Self.withServer(directory, settings: settings) { server in
            let burst = try await runTool(
                "python3", ["-c", Self.burst, "\(server.port)", "1000"], timeout: .seconds(60))
            #expect(burst.status == 0, "\(burst.stderr)")
            let report = burst.stdoutText.split(whereSeparator: \.isWhitespace)
            #expect(report.first == "1000", "\(burst.stdoutText)")
            print("tftp burst: \(burst.stdoutText)")
        }
    }

    /// Sends one RRQ from each of COUNT fresh sockets as fast as it can, never resends, and waits up to 20 s for a
    /// first datagram on each: prints how many were answered, the milliseconds the sending took and the
    /// milliseconds until the last answer.
    static let burst = #"""
        import select, socket, sys, time
        port, count = int(sys.argv[1]), int(sys.argv[2])
        sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
        poller = select.epoll()
        for s in sockets:
            s.setblocking(False)
            poller.register(s.fileno(), select.EPOLLIN)
        started = time.monotonic()
        for s in sockets:
            s.sendto(b"\x00\x01pxelinux.0\x00octet\x00", ("127.0.0.1", port))
        sent = time.monotonic()
        answered, last = set(), sent
        while len(answered) < count and time.monotonic() < sent + 20:
            for fd, _ in poller.poll(0.1):
                answered.add(fd)
                poller.unregister(fd)
                last = time.monotonic()
        print(len(answered), round((sent - started) * 1000), round((last - started) * 1000))
        """#

    /// 500 ROM-like clients at once, each from its own address in 127.3.0.0/16, with `max_transfers_per_client = 1`,
    /// and 4 more sharing 127.4.0.1: every one gets the file; the cap holds back only the shared address (its
    /// clients get in one after another as they resend), never the 500.
    @Test(.timeLimit(.minutes(3))) func fiveHundredClientsFromFiveHundredAddresses() async throws {
        let directory = try TemporaryDirectory("tftp-500")
        defer { directory.remove() }
        let file = patternBytes(count: 64 << 10, seed: 164)
        try directory.write("tftpboot/pxelinux.0", file)
        try await Self.withServer(directory, settings: "max_transfers_per_client = 1") { server in
            let distinct = (0..<500).map { "127.3.\($0 / 250).\($0 % 250 + 1)" }
            let outcome = try await BootStorm.run(
                .init(
                    port: server.port, name: "pxelinux.0", clients: distinct + Array(repeating: "127.4.0.1", count: 4),
                    headStart: 0, deadline: 90))
            #expect(outcome.failures == [], "\(outcome.failures.count) failed: \(Set(outcome.failures))")
            #expect(outcome.digests == [try await sha256(Data(file)): 504])
            try await Task.sleep(for: .milliseconds(500))
            let busy = server.logLines.filter { $0.contains("tftp.outcome=busy") }
            #expect(!busy.isEmpty, "the 4 clients of 127.4.0.1 should have met max_transfers_per_client")
            #expect(busy.allSatisfy { $0.contains("tftp.peer=127.4.0.1:") }, "\(busy.prefix(5))")
            print("tftp 500 addresses: \(outcome.completed) completed in \(outcome.seconds) s, \(busy.count) busy")
        }
    }
}
