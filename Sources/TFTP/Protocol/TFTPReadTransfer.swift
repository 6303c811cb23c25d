/// The server side of one read transfer as a state machine: events in (ACK, ERROR, timer), actions out (send the
/// OACK, send blocks, wait, finish). It owns no socket, no file and no clock, so every rule is testable with a
/// manual clock:
///
/// - After an OACK the client must send ACK 0; on timeout the OACK is resent, not DATA.
/// - Data goes in windows of `windowSize` blocks (RFC 7440; a window of 1 is RFC 1350 lockstep). An ACK for the
///   window's last block opens the next window; an ACK for an earlier block restarts the window after it.
/// - A duplicate ACK (of the block before the window) resends the window only once a quarter of `timeout` has
///   passed since the window was last sent, and counts as a resend: a client that timed out says at once what it
///   lacks (busybox gives up after about 14 s, before a fourth timer resend at 15 s), while a duplicate that a late
///   or doubled DATA provoked arrives within a round trip and changes nothing, so the Sorcerer's Apprentice bug
///   (every duplicate answered, the traffic doubling) cannot start.
/// - Blocks are counted from 1 without bound; on the wire the number wraps past 65535 to 0 (see ``blockNumber(of:)``).
/// - After `retries` timeouts in a row without progress the transfer ends as timed out.
/// - Resends back off: each wait without progress is twice the one before (1, 2, 4, 8 s from a 1 s `timeout`, so
///   resends at 1, 3, 7, 15 s as tftp-hpa), up to `backoffCeiling`; progress starts again from `timeout`.
/// - Until the client's first ACK the transfer is half-open (like a TCP SYN): its peer has not shown it receives
///   (the RRQ may be spoofed), so it gets only `halfOpenResends` resends.
///
/// Blocks are identified by their absolute index (1-based); block `i` holds bytes `byteRange(ofBlock: i)`. The last
/// block is shorter than `blockSize` (empty when the size is a multiple of it).
public struct TFTPReadTransfer<Instant: InstantProtocol>: Sendable {
    /// The parameters negotiated for this transfer.
    public struct Configuration: Sendable {
        /// Bytes to send (after any netascii conversion).
        public var size: Int
        /// Bytes per DATA block (`blksize`).
        public var blockSize: Int
        /// Blocks per window (`windowsize`; 1 is lockstep).
        public var windowSize: Int
        /// How long to wait for an ACK before retransmitting.
        public var timeout: Instant.Duration
        /// Retransmissions in a row without progress before giving up.
        public var retries: Int
        /// Whether the transfer starts with an OACK (some option was accepted).
        public var sendsOptionAck: Bool
        /// Whether that OACK answers `tsize`: an ERROR instead of ACK 0 is then a size probe, not a failure.
        public var optionAckAnswersTransferSize: Bool
        /// The longest wait between resends as they back off; nil: every wait is `timeout` (no backoff).
        public var backoffCeiling: Instant.Duration?
        /// Resends before the client's first ACK; nil: `retries`.
        public var halfOpenResends: Int?

        /// The parameters of one transfer, usually from a ``TFTPOptionNegotiation``.
        public init(
            size: Int, blockSize: Int, windowSize: Int, timeout: Instant.Duration, retries: Int,
            sendsOptionAck: Bool, optionAckAnswersTransferSize: Bool, backoffCeiling: Instant.Duration? = nil,
            halfOpenResends: Int? = nil
        ) {
            self.size = size
            self.blockSize = blockSize
            self.windowSize = windowSize
            self.timeout = timeout
            self.retries = retries
            self.sendsOptionAck = sendsOptionAck
            self.optionAckAnswersTransferSize = optionAckAnswersTransferSize
            self.backoffCeiling = backoffCeiling
            self.halfOpenResends = halfOpenResends
        }
    }

    /// What the driver must do next.
    public enum Action: Sendable, Hashable {
        /// Send (or resend) the OACK; make sure a timer fires at the deadline.
        case sendOptionAck(timeoutAt: Instant)
        /// Send these blocks, in order; make sure a timer fires at the deadline.
        case sendBlocks(ClosedRange<Int>, timeoutAt: Instant)
        /// The timer fired early: call ``timerFired(now:)`` again at this instant.
        case scheduleTimeout(at: Instant)
        /// Nothing to do (a duplicate or stale ACK, a timer after the end).
        case doNothing
        /// The transfer is over; release its socket.
        case finish(TransferOutcome)
    }

    /// Counters for the transfer's log line.
    public struct Statistics: Sendable, Hashable {
        /// Distinct blocks sent at least once.
        public var blocksSent = 0
        /// Blocks sent again after a timeout or a window restart, plus OACK resends.
        public var retransmissions = 0
        /// Bytes the client acknowledged.
        public var bytesAcknowledged = 0
    }

    private enum State: Sendable {
        case idle
        case awaitingOptionAck(deadline: Instant, attempts: Int)
        /// Blocks `windowStart...sentThrough` are in flight (unacknowledged); the window was last sent at `sentAt`.
        case sending(windowStart: Int, sentThrough: Int, sentAt: Instant, deadline: Instant, attempts: Int)
        case finished
    }

    /// The parameters the transfer runs with.
    public let configuration: Configuration
    /// Number of blocks in the transfer, the last one short (possibly empty).
    public let blockCount: Int
    /// Counters so far.
    public private(set) var statistics = Statistics()
    /// Whether the client has acknowledged anything; until then the transfer is half-open.
    public private(set) var isEstablished = false
    private var state = State.idle

    /// A transfer not yet started: call ``start(now:)``.
    public init(configuration: Configuration) {
        precondition(configuration.blockSize > 0 && configuration.windowSize > 0, "negotiated sizes are positive")
        self.configuration = configuration
        self.blockCount = configuration.size / configuration.blockSize + 1
    }

