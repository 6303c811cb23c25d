import Foundation
import TestSupport
import Testing

/// TFTP over a real link: a veth pair between two network namespaces, with the MTU a test chooses.
@Suite(.serialized) struct MTUCapInteropTests {
    /// A client asking for blocks bigger than its link carries gets `blksize` capped by the MTU of the interface the
    /// request came in on (MTU − 32 over IPv4, − 52 over IPv6), over a link with MTU 1400, and the file still
    /// arrives whole.
    @Test func blockSizeIsCappedByTheInterfaceMTU() async throws {
        let file = patternBytes(count: 100_000, seed: 14)
        let log = try await Self.serveOverLink(file, named: "kernel", mtu: 1400, clientMAC: "52:54:00:77:00:03") {
            fetch in
            for host in ["10.77.0.1", "fd00:77::1"] {
                try await fetch(host, ["--blksize", "8192", "--tsize"])
            }
        }
        let lines = log.split(separator: "\n").filter { $0.contains("tftp.path=kernel") }
        #expect(lines.contains { $0.contains("tftp.peer=10.77.0.2:") && $0.contains("blksize=1368") }, "\(log)")
        #expect(lines.contains { $0.contains("tftp.peer=[fd00:77::2]:") && $0.contains("blksize=1348") }, "\(log)")
    }

    /// RFC 7440 at full size over a jumbo-frame link: 64 blocks of 8968 bytes per window. The bundled client
    /// makes room for a whole window in its receive buffer, so no window loses its tail and nothing is resent.
    @Test func aWindowOfJumboBlocksArrivesWithoutResends() async throws {
        let file = patternBytes(count: 8_000_000, seed: 15)
        let log = try await Self.serveOverLink(file, named: "image", mtu: 9000, clientMAC: "52:54:00:77:00:04") {
            fetch in
            try await fetch("10.77.0.1", ["--blksize", "8968", "--windowsize", "64"])
        }
        let line = log.split(separator: "\n").first { $0.contains("tftp.path=image") } ?? ""
        #expect(line.contains("blksize=8968") && line.contains("windowsize=64"), "\(log)")
        #expect(line.contains("tftp.retransmits=0"), "\(line)")
    }

    /// A window bigger than the server's send buffer, over a link slower than the server (a 200 Mbit/s token
    /// bucket): the kernel refuses the rest of the window until the link drains, the server sends it then, and
    /// nothing is lost or resent.
    @Test func aWindowThatOverfillsTheSendBufferWaitsForTheLink() async throws {
        let file = patternBytes(count: 16_000_000, seed: 16)
        let log = try await Self.serveOverLink(
            file, named: "slow", mtu: 9000, clientMAC: "52:54:00:77:00:05", serverLinkRate: "200mbit"
        ) { fetch in
            try await fetch("10.77.0.1", ["--blksize", "8968", "--windowsize", "64"])
        }
        let line = log.split(separator: "\n").first { $0.contains("tftp.path=slow") } ?? ""
        #expect(line.contains("tftp.outcome=ok") && line.contains("tftp.retransmits=0"), "\(log)")
    }

    /// Fetches one file with the bundled client from the client namespace: the server's address, then options.
    typealias Fetch = (_ host: String, _ options: [String]) async throws -> Void

    /// Serves `file` as `name` from the server namespace of a link with `mtu` (and `serverLinkRate`), runs `body` with a fetch that checks
    /// each download by digest, and returns the server's log.
    static func serveOverLink(
        _ file: [UInt8], named name: String, mtu: Int, clientMAC: String, serverLinkRate: String? = nil,
        _ body: (Fetch) async throws -> Void
    ) async throws -> String {
        let directory = try TemporaryDirectory("tftp-link")
        defer { directory.remove() }
        try directory.write("tftpboot/\(name)", file)
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["10.77.0.1:6969", "[fd00:77::1]:6969"]
            root = "tftpboot"
            """)
        let expected = try await sha256(Data(file))
        var log = ""
        try await NeighbourMACInteropTests.withNamespacePair(
            clientMAC: clientMAC, mtu: mtu, serverLinkRate: serverLinkRate
        ) {
            serverNamespace, clientNamespace in
            let server = try BackgroundProcess(
                "ip", ["netns", "exec", serverNamespace, try thinbootExecutable(), "serve", "--config", config])
            defer { log = server.stop() }
            let client = [
                "ip", "netns", "exec", clientNamespace, try thinbootExecutable(), "tftp", "get", "--port", "6969",
            ]
            try await body { host, options in
                // The server may still be binding: once it answers a request for a missing file (ERROR 1, at once),
                // the real fetch runs, once.
                var ready = false
                for _ in 0..<50 where !ready {
                    let probe = try await runTool(
                        client[0], Array(client.dropFirst()) + ["--retries", "1", "-o", "/dev/null", host, "missing"],
                        timeout: .seconds(10))
                    ready = probe.stderr.contains("not found")
                    if !ready { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(ready, "the server never answered on \(host)")
                let output = directory.file("fetched")
                let fetched = try await runTool(
                    client[0], Array(client.dropFirst()) + options + ["-o", output, host, name], timeout: .seconds(60))
                #expect(fetched.status == 0, "\(fetched.stderr)")
                #expect(try await sha256(file: output) == expected)
            }
        }
        return log
    }
}
