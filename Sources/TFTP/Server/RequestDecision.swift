import Dispatch
import NIOCore

/// What an engine does with a datagram that arrived on a listening socket, decided without touching a socket:
/// ``decide(_:client:local:interfaceIndex:admit:lookUp:)`` is a function of the datagram, the admission verdict
/// and the provider's immediate answer, and the engine carries the result out like any other action.
enum RequestDecision {
    /// No answer: an ERROR (answering one could start two confused peers ping-ponging), a retransmission of a
    /// request already being served, or overload (the ROM's own retransmission comes back). A record, when
    /// given, is logged.
    case ignore(TransferRecord?)
    /// One ERROR from a new port of the address the request was sent to, and the log line; `plan`, when given,
    /// holds the slot to release.
    case refuse(TFTPRefusal, TransferRecord, TransferPlan?)
    /// The content is at hand: negotiate and start on this engine.
    case start(TransferPlan, TransferSource)
    /// The content must be computed off the engine first (a script; a file to count for its netascii size), then
    /// started.
    case compute(TransferPlan, TFTPAnswer.Computation)

    /// Decides on `datagram` from `client`, sent to `local` (port 0). `admit` takes a slot or says why not;
    /// `lookUp` is the provider's answer: content at hand, or a computation.
    static func decide(
        _ datagram: ByteBuffer, client: SocketAddress, local: SocketAddress, interfaceIndex: Int?,
        admit: (TransferAdmission.Endpoint) -> TransferAdmission.Verdict,
        lookUp: (TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer
    ) -> RequestDecision {
        // Never answer an ERROR, however garbled.
        if datagram.readableBytes >= 2,
            datagram.getInteger(at: datagram.readerIndex, as: UInt16.self) == TFTPOpcode.error.rawValue
        {
            return .ignore(nil)
        }
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket(decoding: datagram)
        } catch {
            return .refuse(
                TFTPRefusal(code: .illegalOperation, message: "Illegal TFTP operation: \(error)", outcome: .refused),
                TransferRecord(client: client, local: local, outcome: .refused), nil)
        }
        let request: TFTPRequest
        switch packet {
        case .readRequest(let read):
            request = read
        case .writeRequest(let write):
            var record = TransferRecord(client: client, local: local, outcome: .refused)
            record.request = write
            return .refuse(Self.readOnly, record, nil)
        case .error:
            return .ignore(nil)
        case .data, .ack, .optionAck:
            return .refuse(
                TFTPRefusal(
                    code: .illegalOperation, message: "Illegal TFTP operation: expected a read request",
                    outcome: .refused),
                TransferRecord(client: client, local: local, outcome: .refused), nil)
        }
        let endpoint = TransferAdmission.Endpoint(client)
        var record = TransferRecord(client: client, local: local, outcome: .ok)
        record.request = request
        let ticket: TransferAdmission.Ticket
        switch admit(endpoint) {
        case .admitted(let admitted):
            ticket = admitted
        case .duplicate:
            return .ignore(nil)
        case .busy(let limit):
            record.outcome = .busy
            record.message = "no answer: \(limit) reached"
            return .ignore(record)
        case .stopping:
            return .refuse(
                TFTPRefusal(code: .notDefined, message: "server stopping", outcome: .serverStopped), record, nil)
        }
        var plan = TransferPlan(request: request, record: record, ticket: ticket, interfaceIndex: interfaceIndex)
        do throws(TFTPRefusal) {
            let path = try TFTPPath.normalise(request.filename)
            plan.record.path = path
            // The addresses as text once, for the provider and the log line (`inet_ntop` is a `sprintf`).
            let clientIP = client.ipText ?? "?"
            let localIP = local.ipText
            plan.record.clientIP = clientIP
            plan.record.localIP = localIP
            let read = TFTPReadRequest(
                path: path, mode: request.mode, requested: request.options, client: client, local: local,
                clientIP: clientIP, localIP: localIP)
            switch try lookUp(read) {
            case .compute(let computation):
                return .compute(plan, computation)
            case .content(let content, let kind) where TransferSource.countsWholeFile(content, mode: request.mode):
                // A file sent as netascii whose size was never counted: read whole, off the engine like a script.
                return .compute(plan) { completion in
                    DispatchQueue.global().async { completion(.success(content), kind) }
                }
            case .content(let content, let kind):
                plan.record.kind = kind
                return .start(plan, try TransferSource(content, mode: request.mode))
            }
        } catch {
            return .refuse(error, plan.record, plan)
        }
    }

    static let readOnly = TFTPRefusal(
        code: .accessViolation, message: "Access violation: this server is read-only, write requests are refused",
        outcome: .refused)
}

/// An admitted request on its way to a transfer: what was asked, its log line so far, and the slot it holds.
struct TransferPlan: Sendable {
    var request: TFTPRequest
    var record: TransferRecord
    /// The request's slot; while it is held, a retransmission of the request is recognised.
    var ticket: TransferAdmission.Ticket
    /// The interface the request came in on, for the MTU cap on `blksize`.
    var interfaceIndex: Int?
}
