import Foundation
import TestSupport
import Testing

/// Every hostile route script (`HostileScripts`) fetched while 8 clients keep fetching a generated
/// pxelinux.cfg/01-<mac>: each hostile fetch gets an ERROR, and the generated-file load completes with 0
/// failures and every answer right. The load's rate before and during is printed as a figure, not asserted.
@Suite(.serialized) struct HostileScriptLoadInteropTests {
    static let config = """
        [tftp]
        root = "tftpboot"
        [tftp.scripts]
        max_seconds = 1
        workers = 4
        [[tftp.route]]
        path = "pxelinux.cfg/*"
        script = "pxelinux.lua"
        [[tftp.route]]
        path = "hostile/{index}"
        script = "hostile.lua"
        """

    /// One script dispatching on the index, so every hostile body runs as a route would.
    static var files: [String: String] {
        let bodies = HostileScripts.timeLimited.enumerated().map { index, run in
            "  [\"\(index)\"] = function(req)\n    \(run.body)\n  end,"
        }
        return [
            "tftpboot/.keep": "",
            "pxelinux.lua":
                "return function(req) return 'DEFAULT linux\\nAPPEND ip=' .. req.captures[1] .. '\\n' end\n",
            "hostile.lua": "local runs = {\n" + bodies.joined(separator: "\n")
                + "\n}\nreturn function(req) return runs[req.params.index](req) end\n",
        ]
    }

    @Test(.timeLimit(.minutes(4))) func hostileScriptsFailAloneWhileAGeneratedFileLoadRuns() async throws {
        try await RoutedTestServer.with(config: Self.config, files: Self.files) { server in
            let before = try await Self.load(port: server.port, seconds: 5)
            async let during = Self.load(port: server.port, seconds: 25)
            // Two at a time: two of the four workers stay free for the load, as on a server whose scripts
            // misbehave now and then.
            let out = try TemporaryDirectory("hostile-load")
            defer { out.remove() }
            let runs = HostileScripts.timeLimited
            var refused: [String] = []
            for start in stride(from: 0, to: runs.count, by: 2) {
                async let first = server.fetch("hostile/\(start)", to: out.file("h\(start)"))
                let second =
                    start + 1 < runs.count
                    ? try await server.fetch("hostile/\(start + 1)", to: out.file("h\(start + 1)")) : nil
                for (index, result) in [(start, try await first), (start + 1, second)] {
                    guard let result else { continue }
                    if result.status != 0 && result.stderr.contains("Script error") { refused.append(runs[index].name) }
                }
            }
            let loaded = try await during
            #expect(
                Set(refused) == Set(runs.map(\.name)),
                "answered instead of refused: \(Set(runs.map(\.name)).subtracting(refused))")
            let loadFailures = server.log.matching("pxelinux.lua")
            for (phase, result) in [("before", before), ("during", loaded)] {
                #expect(result.failures == 0, "\(phase): \(result); the server said: \(loadFailures.prefix(3))")
                #expect(result.completed > 0, "\(phase): \(result)")
            }
            print(
                "hostile scripts: generated-file load \(before.rate) req/s before, \(loaded.rate) req/s during "
                    + "\(runs.count) hostile scripts (\(loaded.completed) requests, 0 failures)")
        }
    }

    /// What a load run reported.
    struct Load: Decodable, Sendable {
        var completed: Int
        var failures: Int
        var rate: Double
        var lastFailure: String
    }

    /// 8 lockstep clients fetching pxelinux.cfg/01-<mac> over and over for `seconds`, each answer checked; after 3 s
    /// of silence the RRQ or the last ACK is resent (5 times in a row, then the request failed).
    static func load(port: Int, seconds: Int) async throws -> Load {
        let result = try await runTool(
            "python3", ["-c", loadScript, "\(port)", "\(seconds)"], timeout: .seconds(Int64(seconds + 60)))
        guard result.status == 0 else { throw ToolFailure(tool: "load", status: result.status, stderr: result.stderr) }
        return try JSONDecoder().decode(Load.self, from: result.stdout)
    }

    static let loadScript = #"""
        import json, socket, struct, sys, threading, time
        port, seconds = int(sys.argv[1]), float(sys.argv[2])
        counts, lock, last = {"completed": 0, "failures": 0}, threading.Lock(), [""]
        def fetch(s, name):
            # As a ROM does: resend the RRQ, then the last ACK, after 3 s of silence, 5 times in a row at most.
            request = b"\0\1" + name.encode() + b"\0octet\0"
            last, target, data, peer, expected, silent = request, ("127.0.0.1", port), b"", None, 1, 0
            s.sendto(last, target)
            while silent < 5:
                try:
                    packet, source = s.recvfrom(600)
                except socket.timeout:
                    silent += 1
                    s.sendto(last, target)
                    continue
                if peer is None:
                    peer = target = source
                elif source != peer:
                    continue
                opcode, number = struct.unpack("!HH", packet[:4])
                if opcode == 5:
                    return "error %d %s" % (number, packet[4:-1])
                if opcode == 3 and number == expected:
                    silent = 0
                    data += packet[4:]
                    expected += 1
                    last = struct.pack("!HH", 4, number)
                    s.sendto(last, peer)
                    if len(packet) < 516:
                        return data
            return "no answer after %d blocks" % (expected - 1)
        def client(index):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            end = time.time() + seconds
            n = 0
            while time.time() < end:
                mac = "01-52-54-00-16-%02x-%02x" % (index, n % 256)
                answer = fetch(s, "pxelinux.cfg/" + mac)
                with lock:
                    if answer == b"DEFAULT linux\nAPPEND ip=" + mac.encode() + b"\n":
                        counts["completed"] += 1
                    else:
                        counts["failures"] += 1
                        last[0] = "%s: %r" % (mac, answer)
                n += 1
                # a fresh port per request, as a booting client's next file would come from
                s.close()
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(3)
        started = time.time()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        elapsed = time.time() - started
        print(json.dumps({"completed": counts["completed"], "failures": counts["failures"],
                          "rate": round(counts["completed"] / elapsed, 1), "lastFailure": last[0]}))
        """#
}
