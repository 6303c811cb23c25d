import BootEvents
import Logging
import NIOCore

/// Carries out a ``RequestDecision`` for the engine that read the request: computes content off the engine when
/// it must, negotiates the options, starts the transfer, and writes the one log line when it ends. Refusals go out
/// as one ERROR from a new port of the address the request was sent to.
final class TransferLauncher: Sendable {
    /// Resends a transfer gets before the client's first ACK (at 1 and 3 s with a 1 s `timeout`; given up at 7 s):
    /// a client that cannot answer within that resends its own request, and a spoofed request costs little.
    static let halfOpenResends = 2
    /// The longest wait between resends as they back off.
    static let longestResendWait = 30

    private let configuration: TFTPServerConfiguration
    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let transfers: TransferRegistry
    private let events: any BootEventSink
    private let interfaces = InterfaceMTU()

    init(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        transfers: TransferRegistry, events: any BootEventSink = IgnoredBootEvents()
    ) {
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.transfers = transfers
        self.events = events
    }

    /// Decides on a datagram read from a listening socket; see ``RequestDecision``.
    func decide(_ datagram: ByteBuffer, client: SocketAddress, local: SocketAddress, interfaceIndex: Int?)
        -> RequestDecision
    {
        RequestDecision.decide(
            datagram, client: client, local: local, interfaceIndex: interfaceIndex,
            admit: { transfers.admit($0) },
            lookUp: { (read) throws(TFTPRefusal) -> TFTPAnswer in try provider.answer(for: read) })
    }

    /// Runs `computation` off `engine` (a script goes straight to its worker pool), prepares the content there, and
    /// posts the start back to the engine: two thread switches, engine to worker and back.
    func compute(_ admitted: TransferPlan, _ computation: TFTPAnswer.Computation, on engine: TransferEngine) {
        computation { content, kind in
            let plan = {
                var plan = admitted
                plan.record.kind = kind
                return plan
            }()
            let source = content.flatMap { content in
                Result { () throws(TFTPRefusal) in try TransferSource(content, mode: plan.request.mode) }
            }
            switch source {
            case .success(let source):
                engine.post { engine in
                    // A script can take seconds: its slot may have gone to a newer request meanwhile.
                    guard !self.transfers.isDisplaced(plan.ticket) else {
                        var record = plan.record
                        record.outcome = .displaced
                        self.log(record)
                        self.transfers.release(plan.ticket, established: false, refused: false)
                        return
                    }
                    self.launch(plan, source, on: engine)
                }
            case .failure(let refusal):
                self.refuse(refusal, record: plan.record, plan: plan)
            }
        }
    }

    /// Negotiates and starts the transfer on `engine`, which sends the first packet at once; a refused option ends
    /// it with ERROR 8.
    func launch(_ plan: TransferPlan, _ source: TransferSource, on engine: TransferEngine) {
        let negotiation: TFTPOptionNegotiation
        do {
            let mtu = plan.interfaceIndex.flatMap { interfaces.mtu(interfaceIndex: $0) }
            // Over IPv6 the headers take 20 bytes more, unless it is IPv4 on a dual-stack socket.
            let ipv6 = plan.record.local.protocol == .inet6 && !plan.record.local.isIPv4Mapped
            negotiation = try TFTPOptionNegotiation(
                requested: plan.request.options, limits: configuration.negotiationLimits,
                pathBlockSizeLimit: mtu.map { TFTPOptionNegotiation.blockSizeLimit(mtu: $0, ipv6: ipv6) },
                transferSize: source.size)
        } catch {
            refuse(error.refusal, record: plan.record, plan: plan)
            return
        }
        var record = plan.record
        record.granted = negotiation.acknowledged
        record.bytes = source.size
        // Cancelled while a script ran: the transfer never starts.
        guard !transfers.isStopped else {
            finish(record, end: TransferEnd(outcome: .serverStopped, statistics: .init()), ticket: plan.ticket)
            return
        }
        let machine = ActiveTransfer.Machine(
            configuration: .init(
                size: source.size, blockSize: negotiation.blockSize, windowSize: negotiation.windowSize,
                timeout: .seconds(negotiation.timeout), retries: configuration.retries,
                sendsOptionAck: !negotiation.acknowledged.isEmpty,
                optionAckAnswersTransferSize: negotiation.answersTransferSize,
                backoffCeiling: .seconds(max(negotiation.timeout, Self.longestResendWait)),
                halfOpenResends: Self.halfOpenResends))
        let optionAck =
            negotiation.acknowledged.isEmpty ? nil : TFTPPacket.optionAck(negotiation.acknowledged).encoded()
        record.launched = true
        let started = record
        let ticket = plan.ticket
        let progress = events.isRecording ? TransferProgress() : nil
        if let progress {
            var starting = started.event(starting: true)
            starting.progress = progress
            events.record(starting)
        }
        engine.begin(
            local: record.local, client: record.client, machine: machine, source: source, optionAck: optionAck,
            onEstablished: { self.transfers.establish(ticket) }, isDisplaced: { self.transfers.isDisplaced(ticket) },
            progress: progress
        ) { end in
            self.finish(started, end: end, ticket: ticket)
        }
    }

    private func finish(_ record: TransferRecord, end: TransferEnd, ticket: TransferAdmission.Ticket) {
        var record = record
        record.outcome = end.outcome
        record.message = end.message
        record.blocks = end.statistics.blocksSent
        record.retransmits = end.statistics.retransmissions
        if end.outcome != .ok { record.bytes = end.statistics.bytesAcknowledged }
        log(record)
        transfers.release(ticket, established: end.established, refused: false)
    }

    /// Answers with one ERROR and logs the request; the slot of `plan`, when given, is released.
    func refuse(_ refusal: TFTPRefusal, record: TransferRecord, plan: TransferPlan? = nil) {
        var record = record
        record.outcome = refusal.outcome
        record.message = refusal.message
        do {
            try OneShotDatagram.send(
                TFTPPacket.error(code: refusal.code, message: refusal.message).encoded(), from: record.local,
                to: record.client)
        } catch {
            logger.warning(
                "cannot send TFTP error",
                metadata: ["tftp.peer": "\(TFTPServer.describe(record.client))", "error": "\(error)"])
        }
        log(record)
        if let plan { transfers.release(plan.ticket, established: false, refused: true) }
    }

    /// The request's one log line, and its boot-status event.
    func log(_ record: TransferRecord) {
        logger.info("tftp transfer", metadata: record.metadata)
        if events.isRecording { events.record(record.event(starting: false)) }
    }
}
