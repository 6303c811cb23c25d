import Foundation
import TestSupport
import Testing

/// Files sent as netascii, as real clients and a lossy raw client see them, and what a flood of netascii reads
/// costs the real `thinboot serve` process in memory.
@Suite("netascii", .serialized)
struct NetasciiInteropTests {
    /// Text whose conversion puts a CR LF pair and then a CR NUL pair across the first two 512-byte block
    /// boundaries, followed by `count` bytes of pseudo-random text with a line end or a bare CR every few bytes
    /// (so pairs straddle boundaries of any block size).
    static func straddlingText(count: Int, seed: UInt64 = 7) -> [UInt8] {
        var text = [UInt8](repeating: 0x61, count: 511) + [0x0A]
        text += [UInt8](repeating: 0x62, count: 510) + [0x0D]
        let alphabet = Array("abcdefghij KLMNOP\n\n\r\n\r".utf8)
        text += patternBytes(count: count, seed: seed).map { alphabet[Int($0) % alphabet.count] }
        return text
    }

    /// The netascii form of `bytes` (RFC 1350): LF as CR LF, CR as CR NUL, written here independently of the
    /// server's encoder.
    static func converted(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A {
                output += [0x0D, 0x0A]
            } else if byte == 0x0D {
                output += [0x0D, 0x00]
            } else {
                output.append(byte)
            }
        }
        return output
    }

    /// tftp-hpa in ascii mode (512-byte lockstep) decodes what the server converted back to the very file.
    @Test func hpaAsciiFetchOfPairsAcrossBlockBoundariesGetsTheFile() async throws {
        let text = Self.straddlingText(count: 300_000)
        try await TFTPTestServer.with { root in
            try root.write("straddle.txt", text)
        } _: { server in
            let out = try TemporaryDirectory("netascii-out")
            defer { out.remove() }
            let result = try await runTool(
                "tftp",
                ["-m", "netascii", server.host, "\(server.port)", "-c", "get", "straddle.txt", out.file("s")])
            #expect(result.status == 0 && result.stdoutText.isEmpty, "\(result.stdoutText) \(result.stderr)")
            #expect(try await sha256(file: out.file("s")) == sha256(file: server.root.file("straddle.txt")))
        }
    }

    /// A window of 8 where the client drops ACKs (a timeout resends the window) and acknowledges earlier blocks
    /// (the window restarts after them): every copy of a block is byte for byte the first one, and the blocks in
    /// order are the file's exact conversion, as `tsize` announced.
    @Test(arguments: [512, 1000])
    func windowRestartsAndResendsReproduceEveryBlock(blockSize: Int) async throws {
        let text = Self.straddlingText(count: 60_000, seed: UInt64(blockSize))
        let expected = Self.converted(text)
        try await TFTPTestServer.with { root in
            try root.write("lossy.txt", text)
        } _: { server in
            let client = try LoopbackDatagramSocket(timeoutMilliseconds: 4000)
            try client.send(
                ClientDatagram.readRequest(
                    "lossy.txt", mode: "netascii",
                    options: [("blksize", "\(blockSize)"), ("windowsize", "8"), ("tsize", "0"), ("timeout", "1")]),
                to: server.port)
            let oack = try #require(try client.receive())
            #expect(oack.bytes.starts(with: [0, 6]))
            #expect(String(decoding: oack.bytes, as: UTF8.self).contains("tsize\0\(expected.count)\0"))
            try client.send(ClientDatagram.ack(0), to: oack.port)
            var blocks: [Int: [UInt8]] = [:]
            var resent = 0
            var windows = 0
            var delivered = 0
            var finished = false
            // Bounded: the file is at most ~150 blocks, and each round either moves on or is one of the losses.
            rounds: for _ in 0..<2000 {
                var window: [Int] = []
                while window.count < 8 {
                    guard let (bytes, _) = try client.receive() else { break }
                    guard bytes.count >= 4, bytes[1] == 3 else {
                        Issue.record("not DATA: \(bytes.prefix(4))"); break rounds
                    }
                    let wire = Int(bytes[2]) << 8 | Int(bytes[3])
                    let payload = Array(bytes[4...])
                    if let earlier = blocks[wire] {
                        resent += 1
                        #expect(earlier == payload, "block \(wire) resent with other bytes")
                    } else {
                        blocks[wire] = payload
                    }
                    window.append(wire)
                    if payload.count < blockSize { break }
                }
                guard let last = window.last else { break }
                windows += 1
                let complete = blocks[last]!.count < blockSize
                switch windows % 4 {
                case 1 where !complete:
                    continue  // this window's ACK is lost: the server resends the window after its timeout
                case 2 where window.count > 2 && !complete:
                    // Acknowledge the middle of the window: the server restarts right after that block.
                    let middle = window[window.count / 2 - 1]
                    delivered = max(delivered, middle)
                    try client.send(ClientDatagram.ack(UInt16(middle)), to: oack.port)
                default:
                    delivered = max(delivered, last)
                    try client.send(ClientDatagram.ack(UInt16(last)), to: oack.port)
                    if complete {
                        finished = true
                        break rounds
                    }
                }
            }
            #expect(finished)
            #expect(resent > 0, "the losses made the server send some blocks again")
            let received = (1...max(1, blocks.count)).flatMap { blocks[$0] ?? [] }
            #expect(received.count == expected.count)
            #expect(received == expected)
        }
    }

    /// The flood from issue 11: 16 netascii reads of a 64 MiB file that are never acknowledged (half of them stop
    /// after the OACK, half after a window of 64 blocks of 65464 bytes), three times in a row, against the real
    /// `thinboot serve`. Its RSS must stay far below one converted copy per read while they are held, return to
    /// within 10 % of the idle figure once they ended, and a real client's netascii fetch still gets the file.
    @Test func floodOfHeldNetasciiReadsKeepsMemoryFlatAndGivesItBack() async throws {
        let port = freeLoopbackPort()
        let setup = try TemporaryDirectory("netascii-flood")
        defer { setup.remove() }
        try setup.write("root/ready.txt", "ready\n")
        let small = Self.straddlingText(count: 200_000, seed: 3)
        try setup.write("root/small.txt", small)
        let mebibyte = Self.straddlingText(count: 1 << 20).prefix(1 << 20)
        let big = try #require(FileHandle(forWritingAtPath: try setup.write("root/big.txt", [])))
        for _ in 0..<64 { try big.write(contentsOf: Data(mebibyte)) }
        try big.close()
        try setup.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:\(port)"]
            root = "root"
            # All 16 from one address must be admitted, so what is measured is the transfers' memory, not admission.
            max_half_open_per_client = 64
            new_transfers_per_second = 1000
            """)
        let server = try BackgroundProcess(
            try thinbootExecutable(), ["serve", "--config", setup.file("thinboot.toml"), "--log-level", "warning"])
        defer { server.stop() }
        let out = try TemporaryDirectory("netascii-flood-out")
        defer { out.remove() }

        func fetchSmallAsNetascii() async throws {
            let result = try await runTool(
                "tftp", ["-m", "netascii", "127.0.0.1", "\(port)", "-c", "get", "small.txt", out.file("small.txt")])
            #expect(result.status == 0 && result.stdoutText.isEmpty, "\(result.stdoutText) \(result.stderr)")
            #expect(try await sha256(file: out.file("small.txt")) == sha256(file: setup.file("root/small.txt")))
        }

        try await waitUntilTFTPServes(port: port)
        try await fetchSmallAsNetascii()
        let idle = try residentKiB(of: server.processIdentifier)
        var report: [String] = ["idle \(idle) KiB"]
        for flood in 1...3 {
            var held: [(LoopbackDatagramSocket, Int)] = []
            for index in 0..<16 {
                // Generous: the server may read the whole file before it answers (a debug build converts slowly).
                let client = try LoopbackDatagramSocket(timeoutMilliseconds: 120_000)
                try client.send(
                    ClientDatagram.readRequest(
                        "big.txt", mode: "netascii",
                        options: [("tsize", "0"), ("blksize", "65464"), ("windowsize", "64")]),
                    to: port)
                held.append((client, index))
            }
            var transferPorts: [Int] = []
            for (client, index) in held {
                let answer = try #require(try client.receive(), "no answer to netascii read \(index)")
                #expect(answer.bytes.starts(with: [0, 6]), "OACK expected, got \(answer.bytes.prefix(4))")
                if index % 2 == 1 {
                    try client.send(ClientDatagram.ack(0), to: answer.port)
                    _ = try client.receive()
                }
                transferPorts.append(answer.port)
            }
            let during = try residentKiB(of: server.processIdentifier)
            for ((client, _), transferPort) in zip(held, transferPorts) {
                try client.send(ClientDatagram.error("done"), to: transferPort)
            }
            // The transfers end at once; memory may take a moment to be handed back (bounded wait).
            var after = try residentKiB(of: server.processIdentifier)
            for _ in 0..<50 where after > idle + idle / 10 {
                try await Task.sleep(for: .milliseconds(200))
                after = try residentKiB(of: server.processIdentifier)
            }
            // Past the engines' idle second, when they hand memory back: the figure the report gives as settled.
            try await Task.sleep(for: .seconds(2))
            let settled = try residentKiB(of: server.processIdentifier)
            report.append("flood \(flood): during \(during) KiB, after \(after) KiB, settled \(settled) KiB")
            #expect(settled <= idle + idle / 10, "\(report)")
            #expect(during < idle + 64 * 1024, "\(report)")
            #expect(after <= idle + idle / 10, "\(report)")
        }
        print("netascii flood RSS: \(report.joined(separator: "; "))")
        try await fetchSmallAsNetascii()
    }

    /// VmRSS of process `pid` in KiB, from /proc.
    private func residentKiB(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }
}
