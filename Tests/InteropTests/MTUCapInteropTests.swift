import Foundation
import TestSupport
import Testing

/// A client asking for blocks bigger than its link carries gets `blksize` capped by the MTU of the interface the
/// request came in on (MTU − 32 over IPv4, − 52 over IPv6), over a real veth link with MTU 1400, and the file
/// still arrives whole.
@Suite(.serialized) struct MTUCapInteropTests {
    @Test func blockSizeIsCappedByTheInterfaceMTU() async throws {
        let directory = try TemporaryDirectory("mtu-cap")
        defer { directory.remove() }
        let file = patternBytes(count: 100_000, seed: 14)
        try directory.write("tftpboot/kernel", file)
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["10.77.0.1:6969", "[fd00:77::1]:6969"]
            root = "tftpboot"
            """)
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:77:00:03", mtu: 1400) {
            serverNamespace, clientNamespace in
            let server = try BackgroundProcess(
                "ip", ["netns", "exec", serverNamespace, try thinbootExecutable(), "serve", "--config", config])
            defer { _ = server.stop() }
            for (host, name) in [("10.77.0.1", "v4"), ("fd00:77::1", "v6")] {
                // Bounded retries: the server may still be binding when the first request goes out.
                var fetched: ToolResult?
                for _ in 0..<50 {
                    fetched = try await runTool(
                        "ip",
                        [
                            "netns", "exec", clientNamespace, try thinbootExecutable(), "tftp", "get", "--port", "6969",
                            "--blksize", "8192", "--tsize", "-o", directory.file(name), host, "kernel",
                        ], timeout: .seconds(30))
                    if fetched?.status == 0 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(fetched?.status == 0, "\(fetched?.stderr ?? "")")
                #expect(try await sha256(file: directory.file(name)) == sha256(Data(file)))
            }
            let log = server.stop()
            let granted = log.split(separator: "\n").filter { $0.contains("tftp.path=kernel") }
            #expect(granted.contains { $0.contains("tftp.peer=10.77.0.2:") && $0.contains("blksize=1368") }, "\(log)")
            #expect(
                granted.contains { $0.contains("tftp.peer=[fd00:77::2]:") && $0.contains("blksize=1348") }, "\(log)")
        }
    }

    /// RFC 7440 at full size over a jumbo-frame link: 64 blocks of 8968 bytes per window. The bundled client
    /// makes room for a whole window in its receive buffer, so no window loses its tail and nothing is resent.
    @Test func aWindowOfJumboBlocksArrivesWithoutResends() async throws {
        let directory = try TemporaryDirectory("jumbo-window")
        defer { directory.remove() }
        let file = patternBytes(count: 8_000_000, seed: 15)
        try directory.write("tftpboot/image", file)
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["10.77.0.1:6969"]
            root = "tftpboot"
            """)
        try await NeighbourMACInteropTests.withNamespacePair(clientMAC: "52:54:00:77:00:04", mtu: 9000) {
            serverNamespace, clientNamespace in
            let server = try BackgroundProcess(
                "ip", ["netns", "exec", serverNamespace, try thinbootExecutable(), "serve", "--config", config])
            defer { _ = server.stop() }
            var fetched: ToolResult?
            for _ in 0..<50 {
                fetched = try await runTool(
                    "ip",
                    [
                        "netns", "exec", clientNamespace, try thinbootExecutable(), "tftp", "get", "--port", "6969",
                        "--blksize", "8968", "--windowsize", "64", "-o", directory.file("image"), "10.77.0.1",
                        "image",
                    ], timeout: .seconds(60))
                if fetched?.status == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(fetched?.status == 0, "\(fetched?.stderr ?? "")")
            #expect(try await sha256(file: directory.file("image")) == sha256(Data(file)))
            let log = server.stop()
            let line = log.split(separator: "\n").first { $0.contains("tftp.path=image") } ?? ""
            #expect(line.contains("blksize=8968") && line.contains("windowsize=64"), "\(log)")
            #expect(line.contains("tftp.retransmits=0"), "\(line)")
        }
    }
}
