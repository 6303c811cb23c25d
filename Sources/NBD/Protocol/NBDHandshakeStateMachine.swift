import NIOCore

/// The server side of the NBD handshake as a plain state machine: it takes client messages and returns what to
/// send and what to do, with no I/O (`doc/proto.md`, "Handshake").
public struct NBDHandshakeStateMachine<Directory: NBDExportDirectory> {
    /// What the connection must do next.
    public enum Action {
        /// Send these bytes and wait for more client messages.
        case send(ByteBuffer)
        /// Send these bytes (maybe empty) and close: the client aborted or broke the protocol.
        case sendAndClose(ByteBuffer, reason: String)
        /// Send these bytes, then serve `export` with the negotiated settings.
        case startTransmission(ByteBuffer, export: Directory.Export, negotiation: NBDNegotiation)
    }

    private enum State {
        case awaitingClientFlags
        case negotiating
        case finished
    }

    private let directory: Directory
    private let allocator: ByteBufferAllocator
    private var state: State = .awaitingClientFlags
    private var clientFlags: NBDClientFlags = []
    private var optionCount = 0
    private var structuredReplies = false
    /// The export name `SET_META_CONTEXT` selected `base:allocation` for, if any.
    private var allocationContextExport: String?

    public init(directory: Directory, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.directory = directory
        self.allocator = allocator
    }

    /// The first action of a connection: the newstyle greeting, or for oldstyle the whole handshake.
    public mutating func start(style: NBDHandshakeStyle) -> Action {
        var buffer = allocator.buffer(capacity: 152)
        switch style {
        case .newstyle:
            NBDOptionReplies.newstyleGreeting(into: &buffer)
            return .send(buffer)
        case .oldstyle:
            state = .finished
            guard let export = directory.export(named: "") else {
                return .sendAndClose(buffer, reason: "the oldstyle port's image cannot be opened")
            }
            NBDOptionReplies.oldstyleGreeting(directory.info(for: export), into: &buffer)
            return .startTransmission(
                buffer, export: export,
                negotiation: NBDNegotiation(requestedName: "", structuredReplies: false, allocationContextID: nil))
        }
    }

    /// Handles one decoded client message.
    public mutating func receive(_ message: NBDClientHandshakeMessage) -> Action {
        switch (state, message) {
        case (.awaitingClientFlags, .clientFlags(let flags)):
            guard NBDClientFlags.known.isSuperset(of: flags) else {
                state = .finished
                return .sendAndClose(
                    allocator.buffer(capacity: 0),
                    reason: NBDProtocolError.unknownClientFlags(flags.rawValue).description)
            }
            clientFlags = flags
            state = .negotiating
            return .send(allocator.buffer(capacity: 0))
        case (.negotiating, .option(let option, let data)):
            optionCount += 1
            guard optionCount <= NBDLimits.maximumOptionCount else {
                state = .finished
                return .sendAndClose(allocator.buffer(capacity: 0), reason: NBDProtocolError.tooManyOptions.description)
            }
            return handle(option, data)
        case (.finished, _):
            return .sendAndClose(allocator.buffer(capacity: 0), reason: "data after the handshake ended")
        default:
            state = .finished
            return .sendAndClose(allocator.buffer(capacity: 0), reason: "handshake message out of order")
        }
    }

    private mutating func handle(_ option: NBDOption, _ data: ByteBuffer) -> Action {
        var out = allocator.buffer(capacity: 256)
        switch option {
        case .exportName:
            state = .finished
            var name = data
            guard let text = name.readValidatedString(length: data.readableBytes),
                text.utf8.count <= NBDLimits.maximumStringLength
            else {
                return .sendAndClose(out, reason: NBDProtocolError.exportNameInvalid.description)
            }
            guard let export = directory.export(named: text) else {
                return .sendAndClose(out, reason: NBDProtocolError.exportNameUnknown(text).description)
            }
            NBDOptionReplies.exportNameReply(
                directory.info(for: export), zeroes: !clientFlags.contains(.noZeroes), into: &out)
            return .startTransmission(out, export: export, negotiation: negotiation(for: text))

        case .abort:
            state = .finished
            NBDOptionReplies.reply(.abort, .ack, into: &out)
            return .sendAndClose(out, reason: "client sent ABORT")

        case .list:
            guard data.readableBytes == 0 else {
                return invalid(option, "LIST carries no data", into: &out)
            }
            for info in directory.listing() {
                NBDOptionReplies.server(info, into: &out)
            }
            NBDOptionReplies.reply(.list, .ack, into: &out)
            return .send(out)

        case .info, .go:
            guard let request = NBDExportRequest(parsing: data) else {
                return invalid(option, "malformed \(option): lengths do not match or the name is invalid", into: &out)
            }
            guard let export = directory.export(named: request.name) else {
                NBDOptionReplies.error(
                    option, .errorUnknown, message: "no export named \"\(request.name)\"", into: &out)
                return .send(out)
            }
            NBDOptionReplies.infos(option, directory.info(for: export), requested: request.requests, into: &out)
            NBDOptionReplies.reply(option, .ack, into: &out)
            if option == .info { return .send(out) }
            state = .finished
            return .startTransmission(out, export: export, negotiation: negotiation(for: request.name))

        case .structuredReply:
            guard data.readableBytes == 0 else {
                return invalid(option, "STRUCTURED_REPLY carries no data", into: &out)
            }
            structuredReplies = true
            NBDOptionReplies.reply(option, .ack, into: &out)
            return .send(out)

        case .listMetaContext, .setMetaContext:
            return metaContext(option, data, into: &out)

        default:
            // STARTTLS included: Thinboot has no TLS yet, and ERR_UNSUP lets a client go on without it.
            NBDOptionReplies.error(option, .errorUnsupported, message: "\(option) is not supported", into: &out)
            return .send(out)
        }
    }

    private mutating func metaContext(_ option: NBDOption, _ data: ByteBuffer, into out: inout ByteBuffer) -> Action {
        guard let request = NBDMetaContextRequest(parsing: data) else {
            return invalid(option, "malformed \(option)", into: &out)
        }
        if option == .setMetaContext && !structuredReplies {
            return invalid(option, "SET_META_CONTEXT needs STRUCTURED_REPLY first", into: &out)
        }
        guard directory.export(named: request.exportName) != nil else {
            NBDOptionReplies.error(
                option, .errorUnknown, message: "no export named \"\(request.exportName)\"", into: &out)
            return .send(out)
        }
        let selects: Bool
        if option == .listMetaContext {
            // No queries lists everything; `base:` lists every context in the base namespace.
            selects =
                request.queries.isEmpty
                || request.queries.contains { $0 == "base:" || $0 == NBDOptionReplies.allocationContext }
        } else {
            selects = request.queries.contains(NBDOptionReplies.allocationContext)
            allocationContextExport = selects ? request.exportName : nil
        }
        if selects { NBDOptionReplies.metaContext(option, into: &out) }
        NBDOptionReplies.reply(option, .ack, into: &out)
        return .send(out)
    }

    private func invalid(_ option: NBDOption, _ message: String, into out: inout ByteBuffer) -> Action {
        NBDOptionReplies.error(option, .errorInvalid, message: message, into: &out)
        return .send(out)
    }

    private func negotiation(for name: String) -> NBDNegotiation {
        NBDNegotiation(
            requestedName: name, structuredReplies: structuredReplies,
            allocationContextID: structuredReplies && allocationContextExport == name
                ? NBDOptionReplies.allocationContextID : nil)
    }
}
