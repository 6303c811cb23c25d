import Foundation
import TestSupport

/// Boot ROMs and an attacker against one server at once, from many loopback addresses: a Python program (run through
/// `runTool`) drives every socket from one `select` loop.
///
/// Clients behave as iPXE and pxelinux do: ask with `tsize 0 blksize 1408`, resend the RRQ while nothing comes (after
/// 1, 2, 4, 8, 8 … s), acknowledge in lockstep (resending the last ACK after a second of silence), and take an ERROR
/// as final. The attacker sends `timeout 255` RRQs it never answers, from `portsPerAttacker` ports of each of its
/// addresses, each port asking again every `attackInterval` seconds (0: once).
enum BootStorm {
    struct Plan: Encodable {
        var host = "127.0.0.1"
        var port: Int
        var name: String
        var clients: [String]
        var attackers: [String] = []
        var portsPerAttacker = 8
        var attackInterval = 0.5
        /// Seconds the attacker runs alone before the clients start.
        var headStart = 1.0
        /// Seconds after which clients still unfinished count as failed.
        var deadline = 60.0
    }

    struct Outcome: Decodable, Sendable {
        /// Clients that received the whole file.
        var completed: Int
        /// How the others ended (`error N message`, `deadline`).
        var failures: [String]
        /// SHA-256 of each completed client's bytes → how many clients got them.
        var digests: [String: Int]
        /// RRQs the attacker sent.
        var attackRequests: Int
        /// Seconds from the clients' start to the last completion.
        var seconds: Double
    }

    /// Runs `plan`, in network namespace `namespace` when given.
    static func run(_ plan: Plan, namespace: String? = nil) async throws -> Outcome {
        let planText = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        let python = ["python3", "-c", PythonTFTPClient.prelude + "\n" + script, planText]
        let command = namespace.map { ["ip", "netns", "exec", $0] + python } ?? python
        let result = try await runTool(
            command[0], Array(command.dropFirst()), timeout: .seconds(Int64(plan.deadline + plan.headStart + 30)))
        guard result.status == 0 else {
            throw RawTFTPClient.Failure(plan: planText, stderr: result.stderr)
        }
        return try JSONDecoder().decode(Outcome.self, from: result.stdout)
    }

    /// Every wait is bounded by `poll`'s timeout and the plan's deadline.
    private static let script = #"""
        import hashlib, json, select, socket, struct, sys, time

        plan = json.loads(sys.argv[1])
        server = (plan["host"], plan["port"])
        name = plan["name"].encode()
        rrq = b"\0\1" + name + b"\0octet\0tsize\0" + b"0\0blksize\0" + b"1408\0"
        attack = b"\0\1" + name + b"\0octet\0timeout\x00255\0"
        backoff = [1, 2, 4, 8]

        class Client:
            def __init__(self, address, now):
                self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.sock.bind((address, 0))
                self.sock.setblocking(False)
                self.peer, self.blksize, self.expected, self.data = None, 512, 1, bytearray()
                self.tries, self.done, self.failure, self.last = 0, False, None, None
                self.send_rrq(now)

            def send_rrq(self, now):
                self.sock.sendto(rrq, server)
                self.due = now + backoff[min(self.tries, len(backoff) - 1)]
                self.tries += 1

            def receive(self, now):
                got = read_packet(self)
                if got is None:
                    return
                opcode, number, packet = got
                if opcode == 5:
                    self.done, self.failure = True, "error %d %s" % (number, packet[4:-1].decode(errors="replace"))
                    return
                if opcode == 6:
                    options = oack_options(packet)
                    self.blksize = int(options.get("blksize", 512))
                    self.ack(0, now)
                elif opcode == 3:
                    if number == self.expected & 0xFFFF:
                        self.data += packet[4:]
                        self.expected += 1
                        if len(packet) - 4 < self.blksize:
                            self.ack(number, now)
                            self.done, self.finished = True, now
                            return
                    self.ack(number, now)

            def ack(self, block, now):
                self.last = struct.pack("!HH", 4, block)
                self.sock.sendto(self.last, self.peer)
                self.due = now + 1

            def timer(self, now):
                if self.done or now < self.due:
                    return
                if self.peer is None:
                    self.send_rrq(now)
                else:
                    self.sock.sendto(self.last, self.peer)
                    self.due = now + 1

        attackers = []
        for address in plan["attackers"]:
            for _ in range(plan["portsPerAttacker"]):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((address, 0))
                s.setblocking(False)
                attackers.append(s)
        attack_requests = 0
        next_attack = 0.0

        def run_attack(now):
            global attack_requests, next_attack
            if not attackers or now < next_attack:
                return
            if next_attack and plan["attackInterval"] == 0:
                return
            for s in attackers:
                s.sendto(attack, server)
                attack_requests += 1
            next_attack = now + (plan["attackInterval"] or 1e9)

        def drain_attackers(readable):
            for s in readable:
                try:
                    while True:
                        s.recv(70000)
                except BlockingIOError:
                    pass

        # poll, not select: there can be more than FD_SETSIZE sockets.
        poller = select.poll()
        attacker_by_fd = {s.fileno(): s for s in attackers}
        for fd in attacker_by_fd:
            poller.register(fd, select.POLLIN)
        start = time.monotonic()
        while time.monotonic() - start < plan["headStart"]:
            run_attack(time.monotonic())
            drain_attackers([attacker_by_fd[fd] for fd, _ in poller.poll(50)])

        began = time.monotonic()
        clients = [Client(address, began) for address in plan["clients"]]
        client_by_fd = {c.sock.fileno(): c for c in clients}
        for fd in client_by_fd:
            poller.register(fd, select.POLLIN)
        while True:
            now = time.monotonic()
            if all(c.done for c in clients) or now - began > plan["deadline"]:
                break
            run_attack(now)
            for fd, _ in poller.poll(50):
                if fd in attacker_by_fd:
                    drain_attackers([attacker_by_fd[fd]])
                else:
                    client_by_fd[fd].receive(now)
            for c in clients:
                c.timer(now)

        digests, failures, last = {}, [], 0.0
        for c in clients:
            if c.done and c.failure is None:
                digest = hashlib.sha256(bytes(c.data)).hexdigest()
                digests[digest] = digests.get(digest, 0) + 1
                last = max(last, c.finished - began)
            else:
                failures.append(c.failure or "deadline")
        print(json.dumps({"completed": sum(digests.values()), "failures": failures, "digests": digests,
                          "attackRequests": attack_requests, "seconds": last}))
        """#
}
