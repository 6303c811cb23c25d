import Foundation
import Logging
import NBD
import NIOCore
import TestSupport
import Testing

/// What one unprivileged client can make the NBD server hold (issue 11, section 4): refused WRITE payloads,
/// connections, and image pages touched ahead of replies it never reads. The server runs in this process, so
/// the Python client reads the server's memory from /proc/<this pid>/status.
@Suite(.serialized) struct NBDResourceLimitTests {
    static let prelude =
        NBDBadInputTests.prelude + """
            SERVER_PID = int(sys.argv[2])
            def rss_mib():
                for line in open("/proc/%d/status" % SERVER_PID):
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) // 1024
            import time

            """

    func run(_ server: NBDServerHarness, _ script: String) async throws -> [String] {
        let result = try await runTool(
            "python3",
            ["-c", Self.prelude + script, "\(server.port)", "\(ProcessInfo.processInfo.processIdentifier)"],
            timeout: .seconds(180))
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdoutText.split(separator: "\n").map(String.init)
    }

    func withServer(
        imageSize: Int = NBDServerHarness.imageSize, configure: (inout NBDServerConfiguration) -> Void = { _ in },
        logger: Logger = Logger(label: "nbd-test", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (NBDServerHarness) async throws -> Void
    ) async throws {
        let harness = try await NBDServerHarness(
            { directory in
                let path = directory.file("disk.img")
                try NBDServerHarness.makeImage(at: path, seed: 1, size: imageSize)
                return [NBDExportDefinition(name: "disk", path: path)]
            }, configure: configure, logger: logger)
        try await harness.serving(body)
    }

    /// Four connections each send a 64 MiB WRITE to a read-only export, all but its last byte: the server drops
    /// the payloads as they arrive (today it buffers 256 MiB), then answers each EPERM once the byte comes.
    @Test func refusedWritePayloadsAreDrainedNotBuffered() async throws {
        try await withServer { server in
            let lines = try await run(
                server,
                """
                length = 64 << 20
                before = rss_mib()
                chunk = bytes(1 << 20)
                clients = []
                for i in range(4):
                    s = connect(); transmission(s)
                    request(s, 1, i, 0, length)
                    for _ in range(length // len(chunk) - 1):
                        s.sendall(chunk)
                    s.sendall(chunk[:-1])
                    clients.append(s)
                time.sleep(1)
                growth = rss_mib() - before
                print("rss growth under 64 MiB", growth < 64, growth)
                for i, s in enumerate(clients):
                    s.sendall(b"\\0")
                    magic, error, cookie = struct.unpack(">IIQ", recvall(s, 16))
                    print("write", cookie, "errno", error)
                s = clients[0]
                request(s, 0, 9, 0, 4096)
                print("read after refused write", struct.unpack(">IIQ", recvall(s, 16))[1], len(recvall(s, 4096)))
                """)
            #expect(lines.count == 6)
            #expect(lines.first?.hasPrefix("rss growth under 64 MiB True") == true, "\(lines)")
            #expect(
                Array(lines.dropFirst()) == (0..<4).map { "write \($0) errno 1" } + ["read after refused write 0 4096"])
        }
    }

    /// 64 READs of 32 MiB sent in one burst, replies the client does not read, on a 512 MiB image: the server stops taking requests
    /// while a water mark of replies is queued, so it maps in a few replies' worth of the image, not all of it.
    @Test func unreadRepliesDoNotPullTheImageIntoMemory() async throws {
        try await withServer(imageSize: 512 << 20) { server in
            let lines = try await run(
                server,
                """
                length = 32 << 20
                before = rss_mib()
                s = connect(); transmission(s)
                # One burst, so the server gets every request in one read.
                s.sendall(b"".join(
                    struct.pack(">IHHQQI", 0x25609513, 0, 0, cookie, (cookie % 16) * length, length)
                    for cookie in range(64)))
                time.sleep(2)
                growth = rss_mib() - before
                print("rss growth under 160 MiB", growth < 160, growth)
                replies = 0
                for _ in range(64):
                    magic, error, cookie = struct.unpack(">IIQ", recvall(s, 16))
                    if error == 0 and len(recvall(s, length)) == length:
                        replies += 1
                print("replies", replies)
                """)
            #expect(lines.count == 2)
            #expect(lines.first?.hasPrefix("rss growth under 160 MiB True") == true, "\(lines)")
            #expect(lines.last == "replies 64", "\(lines)")
        }
    }

    /// Past `max_connections_per_client` and `max_connections` a connection is closed before the greeting, with
    /// a log line; a slot freed by a closing client is taken by the next.
    @Test func connectionsPastTheCapsAreClosedWithALogLine() async throws {
        let record = LogRecord(level: .info)
        try await withServer(
            configure: {
                $0.maxConnections = 3
                $0.maxConnectionsPerClient = 2
            }, logger: record.logger
        ) { server in
            let lines = try await run(
                server,
                """
                def greeted(source):
                    s = socket.create_connection((HOST, PORT), timeout=20, source_address=(source, 0))
                    return s, recvall(s, 18)[:8] == b"NBDMAGIC"
                a, ok_a = greeted("127.0.0.1"); b, ok_b = greeted("127.0.0.1")
                c, ok_c = greeted("127.0.0.1")
                print("third from one client greeted", ok_c, "closed", closed(c))
                d, ok_d = greeted("127.0.0.2")
                e, ok_e = greeted("127.0.0.2")
                print("first two and another client's first greeted", ok_a, ok_b, ok_d)
                print("fourth in total greeted", ok_e, "closed", closed(e))
                a.close()
                for attempt in range(50):
                    f, ok_f = greeted("127.0.0.1")
                    if ok_f:
                        break
                    f.close(); time.sleep(0.1)
                print("a freed slot is reused", ok_f)
                """)
            #expect(
                lines == [
                    "third from one client greeted False closed True",
                    "first two and another client's first greeted True True True",
                    "fourth in total greeted False closed True",
                    "a freed slot is reused True",
                ])
        }
        let refusals = record.matching("nbd connection refused")
        #expect(refusals.count >= 2)
        #expect(refusals.contains { $0.contains("max_connections_per_client = 2") && $0.contains("127.0.0.1") })
        #expect(refusals.contains { $0.contains("max_connections = 3") && $0.contains("127.0.0.2") })
    }
}
