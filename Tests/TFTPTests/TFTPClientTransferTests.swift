import NIOCore
import Testing

@testable import TFTP

/// The client's read state machine, driven without sockets.
@Suite struct TFTPClientTransferTests {
    private func datagram(_ packet: TFTPPacket) -> ByteBuffer { packet.encoded() }

    private func data(_ block: UInt16, _ count: Int, byte: UInt8 = 0x41) -> ByteBuffer {
        datagram(.data(block: block, payload: ByteBuffer(bytes: [UInt8](repeating: byte, count: count))))
    }

    private func sent(_ actions: [TFTPClientTransfer.Action]) -> [TFTPPacket] {
        actions.compactMap { if case .send(let bytes) = $0 { try? TFTPPacket(decoding: bytes) } else { nil } }
    }

    private func delivered(_ actions: [TFTPClientTransfer.Action]) -> [UInt8] {
        actions.flatMap { action -> [UInt8] in if case .deliver(let bytes) = action { bytes } else { [] } }
    }

    private func outcome(_ actions: [TFTPClientTransfer.Action]) -> TFTPClientTransfer.Outcome? {
        actions.lazy.compactMap { if case .finish(let outcome) = $0 { outcome } else { nil } }.first
    }

    @Test func sendsTheRequestedOptionsInTheRRQ() throws {
        var transfer = TFTPClientTransfer(
            filename: "pxelinux.0", mode: .octet,
            options: .init(blockSize: 1408, windowSize: 4, requestTransferSize: true), timeout: .seconds(1),
            retries: 3)
        let request = try #require(sent(transfer.start()).first)
        #expect(
            request
                == .readRequest(
                    TFTPRequest(
                        filename: "pxelinux.0", mode: .octet,
                        options: [.init("blksize", "1408"), .init("tsize", "0"), .init("windowsize", "4")])))
    }

    @Test func plainDataWithoutOACKFallsBackToRFC1350() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(blockSize: 1468), timeout: .seconds(1), retries: 3)
        _ = transfer.start()
        let first = transfer.received(data(1, 512), fromPort: 4000)
        #expect(sent(first) == [.ack(block: 1)])
        #expect(delivered(first).count == 512)
        let last = transfer.received(data(2, 3), fromPort: 4000)
        #expect(sent(last) == [.ack(block: 2)])
        #expect(outcome(last) == .completed(bytes: 515))
        #expect(transfer.transferPort == 4000)
    }

    @Test func acceptsAnOACKWithinTheRequestAndAcknowledgesBlockZero() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet,
            options: .init(blockSize: 1468, windowSize: 2, requestTransferSize: true), timeout: .seconds(1),
            retries: 3)
        _ = transfer.start()
        let actions = transfer.received(
            datagram(.optionAck([.init("blksize", "1400"), .init("tsize", "2900"), .init("windowsize", "2")])),
            fromPort: 4000)
        #expect(actions.contains(.announceSize(2900)))
        #expect(sent(actions) == [.ack(block: 0)])
        // A window of two blocks is acknowledged once, with its last block.
        #expect(sent(transfer.received(data(1, 1400), fromPort: 4000)).isEmpty)
        #expect(sent(transfer.received(data(2, 1400), fromPort: 4000)) == [.ack(block: 2)])
        let last = transfer.received(data(3, 100), fromPort: 4000)
        #expect(outcome(last) == .completed(bytes: 2900))
    }

    @Test(arguments: [
        [TFTPOption("blksize", "2000")],  // larger than asked
        [TFTPOption("windowsize", "2")],  // never asked
        [TFTPOption("tsize", "10")],  // never asked
        [TFTPOption("multicast", "1")],  // unknown
    ])
    func refusesAnOACKBeyondTheRequestWithError8(options: [TFTPOption]) {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(blockSize: 1468), timeout: .seconds(1), retries: 3)
        _ = transfer.start()
        let actions = transfer.received(datagram(.optionAck(options)), fromPort: 4000)
        guard case .error(let code, _) = sent(actions).first else {
            Issue.record("expected an ERROR, got \(actions)")
            return
        }
        #expect(code == .optionNegotiationFailed)
        guard case .protocolViolation = outcome(actions) else {
            Issue.record("expected a protocol violation, got \(actions)")
            return
        }
    }

    @Test func answersAStrangerWithError5AndGoesOn() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(), timeout: .seconds(1), retries: 3)
        _ = transfer.start()
        _ = transfer.received(data(1, 512), fromPort: 4000)
        let stranger = transfer.received(data(2, 512), fromPort: 5000)
        guard case .sendTo(5000, let bytes) = stranger.first,
            case .error(let code, _) = try? TFTPPacket(decoding: bytes)
        else {
            Issue.record("expected ERROR to port 5000, got \(stranger)")
            return
        }
        #expect(code == .unknownTransferID)
        #expect(outcome(transfer.received(data(2, 0), fromPort: 4000)) == .completed(bytes: 512))
    }

    @Test func answersAGapOnceWithTheLastBlockInOrder() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(windowSize: 4), timeout: .seconds(1), retries: 3)
        _ = transfer.start()
        _ = transfer.received(datagram(.optionAck([.init("windowsize", "4")])), fromPort: 4000)
        _ = transfer.received(data(1, 512), fromPort: 4000)
        // Block 2 was lost: 3 and 4 arrive. Only the first of them is answered, with ACK 1.
        #expect(sent(transfer.received(data(3, 512), fromPort: 4000)) == [.ack(block: 1)])
        #expect(sent(transfer.received(data(4, 512), fromPort: 4000)).isEmpty)
        // The server restarts after block 1.
        #expect(delivered(transfer.received(data(2, 512), fromPort: 4000)).count == 512)
    }

    /// A copy of a block already received gets no ACK, in a window or in lockstep: answering copies made the
    /// server restart its window over blocks in flight, whose copies were answered in turn (a resend cascade).
    /// A lost ACK is resent by the timer instead.
    @Test func leavesCopiesOfReceivedBlocksUnansweredAndResendsTheACKOnTimeout() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(windowSize: 4), timeout: .seconds(1), retries: 3)
        _ = transfer.start()
        _ = transfer.received(datagram(.optionAck([.init("windowsize", "4")])), fromPort: 4000)
        for block in UInt16(1)...3 { _ = transfer.received(data(block, 512), fromPort: 4000) }
        #expect(sent(transfer.received(data(2, 512), fromPort: 4000)).isEmpty)
        #expect(sent(transfer.received(data(4, 512), fromPort: 4000)) == [.ack(block: 4)])
        // The server resends the window after block 0 (our ACK 4 was lost): copies, unanswered; the timer resends.
        #expect(sent(transfer.received(data(1, 512), fromPort: 4000)).isEmpty)
        #expect(sent(transfer.timerFired()) == [.ack(block: 4)])

        var lockstep = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(), timeout: .seconds(1), retries: 3)
        _ = lockstep.start()
        _ = lockstep.received(data(1, 512), fromPort: 4000)
        #expect(sent(lockstep.received(data(1, 512), fromPort: 4000)).isEmpty)
        #expect(outcome(lockstep.received(data(2, 0), fromPort: 4000)) == .completed(bytes: 512))
    }

    @Test func resendsOnlyOnTimeoutAndGivesUpAfterTheRetries() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(), timeout: .seconds(1), retries: 2)
        let request = sent(transfer.start())
        #expect(sent(transfer.timerFired()) == request)
        #expect(sent(transfer.timerFired()) == request)
        #expect(outcome(transfer.timerFired()) == .timedOut)
    }

    @Test func blockNumbersRollOverPast65535() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(blockSize: 8), timeout: .seconds(1), retries: 1)
        _ = transfer.start()
        _ = transfer.received(datagram(.optionAck([.init("blksize", "8")])), fromPort: 4000)
        var block: UInt16 = 1
        for _ in 0..<65536 {
            _ = transfer.received(data(block, 8), fromPort: 4000)
            block &+= 1
        }
        #expect(block == 1)
        let last = transfer.received(data(block, 1), fromPort: 4000)
        #expect(sent(last) == [.ack(block: 1)])
        #expect(outcome(last) == .completed(bytes: 65536 * 8 + 1))
    }

    @Test func decodesNetascii() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .netascii, options: .init(), timeout: .seconds(1), retries: 1)
        _ = transfer.start()
        let actions = transfer.received(
            datagram(.data(block: 1, payload: ByteBuffer(bytes: Array("a\r\nb\r\0c".utf8)))), fromPort: 4000)
        #expect(delivered(actions) == Array("a\nb\rc".utf8))
    }

    @Test func reportsTheServersError() {
        var transfer = TFTPClientTransfer(
            filename: "f", mode: .octet, options: .init(), timeout: .seconds(1), retries: 1)
        _ = transfer.start()
        let actions = transfer.received(
            datagram(.error(code: .fileNotFound, message: "File not found")), fromPort: 4000)
        #expect(outcome(actions) == .serverError(code: .fileNotFound, message: "File not found"))
    }
}
