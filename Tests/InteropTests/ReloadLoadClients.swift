import Foundation
import TestSupport

/// The clients of the reload-under-load test, each a Python program run through `runTool` until a stop file
/// appears (and at most `maxSeconds`): a TFTP storm of lockstep boot clients and NBD readers on libnbd.
enum ReloadLoadClients {
    struct StormPlan: Encodable {
        var port: Int
        /// One client per address, each fetching over and over from a fresh port.
        var clients: [String]
        /// The static file every other fetch asks for, and its SHA-256.
        var file: String
        var digest: String
        var stop: String
        var maxSeconds = 120.0
    }

    struct StormOutcome: Decodable, Sendable {
        /// Transfers that ended with the right bytes: the static file by digest, `gen/cN` by its text.
        var completed: Int
        var generated: Int
        /// How the others ended, the first few (`error N message`, `no answer`, `wrong bytes`, `went back`).
        var failures: [String]
        var failureCount: Int
        /// The route generations the generated files came from, and the blksizes granted, each once.
        var generations: [Int]
        var blksizes: [Int]
    }

    /// Lockstep clients in one `poll` loop, as pxelinux asks (`blksize 1408`): resend the RRQ or the last ACK after
    /// a second of silence, give up after 10 in a row. Each client alternates `gen/c<index>` (first), whose text
    /// names the route generation — it must never go back to an older one —, with the static file.
    static func storm(_ plan: StormPlan) async throws -> StormOutcome {
        let text = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        let result = try await runTool(
            "/usr/bin/python3", ["-c", PythonTFTPClient.prelude + "\n" + stormScript, text],
            timeout: .seconds(Int64(plan.maxSeconds + 60)))
        guard result.status == 0 else { throw ToolFailure(tool: "storm", status: result.status, stderr: result.stderr) }
        return try JSONDecoder().decode(StormOutcome.self, from: result.stdout)
    }

    struct ReaderPlan: Encodable {
        var uri: String
        var readers: Int
        var digest: String
        var stop: String
        var maxSeconds = 120.0
    }

    struct ReaderOutcome: Decodable, Sendable {
        /// Whole-image passes whose SHA-256 matched, over all readers.
        var passes: Int
        /// Readers that connected; each keeps its one connection to the end.
        var connected: Int
        var failures: [String]
    }

    /// `readers` libnbd connections, each reading the whole export in 64 KiB requests over and over (a pause
    /// between passes) on the one connection it opened, checking each pass's digest.
    static func readers(_ plan: ReaderPlan) async throws -> ReaderOutcome {
        let text = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        let result = try await runTool(
            "/usr/bin/python3", ["-c", readerScript, text], timeout: .seconds(Int64(plan.maxSeconds + 60)))
        guard result.status == 0 else {
            throw ToolFailure(tool: "nbd readers", status: result.status, stderr: result.stderr)
        }
        return try JSONDecoder().decode(ReaderOutcome.self, from: result.stdout)
    }

    private static let stormScript = #"""
        import hashlib, json, os, re, select, socket, struct, sys, time
        plan = json.loads(sys.argv[1])
        server = ("127.0.0.1", plan["port"])
        began = time.monotonic()
        stopping = False
        totals = {"completed": 0, "generated": 0, "failureCount": 0}
        failures, generations, blksizes = [], set(), set()
        poller = select.poll()
        by_fd = {}

        def fail(reason):
            totals["failureCount"] += 1
            if len(failures) < 10:
                failures.append(reason)

        class Client:
            def __init__(self, index, address, now):
                self.index, self.address, self.round, self.generation = index, address, 0, -1
                self.sock, self.done = None, False
                self.start(now)

            def start(self, now):
                if self.sock is not None:
                    poller.unregister(self.sock.fileno())
                    del by_fd[self.sock.fileno()]
                    self.sock.close()
                self.generated = self.round % 2 == 0
                self.name = "gen/c%d" % self.index if self.generated else plan["file"]
                self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.sock.bind((self.address, 0))
                self.sock.setblocking(False)
                poller.register(self.sock.fileno(), select.POLLIN)
                by_fd[self.sock.fileno()] = self
                self.peer, self.blksize, self.expected, self.data, self.silent = None, 512, 1, bytearray(), 0
                self.last = b"\0\1" + self.name.encode() + b"\0octet\0blksize\x001408\0"
                self.sock.sendto(self.last, server)
                self.due = now + 1

