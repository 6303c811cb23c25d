import Foundation
import TestSupport
import Testing

/// TFTP and HTTP over a faulty link: netfilter in the server's namespace of a veth pair drops (`statistic`
/// match) or duplicates (`TEE`) a random share of what the server sends, or `scripts/linkshaper` in the client's
/// namespace delays, jitters or reorders it (this machine's kernel has no `netem`). Every client gets its own link and
/// its own server, all at once, so a fault's five fetches take as long as the slowest one (about a minute per fault,
/// 4 minutes for the suite with the storm), and each link's fault count belongs to one client.
@Suite(.serialized) struct LossyLinkInteropTests {
    /// A link fault: an iptables rule (OUTPUT chain of the server's namespace) or a shaper of what the client receives.
    enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case loss10, loss30, duplicate5, jitter50, reorder5

        static let dropping: [Fault] = [.loss10, .loss30, .duplicate5]
        static let shaping: [Fault] = [.jitter50, .reorder5]

        var rule: [String]? {
            switch self {
            case .loss10: ["-m", "statistic", "--mode", "random", "--probability", "0.10", "-j", "DROP"]
            case .loss30: ["-m", "statistic", "--mode", "random", "--probability", "0.30", "-j", "DROP"]
            // A copy goes to the client as well as the packet.
            case .duplicate5:
                ["-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "TEE", "--gateway", "10.77.0.2"]
            case .jitter50, .reorder5: nil
            }
        }

        var shape: LinkShaper.Shape? {
            switch self {
            // 50 ms ± 20 ms, in order: jitter as a queue makes it. (Jitter that also scrambles a window is reordering,
            // the next fault, at its worst: a client that drops blocks after a gap gets little of each window.)
            case .jitter50: .init(delay: 50, jitter: 20, keepOrder: true)
            // 1 ms, and 5 % of packets 10 ms more: the blocks behind them in a window overtake them.
            case .reorder5: .init(delay: 1, reorderPercent: 5, reorderExtra: 10)
            case .loss10, .loss30, .duplicate5: nil
            }
        }

        var index: Int { Self.allCases.firstIndex(of: self)! }

        var testDescription: String { rawValue }
    }

    /// A client, and how it fetches `name` from the server at 10.77.0.1 into `output`.
    enum Client: String, CaseIterable, Sendable {
        case tftpHPA, busybox, atftp, bundled, curlHTTP

        /// A lockstep client pays the server's 1 s timeout per lost block: past these sizes a fetch would take
        /// minutes. A window whose first block is lost waits a timeout too (the client's ACK for the block before
        /// it is a duplicate, never acted on): at 10 % loss 4 MiB take 150 s at windowsize 8 or 16, so windowed
        /// clients fetch 1 MiB there, 128 KiB at 30 %. HTTP fetches 4 MiB everywhere.
        func size(under fault: Fault) -> Int {
            let lockstep = self == .tftpHPA || self == .busybox
            switch fault {
            case .loss10: return lockstep ? 64 << 10 : self == .curlHTTP ? 4 << 20 : 1 << 20
            case .loss30: return lockstep ? 16 << 10 : self == .curlHTTP ? 4 << 20 : 128 << 10
            case .duplicate5, .reorder5: return 4 << 20
            // A lockstep block costs a 50 ms round trip: 512 KiB take tftp-hpa (512-byte blocks) 55 s, 1 MiB take
            // busybox (1468) 39 s; the windowed clients fetch 4 MiB in 13-25 s, curl in 1 s.
            case .jitter50: return self == .tftpHPA ? 512 << 10 : self == .busybox ? 1 << 20 : 4 << 20
            }
        }

        /// Blocks per window: the retransmission bound is per lost block, one window's worth at most.
        var windowSize: Int {
            switch self {
            case .atftp: 8
            case .bundled: 16
            default: 1
            }
        }

        /// The command, run in the client namespace, and its stdin.
        func command(_ name: String, to output: String) throws -> (arguments: [String], stdin: Data?) {
            switch self {
            case .tftpHPA:
                // 512-byte lockstep; `timeout 120`: its 25 s default gives up during a long run of losses.
                return (
                    ["tftp", "10.77.0.1", "6969"],
                    Data("binary\nrexmt 1\ntimeout 120\nget \(name) \(output)\nquit\n".utf8)
                )
            case .busybox:
                return (["busybox", "tftp", "-g", "-b", "1468", "-r", name, "-l", output, "10.77.0.1", "6969"], nil)
            case .atftp:
                return (
                    [
                        "atftp", "--option", "blksize 1468", "--option", "windowsize 8", "--tftp-timeout", "3", "-g",
                        "-r", name, "-l", output, "10.77.0.1", "6969",
                    ], nil
                )
            case .bundled:
                return (
                    [
                        try thinbootExecutable(), "tftp", "get", "--port", "6969", "--blksize", "1468", "--windowsize",
                        "16", "--retries", "20", "-o", output, "10.77.0.1", name,
                    ], nil
                )
            case .curlHTTP:
                return (["curl", "-sS", "--max-time", "150", "-o", output, "http://10.77.0.1:8080/\(name)"], nil)
            }
        }
    }