    /// The block number on the wire for absolute block `index`: it wraps past 65535 to 0.
    public static func blockNumber(of index: Int) -> UInt16 { UInt16(truncatingIfNeeded: index) }

    /// The bytes of the content that block `index` carries.
    public func byteRange(ofBlock index: Int) -> Range<Int> {
        let start = (index - 1) * configuration.blockSize
        return start..<min(start + configuration.blockSize, configuration.size)
    }

    /// Whether the transfer has finished.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Starts the transfer: the OACK, or the first window when no option was accepted.
    public mutating func start(now: Instant) -> Action {
        guard case .idle = state else { return .doNothing }
        if configuration.sendsOptionAck {
            let deadline = now.advanced(by: wait(afterResends: 0))
            state = .awaitingOptionAck(deadline: deadline, attempts: 0)
            return .sendOptionAck(timeoutAt: deadline)
        }
        return sendWindow(from: 1, previouslySentThrough: 0, attempts: 0, now: now)
    }

    /// The client acknowledged wire block `block`.
    public mutating func ackReceived(block: UInt16, now: Instant) -> Action {
        switch state {
        case .awaitingOptionAck:
            guard block == 0 else { return .doNothing }
            isEstablished = true
            return sendWindow(from: 1, previouslySentThrough: 0, attempts: 0, now: now)
        case .sending(let windowStart, let sentThrough, let sentAt, _, let attempts):
            // Map the 16-bit number onto the in-flight range; a window never exceeds 65535 blocks, so the mapping
            // is unique across a rollover.
            let base = windowStart - 1
            let acknowledged = base + Int(block &- Self.blockNumber(of: base))
            if acknowledged == base {
                // A duplicate of an ACK already acted on: the client still lacks the window's first block.
                guard sentAt.duration(to: now) >= duplicateAckHoldoff, attempts < retryLimit else { return .doNothing }
                return sendWindow(
                    from: windowStart, previouslySentThrough: sentThrough, attempts: attempts + 1, now: now)
            }
            // Beyond what was sent: stale or bogus.
            guard acknowledged > base, acknowledged <= sentThrough else { return .doNothing }
            isEstablished = true
            statistics.bytesAcknowledged = min(acknowledged * configuration.blockSize, configuration.size)
            if acknowledged == blockCount {
                state = .finished
                return .finish(.ok)
            }
            return sendWindow(from: acknowledged + 1, previouslySentThrough: sentThrough, attempts: 0, now: now)
        case .idle, .finished:
            return .doNothing
        }
    }

    /// The client sent an ERROR: the transfer ends quietly. After an OACK that answered `tsize` it was a probe.
    public mutating func errorReceived() -> Action {
        switch state {
        case .awaitingOptionAck:
            state = .finished
            return .finish(configuration.optionAckAnswersTransferSize ? .probe : .clientAborted)
        case .idle, .sending:
            state = .finished
            return .finish(.clientAborted)
        case .finished:
            return .doNothing
        }
    }

    /// The retransmission timer fired at `now` (perhaps before the current deadline, which ACKs move forward).
    public mutating func timerFired(now: Instant) -> Action {
        switch state {
        case .awaitingOptionAck(let deadline, let attempts):
            guard now >= deadline else { return .scheduleTimeout(at: deadline) }
            guard attempts < retryLimit else {
                state = .finished
                return .finish(.timedOut)
            }
            let next = now.advanced(by: wait(afterResends: attempts + 1))
            state = .awaitingOptionAck(deadline: next, attempts: attempts + 1)
            statistics.retransmissions += 1
            return .sendOptionAck(timeoutAt: next)
        case .sending(let windowStart, let sentThrough, _, let deadline, let attempts):
            guard now >= deadline else { return .scheduleTimeout(at: deadline) }
            guard attempts < retryLimit else {
                state = .finished
                return .finish(.timedOut)
            }
            return sendWindow(
                from: windowStart, previouslySentThrough: sentThrough, attempts: attempts + 1, now: now)
        case .idle, .finished:
            return .doNothing
        }
    }

    /// Resends allowed in a row: fewer while half-open.
    private var retryLimit: Int {
        isEstablished ? configuration.retries : min(configuration.retries, configuration.halfOpenResends ?? .max)
    }

    /// How long after a window was sent a duplicate ACK may resend it: longer than a round trip on any LAN a
    /// `timeout` suits, shorter than a client's patience.
    private var duplicateAckHoldoff: Instant.Duration { configuration.timeout / 4 }

    /// How long to wait for an ACK after `resends` sends in a row without progress: doubling from `timeout`.
    private func wait(afterResends resends: Int) -> Instant.Duration {
        guard let ceiling = configuration.backoffCeiling else { return configuration.timeout }
        var wait = configuration.timeout
        // Doubling stops at the ceiling, so a high `retries` never overflows the duration.
        for _ in 0..<resends where wait < ceiling { wait = wait * 2 }
        return min(wait, max(ceiling, configuration.timeout))
    }

    private mutating func sendWindow(from first: Int, previouslySentThrough: Int, attempts: Int, now: Instant)
        -> Action
    {
        let last = min(first + configuration.windowSize - 1, blockCount)
        let resent = max(0, min(last, previouslySentThrough) - first + 1)
        statistics.retransmissions += resent
        statistics.blocksSent += (last - first + 1) - resent
        let deadline = now.advanced(by: wait(afterResends: attempts))
        state = .sending(
            windowStart: first, sentThrough: max(last, previouslySentThrough), sentAt: now, deadline: deadline,
            attempts: attempts)
        return .sendBlocks(first...last, timeoutAt: deadline)
    }
}