            def send(self, packet, now):
                self.last = packet
                self.sock.sendto(packet, self.peer)
                self.due = now + 1

            def receive(self, now):
                got = read_packet(self)
                if got is None:
                    return
                opcode, number, packet = got
                self.silent = 0
                if opcode == 5:
                    fail("%s: error %d %s" % (self.name, number, packet[4:-1].decode(errors="replace")))
                    self.next(now)
                elif opcode == 6:
                    options = oack_options(packet)
                    self.blksize = int(options.get("blksize", 512))
                    blksizes.add(self.blksize)
                    self.send(struct.pack("!HH", 4, 0), now)
                elif opcode == 3:
                    if number == self.expected & 0xFFFF:
                        self.data += packet[4:]
                        self.expected += 1
                        if len(packet) - 4 < self.blksize:
                            self.send(struct.pack("!HH", 4, number), now)
                            self.finish()
                            self.next(now)
                            return
                    self.send(struct.pack("!HH", 4, number), now)

            def finish(self):
                if not self.generated:
                    if hashlib.sha256(bytes(self.data)).hexdigest() == plan["digest"]:
                        totals["completed"] += 1
                    else:
                        fail("%s: wrong bytes (%d)" % (self.name, len(self.data)))
                    return
                match = re.fullmatch(rb"generation (\d+) (c\d+)\n", bytes(self.data))
                if not match or match.group(2).decode() != "c%d" % self.index:
                    fail("%s: wrong bytes %r" % (self.name, bytes(self.data[:80])))
                    return
                generation = int(match.group(1))
                if generation < self.generation:
                    fail("%s: went back from generation %d to %d" % (self.name, self.generation, generation))
                    return
                self.generation = generation
                generations.add(generation)
                totals["completed"] += 1
                totals["generated"] += 1

            def next(self, now):
                if stopping:
                    self.done = True
                else:
                    self.round += 1
                    self.start(now)

            def timer(self, now):
                if self.done or now < self.due:
                    return
                self.silent += 1
                if self.silent > 10:
                    fail("%s: no answer after %d blocks" % (self.name, self.expected - 1))
                    self.next(now)
                    return
                self.sock.sendto(self.last, self.peer or server)
                self.due = now + 1

        now = time.monotonic()
        clients = [Client(i, address, now) for i, address in enumerate(plan["clients"])]
        next_check = 0.0
        while not all(c.done for c in clients) and time.monotonic() - began < plan["maxSeconds"] + 30:
            for fd, _ in poller.poll(50):
                by_fd[fd].receive(time.monotonic())
            now = time.monotonic()
            for c in clients:
                c.timer(now)
            if now >= next_check:
                next_check = now + 0.1
                stopping = stopping or os.path.exists(plan["stop"]) or now - began > plan["maxSeconds"]
        for c in clients:
            if not c.done:
                fail("%s: unfinished at the deadline" % c.name)
        print(json.dumps(dict(totals, failures=failures, generations=sorted(generations), blksizes=sorted(blksizes))))
        """#

    private static let readerScript = #"""
        import hashlib, json, os, sys, threading, time, nbd
        plan = json.loads(sys.argv[1])
        began = time.monotonic()
        lock = threading.Lock()
        totals = {"passes": 0, "connected": 0}
        failures = []

        def done():
            return os.path.exists(plan["stop"]) or time.monotonic() - began > plan["maxSeconds"]

        def reader(index):
            try:
                h = nbd.NBD()
                h.connect_uri(plan["uri"])
                with lock:
                    totals["connected"] += 1
                size = h.get_size()
                while True:
                    digest = hashlib.sha256()
                    for offset in range(0, size, 65536):
                        digest.update(h.pread(min(65536, size - offset), offset))
                    with lock:
                        if digest.hexdigest() == plan["digest"]:
                            totals["passes"] += 1
                        else:
                            failures.append("reader %d: wrong bytes" % index)
                    if done():
                        break
                    time.sleep(0.2)
                h.shutdown()
            except nbd.Error as error:
                with lock:
                    failures.append("reader %d: %s" % (index, error))

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(plan["readers"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(dict(totals, failures=failures)))
        """#
}
