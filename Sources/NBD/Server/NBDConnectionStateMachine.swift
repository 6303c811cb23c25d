import Logging
import NIOCore

/// One NBD connection's life with no I/O: the handshake, transmission, and how it ends. The channel handler
/// frames bytes into messages, feeds them here with the connection's events, and carries out the actions
/// returned, so every decision a connection makes is testable without a socket. Rules:
/// - The handshake state machine answers options until it picks an export; then requests are framed, and a
///   read-only export's WRITE payloads are dropped as they arrive.
/// - Requests are answered in order. After DISC, later requests are counted for the log, never answered, and
///   the connection closes once the replies before DISC are written.
/// - A half-close is answered by closing once the replies already asked for are written.
/// - Quiescing (server shutdown) answers every request but DISC with `ESHUTDOWN`, and closes after the grace
///   period; during the handshake it closes at once.
struct NBDConnectionStateMachine {
    /// What the handler must do next.
    enum Action {
        case none
        /// Write these buffers, in order.
        case write([ByteBuffer])
        /// The handshake chose an export: write these bytes, stop the handshake timer, and frame requests from
        /// now on.
        case startTransmission(ByteBuffer, framing: Framing)
        /// Write these bytes (maybe none), flush, and close once everything queued is written.
        case closeAfterWriting(ByteBuffer)
        /// Close now.
        case close
        /// Close once the shutdown grace period has passed.
        case closeAfterGrace
    }

    /// How the bytes from the client are cut into messages now.
    enum Framing: Equatable {
        /// Client flags and options (`NBDHandshakeDecoder`).
        case handshake
        /// Transmission requests (`NBDRequestDecoder`), dropping WRITE payloads when `refusesWrites`.
        case requests(refusesWrites: Bool)
        /// Nothing more is read: the connection is closing.
        case ignored
    }

    private enum Phase {
        case handshake(NBDHandshakeStateMachine<NBDListenerDirectory>)
        case transmission(NBDTransmission)
        /// DISC arrived; the replies before it are being written.
        case disconnecting
        case closed
    }

    private var phase: Phase
    private var shuttingDown = false
    private var requestsAfterDisconnect = 0
    private(set) var closeReason = "client closed the connection"
    /// The export chosen by the handshake, once it is: its name without a version, and the version it serves
    /// (what the client pinned with `NAME@VERSION`, or the newest for plain `NAME`).
    private(set) var exportName: String?
    private(set) var exportVersion: String?
    /// The transmission's counts, as of its end.
    private(set) var statistics = NBDTransmission.Statistics()
    /// Bytes the READ replies so far carry, kept current while the transmission runs (the status page's progress).
    private(set) var bytesRead: UInt64 = 0
    private var logger = Logger(label: "nbd")

    init(directory: NBDListenerDirectory) {
        phase = .handshake(NBDHandshakeStateMachine(directory: directory))
    }

    /// How to frame the next bytes.
    var framing: Framing {
        switch phase {
        case .handshake: .handshake
        case .transmission(let transmission):
            .requests(refusesWrites: !transmission.export.definition.access.acceptsWrites)
        case .disconnecting: .requests(refusesWrites: true)
        case .closed: .ignored
        }
    }

    /// The connection is up: the newstyle greeting, or the whole oldstyle handshake. `logger` (with the peer)
    /// gets the transmission's per-request traces.
    mutating func start(style: NBDHandshakeStyle, logger: Logger) -> Action {
        self.logger = logger
        guard case .handshake(var machine) = phase else { return .none }
        let action = machine.start(style: style)
        phase = .handshake(machine)
        return perform(action)
    }

    /// A framed handshake message.
    mutating func receive(_ message: NBDClientHandshakeMessage) -> Action {
        guard case .handshake(var machine) = phase else { return .none }
        let action = machine.receive(message)
        phase = .handshake(machine)
        return perform(action)
    }

    /// A framed transmission request (a WRITE with its payload, or without it on a read-only export).
    mutating func receive(_ request: NBDRequest) -> Action {
        switch phase {
        case .transmission(var transmission):
            let outcome = transmission.handle(request, shuttingDown: shuttingDown)
            switch outcome {
            case .reply(let buffers):
                bytesRead = transmission.statistics.bytesRead
                phase = .transmission(transmission)
                return .write(buffers)
            case .disconnect:
                statistics = transmission.statistics
                phase = .disconnecting
                closeReason = "client disconnected (DISC)"
                return .closeAfterWriting(ByteBuffer())
            }
        case .disconnecting:
            requestsAfterDisconnect += 1
            return .none
        case .handshake, .closed:
            return .none
        }
    }

    /// The client sent all it will send (and every request before that has been answered).
    mutating func inputClosed() -> Action {
        switch phase {
        case .closed, .disconnecting: return .none
        case .transmission(let transmission): statistics = transmission.statistics
        case .handshake: break
        }
        closeReason = "client closed its side of the connection"
        phase = .closed
        return .closeAfterWriting(ByteBuffer())
    }

    /// The server is stopping (NIO's `ChannelShouldQuiesceEvent`).
    mutating func quiesce() -> Action {
        shuttingDown = true
        switch phase {
        case .transmission, .disconnecting, .closed:
            // Give the client a moment to see ESHUTDOWN and send DISC (or to read the replies a close waits
            // for); then close regardless.
            return .closeAfterGrace
        case .handshake:
            return fail("server shut down during the handshake")
        }
    }

    /// The shutdown grace period is over.
    mutating func graceExpired() -> Action { fail("server shut down") }

    /// The handshake took longer than allowed.
    mutating func handshakeTimedOut() -> Action { fail(NBDProtocolError.handshakeTimedOut.description) }

    /// The bytes could not be framed, or the channel failed: close now, with `reason` in the log.
    mutating func fail(_ reason: String) -> Action {
        guard !isClosed else { return .close }
        if case .transmission(let transmission) = phase { statistics = transmission.statistics }
        closeReason = reason
        phase = .closed
        return .close
    }

    /// The channel is gone: the connection's one log line.
    mutating func closed() -> Logger.Metadata {
        if case .transmission(let transmission) = phase { statistics = transmission.statistics }
        phase = .closed
        var metadata: Logger.Metadata = [
            "nbd.export": "\(exportName ?? "-")", "nbd.version": "\(exportVersion ?? "-")",
            "nbd.requests": "\(statistics.requests)",
            "nbd.bytes_read": "\(statistics.bytesRead)", "nbd.bytes_written": "\(statistics.bytesWritten)",
            "nbd.errors": "\(statistics.errors)", "nbd.outcome": "\(closeReason)",
        ]
        if requestsAfterDisconnect > 0 { metadata["nbd.requests_after_disc"] = "\(requestsAfterDisconnect)" }
        return metadata
    }

    private var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    private mutating func perform(_ action: NBDHandshakeStateMachine<NBDListenerDirectory>.Action) -> Action {
        switch action {
        case .send(let bytes):
            return bytes.readableBytes > 0 ? .write([bytes]) : .none
        case .sendAndClose(let bytes, let reason):
            closeReason = reason
            phase = .closed
            return .closeAfterWriting(bytes)
        case .startTransmission(let bytes, let export, let negotiation):
            exportName = export.definition.name
            exportVersion = export.image.contentVersion.id
            var logger = logger
            logger[metadataKey: "nbd.export"] = "\(export.definition.name)"
            phase = .transmission(
                NBDTransmission(
                    export: export, negotiation: negotiation, allocator: ByteBufferAllocator(), logger: logger))
            return .startTransmission(bytes, framing: framing)
        }
    }
}
