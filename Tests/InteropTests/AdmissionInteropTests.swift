import Foundation
import TFTP
import TestSupport
import Testing

/// Admission against the attacks of issue 11 on loopback: retransmitted requests, held slots, a boot storm under
/// attack. Each test failed on the server before admission knew duplicates and half-open transfers.
@Suite("TFTP admission under attack", .serialized)
struct AdmissionInteropTests {
    /// What a ROM fetches in these tests: big enough for 24 lockstep blocks of 1408 bytes.
    private static let bootLoader = patternBytes(count: 33_000, seed: 21)

    private static func populate(_ root: TemporaryDirectory) throws {
        _ = try root.write("pxelinux.0", bootLoader)
    }

    /// A client resending its RRQ from the same port while the route's script is still running gets one run and one
    /// transfer (RFC 1350, RFC 1123 4.2.3.1), with the right bytes. The script logs each run, so the count is what
    /// an admin would read.
    @Test(.timeLimit(.minutes(1))) func aRetransmittedRequestRunsTheScriptOnce() async throws {
        let config = """
            [tftp]
            root = "tftpboot"
            [tftp.scripts]
            instructions = 1000000000
            [[tftp.route]]
            path = "slow.cfg"
            script = "slow.lua"
            """
        // About half a second of Lua (a few tens of millions of instructions) before the answer.
        let script = """
            return function(req)
              thinboot.log("info", "slow script run")
              local x = 0
              for i = 1, 20000000 do x = x + i end
              return "DEFAULT slow " .. req.path .. "\\n"
            end
            """
        try await RoutedTestServer.with(
            config: config, files: ["slow.lua": script, "tftpboot/.keep": ""]
        ) { server in
            let read = try await RawTFTPClient.retransmitted(
                // Copies 20 ms apart all arrive while the script runs (at 100 ms apart an idle machine's script had
                // answered, and its transfer ended, before the last copy: a new request, rightly a second transfer).
                "slow.cfg", copies: 4, interval: 0.02, linger: 1.5, host: "127.0.0.1", port: server.port)
            #expect(String(decoding: hexBytes(read.data), as: UTF8.self) == "DEFAULT slow slow.cfg\n")
            #expect(read.ports.count == 1, "answers came from \(read.ports.count) transfers")
            #expect(server.log.matching("slow script run").count == 1, "\(server.log.matching("slow script run"))")
        }
    }

    /// 64 RRQs from one IP (any ports) asking `timeout 255` and never answered no longer lock that IP out for 25
    /// minutes: the timeout is declined, the half-open transfers give up within seconds, and the client's own
    /// retransmitted RRQ gets in.
    @Test(.timeLimit(.minutes(2))) func unansweredRequestsFromOneIPDoNotLockItOut() async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            let outcome = try await BootStorm.run(
                .init(
                    port: server.port, name: "pxelinux.0", clients: ["127.0.0.3"], attackers: ["127.0.0.3"],
                    portsPerAttacker: 64, attackInterval: 0, headStart: 0.5, deadline: 30))
            #expect(outcome.failures == [])
            #expect(outcome.digests == [try await sha256(Data(Self.bootLoader)): 1])
        }
    }

    /// 300 ROM-like clients against `max_transfers = 100` while an attacker holds half-open RRQs from 512 ports of
    /// 64 addresses: every client boots, with the right bytes, and none ever sees an ERROR.
    @Test(.timeLimit(.minutes(3))) func aBootStormUnderAttackCompletesEveryTransfer() async throws {
        try await TFTPTestServer.with(configure: { $0.maxTransfers = 100 }, populate: Self.populate) { server in
            let clients = (0..<300).map { "127.1.\($0 / 200).\($0 % 200 + 1)" }
            let attackers = (1...64).map { "127.2.0.\($0)" }
            let outcome = try await BootStorm.run(
                .init(
                    port: server.port, name: "pxelinux.0", clients: clients, attackers: attackers,
                    portsPerAttacker: 8, attackInterval: 0.5, headStart: 1, deadline: 90))
            #expect(outcome.failures == [], "\(outcome.failures.count) failed: \(Set(outcome.failures))")
            #expect(outcome.digests == [try await sha256(Data(Self.bootLoader)): 300])
            #expect(outcome.attackRequests > 512)
        }
    }

    private func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }
}
