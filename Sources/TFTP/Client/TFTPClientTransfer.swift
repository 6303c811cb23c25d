import NIOCore

/// The client side of one read (RRQ) as a sans-IO state machine: it takes datagrams and timer events and returns
/// what to send, what bytes to keep and when to stop. The socket driver (``TFTPClient``) only carries these out.
///
/// Rules it follows: the first answer fixes the server's transfer port and any other port gets ERROR 5; an OACK is
/// checked against what was asked (never an unrequested option, never a larger blksize or windowsize) and answered
/// with ACK 0; a server that ignores options answers DATA 1 at 512 bytes, window 1; a full window is acknowledged
/// with its last block; an out-of-order block is answered once with the ACK of the last block in order, so the
/// server restarts its window (RFC 7440 §4); block numbers roll over past 65535; only a timeout resends.
public struct TFTPClientTransfer: Sendable {
    /// What the driver must do next, in order.
    public enum Action: Sendable, Equatable {
        /// Send a datagram to the server: to its request port before the transfer port is known, else to the
        /// transfer port.
        case send(ByteBuffer)
        /// Send a datagram to another port (ERROR 5 to a stranger).
        case sendTo(port: Int, ByteBuffer)
        /// File bytes, in order (already netascii-decoded).
        case deliver([UInt8])
        /// The server's announced size (OACK `tsize`), for progress.
        case announceSize(Int)
        /// Arm (or re-arm) the retransmission timer.
        case scheduleTimeout(TimeAmount)
        /// The transfer is over.
        case finish(Outcome)
    }

    /// How a transfer ended.
    public enum Outcome: Sendable, Equatable {
        case completed(bytes: Int)
        /// The server answered ERROR.
        case serverError(code: TFTPErrorCode, message: String)
        /// The server stopped answering after every retry.
        case timedOut
        /// The server broke the protocol (bad OACK, garbage); the client sent ERROR and stopped.
        case protocolViolation(String)
    }

    /// The options this client asks for; nil leaves an option out of the RRQ.
    public struct Options: Sendable, Equatable {
        public var blockSize: Int?
        public var windowSize: Int?
        public var requestTransferSize: Bool
        public var timeoutSeconds: Int?

        public init(
            blockSize: Int? = nil, windowSize: Int? = nil, requestTransferSize: Bool = false,
            timeoutSeconds: Int? = nil
        ) {
            self.blockSize = blockSize
            self.windowSize = windowSize
            self.requestTransferSize = requestTransferSize
            self.timeoutSeconds = timeoutSeconds
        }
    }

    private enum State: Sendable {
        /// RRQ sent, no answer yet.
        case requested
        /// Receiving blocks from the server's transfer port.
        case receiving(serverPort: Int)
        case finished
    }

    private let filename: String
    private let mode: TFTPMode
    private let options: Options
    private let timeout: TimeAmount
    private let maxRetries: Int
    private var state: State = .requested
    private var blockSize = TFTPOptionNegotiation.defaultBlockSize
    private var windowSize = 1
    /// The last datagram sent to the server, resent on timeout (the RRQ, then the latest ACK).
    private var lastSent = ByteBuffer()
    private var retries = 0
    /// Blocks received in order so far (not wrapped), and those since the last ACK.
    private var blocksReceived = 0
    private var blocksSinceAck = 0
    /// Whether the current gap has already been answered with an ACK, so a burst of out-of-order blocks is
    /// answered once, not once per datagram.
    private var gapAcknowledged = false
    private var bytesDelivered = 0
    private var netascii = Netascii.Decoder()
    private let allocator = ByteBufferAllocator()

    /// - Parameters:
    ///   - timeout: the wait before resending; the `timeout` option, when asked, should match it.
    ///   - retries: resends of the same datagram before giving up.
    public init(filename: String, mode: TFTPMode, options: Options, timeout: TimeAmount, retries: Int) {
        self.filename = filename
        self.mode = mode
        self.options = options
        self.timeout = timeout
        self.maxRetries = retries
    }

    /// The server's transfer port once its first answer arrived; `.send` goes there from then on.
    public private(set) var transferPort: Int?

    /// The bytes delivered so far.
    public var bytesReceived: Int { bytesDelivered }

    /// Starts the transfer: the RRQ and its timer.
    public mutating func start() -> [Action] {
        var requested: [TFTPOption] = []
        if let blockSize = options.blockSize { requested.append(TFTPOption(TFTPOption.blockSize, "\(blockSize)")) }
        if let timeout = options.timeoutSeconds { requested.append(TFTPOption(TFTPOption.timeout, "\(timeout)")) }
        if options.requestTransferSize { requested.append(TFTPOption(TFTPOption.transferSize, "0")) }
        if let windowSize = options.windowSize {
            requested.append(TFTPOption(TFTPOption.windowSize, "\(windowSize)"))
        }
        let request = TFTPPacket.readRequest(TFTPRequest(filename: filename, mode: mode, options: requested))
        lastSent = request.encoded(allocator: allocator)
        return [.send(lastSent), .scheduleTimeout(timeout)]
    }

    /// A datagram arrived from the server's host on `port`.
    public mutating func received(_ datagram: ByteBuffer, fromPort port: Int) -> [Action] {
        switch state {
        case .finished:
            return []
        case .requested:
            // The first answer picks the transfer port (RFC 1350 §4).
            state = .receiving(serverPort: port)
            transferPort = port
            return handleFirst(datagram)
        case .receiving(let serverPort):
            guard port == serverPort else {
                let error = TFTPPacket.error(code: .unknownTransferID, message: "Unknown transfer ID")
                return [.sendTo(port: port, error.encoded(allocator: allocator))]
            }
            return handle(datagram)
        }
    }

