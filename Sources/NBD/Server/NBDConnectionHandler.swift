import Logging
import NIOCore

/// Sent down a connection's pipeline when the server stops: requests from then on get `ESHUTDOWN`.
struct NBDShutdownEvent: Sendable {}

/// One NBD connection: frames bytes, drives the handshake state machine, then hands requests to the
/// transmission and writes its replies. Requests are answered in the order they arrive, and all replies from
/// one read are flushed together, so a client can keep many requests in flight. While the channel is not
/// writable (more replies queued than its high water mark), requests already read wait in `cumulation` and no
/// more are read: a client that does not read its replies cannot make the server touch more of the image.
final class NBDConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case handshake(NBDHandshakeStateMachine<NBDListenerDirectory>, NBDHandshakeDecoder)
        case transmission(NBDTransmission, NBDRequestDecoder)
        case closing
        // Transient, while a phase value is being mutated in place.
        case modifying
    }

    private let style: NBDHandshakeStyle
    private let handshakeTimeout: TimeAmount
    private let shutdownGrace: TimeAmount
    private var logger: Logger
    private var phase: Phase
    private var cumulation: ByteBuffer?
    private var timeout: Scheduled<Void>?
    private var shuttingDown = false
    private var pendingRead = false
    /// Requests wait in `cumulation` until the channel is writable again.
    private var processingPaused = false
    /// The client half-closed; close once the requests read before that are answered.
    private var inputClosed = false
    private var disconnectRequested = false
    private var requestsAfterDisconnect = 0
    private var closeReason = "client closed the connection"
    private var exportName: String?
    private var statistics = NBDTransmission.Statistics()

    init(
        directory: NBDListenerDirectory, style: NBDHandshakeStyle, handshakeTimeout: TimeAmount,
        shutdownGrace: TimeAmount, logger: Logger
    ) {
        self.style = style
        self.handshakeTimeout = handshakeTimeout
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        phase = .handshake(NBDHandshakeStateMachine(directory: directory), NBDHandshakeDecoder())
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "nbd.peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "stdio")"
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            let (handler, context) = bound.value
            handler.close(context: context, reason: NBDProtocolError.handshakeTimedOut.description)
        }
        guard case .handshake(var machine, let decoder) = phase else { return }
        let action = machine.start(style: style)
        phase = .handshake(machine, decoder)
        perform(action, context: context)
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if case .transmission(let transmission, _) = phase { statistics = transmission.statistics }
        phase = .closing
        var metadata: Logger.Metadata = [
            "nbd.export": "\(exportName ?? "-")", "nbd.requests": "\(statistics.requests)",
            "nbd.bytes_read": "\(statistics.bytesRead)", "nbd.bytes_written": "\(statistics.bytesWritten)",
            "nbd.errors": "\(statistics.errors)", "nbd.outcome": "\(closeReason)",
        ]
        if requestsAfterDisconnect > 0 { metadata["nbd.requests_after_disc"] = "\(requestsAfterDisconnect)" }
        logger.info("nbd connection closed", metadata: metadata)
        context.fireChannelInactive()
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

    /// Answers the requests in `cumulation`, then lets go of the bytes they used.
    private func processBuffered(context: ChannelHandlerContext) {
        do {
            try process(context: context)
        } catch {
            close(context: context, reason: "\(error)")
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

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close(context: context, reason: "connection error: \(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The client sent all it will send: answer what it asked, then close.
            inputClosed = true
            if !processingPaused { finishAfterInputClosed(context: context) }
            return
        }
        guard event is NBDShutdownEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        shuttingDown = true
        guard case .transmission = phase else {
            close(context: context, reason: "server shut down during the handshake")
            return
        }
        // Give the client a moment to see ESHUTDOWN and send DISC; then close regardless.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: shutdownGrace) {
            let (handler, context) = bound.value
            handler.close(context: context, reason: "server shut down")
        }
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
                    finishAfterInputClosed(context: context)
                } else if pendingRead {
                    pendingRead = false
                    context.read()
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func finishAfterInputClosed(context: ChannelHandlerContext) {
        switch phase {
        case .closing: return
        case .transmission(let transmission, _): statistics = transmission.statistics
        default: break
        }
        closeReason = "client closed its side of the connection"
        phase = .closing
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
    }

    private func process(context: ChannelHandlerContext) throws {
        while cumulation != nil {
            switch phase {
            case .handshake(var machine, var decoder):
                phase = .modifying
                guard let message = try decoder.decode(buffer: &cumulation!) else {
                    phase = .handshake(machine, decoder)
                    return
                }
                let action = machine.receive(message)
                phase = .handshake(machine, decoder)
                perform(action, context: context)
            case .transmission(var transmission, var decoder):
                guard context.channel.isWritable else {
                    // Flush what is queued; the rest waits for `channelWritabilityChanged`.
                    processingPaused = true
                    context.flush()
                    return
                }
                phase = .modifying
                guard let request = try decoder.decode(buffer: &cumulation!) else {
                    phase = .transmission(transmission, decoder)
                    return
                }
                if disconnectRequested {
                    requestsAfterDisconnect += 1
                    phase = .transmission(transmission, decoder)
                    continue
                }
                let outcome = transmission.handle(request, shuttingDown: shuttingDown)
                phase = .transmission(transmission, decoder)
                switch outcome {
                case .reply(let buffers):
                    for buffer in buffers { context.write(wrapOutboundOut(buffer), promise: nil) }
                case .disconnect:
                    disconnectRequested = true
                    closeReason = "client disconnected (DISC)"
                    // Everything before DISC is queued; close once it has been written.
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil)
                    }
                }
            case .closing, .modifying:
                cumulation = nil
                return
            }
        }
    }

    private func perform(
        _ action: NBDHandshakeStateMachine<NBDListenerDirectory>.Action, context: ChannelHandlerContext
    ) {
        switch action {
        case .send(let bytes):
            if bytes.readableBytes > 0 { context.write(wrapOutboundOut(bytes), promise: nil) }
        case .sendAndClose(let bytes, let reason):
            closeReason = reason
            phase = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
        case .startTransmission(let bytes, let export, let negotiation):
            timeout?.cancel()
            timeout = nil
            exportName = export.definition.name
            logger[metadataKey: "nbd.export"] = "\(export.definition.name)"
            context.write(wrapOutboundOut(bytes), promise: nil)
            let transmission = NBDTransmission(
                export: export, negotiation: negotiation, allocator: context.channel.allocator, logger: logger)
            phase = .transmission(
                transmission, NBDRequestDecoder(refusesWrites: !export.definition.access.acceptsWrites))
        }
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        if case .transmission(let transmission, _) = phase { statistics = transmission.statistics }
        if case .closing = phase {} else { closeReason = reason }
        phase = .closing
        context.close(promise: nil)
    }
}
