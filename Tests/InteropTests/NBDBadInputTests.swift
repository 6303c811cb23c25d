import Foundation
import NBD
import NIOCore
import TestSupport
import Testing

/// Clients that break the protocol, stall or vanish, driven from raw sockets in Python: each gets the
/// protocol's answer or a clean disconnect, and the server goes on serving everyone else.
@Suite(.serialized) struct NBDBadInputTests {
    /// Python helpers: a raw newstyle client that can send anything.
    static let prelude = """
        import socket, struct, sys
        HOST, PORT = "127.0.0.1", int(sys.argv[1])
        IHAVEOPT = 0x49484156454F5054
        def connect():
            s = socket.create_connection((HOST, PORT), timeout=20)
            greeting = recvall(s, 18)
            assert greeting[:8] == b"NBDMAGIC", greeting
            return s
        def recvall(s, n):
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk:
                    return data
                data += chunk
            return data
        def closed(s):
            try:
                while True:
                    if not s.recv(65536):
                        return True
            except ConnectionResetError:
                return True
        def option(s, code, data):
            s.sendall(struct.pack(">QII", IHAVEOPT, code, len(data)) + data)
        def reply(s):
            magic, opt, typ, length = struct.unpack(">QIII", recvall(s, 20))
            return typ, recvall(s, length)
        def transmission(s, name=b"disk"):
            s.sendall(struct.pack(">I", 3))
            option(s, 1, name)  # EXPORT_NAME with NO_ZEROES
            size, flags = struct.unpack(">QH", recvall(s, 10))
            return size
        def request(s, command, cookie, offset, length, flags=0):
            s.sendall(struct.pack(">IHHQQI", 0x25609513, flags, command, cookie, offset, length))

        """

    func run(_ server: NBDServerHarness, _ script: String) async throws -> [String] {
        let result = try await runTool(
            "python3", ["-c", Self.prelude + script, "\(server.port)"], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdoutText.split(separator: "\n").map(String.init)
    }

    func withServer(
        handshakeTimeout: TimeAmount = .seconds(10), configure: (inout NBDServerConfiguration) -> Void = { _ in },
        _ body: (NBDServerHarness) async throws -> Void
    ) async throws {
        let harness = try await NBDServerHarness(
            { [NBDExportDefinition(name: "disk", path: $0.file("disk.img"))] }, handshakeTimeout: handshakeTimeout,
            configure: configure)
        try await harness.serving(body)
    }

    /// The server still answers a real client after the abuse.
    func expectStillServing(_ server: NBDServerHarness) async throws {
        let result = try await runTool("nbdinfo", ["--size", server.uri("disk")])
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(NBDServerHarness.imageSize)")
    }

    @Test func protocolViolationsGetTheirAnswers() async throws {
        try await withServer { server in
            let lines = try await run(
                server,
                """
                s = connect(); s.sendall(struct.pack(">I", 1 << 9))
                print("unknown flags closed", closed(s))

                s = connect(); s.sendall(struct.pack(">I", 3)); s.sendall(b"GARBAGE!" + bytes(8))
                print("bad option magic closed", closed(s))

                s = connect(); s.sendall(struct.pack(">I", 3))
                name = b"x" * 5000
                option(s, 7, struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
                print("long name", hex(reply(s)[0]))
                option(s, 7, struct.pack(">I", 400) + b"disk" + struct.pack(">H", 0))
                print("lying length", hex(reply(s)[0]))
                option(s, 5, b"")
                print("starttls", hex(reply(s)[0]))
                option(s, 2, b"")
                print("abort", reply(s)[0], closed(s))

                s = connect(); s.sendall(struct.pack(">I", 3))
                s.sendall(struct.pack(">QII", IHAVEOPT, 7, 1 << 30))
                print("huge option closed", closed(s))

                s = connect(); s.sendall(struct.pack(">I", 3))
                for i in range(2000):
                    option(s, 8, b"")
                answered = 0
                try:
                    while reply(s)[0] == 1:
                        answered += 1
                except Exception:
                    pass
                print("options answered before close", answered)

                s = connect(); transmission(s)
                request(s, 42, 7, 0, 0)
                print("unknown command", struct.unpack(">IIQ", recvall(s, 16)))
                request(s, 1, 8, 0, 64 << 20 + 1)
                print("oversized write closed", closed(s))

                s = connect(); transmission(s)
                request(s, 0, 9, 0, 1 << 20, flags=0)
                s.sendall(struct.pack(">IHHQQI", 0xdeadbeef, 0, 0, 0, 0, 0))
                data = recvall(s, 16 + (1 << 20))
                print("read before bad magic answered", len(data) == 16 + (1 << 20))
                print("bad request magic closed", closed(s))

                s = connect(); transmission(s)
                request(s, 2, 1, 0, 0)
                request(s, 0, 2, 0, 4096)
                print("request after DISC unanswered", recvall(s, 16) == b"")
                """)
            #expect(
                lines == [
                    "unknown flags closed True", "bad option magic closed True", "long name 0x80000003",
                    "lying length 0x80000003", "starttls 0x80000001", "abort 1 True", "huge option closed True",
                    "options answered before close \(NBDLimits.maximumOptionCount)",
                    "unknown command (1732535960, 22, 7)",
                    "oversized write closed True", "read before bad magic answered True",
                    "bad request magic closed True",
                    "request after DISC unanswered True",
                ])
            try await expectStillServing(server)
        }
    }

    @Test func clientsThatVanishMidReplyHurtNobody() async throws {
        try await withServer { server in
            let lines = try await run(
                server,
                """
                for i in range(20):
                    s = connect(); transmission(s)
                    for cookie in range(8):
                        request(s, 0, cookie, 0, 4 << 20)
                    s.close()
                print("done")
                """)
            #expect(lines == ["done"])
            try await expectStillServing(server)
        }
    }

    @Test func stalledHandshakesAreTimedOut() async throws {
        try await withServer(handshakeTimeout: .milliseconds(300)) { server in
            let lines = try await run(
                server,
                """
                s = connect()
                print("stalled client closed", closed(s))
                s = connect(); s.sendall(struct.pack(">I", 3))
                option(s, 8, b"")
                reply(s)
                print("half-negotiated client closed", closed(s))
                """)
            #expect(lines == ["stalled client closed True", "half-negotiated client closed True"])
        }
    }

    @Test func aThousandIdleConnectionsAndTheServerStillServes() async throws {
        // All from 127.0.0.1: lift the per-client cap, which a site behind one address would raise too.
        try await withServer(configure: { $0.maxConnectionsPerClient = 2000 }) { server in
            let lines = try await run(
                server,
                """
                import subprocess
                idle = []
                for i in range(1000):
                    s = connect(); transmission(s); idle.append(s)
                out = subprocess.run(["nbdinfo", "--size", "nbd://%s:%d/disk" % (HOST, PORT)], capture_output=True, timeout=60)
                print("nbdinfo with 1000 idle", out.stdout.decode().strip())
                s = idle[500]
                request(s, 0, 1, 0, 4096)
                print("idle connection still answers", len(recvall(s, 16 + 4096)))
                for s in idle:
                    s.close()
                """)
            #expect(
                lines == [
                    "nbdinfo with 1000 idle \(NBDServerHarness.imageSize)",
                    "idle connection still answers \(16 + 4096)",
                ])
        }
    }
}
