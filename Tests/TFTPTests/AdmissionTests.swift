import Files
import NIOCore
import Testing

@testable import TFTP

/// The admission decision without sockets: duplicates, half-open caps, the per-source rate, and what a datagram
/// on a listening socket becomes.
@Suite struct AdmissionTests {
    private let start = ContinuousClock.now
    private let limits = TransferAdmission.Limits(
        maxTransfers: 10, maxTransfersPerClient: 6, maxHalfOpen: 4, maxHalfOpenPerClient: 2, newTransfersPerSecond: 3)

    private func endpoint(_ ip: String, _ port: Int) -> TransferAdmission.Endpoint {
        // Test addresses are literals: a bad one is a bug in the test.
        .init(try! SocketAddress(ipAddress: ip, port: port))
    }
    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { start.advanced(by: .milliseconds(milliseconds)) }

    /// Admits `ip:port` and returns its ticket, recording an issue when it is not admitted.
    private func admit(
        _ admission: inout TransferAdmission, _ ip: String, _ port: Int, at milliseconds: Int = 0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> TransferAdmission.Ticket? {
        let verdict = admission.admit(endpoint(ip, port), now: at(milliseconds))
        guard case .admitted(let ticket) = verdict else {
            Issue.record("\(ip):\(port) not admitted: \(verdict)", sourceLocation: sourceLocation)
            return nil
        }
        return ticket
    }

    /// A retransmitted RRQ (same address and port) while its request is pending is a duplicate, never a second
    /// transfer; once it ends, the same port may ask again, and a late release of the first frees nothing else.
    @Test func aRetransmittedRequestIsADuplicateUntilItsTransferEnds() {
        var admission = TransferAdmission(limits: limits)
        guard let first = admit(&admission, "10.0.0.1", 2000) else { return }
        #expect(admission.admit(endpoint("10.0.0.1", 2000), now: at(10)) == .duplicate)
        #expect(admission.admit(endpoint("10.0.0.1", 2000), now: at(20)) == .duplicate)
        #expect(admission.transfers == 1)
        _ = admit(&admission, "10.0.0.1", 2001, at: 20)
        admission.release(first, established: false, refused: true)
        guard let again = admit(&admission, "10.0.0.1", 2000, at: 30) else { return }
        #expect(again != first)
        admission.release(first, established: false, refused: true)
        #expect(admission.admit(endpoint("10.0.0.1", 2000), now: at(40)) == .duplicate)
        #expect(admission.transfers == 2)
    }

    /// Half-open transfers have their own caps per IP and in total; an established transfer frees its half-open
    /// share.
    @Test func halfOpenTransfersAreCappedPerClientAndInTotal() {
        var admission = TransferAdmission(limits: limits)
        guard let one = admit(&admission, "10.0.0.1", 1), let two = admit(&admission, "10.0.0.1", 2) else { return }
        #expect(admission.admit(endpoint("10.0.0.1", 3), now: at(0)) == .busy("max_half_open_per_client"))
        // Other sources still get in, up to the total.
        _ = admit(&admission, "10.0.0.2", 1)
        _ = admit(&admission, "10.0.0.3", 1)
        #expect(admission.halfOpen == 4)
        // First ACKs: half-open room comes back.
        let oneEstablished = admission.establish(one)
        #expect(oneEstablished)
        let twoEstablished = admission.establish(two)
        #expect(twoEstablished)
        #expect(admission.halfOpen == 2)
        _ = admit(&admission, "10.0.0.1", 3)
        _ = admit(&admission, "10.0.0.4", 1)
        #expect(admission.transfers == 6)
        #expect(admission.halfOpen == 4)
    }

    /// With every slot taken, a newcomer displaces the oldest half-open transfer of the IP holding the most, never
    /// an established one, never one of an IP holding no more than the newcomer's, never one younger than a second.
    @Test func aNewcomerDisplacesTheBiggestHalfOpenHolderNeverAnEstablishedTransfer() {
        var admission = TransferAdmission(
            limits: .init(
                maxTransfers: 4, maxTransfersPerClient: 4, maxHalfOpen: 4, maxHalfOpenPerClient: 3,
                newTransfersPerSecond: 100))
        guard let established = admit(&admission, "10.0.0.5", 1) else { return }
        let establishedAccepted = admission.establish(established)
        #expect(establishedAccepted)
        guard let oldest = admit(&admission, "10.6.6.6", 1), let younger = admit(&admission, "10.6.6.6", 2),
            let third = admit(&admission, "10.6.6.6", 3, at: 500)
        else { return }
        // Full, and every half-open transfer is younger than a second: a real client must ask again.
        #expect(admission.admit(endpoint("10.0.0.7", 1), now: at(900)) == .busy("max_transfers"))
        // A second on, it displaces the attacker's oldest.
        guard let real = admit(&admission, "10.0.0.7", 1, at: 1000) else { return }
        #expect(admission.isDisplaced(oldest))
        let oldestAccepted = admission.establish(oldest)
        #expect(!oldestAccepted)
        let realAccepted = admission.establish(real)
        #expect(realAccepted)
        // The attacker's IP asking again is refused: it holds the most itself (and its transfer was just displaced).
        #expect(admission.admit(endpoint("10.6.6.6", 4), now: at(1000)) == .busy("max_transfers"))
        // Newcomers displace the attacker's next oldest, then, all holding one, the oldest of all; an IP holding
        // as many as every other is refused.
        _ = admit(&admission, "10.0.0.8", 1, at: 1000)
        #expect(admission.isDisplaced(younger))
        _ = admit(&admission, "10.0.0.9", 1, at: 1500)
        #expect(admission.isDisplaced(third))
        #expect(admission.admit(endpoint("10.0.0.8", 2), now: at(3000)) == .busy("max_transfers"))
        #expect(!admission.isDisplaced(established))
        #expect(!admission.isDisplaced(real))
        // The displaced transfers' engines release them late: nothing else is freed.
        admission.release(oldest, established: false, refused: false)
        admission.release(younger, established: false, refused: false)
        #expect(admission.transfers == 4)
    }

    /// An IP whose half-open transfer was displaced may not displace another's for ten seconds, but takes a free
    /// slot; the IP that displaced is not barred.
    @Test func aDisplacedIPMayNotDisplaceForTenSecondsButTakesAFreeSlot() {
        var admission = TransferAdmission(
            limits: .init(
                maxTransfers: 2, maxTransfersPerClient: 4, maxHalfOpen: 4, maxHalfOpenPerClient: 3,
                newTransfersPerSecond: 100))
        guard let attacker = admit(&admission, "10.6.6.6", 1), let other = admit(&admission, "10.5.5.5", 1),
            let real = admit(&admission, "10.0.0.7", 1, at: 1000)
        else { return }
        #expect(admission.isDisplaced(attacker))
        // Holding nothing, it would displace the other IP's transfer, a second old: it is barred instead.
        #expect(admission.admit(endpoint("10.6.6.6", 2), now: at(1000)) == .busy("max_transfers"))
        #expect(admission.admit(endpoint("10.6.6.6", 3), now: at(10_999)) == .busy("max_transfers"))
        let realEstablished = admission.establish(real)
        #expect(realEstablished)
        guard let again = admit(&admission, "10.6.6.6", 4, at: 11_000) else { return }
        #expect(admission.isDisplaced(other))
        // The IP that displaced first displaces again, and bars the attacker anew.
        guard admit(&admission, "10.0.0.7", 2, at: 12_500) != nil else { return }
        #expect(admission.isDisplaced(again))
        #expect(admission.admit(endpoint("10.6.6.6", 5), now: at(12_500)) == .busy("max_transfers"))
        // A slot that comes free goes to a barred IP as to any.
        admission.release(real, established: true, refused: false)
        _ = admit(&admission, "10.6.6.6", 6, at: 12_600)
    }

    /// A source that never acknowledges may start `newTransfersPerSecond` transfers a second; a refusal or a first
    /// ACK gives the token back, so a client that answers is never slowed.
    @Test func aSourceThatNeverAnswersIsMeteredOneThatAnswersIsNot() {
        var admission = TransferAdmission(limits: limits)
        let victim = "10.0.0.9"
        for port in 1...3 {
            // Its half-open transfer timed out without an ACK: the token stays spent.
            guard let ticket = admit(&admission, victim, port) else { return }
            admission.release(ticket, established: false, refused: false)
        }
        #expect(admission.admit(endpoint(victim, 4), now: at(0)) == .busy("new_transfers_per_second"))
        // A third of a second later one token is back.
        _ = admit(&admission, victim, 5, at: 340)
        #expect(admission.admit(endpoint(victim, 6), now: at(340)) == .busy("new_transfers_per_second"))

        var answering = TransferAdmission(limits: limits)
        for port in 1...100 {
            guard let ticket = admit(&answering, "10.0.0.7", port) else { return }
            if port % 2 == 0 {
                let ticketEstablished = answering.establish(ticket)
                #expect(ticketEstablished)
                answering.release(ticket, established: true, refused: false)
            } else {
                answering.release(ticket, established: false, refused: true)  // ERROR 1: a miss
            }
        }
        #expect(answering.transfers == 0)
        #expect(answering.trackedClients == 0)
    }

    /// The storm-under-attack interop test's load, in simulated time: 64 IPs asking from 8 ports each every half
    /// second and never answering hold every one of 100 slots, and 300 booting clients ask with pxelinux's backoff
    /// (1, 2, 4, 8, 8 … s). A displaced attacker IP may not displace in turn, so it cannot take back each slot the
    /// moment it ages: every client gets one.
    @Test func bootingClientsGetSlotsFromAFloodOfAFewDozenIPs() {
        var admission = TransferAdmission(
            limits: .init(
                maxTransfers: 100, maxTransfersPerClient: 64, maxHalfOpen: 1024, maxHalfOpenPerClient: 8,
                newTransfersPerSecond: 16))
        enum Event {
            case attack(ip: Int, port: Int)
            case ask(client: Int)
            case acknowledge(TransferAdmission.Ticket)
            case finish(TransferAdmission.Ticket)
            case giveUp(TransferAdmission.Ticket)
        }
        var random = SplitMix64(seed: 16)
        var due: [Int: [Event]] = [:]
        func schedule(_ event: Event, at millisecond: Int) { due[millisecond, default: []].append(event) }
        for ip in 0..<64 {
            for port in 0..<8 { schedule(.attack(ip: ip, port: port), at: (ip * 8 + port) * 500 / 512) }
        }
        let clientsStart = 1000
        let deadline = clientsStart + 60_000
        for client in 0..<300 {
            schedule(.ask(client: client), at: clientsStart + Int.random(in: 0..<50, using: &random))
        }
        var tries = [Int](repeating: 0, count: 300)
        var waited: [Int] = []
        for now in 0..<deadline {
            guard var events = due.removeValue(forKey: now) else { continue }
            events.shuffle(using: &random)
            for event in events {
                switch event {
                case .attack(let ip, let port):
                    if case .admitted(let ticket) = admission.admit(
                        endpoint("10.2.0.\(ip + 1)", 1000 + port), now: at(now))
                    {
                        // Never acknowledged: its engine gives up after two resends, at 7 s.
                        schedule(.giveUp(ticket), at: now + 7000)
                    }
                    schedule(.attack(ip: ip, port: port), at: now + 500)
                case .ask(let client):
                    let verdict = admission.admit(
                        endpoint("10.1.\(client / 200).\(client % 200 + 1)", 2000), now: at(now))
                    if case .admitted(let ticket) = verdict {
                        schedule(.acknowledge(ticket), at: now + 1)
                    } else {
                        let backoff = [1000, 2000, 4000, 8000][min(tries[client], 3)]
                        tries[client] += 1
                        schedule(.ask(client: client), at: now + backoff)
                    }
                case .acknowledge(let ticket):
                    let accepted = admission.establish(ticket)
                    #expect(accepted, "a client that answers within a millisecond is never displaced")
                    waited.append(now - clientsStart)
                    schedule(.finish(ticket), at: now + 50)
                case .finish(let ticket):
                    admission.release(ticket, established: true, refused: false)
                case .giveUp(let ticket):
                    admission.release(ticket, established: false, refused: false)
                }
            }
        }
        waited.sort()
        #expect(waited.count == 300, "\(300 - waited.count) of 300 clients never got a slot in 60 s")
        #expect((waited.last ?? .max) < 30_000, "the last client waited \(waited.last ?? -1) ms")
    }

    @Test func totalAndPerClientTransferCapsHold() {
        var admission = TransferAdmission(
            limits: .init(
                maxTransfers: 3, maxTransfersPerClient: 2, maxHalfOpen: 10, maxHalfOpenPerClient: 10,
                newTransfersPerSecond: 100))
        for port in 1...2 {
            guard let ticket = admit(&admission, "10.0.0.1", port) else { return }
            let ticketEstablished = admission.establish(ticket)
            #expect(ticketEstablished)
        }
        #expect(admission.admit(endpoint("10.0.0.1", 3), now: at(0)) == .busy("max_transfers_per_client"))
        guard let other = admit(&admission, "10.0.0.2", 1) else { return }
        let otherEstablished = admission.establish(other)
        #expect(otherEstablished)
        #expect(admission.admit(endpoint("10.0.0.3", 1), now: at(0)) == .busy("max_transfers"))
        admission.stop()
        #expect(admission.admit(endpoint("10.0.0.3", 1), now: at(0)) == .stopping)
    }

    /// The table of client IPs stays bounded whatever the number of sources: idle entries are swept.
    @Test func theClientTableIsBounded() {
        var admission = TransferAdmission(limits: limits)
        let limit = admission.trackedClientsLimit
        for index in 0..<(limit * 2) {
            let ip = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
            guard let ticket = admit(&admission, ip, 69) else { return }
            admission.release(ticket, established: false, refused: false)  // a spent token keeps the entry
            #expect(admission.trackedClients <= limit)
        }
    }

    // MARK: The whole decision for a datagram

    private let client = try! SocketAddress(ipAddress: "10.0.0.1", port: 2000)
    private let local = try! SocketAddress(ipAddress: "10.0.0.254", port: 0)

    private var ticket: TransferAdmission.Ticket {
        .init(endpoint: endpoint("10.0.0.1", 2000), number: 1, admittedAt: start)
    }

    private func decide(
        _ packet: TFTPPacket, verdict: TransferAdmission.Verdict = .duplicate,
        content: BootContent? = .bytes(Array("hello".utf8))
    ) -> RequestDecision {
        decide(packet.encoded(), verdict: verdict, content: content)
    }

    private func decide(
        _ datagram: ByteBuffer, verdict: TransferAdmission.Verdict = .duplicate,
        content: BootContent? = .bytes(Array("hello".utf8))
    ) -> RequestDecision {
        RequestDecision.decide(
            datagram, client: client, local: local, interfaceIndex: nil, admit: { _ in verdict },
            lookUp: { (_) throws(TFTPRefusal) -> TFTPAnswer in content.map { .content($0) } ?? .compute { _ in } })
    }

    @Test func aDatagramBecomesIgnoreRefuseStartOrCompute() {
        let read = TFTPPacket.readRequest(TFTPRequest(filename: "pxelinux.0"))
        guard case .start(let plan, let source) = decide(read, verdict: .admitted(ticket)) else {
            Issue.record("content at hand starts at once")
            return
        }
        #expect(plan.ticket == ticket)
        #expect(plan.record.path == "pxelinux.0")
        #expect(source.size == 5)
        guard case .compute(let computed, _) = decide(read, verdict: .admitted(ticket), content: nil) else {
            Issue.record("no content at hand: computed off the engine")
            return
        }
        #expect(computed.record.path == "pxelinux.0")
        // A retransmission is ignored without a log line; overload is ignored with one, and never an ERROR 0.
        guard case .ignore(nil) = decide(read, verdict: .duplicate) else {
            Issue.record("a duplicate is ignored")
            return
        }
        guard case .ignore(let record?) = decide(read, verdict: .busy("max_transfers")) else {
            Issue.record("overload is not answered")
            return
        }
        #expect(record.outcome == .busy)
        // ERRORs are never answered, writes and stray packets are refused without taking a slot.
        guard case .ignore(nil) = decide(.error(code: .notDefined, message: "x")) else {
            Issue.record("an ERROR is ignored")
            return
        }
        guard case .refuse(let refusal, _, nil) = decide(.writeRequest(TFTPRequest(filename: "x"))) else {
            Issue.record("a write is refused")
            return
        }
        #expect(refusal.code == .accessViolation)
        guard case .refuse(let stray, _, nil) = decide(.ack(block: 1)) else {
            Issue.record("an ACK on the listener is refused")
            return
        }
        #expect(stray.code == .illegalOperation)
        guard case .refuse(let garbled, _, nil) = decide(ByteBuffer(bytes: [0, 1, 65])) else {
            Issue.record("a garbled request is refused")
            return
        }
        #expect(garbled.code == .illegalOperation)
        // A refusal after admission (a bad path) releases the slot it took.
        guard
            case .refuse(let path, _, _?) = decide(
                .readRequest(TFTPRequest(filename: "../etc/passwd")), verdict: .admitted(ticket))
        else {
            Issue.record("a path outside the root is refused with its slot released")
            return
        }
        #expect(path.outcome == .refused)
        guard case .refuse(let stopping, _, nil) = decide(read, verdict: .stopping) else {
            Issue.record("a stopping server says so")
            return
        }
        #expect(stopping.outcome == .serverStopped)
    }
}

/// A seeded generator (SplitMix64), so a simulated run is the same every time.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
