import Foundation
import TestSupport

/// A TFTP client that sends exactly the datagrams a test crafts (NUL bytes, unknown opcodes, chosen options, a
/// second source address) and reports every answer as decoded fields. It is a small Python program run through
/// `runTool`, so the bytes on the wire come from outside the server's process and its codec.
enum RawTFTPClient {
    /// One datagram the server sent, decoded.
    struct Packet: Decodable, Sendable {
        /// `DATA`, `ERROR`, `OACK`, `other`, or `none` when nothing came within the wait.
        var op: String
        var block: Int?
        /// DATA payload length.
        var length: Int?
        var code: Int?
        var message: String?
        var options: [String: String]?
        /// Whether it came from the listening port (rather than a transfer's own port).
        var fromListener: Bool?
    }

    /// What a whole read saw.
    struct Fetch: Decodable, Sendable {
        /// The server's first answer to the RRQ.
        var first: Packet
        /// What arrived after the client held back its ACK for `holdBlock`.
        var afterHold: Packet?
        /// The packet that ended the read early (an ERROR), if any.
        var end: Packet?
        /// Payload bytes received in order.
        var bytes: Int
    }

    /// Two requests while the first one's transfer is still waiting for its ACK 1.
    struct Busy: Decodable, Sendable {
        /// The answer to the first request (an OACK: its transfer is in flight).
        var held: Packet
        /// The answer to the second request.
        var other: Packet
        /// The answer to the second request asked again after the first transfer was aborted.
        var afterRelease: Packet
    }

    /// Sends `datagram` to the listener from a fresh port (of `source`, when given) and returns the first answer,
    /// `none` if nothing came within `wait` seconds.
    static func send(
        _ datagram: [UInt8], host: String, port: Int, source: String? = nil, wait: Double = 10
    ) async throws -> Packet {
        var plan: [String: Any] = [
            "kind": "send", "host": host, "port": port, "datagram": hex(datagram), "wait": wait,
        ]
        if let source { plan["source"] = source }
        return try await run(plan)
    }

    /// What a read whose RRQ was sent several times from one port saw.
    struct Retransmitted: Decodable, Sendable {
        /// The file as received (hex), from the first port that answered.
        var data: String
        /// Every server port that sent this client anything: one transfer answers from one port.
        var ports: [Int]
    }

    /// Sends the RRQ for `name` `copies` times from one port, `interval` seconds apart (a client retransmitting
    /// while the server is slow), then reads it from the first port that answers, and keeps listening `linger`
    /// seconds after the end for any second transfer.
    static func retransmitted(
        _ name: String, copies: Int, interval: Double, linger: Double, host: String, port: Int
    ) async throws -> Retransmitted {
        try await run([
            "kind": "retransmitted", "host": host, "port": port, "name": name, "copies": copies, "interval": interval,
            "linger": linger,
        ])
    }

    /// Reads `name` in octet mode with `options`, acknowledging every block in lockstep, and optionally holds back
    /// the ACK of one block once (`holdBlock`) to see what the server sends without it.
    static func fetch(
        _ name: String, options: [(String, String)] = [], host: String, port: Int, holdBlock: Int? = nil
    ) async throws -> Fetch {
        var plan: [String: Any] = [
            "kind": "fetch", "host": host, "port": port, "name": name, "options": options.map { [$0.0, $0.1] },
        ]
        if let holdBlock { plan["holdBlock"] = holdBlock }
        return try await run(plan)
    }

    /// Starts a read of `name` from `holderSource`, acknowledges the OACK and leaves DATA 1 waiting for its ACK, then
    /// asks for `name` again from
    /// `otherSource`; finally aborts the first read and asks again.
    static func busy(
        _ name: String, host: String, port: Int, holderSource: String, otherSource: String
    ) async throws -> Busy {
        try await run([
            "kind": "busy", "host": host, "port": port, "name": name, "holderSource": holderSource,
            "otherSource": otherSource,
        ])
    }