    /// What one fetch over one faulty link showed.
    struct Fetch: Sendable, CustomStringConvertible {
        var client: Client
        var size: Int
        var intact: Bool
        var error: String
        /// Packets the fault dropped, copied (on the server's side of the link) or let go out of order (the shaper).
        var faulted: Int
        /// `tftp.retransmits` of the transfer's log line (TFTP only).
        var retransmits: Int
        var blocks: Int
        var seconds: Double

        var description: String {
            "\(client) \(size >> 10) KiB intact=\(intact) faulted=\(faulted) retransmits=\(retransmits) blocks=\(blocks) "
                + String(format: "%.1f s", seconds) + (error.isEmpty ? "" : " error: \(error)")
        }
    }

    /// Every client's fetch arrives intact, and the server resends no more than the link lost: at most two
    /// blocks per lost packet for lockstep clients (one per lost DATA, RFC 1350), at most twice a window per
    /// lost packet for windowed ones (RFC 7440: a client drops the blocks after a gap, so they go again), and
    /// the same per copied packet (before the bundled client left copies unanswered, 14 copies of DATA cost 1726
    /// resent blocks at windowsize 16).
    @Test(.timeLimit(.minutes(5)), arguments: Fault.dropping)
    func everyClientFetchesIntactOverAFaultyLink(fault: Fault) async throws {
        try await everyClientFetchesIntact(over: fault)
    }

    /// The same over a jittered (in order) and a reordering link: for each packet let go out of order, at most twice
    /// a window resent (a client drops the blocks after a gap); nothing resent on the jittered link.
    @Test(.timeLimit(.minutes(5)), arguments: Fault.shaping)
    func everyClientFetchesIntactOverAShapedLink(fault: Fault) async throws {
        try await everyClientFetchesIntact(over: fault)
    }

    func everyClientFetchesIntact(over fault: Fault) async throws {
        let fetches = try await withThrowingTaskGroup(of: Fetch.self) { group in
            // atftp 0.8 aborts at a copy of the OACK ("tftp: unexpected OACK"): its own bug, not the server's.
            for (index, client) in Client.allCases.enumerated() where fault != .duplicate5 || client != .atftp {
                group.addTask { try await Self.fetch(client, index: fault.index * 8 + index, under: fault) }
            }
            var fetches: [Fetch] = []
            for try await fetch in group { fetches.append(fetch) }
            return fetches.sorted { $0.client.rawValue < $1.client.rawValue }
        }
        print("lossy link \(fault.testDescription):\n  " + fetches.map(\.description).joined(separator: "\n  "))
        for fetch in fetches {
            #expect(fetch.intact, "\(fetch)")
            guard fetch.client != .curlHTTP else { continue }
            #expect(fetch.retransmits <= 2 * fetch.faulted * fetch.client.windowSize, "\(fetch)")
        }
    }

