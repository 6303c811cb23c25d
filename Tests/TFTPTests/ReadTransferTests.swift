import Testing

@testable import TFTP

/// A clock the test moves by hand: no sleeps, every timeout is an explicit event.
struct ManualInstant: InstantProtocol {
    var offset: Duration
    func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
    func duration(to other: ManualInstant) -> Duration { other.offset - offset }
    static func < (lhs: ManualInstant, rhs: ManualInstant) -> Bool { lhs.offset < rhs.offset }
}

struct ManualClock {
    var now = ManualInstant(offset: .zero)
    mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }
}

@Suite("TFTP read transfer state machine")
struct ReadTransferTests {
    typealias Transfer = TFTPReadTransfer<ManualInstant>

    private func transfer(
        size: Int, blockSize: Int = 512, windowSize: Int = 1, retries: Int = 3, optionAck: Bool = false,
        tsize: Bool = false
    ) -> Transfer {
        Transfer(
            configuration: .init(
                size: size, blockSize: blockSize, windowSize: windowSize, timeout: .seconds(1), retries: retries,
                sendsOptionAck: optionAck, optionAckAnswersTransferSize: tsize))
    }

    private func deadline(_ clock: ManualClock) -> ManualInstant { clock.now.advanced(by: .seconds(1)) }

    @Test func lockstepWithoutOptions() {
        var clock = ManualClock()
        var machine = transfer(size: 1200)
        #expect(machine.blockCount == 3)
        #expect(machine.start(now: clock.now) == .sendBlocks(1...1, timeoutAt: deadline(clock)))
        #expect(machine.byteRange(ofBlock: 1) == 0..<512)
        clock.advance(by: .milliseconds(1))
        #expect(machine.ackReceived(block: 1, now: clock.now) == .sendBlocks(2...2, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 2, now: clock.now) == .sendBlocks(3...3, timeoutAt: deadline(clock)))
        #expect(machine.byteRange(ofBlock: 3) == 1024..<1200)
        #expect(machine.ackReceived(block: 3, now: clock.now) == .finish(.ok))
        #expect(machine.statistics == .init(blocksSent: 3, retransmissions: 0, bytesAcknowledged: 1200))
        #expect(machine.isFinished)
    }

    @Test(arguments: [0, 512, 1024])
    func sizeMultipleOfBlockSizeEndsWithEmptyBlock(_ size: Int) {
        var machine = transfer(size: size)
        #expect(machine.blockCount == size / 512 + 1)
        #expect(machine.byteRange(ofBlock: machine.blockCount).isEmpty)
        let clock = ManualClock()
        _ = machine.start(now: clock.now)
        for block in 1..<machine.blockCount {
            #expect(machine.ackReceived(block: UInt16(block), now: clock.now) != .finish(.ok))
        }
        #expect(machine.ackReceived(block: UInt16(machine.blockCount), now: clock.now) == .finish(.ok))
    }

    @Test func optionAckThenAckZeroStartsData() {
        var clock = ManualClock()
        var machine = transfer(size: 10, optionAck: true)
        #expect(machine.start(now: clock.now) == .sendOptionAck(timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 1, now: clock.now) == .doNothing)
        clock.advance(by: .milliseconds(5))
        #expect(machine.ackReceived(block: 0, now: clock.now) == .sendBlocks(1...1, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 1, now: clock.now) == .finish(.ok))
    }

    @Test func optionAckIsResentOnTimeoutNotData() {
        var clock = ManualClock()
        var machine = transfer(size: 10, optionAck: true)
        _ = machine.start(now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendOptionAck(timeoutAt: deadline(clock)))
        #expect(machine.statistics.retransmissions == 1)
        #expect(machine.ackReceived(block: 0, now: clock.now) == .sendBlocks(1...1, timeoutAt: deadline(clock)))
    }

    @Test func aDuplicateAckWithinAQuarterTimeoutNeverRetransmits() {
        // The Sorcerer's Apprentice: a delayed duplicate ACK n must not send n+1 a second time.
        var clock = ManualClock()
        var machine = transfer(size: 2000)
        _ = machine.start(now: clock.now)
        #expect(machine.ackReceived(block: 1, now: clock.now) == .sendBlocks(2...2, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 1, now: clock.now) == .doNothing)
        clock.advance(by: .milliseconds(249))
        #expect(machine.ackReceived(block: 1, now: clock.now) == .doNothing)
        #expect(machine.ackReceived(block: 2, now: clock.now) == .sendBlocks(3...3, timeoutAt: deadline(clock)))
        #expect(machine.statistics.retransmissions == 0)
        // A duplicate ACK 0 after the OACK phase is likewise ignored.
        var withOack = transfer(size: 2000, optionAck: true)
        _ = withOack.start(now: clock.now)
        _ = withOack.ackReceived(block: 0, now: clock.now)
        #expect(withOack.ackReceived(block: 0, now: clock.now) == .doNothing)
    }

