import Foundation
import TestSupport
import Testing

/// The issue's reload under load: while 200 lockstep TFTP clients fetch a static file and a generated one over and
/// over, and 16 libnbd readers each read an export again and again on the one connection they opened, ten SIGHUPs
/// change the route's script, `[tftp] max_blksize` and the NBD exports. Every transfer and every read completes
/// with the right bytes, no connection drops, and after each reload a new request gets the new settings.
@Suite("SIGHUP under load", .serialized)
struct ReloadUnderLoadTests {
    static let reloads = 10

    /// `[tftp] max_blksize` of generation `g`: every reload changes what a new `blksize 1408` request is granted.
    static func blockSize(_ generation: Int) -> Int { 1400 - 40 * generation }

    static func config(_ generation: Int, tftpPort: Int, nbdPort: Int) -> String {
        """
        [tftp]
        listen = ["127.0.0.1:\(tftpPort)"]
        root = "root"
        max_blksize = \(blockSize(generation))

        [[tftp.route]]
        path = "gen/{name}"
        script = "gen-\(generation).lua"

        [nbd]
        listen = ["127.0.0.1:\(nbdPort)"]

        [[nbd.export]]
        name = "root"
        file = "root.img"

        [[nbd.export]]
        name = "extra-\(generation)"
        file = "extra.img"
        """
    }

    @Test(.timeLimit(.minutes(5))) func tenReloadsDuringATFTPStormAndNBDReadsDropNothing() async throws {
        let folder = try TemporaryDirectory("reload-load")
        defer { folder.remove() }
        let kernel = try folder.write("root/vmlinuz", patternBytes(count: 128 << 10, seed: 11))
        try NBDServerHarness.makeImage(at: folder.file("root.img"), seed: 12, size: 1 << 20)
        try NBDServerHarness.makeImage(at: folder.file("extra.img"), seed: 13, size: 1 << 20)
        for generation in 0...Self.reloads {
            try folder.write(
                "gen-\(generation).lua",
                "return function(req) return 'generation \(generation) ' .. req.params.name .. '\\n' end\n")
        }
        let (tftpPort, nbdPort) = (freeLoopbackPort(), freeLoopbackPort(udp: false))
        let serve = try await ReloadingServe(Self.config(0, tftpPort: tftpPort, nbdPort: nbdPort), in: folder)
        let stop = folder.file("stop")
        let storm = ReloadLoadClients.StormPlan(
            port: tftpPort, clients: (1...200).map { "127.0.1.\($0)" }, file: "vmlinuz",
            digest: try await sha256(file: kernel), stop: stop)
        let readers = ReloadLoadClients.ReaderPlan(
            uri: "nbd://127.0.0.1:\(nbdPort)/root", readers: 16,
            digest: try await sha256(file: folder.file("root.img")),
            stop: stop)
        async let stormOutcome = ReloadLoadClients.storm(storm)
        async let readerOutcome = ReloadLoadClients.readers(readers)

        var checked: [String] = []
        for generation in 1...Self.reloads {
            // Let the load run on the settings in place before changing them again.
            try await Task.sleep(for: .milliseconds(500))
            try await serve.reload(Self.config(generation, tftpPort: tftpPort, nbdPort: nbdPort))
            let probe = try await Self.probe(tftpPort)
            #expect(probe.blksize == Self.blockSize(generation), "reload \(generation): \(probe)")
            #expect(probe.generated == "generation \(generation) probe\n", "reload \(generation): \(probe)")
            #expect(try await exports(nbdPort) == ["extra-\(generation)", "root"], "reload \(generation)")
            checked.append("\(generation)")
        }
        try folder.write("stop", "")
        let (tftp, nbd) = try await (stormOutcome, readerOutcome)

        #expect(checked.count == Self.reloads)
        #expect(tftp.failureCount == 0, "\(tftp.failures)")
        #expect(tftp.completed > 200 && tftp.generated > 0, "\(tftp)")
        // The storm itself saw the settings change under it.
        #expect(tftp.generations.count > 1 && tftp.blksizes.count > 1, "\(tftp)")
        #expect(nbd.failures.isEmpty, "\(nbd.failures)")
        #expect(nbd.connected == 16 && nbd.passes >= 16, "\(nbd)")
        #expect(!serve.log.text.contains("reload failed"), "\(serve.log.text)")
        print(
            "reload under load: \(Self.reloads) reloads, \(tftp.completed) TFTP transfers (\(tftp.generated) generated, "
                + "generations \(tftp.generations), blksizes \(tftp.blksizes)), \(nbd.passes) NBD passes on "
                + "\(nbd.connected) connections, 0 failures")
        #expect(await serve.stop() == 0, "\(serve.log.text)")
    }

    struct Probe: Decodable {
        var blksize: Int
        var generated: String
    }

    /// A new request after a reload: the blksize an RRQ asking 1408 is granted (then aborted, as a probing ROM does),
    /// and the text of `gen/probe`.
    static func probe(_ port: Int) async throws -> Probe {
        let result = try await runTool("/usr/bin/python3", ["-c", probeScript, "\(port)"], timeout: .seconds(30))
        guard result.status == 0 else { throw ToolFailure(tool: "probe", status: result.status, stderr: result.stderr) }
        return try JSONDecoder().decode(Probe.self, from: result.stdout)
    }

    private static let probeScript = #"""
        import json, socket, struct, sys
        server = ("127.0.0.1", int(sys.argv[1]))

        def first_answer(s, request):
            for _ in range(10):
                s.sendto(request, server)
                try:
                    return s.recvfrom(70000)
                except socket.timeout:
                    continue
            raise SystemExit("no answer to %r" % request)

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        packet, peer = first_answer(s, b"\0\1vmlinuz\0octet\0blksize\x001408\0")
        parts = packet[2:].split(b"\0")
        assert packet[:2] == b"\0\6", packet
        blksize = int(dict(zip(parts[0::2], parts[1::2]))[b"blksize"])
        s.sendto(b"\0\5\0\0probe done\0", peer)
        s.close()

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        packet, peer = first_answer(s, b"\0\1gen/probe\0octet\0")
        assert packet[:4] == b"\0\3\0\1", packet
        s.sendto(b"\0\4\0\1", peer)
        print(json.dumps({"blksize": blksize, "generated": packet[4:].decode()}))
        """#

    /// The export names a new NBD connection lists (`nbdinfo --list`), sorted.
    private func exports(_ port: Int) async throws -> [String] {
        let result = try await runTool(
            "/usr/bin/nbdinfo", ["--list", "--json", "nbd://127.0.0.1:\(port)"], timeout: .seconds(20))
        let json = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        let exports = json?["exports"] as? [[String: Any]] ?? []
        return exports.compactMap { $0["export-name"] as? String }.sorted()
    }
}