    /// 200 ROM-like clients (lockstep, blksize 1408) at once over a link losing 5 % of what the server sends: every
    /// one gets the whole 256 KiB file. About 40 s.
    @Test(.timeLimit(.minutes(3))) func aStormOf200ClientsAtFivePercentLossCompletes() async throws {
        let file = patternBytes(count: 256 << 10, seed: 161)
        let directory = try TemporaryDirectory("tftp-lossy-storm")
        defer { directory.remove() }
        try directory.write("tftpboot/storm.bin", file)
        let config = try Self.writeConfig(in: directory, perClient: 256)
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:16:00:f0") {
            serverNamespace, clientNamespace in
            try await Self.addFault(
                ["-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP"], in: serverNamespace)
            let server = try Self.startServer(in: serverNamespace, config: config, log: directory.file("server.log"))
            defer { server.stop() }
            try await Self.waitUntilServing(clientNamespace)
            let outcome = try await BootStorm.run(
                .init(
                    host: "10.77.0.1", port: 6969, name: "storm.bin",
                    clients: Array(repeating: "10.77.0.2", count: 200),
                    deadline: 120),
                namespace: clientNamespace)
            #expect(outcome.failures == [], "\(outcome.failures.count) failed: \(Set(outcome.failures))")
            #expect(outcome.digests == [try await sha256(Data(file)): 200])
            print("lossy storm: 200 clients x 256 KiB at 5 % loss in \(outcome.seconds) s")
        }
    }

    /// One client's fetch over a link of its own with `fault`, from a server of its own.
    static func fetch(_ client: Client, index: Int, under fault: Fault) async throws -> Fetch {
        let size = client.size(under: fault)
        let file = patternBytes(count: size, seed: UInt64(100 + index))
        let directory = try TemporaryDirectory("tftp-lossy")
        defer { directory.remove() }
        try directory.write("tftpboot/file.bin", file)
        let config = try writeConfig(in: directory, perClient: 64)
        let log = directory.file("server.log")
        var fetch = Fetch(
            client: client, size: size, intact: false, error: "", faulted: 0, retransmits: 0, blocks: 0, seconds: 0)
        try await NeighbourMACInteropTests.withNamespacePair(
            clientMAC: "52:54:00:16:00:" + String(0xa0 + index, radix: 16)
        ) { serverNamespace, clientNamespace in
            let server = try startServer(in: serverNamespace, config: config, log: log)
            defer { server.stop() }
            try await waitUntilServing(clientNamespace)
            if let rule = fault.rule { try await addFault(rule, in: serverNamespace) }
            var shaper: LinkShaper?
            if let shape = fault.shape { shaper = try await LinkShaper.start(namespace: clientNamespace, shape: shape) }
            let output = directory.file("fetched")
            let (arguments, stdin) = try client.command("file.bin", to: output)
            let started = ContinuousClock.now
            let result = try await runTool(
                "ip", ["netns", "exec", clientNamespace] + arguments, stdin: stdin, timeout: .seconds(180))
            let elapsed = started.duration(to: .now).components
            fetch.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            if let shaper {
                let figures = try await shaper.stop()
                #expect(figures.kernelDropped == 0, "the shaper's queue dropped packets: \(figures)")
                fetch.faulted = figures.outOfOrder
            } else {
                fetch.faulted = try await faultPackets(serverNamespace)
            }
            fetch.error = result.status == 0 ? "" : "exit \(result.status): \(result.stderr.suffix(300))"
            if FileManager.default.fileExists(atPath: output) {
                fetch.intact = try await sha256(file: output) == sha256(Data(file))
            }
            // The transfer's line is written as it ends: the client may be done a moment before.
            for _ in 0..<50 {
                let line = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n")
                    .first { $0.contains("tftp transfer") && $0.contains("tftp.path=file.bin") }
                if let line {
                    fetch.retransmits = field("tftp.retransmits", in: line) ?? 0
                    fetch.blocks = field("tftp.blocks", in: line) ?? 0
                    break
                }
                if client == .curlHTTP { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return fetch
    }

    /// A config serving `tftpboot` on 10.77.0.1 over TFTP (port 6969) and HTTP (8080), with `perClient`
    /// transfers per client address, and retries enough for a run of losses at 30 %.
    static func writeConfig(in directory: TemporaryDirectory, perClient: Int) throws -> String {
        try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["10.77.0.1:6969"]
            root = "tftpboot"
            retries = 10
            max_transfers_per_client = \(perClient)
            max_half_open_per_client = \(perClient)
            new_transfers_per_second = \(perClient * 4)

            [http]
            listen = ["10.77.0.1:8080"]
            """)
    }

    /// `thinboot serve` in `namespace`, its log in a file (a pipe nobody reads would fill and stall it).
    static func startServer(in namespace: String, config: String, log: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            "ip",
            [
                "netns", "exec", namespace, "sh", "-c", #"exec "$0" serve --config "$1" 2>"$2""#,
                try thinbootExecutable(),
                config, log,
            ])
    }

    /// Waits (bounded) until a request for a missing file gets its ERROR 1 from the client namespace.
    static func waitUntilServing(_ clientNamespace: String) async throws {
        for _ in 0..<100 {
            let probe = try await runTool(
                "ip",
                [
                    "netns", "exec", clientNamespace, try thinbootExecutable(), "tftp", "get", "--port", "6969",
                    "--retries", "1", "--timeout", "1", "-o", "/dev/null", "10.77.0.1", "missing",
                ],
                timeout: .seconds(10))
            if probe.stderr.contains("not found") { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the server never answered in \(clientNamespace)")
    }

    /// Appends `rule` to the OUTPUT chain of `namespace`: it applies to everything the server sends from then on.
    static func addFault(_ rule: [String], in namespace: String) async throws {
        let result = try await runTool(
            "ip", ["netns", "exec", namespace, "iptables", "-A", "OUTPUT"] + rule, timeout: .seconds(10))
        guard result.status == 0 else {
            throw ToolFailure(
                tool: "iptables -A OUTPUT " + rule.joined(separator: " "), status: result.status,
                stderr: result.stderr)
        }
    }

    /// Packets the fault rules of `namespace` matched so far (dropped or copied), from their counters.
    static func faultPackets(_ namespace: String) async throws -> Int {
        let result = try await runTool(
            "ip", ["netns", "exec", namespace, "iptables", "-L", "OUTPUT", "-v", "-x", "-n"], timeout: .seconds(10))
        return result.stdoutText.split(separator: "\n").filter { $0.contains("statistic") }.reduce(0) {
            $0 + (Int($1.split(separator: " ").first ?? "") ?? 0)
        }
    }

    /// The integer value of `key=` in a logfmt line.
    static func field(_ key: String, in line: Substring) -> Int? {
        guard let range = line.range(of: " \(key)=") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