    /// busybox resends its ACK after 100 ms, then 50 % later each time, and gives up after about 14 s: answered only
    /// by the timer (1, 3, 7, 15 s), four losses of one block in a row lost the fetch. Its duplicate ACK now resends
    /// the window once a quarter timeout has passed, and counts as a resend like the timer's.
    @Test func aDuplicateAckAfterAQuarterTimeoutResendsTheWindow() {
        var clock = ManualClock()
        var machine = transfer(size: 8000, windowSize: 4, retries: 2)
        _ = machine.start(now: clock.now)
        _ = machine.ackReceived(block: 4, now: clock.now)  // DATA 5 is lost
        clock.advance(by: .milliseconds(250))
        #expect(
            machine.ackReceived(block: 4, now: clock.now)
                == .sendBlocks(5...8, timeoutAt: clock.now.advanced(by: .seconds(1))))
        #expect(machine.statistics.retransmissions == 4)
        // The next duplicate that soon after the resend is ignored; one a quarter timeout later resends again.
        clock.advance(by: .milliseconds(100))
        #expect(machine.ackReceived(block: 4, now: clock.now) == .doNothing)
        clock.advance(by: .milliseconds(150))
        #expect(machine.ackReceived(block: 4, now: clock.now) == .sendBlocks(5...8, timeoutAt: deadline(clock)))
        // Resends in a row are capped by `retries` whichever way they come: a client that only repeats
        // itself cannot hold its transfer open.
        clock.advance(by: .milliseconds(300))
        #expect(machine.ackReceived(block: 4, now: clock.now) == .doNothing)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .finish(.timedOut))
    }

    /// A link that doubles every DATA, and a client that, like tftp-hpa, answers a duplicate DATA with its ACK
    /// again: over 100 blocks and a 2 ms round trip the server resends nothing, rather than doubling the traffic.
    @Test func aDoublingLinkStartsNoSorcerersApprentice() {
        var clock = ManualClock()
        var machine = transfer(size: 100 * 512 - 1)
        var inFlight = [machine.start(now: clock.now)]
        var sends = 0
        while let action = inFlight.first, sends < 1000 {
            inFlight.removeFirst()
            guard case .sendBlocks(let blocks, _) = action else { break }
            sends += 1
            clock.advance(by: .milliseconds(1))
            // Both copies arrive; the client ACKs each.
            for _ in 0..<2 {
                clock.advance(by: .microseconds(10))
                let answer = machine.ackReceived(block: Transfer.blockNumber(of: blocks.upperBound), now: clock.now)
                if answer != .doNothing { inFlight.append(answer) }
            }
        }
        #expect(machine.isFinished)
        #expect(sends == 100)
        #expect(machine.statistics.retransmissions == 0)
    }

    @Test func lostDataIsResentOnlyOnTimeout() {
        var clock = ManualClock()
        var machine = transfer(size: 2000)
        _ = machine.start(now: clock.now)
        _ = machine.ackReceived(block: 1, now: clock.now)  // DATA 2 is lost
        clock.advance(by: .milliseconds(999))
        #expect(machine.timerFired(now: clock.now) == .scheduleTimeout(at: ManualInstant(offset: .seconds(1))))
        clock.advance(by: .milliseconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendBlocks(2...2, timeoutAt: deadline(clock)))
        #expect(machine.statistics.retransmissions == 1)
        #expect(machine.statistics.blocksSent == 2)
    }

    @Test func retriesExhaustedTimesOut() {
        var clock = ManualClock()
        var machine = transfer(size: 2000, retries: 2)
        _ = machine.start(now: clock.now)
        for _ in 0..<2 {
            clock.advance(by: .seconds(1))
            #expect(machine.timerFired(now: clock.now) == .sendBlocks(1...1, timeoutAt: deadline(clock)))
        }
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .finish(.timedOut))
        #expect(machine.timerFired(now: clock.now) == .doNothing)
        #expect(machine.ackReceived(block: 1, now: clock.now) == .doNothing)
    }

    @Test func progressResetsRetryCount() {
        var clock = ManualClock()
        var machine = transfer(size: 5000, retries: 1)
        _ = machine.start(now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendBlocks(1...1, timeoutAt: deadline(clock)))
        _ = machine.ackReceived(block: 1, now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendBlocks(2...2, timeoutAt: deadline(clock)))
    }

    private func backingOff(
        size: Int, retries: Int, optionAck: Bool = false, halfOpenResends: Int? = nil
    ) -> Transfer {
        Transfer(
            configuration: .init(
                size: size, blockSize: 512, windowSize: 1, timeout: .seconds(1), retries: retries,
                sendsOptionAck: optionAck, optionAckAnswersTransferSize: false, backoffCeiling: .seconds(30),
                halfOpenResends: halfOpenResends))
    }

    /// Resends back off as tftp-hpa's: after 1, 2, 4, 8 s (at 1, 3, 7, 15 s), up to the ceiling; an ACK starts the
    /// waits again from `timeout`.
    @Test func resendsBackOffExponentiallyAndProgressResetsTheWait() {
        var clock = ManualClock()
        var machine = backingOff(size: 5000, retries: 7)
        var resentAt: [Duration] = []
        guard case .sendBlocks(_, var due) = machine.start(now: clock.now) else {
            Issue.record("no first block")
            return
        }
        for _ in 0..<7 {
            clock.now = due
            guard case .sendBlocks(1...1, let next) = machine.timerFired(now: clock.now) else {
                Issue.record("expected a resend of block 1")
                return
            }
            resentAt.append(clock.now.offset)
            due = next
        }
        #expect(resentAt == [1, 3, 7, 15, 31, 61, 91].map { Duration.seconds($0) })
        clock.now = due
        #expect(machine.timerFired(now: clock.now) == .finish(.timedOut))

        var progressing = backingOff(size: 5000, retries: 7)
        clock = ManualClock()
        _ = progressing.start(now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(
            progressing.timerFired(now: clock.now) == .sendBlocks(1...1, timeoutAt: clock.now.advanced(by: .seconds(2)))
        )
        #expect(progressing.ackReceived(block: 1, now: clock.now) == .sendBlocks(2...2, timeoutAt: deadline(clock)))
    }

    /// Until the first ACK a transfer is half-open and gets only its own few resends, OACK or DATA alike; after it
    /// the full `retries`.
    @Test func aHalfOpenTransferGivesUpEarly() {
        for optionAck in [false, true] {
            var clock = ManualClock()
            var machine = backingOff(size: 5000, retries: 5, optionAck: optionAck, halfOpenResends: 2)
            _ = machine.start(now: clock.now)
            #expect(!machine.isEstablished)
            var sends = 1
            for _ in 0..<10 {
                clock.advance(by: .seconds(1))
                let action = machine.timerFired(now: clock.now)
                if action == .finish(.timedOut) { break }
                if case .sendOptionAck = action { sends += 1 }
                if case .sendBlocks = action { sends += 1 }
            }
            #expect(sends == 3)
            #expect(clock.now == ManualInstant(offset: .seconds(7)))
            #expect(machine.isFinished)
        }
        var clock = ManualClock()
        var established = backingOff(size: 5000, retries: 5, halfOpenResends: 2)
        _ = established.start(now: clock.now)
        _ = established.ackReceived(block: 1, now: clock.now)
        #expect(established.isEstablished)
        var resends = 0
        for _ in 0..<100 {
            clock.advance(by: .seconds(1))
            let action = established.timerFired(now: clock.now)
            if action == .finish(.timedOut) { break }
            if case .sendBlocks = action { resends += 1 }
        }
        #expect(resends == 5)
    }

    @Test func optionAckRetriesExhaustedTimesOut() {
        var clock = ManualClock()
        var machine = transfer(size: 10, retries: 1, optionAck: true)
        _ = machine.start(now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendOptionAck(timeoutAt: deadline(clock)))
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .finish(.timedOut))
    }

    @Test func errorAfterTransferSizeOackIsAProbe() {
        var probe = transfer(size: 10, optionAck: true, tsize: true)
        _ = probe.start(now: ManualClock().now)
        #expect(probe.errorReceived() == .finish(.probe))
        var aborted = transfer(size: 10, optionAck: true, tsize: false)
        _ = aborted.start(now: ManualClock().now)
        #expect(aborted.errorReceived() == .finish(.clientAborted))
        var midway = transfer(size: 10_000, optionAck: true, tsize: true)
        _ = midway.start(now: ManualClock().now)
        _ = midway.ackReceived(block: 0, now: ManualClock().now)
        #expect(midway.errorReceived() == .finish(.clientAborted))
        #expect(midway.errorReceived() == .doNothing)
    }

    @Test func windowsAdvanceOnLastBlockAck() {
        let clock = ManualClock()
        var machine = transfer(size: 512 * 10, windowSize: 4)
        #expect(machine.blockCount == 11)
        #expect(machine.start(now: clock.now) == .sendBlocks(1...4, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 4, now: clock.now) == .sendBlocks(5...8, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 8, now: clock.now) == .sendBlocks(9...11, timeoutAt: deadline(clock)))
        #expect(machine.ackReceived(block: 11, now: clock.now) == .finish(.ok))
        #expect(machine.statistics.blocksSent == 11)
        #expect(machine.statistics.retransmissions == 0)
    }

    @Test func earlierBlockAckRestartsWindowAfterIt() {
        // RFC 7440: block 6 was lost, the client ACKs 5; the server sends 6... again at once.
        let clock = ManualClock()
        var machine = transfer(size: 512 * 20, windowSize: 4)
        _ = machine.start(now: clock.now)
        _ = machine.ackReceived(block: 4, now: clock.now)  // window 5...8 in flight
        #expect(machine.ackReceived(block: 5, now: clock.now) == .sendBlocks(6...9, timeoutAt: deadline(clock)))
        #expect(machine.statistics.retransmissions == 3)  // 6, 7, 8 again; 9 is new
        #expect(machine.statistics.blocksSent == 9)
        // A reordered, older ACK is stale now.
        #expect(machine.ackReceived(block: 4, now: clock.now) == .doNothing)
        #expect(machine.ackReceived(block: 5, now: clock.now) == .doNothing)
        // An ACK beyond what was sent is bogus.
        #expect(machine.ackReceived(block: 12, now: clock.now) == .doNothing)
    }

    @Test func windowedTimeoutResendsWholeWindow() {
        var clock = ManualClock()
        var machine = transfer(size: 512 * 20, windowSize: 8)
        _ = machine.start(now: clock.now)
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sendBlocks(1...8, timeoutAt: deadline(clock)))
        #expect(machine.statistics.retransmissions == 8)
    }

    @Test func blockNumbersRollOverPast65535() {
        // 70 000 blocks of 8 bytes: numbers go ... 65534, 65535, 0, 1, ...
        let clock = ManualClock()
        let size = 8 * 70_000 + 3
        var machine = transfer(size: size, blockSize: 8)
        #expect(machine.blockCount == 70_001)
        #expect(Transfer.blockNumber(of: 65535) == 65535)
        #expect(Transfer.blockNumber(of: 65536) == 0)
        #expect(Transfer.blockNumber(of: 65537) == 1)
        _ = machine.start(now: clock.now)
        for index in 1..<machine.blockCount {
            let action = machine.ackReceived(block: Transfer.blockNumber(of: index), now: clock.now)
            #expect(action == .sendBlocks((index + 1)...(index + 1), timeoutAt: deadline(clock)))
        }
        #expect(machine.byteRange(ofBlock: 70_001) == (8 * 70_000)..<size)
        #expect(machine.ackReceived(block: Transfer.blockNumber(of: 70_001), now: clock.now) == .finish(.ok))
    }

    @Test func windowSpanningRolloverMapsAcksCorrectly() {
        let clock = ManualClock()
        var machine = transfer(size: 8 * 65_600, blockSize: 8, windowSize: 50)
        _ = machine.start(now: clock.now)
        for acked in stride(from: 50, through: 65_500, by: 50) {
            _ = machine.ackReceived(block: Transfer.blockNumber(of: acked), now: clock.now)
        }
        // Window 65 501...65 550 crosses 65535; an ACK for wire block 2 means absolute block 65 538.
        #expect(
            machine.ackReceived(block: 2, now: clock.now)
                == .sendBlocks(65_539...65_588, timeoutAt: deadline(clock)))
    }

    @Test func lossDuplicationAndReorderingStillDeliverEveryBlockOnce() {
        // A scripted unreliable path: the client receives data through it and ACKs in order (RFC 7440 receiver).
        var clock = ManualClock()
        let blockCount = 200
        var machine = transfer(size: 512 * (blockCount - 1) + 100, windowSize: 8, retries: 50)
        var received = 0  // highest block delivered in order to the client
        var pendingAcks: [UInt16] = []
        var step = 0
        var action = machine.start(now: clock.now)
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            switch action {
            case .sendBlocks(let blocks, _):
                for block in blocks {
                    step += 1
                    if step % 7 == 0 { continue }  // lost
                    if block == received + 1 { received = block }
                }
                pendingAcks.append(Transfer.blockNumber(of: received))
                if step % 5 == 0 { pendingAcks.append(Transfer.blockNumber(of: received)) }  // duplicated
                if step % 3 == 0, pendingAcks.count > 1 { pendingAcks.swapAt(0, pendingAcks.count - 1) }  // reordered
            case .finish(let outcome):
                #expect(outcome == .ok)
                #expect(received == blockCount)
                return
            case .sendOptionAck, .scheduleTimeout, .doNothing:
                break
            }
            if pendingAcks.isEmpty {
                clock.advance(by: .seconds(1))
                action = machine.timerFired(now: clock.now)
            } else {
                action = machine.ackReceived(block: pendingAcks.removeFirst(), now: clock.now)
            }
        }
        Issue.record("transfer did not finish")
    }
}