    /// The retransmission timer fired: resend the last datagram, or give up.
    public mutating func timerFired() -> [Action] {
        if case .finished = state { return [] }
        guard retries < maxRetries else {
            state = .finished
            return [.finish(.timedOut)]
        }
        retries += 1
        return [.send(lastSent), .scheduleTimeout(timeout)]
    }

    private mutating func handleFirst(_ datagram: ByteBuffer) -> [Action] {
        guard let packet = try? TFTPPacket(decoding: datagram) else {
            return fail("malformed first reply")
        }
        switch packet {
        case .optionAck(let accepted):
            return acceptOptions(accepted)
        case .data:
            // No OACK: the server ignored every option (RFC 2347), so RFC 1350 rules apply.
            return handle(datagram)
        case .error(let code, let message):
            state = .finished
            return [.finish(.serverError(code: code, message: message))]
        default:
            return fail("unexpected \(packet.opcode) as first reply")
        }
    }

    private mutating func acceptOptions(_ accepted: [TFTPOption]) -> [Action] {
        var actions: [Action] = []
        for option in accepted {
            guard let value = Int(option.value) else { return fail("OACK \(option.name) is not a number") }
            switch option.name {
            case TFTPOption.blockSize:
                guard let asked = options.blockSize, (8...asked).contains(value) else {
                    return fail("OACK blksize \(value) was not asked for or exceeds the request")
                }
                blockSize = value
            case TFTPOption.windowSize:
                guard let asked = options.windowSize, (1...asked).contains(value) else {
                    return fail("OACK windowsize \(value) was not asked for or exceeds the request")
                }
                windowSize = value
            case TFTPOption.transferSize:
                guard options.requestTransferSize, value >= 0 else { return fail("OACK tsize was not asked for") }
                actions.append(.announceSize(value))
            case TFTPOption.timeout:
                guard options.timeoutSeconds != nil else { return fail("OACK timeout was not asked for") }
            default:
                return fail("OACK carries option \(option.name) that was not asked for")
            }
        }
        return actions + acknowledge(block: 0)
    }

    private mutating func handle(_ datagram: ByteBuffer) -> [Action] {
        guard let packet = try? TFTPPacket(decoding: datagram) else {
            return fail("malformed packet")
        }
        switch packet {
        case .data(let block, let payload):
            return receiveData(block: block, payload: payload)
        case .error(let code, let message):
            state = .finished
            return [.finish(.serverError(code: code, message: message))]
        case .optionAck:
            // A resent OACK: our ACK 0 was lost.
            return blocksReceived == 0 ? acknowledge(block: 0) : []
        default:
            return fail("unexpected \(packet.opcode) during the transfer")
        }
    }

    private mutating func receiveData(block: UInt16, payload: ByteBuffer) -> [Action] {
        let expected = UInt16(truncatingIfNeeded: blocksReceived + 1)
        guard block == expected else {
            // A copy of a block already received (a duplicate on the wire, or a window the server resends):
            // not answered. An ACK for it would restart the server's window over blocks already in flight, their
            // copies would be answered again, and so on: with 5 % duplication a 4 MiB transfer at windowsize 16
            // resent 60 % of its blocks. If our last ACK was lost, the timer resends it.
            guard block &- expected < 0x8000 else { return [] }
            // A block past a gap: answer once with the last block received in order.
            guard !gapAcknowledged else { return [] }
            gapAcknowledged = true
            return acknowledge(block: UInt16(truncatingIfNeeded: blocksReceived))
        }
        gapAcknowledged = false
        guard payload.readableBytes <= blockSize else {
            return fail("DATA \(block) carries \(payload.readableBytes) bytes, more than blksize \(blockSize)")
        }
        blocksReceived += 1
        blocksSinceAck += 1
        var actions: [Action] = []
        let bytes = Array(payload.readableBytesView)
        let delivered = mode == .netascii ? netascii.decode(bytes) : bytes
        bytesDelivered += delivered.count
        if !delivered.isEmpty { actions.append(.deliver(delivered)) }
        if payload.readableBytes < blockSize {
            if mode == .netascii {
                let tail = netascii.finish()
                bytesDelivered += tail.count
                if !tail.isEmpty { actions.append(.deliver(tail)) }
            }
            actions += acknowledge(block: block)
            actions.removeAll { if case .scheduleTimeout = $0 { true } else { false } }
            state = .finished
            actions.append(.finish(.completed(bytes: bytesDelivered)))
            return actions
        }
        if blocksSinceAck >= windowSize {
            actions += acknowledge(block: block)
        }
        return actions
    }

    private mutating func acknowledge(block: UInt16) -> [Action] {
        lastSent = TFTPPacket.ack(block: block).encoded(allocator: allocator)
        blocksSinceAck = 0
        retries = 0
        return [.send(lastSent), .scheduleTimeout(timeout)]
    }

    /// Tells the server why (ERROR 8 for option trouble, else ERROR 4) and stops.
    private mutating func fail(_ reason: String) -> [Action] {
        state = .finished
        let code: TFTPErrorCode = reason.hasPrefix("OACK") ? .optionNegotiationFailed : .illegalOperation
        let error = TFTPPacket.error(code: code, message: reason).encoded(allocator: allocator)
        return [.send(error), .finish(.protocolViolation(reason))]
    }
}
