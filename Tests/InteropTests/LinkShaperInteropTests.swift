import Foundation
import TestSupport
import Testing

/// `scripts/linkshaper` on a veth pair, checked as a user would: ping's round trips, and numbered datagrams counted and
/// put in order at the far end. No upper bound on a time is asserted (a loaded machine adds to every delay); the
/// shaper never lets a packet go early, so the lower bounds hold.
@Suite(.serialized) struct LinkShaperInteropTests {
    /// 1 ms each way (a shaper in each namespace): every round trip takes at least 2 ms, every ping comes back.
    @Test(.timeLimit(.minutes(1))) func aOneMillisecondLinkEachWayAddsTwoToEveryRoundTrip() async throws {
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:17:00:01") { server, client in
            let toServer = try await LinkShaper.start(namespace: server, shape: .init(delay: 1))
            let toClient = try await LinkShaper.start(namespace: client, shape: .init(delay: 1))
            let ping = try await Self.ping(from: client, count: 50)
            let (serverFigures, clientFigures) = (try await toServer.stop(), try await toClient.stop())
            print(
                "linkshaper 1 ms each way: ping \(ping); to the server \(serverFigures); to the client \(clientFigures)"
            )
            #expect(ping.received == 50)
            #expect(ping.minimum >= 2.0, "\(ping)")
            for figures in [serverFigures, clientFigures] {
                #expect(figures.held >= 50 && figures.released == figures.held, "\(figures)")
                #expect(figures.delayMin >= 1.0 && figures.kernelDropped == 0, "\(figures)")
            }
        }
    }

    /// 50 ms ± 20 ms towards the client: round trips of 30 ms and more, packets held at once (sent 1 ms apart, each
    /// held 30-70 ms) and so overtaking each other; not one lost.
    @Test(.timeLimit(.minutes(1))) func jitterHoldsPacketsAtOnceAndReordersThem() async throws {
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:17:00:02") { server, client in
            let shaper = try await LinkShaper.start(namespace: client, shape: .init(delay: 50, jitter: 20))
            let ping = try await Self.ping(from: client, count: 20)
            let datagrams = try await Self.numberedDatagrams(from: server, to: client, count: 200)
            let figures = try await shaper.stop()
            print("linkshaper 50 ± 20 ms: ping \(ping); 200 datagrams: \(datagrams); shaper: \(figures)")
            #expect(ping.received == 20 && ping.minimum >= 30, "\(ping)")
            #expect(datagrams.received == 200 && datagrams.outOfOrder > 0, "\(datagrams)")
            #expect(figures.maxHeld > 10 && figures.delayMin >= 30 && figures.kernelDropped == 0, "\(figures)")
        }
    }

    /// 1 ms, a quarter of packets held 10 ms longer: the datagrams behind them overtake them; all arrive.
    @Test(.timeLimit(.minutes(1))) func reorderingHoldsAShareLonger() async throws {
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:17:00:03") { server, client in
            let shaper = try await LinkShaper.start(
                namespace: client, shape: .init(delay: 1, reorderPercent: 25, reorderExtra: 10))
            let datagrams = try await Self.numberedDatagrams(from: server, to: client, count: 200)
            let figures = try await shaper.stop()
            print("linkshaper 1 ms, 25 % +10 ms: 200 datagrams: \(datagrams); shaper: \(figures)")
            #expect(datagrams.received == 200 && datagrams.outOfOrder > 0, "\(datagrams)")
            // A quarter of 200, give or take what a fixed seed draws.
            #expect(figures.heldLonger > 20 && figures.heldLonger < 80, "\(figures)")
        }
    }

    /// What `busybox ping` printed: replies and round trips in milliseconds.
    struct Ping: CustomStringConvertible {
        var received = 0
        var minimum = 0.0
        var average = 0.0
        var maximum = 0.0
        var description: String {
            "\(received) replies, rtt min/avg/max " + String(format: "%.3f/%.3f/%.3f ms", minimum, average, maximum)
        }
    }

    /// Pings the server (10.77.0.1) from `namespace`, 20 ms apart. busybox paces its pings by SIGALRM, and a child
    /// of the test process inherits the signals its thread blocks (Dispatch's threads block almost all): unblocked
    /// first, or it never sends a second ping.
    static func ping(from namespace: String, count: Int) async throws -> Ping {
        let unblocked =
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
        let result = try await runTool(
            "ip",
            [
                "netns", "exec", namespace, "python3", "-c", unblocked, "busybox", "ping", "-c", "\(count)", "-i",
                "0.02", "-W", "5", "10.77.0.1",
            ], timeout: .seconds(60))
        var ping = Ping()
        for line in result.stdoutText.split(separator: "\n") {
            if line.contains("packets received"), let count = line.split(separator: ",").dropFirst().first {
                ping.received = Int(count.split(separator: " ").first ?? "") ?? 0
            }
            // "round-trip min/avg/max = 2.272/2.364/2.560 ms"
            if line.hasPrefix("round-trip"), let figures = line.split(separator: "=").last {
                let values = figures.split(separator: " ").first?.split(separator: "/").compactMap { Double($0) } ?? []
                if values.count == 3 { (ping.minimum, ping.average, ping.maximum) = (values[0], values[1], values[2]) }
            }
        }
        return ping
    }

    /// How numbered datagrams arrived: how many, and how many came after a higher number.
    struct Datagrams: Decodable, CustomStringConvertible {
        var received: Int
        var outOfOrder: Int
        var description: String { "\(received) received, \(outOfOrder) out of order" }
    }

    /// Sends `count` numbered datagrams 1 ms apart from the server's namespace to port 24001 in the client's, and
    /// counts them there (waiting at most 5 s for the last). One Python process in both namespaces (`setns`), so the
    /// receiver is bound before the first is sent.
    static func numberedDatagrams(from server: String, to client: String, count: Int) async throws -> Datagrams {
        let script = #"""
            import ctypes, json, os, socket, struct, sys, time
            server, client, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
            libc = ctypes.CDLL(None, use_errno=True)
            def enter(name):
                fd = os.open("/run/netns/" + name, os.O_RDONLY)
                if libc.setns(fd, 0x40000000) != 0: sys.exit("setns " + name + ": " + os.strerror(ctypes.get_errno()))
                os.close(fd)
            enter(client)
            receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            receiver.bind(("10.77.0.2", 24001))
            receiver.settimeout(5)
            enter(server)
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for number in range(count):
                sender.sendto(struct.pack("!I", number), ("10.77.0.2", 24001))
                time.sleep(0.001)
            received, out_of_order, highest = 0, 0, -1
            try:
                while received < count:
                    number = struct.unpack("!I", receiver.recv(64))[0]
                    received += 1
                    if number < highest: out_of_order += 1
                    highest = max(highest, number)
            except socket.timeout:
                pass
            print(json.dumps({"received": received, "outOfOrder": out_of_order}))
            """#
        let result = try await runTool(
            "python3", ["-c", script, server, client, "\(count)"], timeout: .seconds(30))
        guard result.status == 0 else {
            throw ToolFailure(tool: "python3 (the datagram counter)", status: result.status, stderr: result.stderr)
        }
        return try JSONDecoder().decode(Datagrams.self, from: result.stdout)
    }
}
