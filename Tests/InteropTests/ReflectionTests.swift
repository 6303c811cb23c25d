import Foundation
import TestSupport
import Testing

/// Reflection (issue 11, section 5): how many bytes a server sends for each byte of a spoofed-like RRQ whose sender
/// never acknowledges, measured for Thinboot, tftp-hpa (`in.tftpd -L`) and dnsmasq's TFTP in one run.
///
/// The three run in a network namespace this test makes (`tba…`), each on its own loopback: dnsmasq cannot leave
/// port 69, and inside the namespace no other test or engineer holds it. One Python program sends one RRQ of each
/// form to each server and counts what comes back, never answering, for the same window.
@Suite("TFTP reflection against peers", .serialized)
struct ReflectionTests {
    /// The issue's 30 s window. Every server's resends are over or periodic well before it ends, so a shorter one
    /// would favour whoever resends last; the six measurements run at once, so the test takes the window once.
    static let window = 30.0

    struct Ratio: Decodable, Sendable {
        var sent: Int
        var received: Int
        var ratio: Double
    }

    @Test(.timeLimit(.minutes(2))) func thinbootReflectsNoMoreThanTheBestPeer() async throws {
        let namespace = "tba\(getpid() % 100_000)amp"
        let directory = try TemporaryDirectory("thinboot-reflection")
        defer { directory.remove() }
        _ = try directory.write("tftpboot/pxelinux.0", patternBytes(count: 42_000, seed: 31))
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["127.0.0.1:6969"]
            root = "tftpboot"
            """)
        #expect(try await runTool("ip", ["netns", "add", namespace]).status == 0)
        defer { removeNamespace(namespace) }
        // Loopback, and a veth pair with an address: getaddrinfo's AI_ADDRCONFIG (in.tftpd's) finds no IPv4 in a
        // namespace holding only loopback and fails even for "127.0.0.1".
        for command in [
            ["link", "set", "lo", "up"], ["link", "add", "tbav0", "type", "veth", "peer", "name", "tbav1"],
            ["addr", "add", "10.123.0.1/24", "dev", "tbav0"], ["link", "set", "tbav0", "up"],
            ["link", "set", "tbav1", "up"],
        ] {
            #expect(try await runTool("ip", ["-n", namespace] + command).status == 0, "ip \(command)")
        }

        let root = directory.file("tftpboot")
        let inside = ["netns", "exec", namespace]
        let servers = [
            try BackgroundProcess("ip", inside + [try thinbootExecutable(), "serve", "--config", config]),
            try BackgroundProcess("ip", inside + [try which("in.tftpd"), "-L", "-s", "-a", "127.0.0.1:6970", root]),
            // Behind a shell: dnsmasq closes the descriptors it inherits, which Foundation takes for its exit and
            // then waits for it on the thread every other Process needs.
            try BackgroundProcess(
                "ip",
                inside + [
                    "sh", "-c",
                    "\(try which("dnsmasq")) --keep-in-foreground --conf-file=/dev/null --port=0 --enable-tftp "
                        + "--tftp-root='\(root)' --listen-address=127.0.0.1 --bind-interfaces --quiet-tftp "
                        + "--pid-file= --user=root --log-facility=- & wait",
                ]),
        ]
        // The namespace's processes are all this test's: each is killed by its PID (dnsmasq holds the shell's stderr
        // pipe open), then the started processes are reaped.
        defer {
            removeNamespace(namespace)
            for server in servers { server.stop() }
        }

        let plan = #"{"servers": {"thinboot": 6969, "tftp-hpa": 6970, "dnsmasq": 69}, "window": \#(Self.window)}"#
        let result = try await runTool(
            "ip", inside + ["python3", "-c", Self.script, plan], timeout: .seconds(Int64(Self.window) + 60))
        #expect(result.status == 0, "\(result.stderr)")
        let ratios = try JSONDecoder().decode([String: [String: Ratio]].self, from: result.stdout)
        for form in ["no options", "blksize 1468 tsize 0"] {
            let measured = ratios.mapValues { $0[form]?.ratio ?? .infinity }
            let best = min(measured["tftp-hpa"] ?? .infinity, measured["dnsmasq"] ?? .infinity)
            print("reflection, \(form): \(measured.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })")
            #expect(measured["thinboot"].map { $0 <= best } == true, "\(form): \(measured)")
            #expect(best.isFinite && best > 1, "the peers must answer too: \(measured)")
        }
    }

    /// Waits until each server answers (an RRQ, aborted with an ERROR at once), then sends each form once from its
    /// own socket and counts the bytes that come back within the window, never answering.
    private static let script = #"""
        import json, select, socket, sys, time

        plan = json.loads(sys.argv[1])
        forms = {"no options": b"\0\1pxelinux.0\0octet\0",
                 "blksize 1468 tsize 0": b"\0\1pxelinux.0\0octet\0blksize\x001468\0tsize\x000\0"}

        for name, port in plan["servers"].items():
            for attempt in range(100):
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probe.settimeout(0.1)
                probe.sendto(forms["no options"], ("127.0.0.1", port))
                try:
                    _, peer = probe.recvfrom(70000)
                    probe.sendto(b"\0\5\0\0probe\0", peer)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                sys.exit("%s never answered on port %d" % (name, port))
            probe.close()

        sockets = {}
        for name, port in plan["servers"].items():
            for form, request in forms.items():
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.sendto(request, ("127.0.0.1", port))
                sockets[s.fileno()] = (s, name, form, len(request))
        received = {key: 0 for key in sockets}
        poller = select.poll()
        for fd in sockets:
            poller.register(fd, select.POLLIN)
        end = time.monotonic() + plan["window"]
        while (left := end - time.monotonic()) > 0:
            for fd, _ in poller.poll(int(left * 1000) + 1):
                try:
                    while True:
                        received[fd] += len(sockets[fd][0].recv(70000))
                except BlockingIOError:
                    pass
        result = {}
        for fd, (s, name, form, sent) in sockets.items():
            result.setdefault(name, {})[form] = {"sent": sent, "received": received[fd],
                                                 "ratio": received[fd] / sent}
        print(json.dumps(result))
        """#
}

/// Kills, by PID, every process left in `namespace` (only this test starts any there), then deletes it. Blocking:
/// it runs from a `defer`, where `await` (and so `runTool`) is not allowed.
private func removeNamespace(_ namespace: String) {
    withSignalsUnblocked { removeNamespaceNow(namespace) }
}

private func removeNamespaceNow(_ namespace: String) {
    let pids = Pipe()
    let list = Process()
    list.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    list.arguments = ["netns", "pids", namespace]
    list.standardOutput = pids
    if (try? list.run()) != nil {
        list.waitUntilExit()
        let text = String(decoding: pids.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        for pid in text.split(whereSeparator: \.isNewline).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }
    let delete = Process()
    delete.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    delete.arguments = ["netns", "delete", namespace]
    if (try? delete.run()) != nil { delete.waitUntilExit() }
}
