import NIOCore

/// How a transfer ended, for its log line.
struct TransferEnd: Sendable {
    /// `ok`, `client aborted`, `probe`, `timed out`, `server error`, `server stopped`.
    var outcome: String
    var statistics: TFTPReadTransfer<ContinuousClock.Instant>.Statistics
    /// The message of the client's ERROR, or of the ERROR the server sent.
    var message: String?
}

/// Carries out a ``TFTPReadTransfer``'s actions on the transfer's own socket: cuts and sends DATA windows, keeps
/// one retransmission timer, answers strangers with ERROR 5, and completes `completion` exactly once.
final class TransferHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    typealias Machine = TFTPReadTransfer<ContinuousClock.Instant>

    private var machine: Machine
    private let client: SocketAddress
    private let source: TransferSource
    private let optionAck: ByteBuffer?
    private let completion: EventLoopPromise<TransferEnd>
    /// Reused for every window: once NIO has sent the previous window's slices, `clear` keeps the storage.
    private var windowBuffer: ByteBuffer
    private var timer: Scheduled<Void>?
    private var peerMessage: String?
    private var completed = false
    /// Whether windows go out as segmented writes (UDP GSO): one kernel pass per window instead of one per block.
    private var useSegmentation = System.supportsUDPSegmentationOffload

    init(
        machine: Machine, client: SocketAddress, source: TransferSource, optionAck: ByteBuffer?,
        completion: EventLoopPromise<TransferEnd>
    ) {
        self.machine = machine
        self.client = client
        self.source = source
        self.optionAck = optionAck
        self.completion = completion
        self.windowBuffer = ByteBuffer()
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.start(now: .now), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == client else {
            answerStranger(envelope, context: context)
            return
        }
        switch try? TFTPPacket(decoding: envelope.data) {
        case .ack(let block):
            perform(machine.ackReceived(block: block, now: .now), context: context)
        case .error(_, let message):
            peerMessage = message
            perform(machine.errorReceived(), context: context)
        default:
            break  // anything else from the client is noise; the timer covers a client that lost track
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(outcome: "server stopped", message: nil)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete(outcome: "server stopped", message: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A send failing (ICMP port unreachable surfaces as ECONNREFUSED) is not fatal: the timer retries.
    }

    private func perform(_ action: Machine.Action, context: ChannelHandlerContext) {
        switch action {
        case .sendOptionAck(let deadline):
            if let optionAck {
                context.writeAndFlush(
                    wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: optionAck)), promise: nil)
            }
            armTimer(deadline, context: context)
        case .sendBlocks(let blocks, let deadline):
            sendBlocks(blocks, context: context)
            armTimer(deadline, context: context)
        case .scheduleTimeout(let deadline):
            armTimer(deadline, context: context)
        case .doNothing:
            break
        case .finish(let outcome):
            finish(outcome: outcome.rawValue, message: peerMessage, context: context)
        }
    }

    private func sendBlocks(_ blocks: ClosedRange<Int>, context: ChannelHandlerContext) {
        let blockSize = machine.configuration.blockSize
        let stride = TransferSource.headerSize + blockSize
        windowBuffer.clear(minimumCapacity: blocks.count * stride)
        guard source.writeDatagrams(blocks, blockSize: blockSize, into: &windowBuffer) else {
            let message = "File changed during transfer"
            let packet = TFTPPacket.error(code: .notDefined, message: message).encoded(
                allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: packet)), promise: nil)
            finish(outcome: "server error", message: message, context: context)
            return
        }
        // The buffer holds the window as header, payload, header, payload…, each datagram `stride` bytes apart and
        // only the transfer's last one shorter: exactly the layout UDP segmentation offload cuts by itself.
        let perWrite = useSegmentation ? min(Self.maximumSegments, Self.maximumSegmentedBytes / stride) : 1
        var offset = 0
        var next = blocks.lowerBound
        while next <= blocks.upperBound {
            let last = min(next + max(perWrite, 1) - 1, blocks.upperBound)
            let length = (last - next) * stride + TransferSource.headerSize + machine.byteRange(ofBlock: last).count
            let datagrams = windowBuffer.getSlice(at: offset, length: length)!
            if last > next {
                let metadata = AddressedEnvelope<ByteBuffer>.Metadata(
                    ecnState: .transportNotCapable, packetInfo: nil, segmentSize: stride)
                let written = context.eventLoop.makePromise(of: Void.self)
                // A kernel or route without UDP_SEGMENT fails the write: send datagram by datagram from then on
                // (the retransmission timer resends what was lost).
                written.futureResult.assumeIsolated().whenFailure { _ in self.useSegmentation = false }
                context.write(
                    wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: datagrams, metadata: metadata)),
                    promise: written)
            } else {
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: datagrams)), promise: nil)
            }
            offset += (last - next + 1) * stride
            next = last + 1
        }
        // One flush per window: NIO hands the whole window to one sendmmsg.
        context.flush()
    }

    /// Segments per segmented write (the kernel's UDP_MAX_SEGMENTS is 64 on older kernels).
    private static let maximumSegments = 64
    /// A segmented write is one UDP datagram to the kernel: it must fit 64 KiB with the IP and UDP headers.
    private static let maximumSegmentedBytes = 65_000

    /// Keeps at most one timer: an earlier timer that fires before the current deadline just re-arms itself, which
    /// is cheaper than cancelling and scheduling on every ACK.
    private func armTimer(_ deadline: ContinuousClock.Instant, context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let delay = ContinuousClock.now.duration(to: deadline)
        let (seconds, attoseconds) = delay.components
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            self.timer = nil
            self.perform(self.machine.timerFired(now: .now), context: context)
        }
    }

    private func answerStranger(_ envelope: AddressedEnvelope<ByteBuffer>, context: ChannelHandlerContext) {
        // Never answer an ERROR with an ERROR: two confused peers would ping-pong forever.
        if case .error = try? TFTPPacket(decoding: envelope.data) { return }
        let packet = TFTPPacket.error(code: .unknownTransferID, message: "Unknown transfer ID")
            .encoded(allocator: context.channel.allocator)
        context.writeAndFlush(
            wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: packet)), promise: nil)
    }

    private func finish(outcome: String, message: String?, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        complete(outcome: outcome, message: message)
        context.close(promise: nil)
    }

    private func complete(outcome: String, message: String?) {
        guard !completed else { return }
        completed = true
        timer?.cancel()
        timer = nil
        completion.succeed(TransferEnd(outcome: outcome, statistics: machine.statistics, message: message))
    }
}
