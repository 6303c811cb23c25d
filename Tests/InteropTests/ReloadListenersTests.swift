import Foundation
import TestSupport
import Testing

/// SIGHUP changes where HTTP, NBD and the admin listener listen, and their limits, without dropping a connection:
/// a download (or an NBD read) held open over a listener the reload removes finishes with the right bytes, the new
/// listener answers, the old one refuses, and the new limits apply to the next connection.
@Suite("SIGHUP applies listeners", .serialized)
struct ReloadListenersTests {
    /// Connects to 127.0.0.1:PORT from LOCAL, asks for PATH with a small receive buffer, takes the first 64 KiB,
    /// creates STARTED, waits for GO (at most 60 s), reads the rest and prints status, length and SHA-256 of the body.
    static let heldDownload = #"""
        import hashlib, json, os, socket, sys, time
        port, path, local, started, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.bind((local, 0))
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /" + path.encode() + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        data = bytearray()
        while len(data) < 65536:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        open(started, "w").close()
        deadline = time.time() + 60
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.05)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        print(json.dumps({"status": int(head.split()[1]), "length": len(body),
                          "sha256": hashlib.sha256(body).hexdigest()}))
        """#

    /// libnbd: connects to URI, reads the first half, creates STARTED, waits for GO (at most 60 s), reads the second
    /// half on the same connection and prints the size and SHA-256 of the whole.
    static let heldRead = #"""
        import hashlib, json, os, sys, time, nbd
        uri, started, go = sys.argv[1], sys.argv[2], sys.argv[3]
        h = nbd.NBD()
        h.connect_uri(uri)
        size = h.get_size()
        first = h.pread(size // 2, 0)
        open(started, "w").close()
        deadline = time.time() + 60
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.05)
        rest = h.pread(size - size // 2, size // 2)
        h.shutdown()
        print(json.dumps({"size": size, "sha256": hashlib.sha256(first + rest).hexdigest()}))
        """#

    /// What a held client printed.
    struct Held: Decodable {
        var status: Int?
        var length: Int?
        var size: Int?
        var sha256: String
    }

    @Test func anHTTPListenerMovesWhileADownloadOverTheOldOneFinishes() async throws {
        let folder = try TemporaryDirectory("reload-http")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let big = folder.file("root/big.bin")
        _ = try await runTool(
            "dd", ["if=/dev/urandom", "of=\(big)", "bs=1M", "count=16", "status=none"], timeout: .seconds(30))
        let digest = try await sha256(file: big)
        let (tftpPort, oldPort, newPort) = (
            freeLoopbackPort(), freeLoopbackPort(udp: false), freeLoopbackPort(udp: false)
        )
        func config(http port: Int, perClient: Int) -> String {
            """
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "root"

            [http]
            listen = ["127.0.0.1:\(port)"]
            max_connections_per_client = \(perClient)
            """
        }
        let serve = try await ReloadingServe(config(http: oldPort, perClient: 8), in: folder)
        let first = try folder.write("first.toml", config(http: oldPort, perClient: 8))

        let (started, go) = (folder.file("started"), folder.file("go"))
        async let download = runTool(
            "/usr/bin/python3", ["-c", Self.heldDownload, "\(oldPort)", "big.bin", "127.0.0.1", started, go],
            timeout: .seconds(120))
        try await waitForFile(started)

        try await serve.reload(config(http: newPort, perClient: 1))
        #expect(serve.log.text.contains("http limits and listeners\""), "\(serve.log.text)")
        // The new listener answers; the download holds this client's one connection, so from its address the next
        // one is refused with 503, from another it is served; the old listener takes nothing.
        #expect(try await curl(newPort, "ready.txt", from: "127.0.0.2") == "200 ready\n")
        #expect(try await curl(newPort, "ready.txt", from: "127.0.0.1").hasPrefix("503 "))
        let refused = try await runTool(
            "curl", ["-sS", "http://127.0.0.1:\(oldPort)/ready.txt"], timeout: .seconds(30))
        #expect(refused.status == 7, "curl exit \(refused.status): the removed listener must refuse")

        try folder.write("go", "")
        let result = try await download
        let held = try JSONDecoder().decode(Held.self, from: result.stdout)
        #expect(held.status == 200 && held.length == 16 << 20, "\(result.stderr)")
        #expect(held.sha256 == digest)
        #expect(try await curl(newPort, "ready.txt", from: "127.0.0.1") == "200 ready\n")

        let check = try await runTool(
            try thinbootExecutable(), ["check", "--config", serve.configFile, "--against", first],
            timeout: .seconds(60))
        #expect(
            check.stdoutText.contains("  apply   [http] listen: +127.0.0.1:\(newPort) -127.0.0.1:\(oldPort)"),
            "\(check.stdoutText)")
        #expect(check.stdoutText.contains("  apply   [http] limits and timeouts"), "\(check.stdoutText)")
        #expect(await serve.stop() == 0, "\(serve.log.text)")
    }

    @Test func anNBDListenerMovesWhileAReadOverTheOldOneFinishes() async throws {
        let folder = try TemporaryDirectory("reload-nbd")
        defer { folder.remove() }
        let image = folder.file("a.img")
        try NBDServerHarness.makeImage(at: image, seed: 5, size: 1 << 20)
        let digest = try await sha256(file: image)
        let (oldPort, newPort) = (freeLoopbackPort(udp: false), freeLoopbackPort(udp: false))
        func config(nbd port: Int, perClient: Int) -> String {
            """
            [nbd]
            listen = ["127.0.0.1:\(port)"]
            max_connections_per_client = \(perClient)

            [[nbd.export]]
            name = "a"
            file = "a.img"
            """
        }
        let serve = try await ReloadingServe(config(nbd: oldPort, perClient: 8), in: folder)
        let (started, go) = (folder.file("started"), folder.file("go"))
        async let read = runTool(
            "/usr/bin/python3", ["-c", Self.heldRead, "nbd://127.0.0.1:\(oldPort)/a", started, go],
            timeout: .seconds(120))
        try await waitForFile(started)

        try await serve.reload(config(nbd: newPort, perClient: 1))
        #expect(serve.log.text.contains("nbd listeners, limits and exports"), "\(serve.log.text)")
        // The held read is this client's one connection: the next is refused, on the new port; the old port is gone.
        #expect(try await nbdSize(newPort) == nil)
        #expect(serve.log.text.contains("max_connections_per_client = 1"), "\(serve.log.text)")
        #expect(try await nbdSize(oldPort) == nil)

        try folder.write("go", "")
        let result = try await read
        let held = try JSONDecoder().decode(Held.self, from: result.stdout)
        #expect(held.size == 1 << 20 && held.sha256 == digest, "\(result.stderr)")
        #expect(try await nbdSize(newPort) == "\(1 << 20)")
        #expect(try await nbdSize(oldPort) == nil)
        #expect(await serve.stop() == 0, "\(serve.log.text)")
    }

    @Test func theAdminListenerMovesAndItsAllowListApplies() async throws {
        let folder = try TemporaryDirectory("reload-admin")
        defer { folder.remove() }
        try folder.write("root/ready.txt", "ready\n")
        let (tftpPort, oldPort, newPort) = (
            freeLoopbackPort(), freeLoopbackPort(udp: false), freeLoopbackPort(udp: false)
        )
        func config(admin port: Int, allow: String?, group: String? = nil) -> String {
            """
            \(group.map { "[serve]\ngroup = \"\($0)\"\n" } ?? "")
            [tftp]
            listen = ["127.0.0.1:\(tftpPort)"]
            root = "root"

            [admin]
            listen = ["127.0.0.1:\(port)"]
            \(allow.map { "allow = [\"\($0)\"]" } ?? "")
            """
        }
        let serve = try await ReloadingServe(config(admin: oldPort, allow: nil), in: folder)
        #expect(try await curl(oldPort, "healthz", from: "127.0.0.1") == "200 ok\n")

        try await serve.reload(config(admin: newPort, allow: "10.0.0.0/8"))
        #expect(serve.log.text.contains("admin listen and allow"), "\(serve.log.text)")
        #expect(try await curl(newPort, "healthz", from: "127.0.0.1").hasPrefix("403 "))
        let refused = try await runTool("curl", ["-sS", "http://127.0.0.1:\(oldPort)/healthz"], timeout: .seconds(30))
        #expect(refused.status == 7, "curl exit \(refused.status): the removed listener must refuse")

        // A group only a restart can apply: said once, however many reloads follow.
        try await serve.reload(config(admin: newPort, allow: "127.0.0.2/32", group: "nogroup"))
        #expect(try await curl(newPort, "healthz", from: "127.0.0.2") == "200 ok\n")
        #expect(try await curl(newPort, "healthz", from: "127.0.0.1").hasPrefix("403 "))
        try await serve.reload(config(admin: newPort, allow: "127.0.0.2/32", group: "nogroup"))
        let warnings = serve.log.text.components(separatedBy: "\n").filter { $0.contains("needs a restart") }
        #expect(
            warnings.count == 1 && warnings[0].contains("reload.key=\"[serve] group: - -> nogroup\""), "\(warnings)")
        #expect(await serve.stop() == 0, "\(serve.log.text)")
    }

    /// `STATUS BODY` of a GET from `local`.
    private func curl(_ port: Int, _ path: String, from local: String) async throws -> String {
        let result = try await runTool(
            "curl", ["-sS", "--interface", local, "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/\(path)"],
            timeout: .seconds(30))
        let text = result.stdoutText
        guard let end = text.lastIndex(of: "\n") else { return text }
        return "\(text[text.index(after: end)...]) \(text[..<end])"
    }

    /// The export's size through `nbdinfo`, or nil when the connection is refused or closed.
    private func nbdSize(_ port: Int) async throws -> String? {
        let result = try await runTool(
            "/usr/bin/nbdinfo", ["--size", "nbd://127.0.0.1:\(port)/a"], timeout: .seconds(20))
        return result.status == 0 ? result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// Waits (at most 30 s) until `path` exists.
    private func waitForFile(_ path: String) async throws {
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: path) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(FileManager.default.fileExists(atPath: path), "\(path) never appeared")
    }
}
