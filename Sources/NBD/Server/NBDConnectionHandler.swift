import BootEvents
import Logging
import NIOCore

/// One NBD connection on a channel: frames bytes with the handshake and request decoders, feeds the messages and
/// the channel's events to `NBDConnectionStateMachine`, and carries out its actions. Requests are answered in
/// the order they arrive, and all replies from one read are flushed together, so a client can keep many
/// requests in flight. While the channel is not writable (more replies queued than its high water mark),
/// requests already read wait in `cumulation` and no more are read: a client that does not read its replies
/// cannot make the server touch more of the image.
final class NBDConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The decoder for the state machine's current framing.
    private enum Decoder {
        case handshake(NBDHandshakeDecoder)
        case requests(NBDRequestDecoder)
        case none
    }

    private let style: NBDHandshakeStyle
    private let handshakeTimeout: TimeAmount
    private let shutdownGrace: TimeAmount
    private var logger: Logger
    private let events: any BootEventSink
    /// When the handshake chose an export: the connection's duration in its event.
    private var transmissionStarted: ContinuousClock.Instant?
    /// Bytes read so far, for the status page and the metrics while the connection runs: stored once per reply,
    /// before the reply is flushed, so a client that has its data sees it counted.
    private var progress: TransferProgress?
    private var machine: NBDConnectionStateMachine
    private var decoder: Decoder = .handshake(NBDHandshakeDecoder())
    /// Bytes read and not yet framed.
    private var cumulation: ByteBuffer?
    private var timeout: Scheduled<Void>?
    /// The channel asked to read while requests were paused.
    private var pendingRead = false
    /// Requests wait in `cumulation` until the channel is writable again.
    private var processingPaused = false
    /// The client half-closed; tell the state machine once the requests read before that are answered.
    private var inputClosed = false

    init(
        directory: NBDListenerDirectory, style: NBDHandshakeStyle, handshakeTimeout: TimeAmount,
        shutdownGrace: TimeAmount, logger: Logger, events: any BootEventSink = IgnoredBootEvents()
    ) {
        self.events = events
        self.style = style
        self.handshakeTimeout = handshakeTimeout
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        machine = NBDConnectionStateMachine(directory: directory)
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "nbd.peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "stdio")"
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            let (handler, context) = bound.value
            handler.perform(handler.machine.handshakeTimedOut(), context: context)
        }
        decoder = .handshake(NBDHandshakeDecoder(expectingClientFlags: style == .newstyle))
        perform(machine.start(style: style, logger: logger), context: context)
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        decoder = .none
        logger.info("nbd connection closed", metadata: machine.closed())
        if let transmissionStarted, let export = machine.exportName {
            let statistics = machine.statistics
            events.record(
                event(
                    context, phase: .finished, export: export, outcome: machine.closeReason,
                    bytes: Int(statistics.bytesRead),
                    commands: statistics.commandCounts.map {
                        BootEvent.CommandCount(command: $0.command, count: $0.count, failed: $0.failed)
                    }, duration: transmissionStarted.duration(to: .now)))
        }
        context.fireChannelInactive()
    }

    /// The connection's boot-status event: the root connected, or closed. It names the export and the version it
    /// serves, whether the client pinned it (`NAME@VERSION`) or asked for the newest (`NAME`).
    private func event(
        _ context: ChannelHandlerContext, phase: BootEvent.Phase, export: String, outcome: String, bytes: Int = 0,
        commands: [BootEvent.CommandCount] = [], duration: Duration = .zero, progress: TransferProgress? = nil
    ) -> BootEvent {
        BootEvent(
            source: .nbd, phase: phase, clientIP: context.remoteAddress?.ipAddress,
            peer: context.remoteAddress.map { "\($0)" }, path: export, outcome: outcome, bytes: bytes,
            version: machine.exportVersion, commands: commands, duration: duration, progress: progress)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if cumulation == nil {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        processBuffered(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        perform(machine.fail("connection error: \(error)"), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The client sent all it will send: answer what it asked, then close.
            inputClosed = true
            if !processingPaused { perform(machine.inputClosed(), context: context) }
            return
        }
        // NIO's quiescing event: the server stops, so requests from now on get `ESHUTDOWN`.
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        perform(machine.quiesce(), context: context)
    }

    // Back-pressure: stop reading requests while the socket cannot take more replies.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable && !processingPaused {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if processingPaused {
                processingPaused = false
                processBuffered(context: context)
                context.flush()
            }
            if !processingPaused {
                if inputClosed {
                    perform(machine.inputClosed(), context: context)
                } else if pendingRead {
                    pendingRead = false
                    context.read()
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Frames and answers the messages in `cumulation`, then lets go of the bytes they used.
    private func processBuffered(context: ChannelHandlerContext) {
        do {
            try frame(context: context)
        } catch {
            perform(machine.fail("\(error)"), context: context)
        }
        if var buffer = cumulation {
            if buffer.readableBytes == 0 {
                cumulation = nil
            } else if buffer.readerIndex > 64 * 1024 {
                buffer.discardReadBytes()
                cumulation = buffer
            }
        }
    }

    private func frame(context: ChannelHandlerContext) throws {
        while cumulation != nil {
            switch decoder {
            case .handshake(var handshakeDecoder):
                guard let message = try handshakeDecoder.decode(buffer: &cumulation!) else { return }
                decoder = .handshake(handshakeDecoder)
                perform(machine.receive(message), context: context)
            case .requests(var requestDecoder):
                guard context.channel.isWritable else {
                    // Flush what is queued; the rest waits for `channelWritabilityChanged`.
                    processingPaused = true
                    context.flush()
                    return
                }
                let request = try requestDecoder.decode(buffer: &cumulation!)
                decoder = .requests(requestDecoder)
                guard let request else { return }
                perform(machine.receive(request), context: context)
            case .none:
                cumulation = nil
            }
        }
    }

    private func perform(_ action: NBDConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .write(let buffers):
            progress?.update(bytes: Int(machine.bytesRead), retransmits: 0)
            for buffer in buffers { context.write(wrapOutboundOut(buffer), promise: nil) }
        case .startTransmission(let bytes, let framing):
            timeout?.cancel()
            timeout = nil
            transmissionStarted = .now
            if let export = machine.exportName {
                let progress = TransferProgress()
                self.progress = progress
                events.record(
                    event(context, phase: .started, export: export, outcome: "connected", progress: progress))
            }
            if case .requests(let refusesWrites) = framing {
                decoder = .requests(NBDRequestDecoder(refusesWrites: refusesWrites))
            }
            context.write(wrapOutboundOut(bytes), promise: nil)
        case .closeAfterWriting(let bytes):
            if case .ignored = machine.framing { decoder = .none }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
        case .close:
            decoder = .none
            context.close(promise: nil)
        case .closeAfterGrace:
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: shutdownGrace) {
                let (handler, context) = bound.value
                handler.perform(handler.machine.graceExpired(), context: context)
            }
        }
    }
}
