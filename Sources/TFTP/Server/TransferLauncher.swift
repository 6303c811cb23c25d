import Files
import Logging
import NIOCore

/// Turns a read request into a running transfer: takes a slot, asks the provider, negotiates the options, binds
/// the transfer's socket on the ``TransferEngine`` that read the request, and writes the one log line when it
/// ends. Refusals go out as one ERROR from a new port of the address the request was sent to.
final class TransferLauncher: Sendable {
    private let configuration: TFTPServerConfiguration
    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let transfers: TransferRegistry
    private let interfaces = InterfaceMTU()

    init(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        transfers: TransferRegistry
    ) {
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.transfers = transfers
    }

    /// Starts serving `request`; called on `engine`'s thread, where the transfer then runs.
    func start(
        _ request: TFTPRequest, client: SocketAddress, local: SocketAddress, interfaceIndex: Int?,
        on engine: TransferEngine
    ) {
        let slot = client.ipAddress ?? ""
        var record = TransferRecord(client: client, local: local, outcome: "ok")
        record.clientIP = slot
        record.request = request
        switch transfers.acquire(client: slot) {
        case .admitted:
            break
        case .busy:
            refuse(TFTPRefusal(code: .notDefined, message: "server busy", outcome: "busy"), record: record)
            return
        case .stopping:
            refuse(
                TFTPRefusal(code: .notDefined, message: "server stopping", outcome: "server stopped"), record: record)
            return
        }
        let mtu = interfaceIndex.flatMap { interfaces.mtu(interfaceIndex: $0) }
        do throws(TFTPRefusal) {
            let path = try TFTPPath.normalise(request.filename)
            record.path = path
            let read = TFTPReadRequest(
                path: path, mode: request.mode, requested: request.options, client: client, local: local)
            let pending = record
            switch try provider.answer(for: read) {
            case .content(let content) where !TransferSource.countsWholeFile(content, mode: request.mode):
                let source = try TransferSource(content, mode: request.mode)
                launch(source, request: request, record: record, mtu: mtu, slot: slot, on: engine)
            case .content(let file):
                // A file to count whole for its netascii size: off the engine, so its other transfers never wait.
                Task {
                    self.launch(
                        Result { () throws(TFTPRefusal) in try TransferSource(file, mode: request.mode) },
                        request: request, record: pending, mtu: mtu, slot: slot, on: engine)
                }
            case .compute(let job):
                job { content in
                    self.launch(
                        content.flatMap { content in
                            Result { () throws(TFTPRefusal) in try TransferSource(content, mode: request.mode) }
                        }, request: request, record: pending, mtu: mtu, slot: slot, on: engine)
                }
            }
        } catch {
            refuse(error, record: record, slot: slot)
        }
    }

    /// Carries a result computed off the engine back to it: the transfer starts there, or the request is refused.
    private func launch(
        _ source: Result<TransferSource, TFTPRefusal>, request: TFTPRequest, record: TransferRecord, mtu: Int?,
        slot: String, on engine: TransferEngine
    ) {
        switch source {
        case .success(let source):
            engine.post { engine in
                self.launch(source, request: request, record: record, mtu: mtu, slot: slot, on: engine)
            }
        case .failure(let refusal):
            refuse(refusal, record: record, slot: slot)
        }
    }

    /// Negotiates and starts the transfer on `engine`, which sends the first packet at once; a refused option ends
    /// it with ERROR 8.
    private func launch(
        _ source: TransferSource, request: TFTPRequest, record pending: TransferRecord, mtu: Int?, slot: String,
        on engine: TransferEngine
    ) {
        let negotiation: TFTPOptionNegotiation
        do {
            // Over IPv6 the headers take 20 bytes more, unless it is IPv4 on a dual-stack socket.
            let ipv6 = pending.local.protocol == .inet6 && !pending.local.isIPv4Mapped
            negotiation = try TFTPOptionNegotiation(
                requested: request.options, limits: configuration.negotiationLimits,
                pathBlockSizeLimit: mtu.map { TFTPOptionNegotiation.blockSizeLimit(mtu: $0, ipv6: ipv6) },
                transferSize: source.size)
        } catch {
            refuse(error.refusal, record: pending, slot: slot)
            return
        }
        var record = pending
        record.granted = negotiation.acknowledged
        record.bytes = source.size
        // Cancelled while a script ran: the transfer never starts.
        guard !transfers.isStopped else {
            finish(record, end: TransferEnd(outcome: "server stopped", statistics: .init()), slot: slot)
            return
        }
        let machine = ActiveTransfer.Machine(
            configuration: .init(
                size: source.size, blockSize: negotiation.blockSize, windowSize: negotiation.windowSize,
                timeout: .seconds(negotiation.timeout), retries: configuration.retries,
                sendsOptionAck: !negotiation.acknowledged.isEmpty,
                optionAckAnswersTransferSize: negotiation.answersTransferSize))
        let optionAck =
            negotiation.acknowledged.isEmpty ? nil : TFTPPacket.optionAck(negotiation.acknowledged).encoded()
        let started = record
        engine.begin(
            local: record.local, client: record.client, machine: machine, source: source, optionAck: optionAck
        ) { end in
            self.finish(started, end: end, slot: slot)
        }
    }

    private func finish(_ record: TransferRecord, end: TransferEnd, slot: String) {
        var record = record
        record.outcome = end.outcome
        record.message = end.message
        record.blocks = end.statistics.blocksSent
        record.retransmits = end.statistics.retransmissions
        if end.outcome != "ok" { record.bytes = end.statistics.bytesAcknowledged }
        log(record)
        transfers.release(client: slot)
    }

    /// Answers with one ERROR and logs the request; `slot`, when given, is released.
    func refuse(_ refusal: TFTPRefusal, record: TransferRecord, slot: String? = nil) {
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
        if let slot { transfers.release(client: slot) }
    }

    private func log(_ record: TransferRecord) {
        logger.info("tftp transfer", metadata: record.metadata)
    }
}