    /// An RRQ datagram: opcode 1, the name bytes, NUL, the mode, NUL, option pairs.
    static func readRequest(_ name: [UInt8], mode: String = "octet", options: [(String, String)] = []) -> [UInt8] {
        var packet: [UInt8] = [0, 1] + name + [0] + Array(mode.utf8) + [0]
        for (key, value) in options { packet += Array(key.utf8) + [0] + Array(value.utf8) + [0] }
        return packet
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func run<Result: Decodable>(_ plan: [String: Any]) async throws -> Result {
        let planText = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let result = try await runTool("python3", ["-c", script, planText], timeout: .seconds(60))
        guard result.status == 0 else { throw Failure(plan: planText, stderr: result.stderr) }
        return try JSONDecoder().decode(Result.self, from: result.stdout)
    }

    struct Failure: Error, CustomStringConvertible {
        let plan: String
        let stderr: String
        var description: String { "raw TFTP client failed for \(plan): \(stderr)" }
    }

    /// Every wait is bounded by a socket timeout; the busy plan asks again at most 50 times, because nothing tells a
    /// client when the server has freed the aborted transfer's slot (past a limit it does not answer).
    private static let script = #"""
        import json, socket, struct, sys, time

        def describe(packet, listener=None):
            opcode = struct.unpack("!H", packet[:2])[0] if len(packet) >= 2 else -1
            if opcode == 3:
                result = {"op": "DATA", "block": struct.unpack("!H", packet[2:4])[0], "length": len(packet) - 4}
            elif opcode == 5:
                result = {"op": "ERROR", "code": struct.unpack("!H", packet[2:4])[0],
                          "message": packet[4:].split(b"\0")[0].decode(errors="replace")}
            elif opcode == 6:
                parts = packet[2:].split(b"\0")[:-1]
                result = {"op": "OACK", "options": {parts[i].decode(): parts[i + 1].decode()
                                                    for i in range(0, len(parts) - 1, 2)}}
            else:
                result = {"op": "other"}
            if listener is not None:
                result["fromListener"] = listener
            return result

        def request(name, options):
            packet = b"\0\1" + name.encode() + b"\0octet\0"
            for key, value in options:
                packet += key.encode() + b"\0" + value.encode() + b"\0"
            return packet

        plan = json.loads(sys.argv[1])
        server = (plan["host"], plan["port"])
        family = socket.AF_INET6 if ":" in plan["host"] else socket.AF_INET

        def udp(source=None, wait=10):
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.settimeout(wait)
            if source:
                s.bind((source, 0))
            return s

        result = {}
        def answer(s):
            try:
                packet, peer = s.recvfrom(70000)
            except socket.timeout:
                return {"op": "none"}, None
            return describe(packet), peer

        if plan["kind"] == "send":
            s = udp(plan.get("source"), plan.get("wait", 10))
            s.sendto(bytes.fromhex(plan["datagram"]), server)
            try:
                packet, peer = s.recvfrom(70000)
                result = describe(packet, peer[1] == server[1])
            except socket.timeout:
                result = {"op": "none"}
        elif plan["kind"] == "retransmitted":
            s = udp(wait=10)
            rrq = request(plan["name"], [])
            for copy in range(plan["copies"]):
                if copy:
                    time.sleep(plan["interval"])
                s.sendto(rrq, server)
            data, ports, expected, transfer = bytearray(), [], 1, None
            while True:
                packet, peer = s.recvfrom(70000)
                if peer[1] not in ports:
                    ports.append(peer[1])
                transfer = transfer or peer
                d = describe(packet)
                if peer != transfer or d["op"] != "DATA":
                    continue
                if d["block"] == expected & 0xFFFF:
                    data += packet[4:]
                    expected += 1
                s.sendto(struct.pack("!HH", 4, d["block"]), peer)
                if d["length"] < 512:
                    break
            s.settimeout(plan["linger"])
            end = time.time() + plan["linger"]
            while time.time() < end:
                try:
                    packet, peer = s.recvfrom(70000)
                except socket.timeout:
                    break
                if peer[1] not in ports:
                    ports.append(peer[1])
            result = {"data": data.hex(), "ports": ports}
        elif plan["kind"] == "fetch":
            s = udp()
            s.sendto(request(plan["name"], plan["options"]), server)
            packet, peer = s.recvfrom(70000)
            result["first"] = describe(packet)
            blksize, expected, data = 512, 1, bytearray()
            while True:
                d = describe(packet)
                if d["op"] == "OACK":
                    blksize = int(d["options"].get("blksize", 512))
                    s.sendto(struct.pack("!HH", 4, 0), peer)
                elif d["op"] == "DATA":
                    if plan.get("holdBlock") == d["block"] and "afterHold" not in result:
                        following, _ = s.recvfrom(70000)
                        result["afterHold"] = describe(following)
                    if d["block"] == expected & 0xFFFF:
                        data += packet[4:]
                        expected += 1
                        s.sendto(struct.pack("!HH", 4, d["block"]), peer)
                        if d["length"] < blksize:
                            break
                else:
                    result["end"] = d
                    break
                packet, _ = s.recvfrom(70000)
            result["bytes"] = len(data)
        elif plan["kind"] == "busy":
            holder = udp(plan["holderSource"])
            holder.sendto(request(plan["name"], [("blksize", "512")]), server)
            packet, holderPeer = holder.recvfrom(70000)
            result["held"] = describe(packet)
            # ACK 0 makes the holder's transfer established (a half-open one could be displaced); DATA 1 then
            # waits for its ACK.
            holder.sendto(struct.pack("!HH", 4, 0), holderPeer)
            holder.recvfrom(70000)
            # Past a limit the server stays silent: a second is plenty on loopback.
            other = udp(plan["otherSource"], 1)
            other.sendto(request(plan["name"], []), server)
            result["other"], otherPeer = answer(other)
            if otherPeer and result["other"]["op"] != "ERROR":
                other.sendto(struct.pack("!HH", 5, 0) + b"done\0", otherPeer)
            holder.sendto(struct.pack("!HH", 5, 0) + b"done\0", holderPeer)
            for attempt in range(50):
                again = udp(plan["otherSource"], 0.2)
                again.sendto(request(plan["name"], []), server)
                reply, peer = answer(again)
                if peer:
                    again.sendto(struct.pack("!HH", 5, 0) + b"done\0", peer)
                    break
            result["afterRelease"] = reply
        print(json.dumps(result))
        """#
}
