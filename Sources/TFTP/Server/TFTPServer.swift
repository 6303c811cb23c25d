import Logging
import NIOCore
import NIOPosix

/// A read-only TFTP server (RFC 1350, 2347, 2348, 2349, 7440) on SwiftNIO.
///
/// Requests arrive on the listening sockets; each transfer then runs on a new socket bound to the address the
/// request was sent to (learnt from the packet info), port 0. Content comes from a ``TFTPContentProvider`` called
/// off the event loop; the transfer itself is a ``TFTPReadTransfer`` driven by a channel handler. Every request
/// ends in one log line.
///
/// ```swift
/// let server = try await TFTPServer.bind(configuration: configuration, provider: root, logger: logger)
/// print(server.localAddresses)   // the real ports when binding port 0
/// try await server.run()         // until cancelled, or shutdownGracefully()
/// ```
public final class TFTPServer: Sendable {
    typealias Listener = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    /// Datagrams read per system call on a listening socket.
    static let requestsPerRead = 32
    /// Bytes per datagram slot on a listening socket: an RRQ is at most 512 bytes (RFC 2347); anything longer is
    /// refused anyway, and a slot of 2 KiB keeps it recognisable as too long rather than cut.
    static let requestSlotSize = 2048

    /// The addresses actually bound, in the configured order (with real ports when port 0 was asked).
    public let localAddresses: [SocketAddress]
    private let listeners: [Listener]
    private let configuration: TFTPServerConfiguration
    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let group: any EventLoopGroup
    private let limiter: TransferLimiter
    private let interfaces = InterfaceMTU()

    private init(
        listeners: [Listener], configuration: TFTPServerConfiguration, provider: any TFTPContentProvider,
        logger: Logger, group: any EventLoopGroup
    ) {
        self.listeners = listeners
        self.localAddresses = listeners.compactMap { $0.channel.localAddress }
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.group = group
        self.limiter = TransferLimiter(
            total: configuration.maxTransfers, perClient: configuration.maxTransfersPerClient)
    }

    /// Binds every listen address, or fails naming the first that cannot be bound (the others are closed).
    public static func bind(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(TFTPBindError) -> TFTPServer {
        var listeners: [Listener] = []
        // With both 0.0.0.0:P and [::]:P configured, the IPv6 socket must be IPv6-only or the two collide.
        let ipv4Ports = Set(configuration.listen.filter { $0.protocol == .inet }.compactMap(\.port))
        for address in configuration.listen {
            do {
                // No SO_REUSEADDR: on UDP it would let a second server bind the same port and silently take
                // requests from the first; a port in use must fail here, with the address named.
                var bootstrap = DatagramBootstrap(group: group)
                    .channelOption(.receivePacketInfo, value: true)
                    .channelOption(.datagramVectorReadMessageCount, value: Self.requestsPerRead)
                    // A vector read splits this buffer evenly between its messages: each slot must hold a
                    // whole datagram, or a long RRQ (pxelinux.cfg/01-…, options) arrives cut short.
                    .channelOption(
                        .recvAllocator,
                        value: FixedSizeRecvByteBufferAllocator(capacity: Self.requestsPerRead * Self.requestSlotSize))
                if address.protocol == .inet6, let port = address.port, port != 0, ipv4Ports.contains(port) {
                    bootstrap = bootstrap.channelOption(
                        ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
                }
                let listener = try await bootstrap.bind(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ListenerErrorFilter(logger: logger))
                        return try Listener(wrappingChannelSynchronously: channel)
                    }
                }
                listeners.append(listener)
            } catch {
                for listener in listeners { try? await listener.channel.close() }
                throw TFTPBindError(address: address, error: error)
            }
        }
        return TFTPServer(
            listeners: listeners, configuration: configuration, provider: provider, logger: logger, group: group)
    }

    /// Serves until the task is cancelled (listeners and transfers close at once) or ``shutdownGracefully()``
    /// is called (listeners close, transfers in flight finish).
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for listener in listeners {
                group.addTask { try await self.serve(listener) }
            }
        }
    }

    /// Stops accepting requests; ``run()`` returns once the transfers in flight have ended.
    public func shutdownGracefully() {
        for listener in listeners { listener.channel.close(promise: nil) }
    }

    private func serve(_ listener: Listener) async throws {
        let fallbackLocal = listener.channel.localAddress
        try await listener.executeThenClose { inbound, outbound in
            await withDiscardingTaskGroup { transfers in
                do {
                    for try await envelope in inbound {
                        await self.dispatch(
                            envelope, fallbackLocal: fallbackLocal, outbound: outbound, into: &transfers)
                    }
                } catch is CancellationError {
                    // Cancelled: the transfer tasks see it too and close their sockets.
                } catch {
                    // The stream only ends in an error when the socket failed; transfers in flight go on.
                    self.logger.error("tftp listener failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Decodes one datagram that arrived on a listener and starts whatever it asks for.
    private func dispatch(
        _ envelope: AddressedEnvelope<ByteBuffer>, fallbackLocal: SocketAddress?,
        outbound: NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>,
        into transfers: inout DiscardingTaskGroup
    ) async {
        let client = envelope.remoteAddress
        let local = Self.transferAddress(envelope.metadata?.packetInfo, fallback: fallbackLocal)
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket(decoding: envelope.data)
        } catch {
            log(TransferRecord(client: client, local: local, outcome: "refused", message: error.description))
            try? await outbound.write(
                Self.errorEnvelope(.illegalOperation, "Illegal TFTP operation: \(error)", to: client))
            return
        }
        switch packet {
        case .readRequest(let request), .writeRequest(let request):
            // A refused write holds a slot too while its answer goes out, so a flood of either stays bounded.
            let clientKey = client.ipAddress ?? ""
            guard limiter.acquire(client: clientKey) else {
                var record = TransferRecord(client: client, local: local, outcome: "busy", message: "server busy")
                record.request = request
                log(record)
                try? await outbound.write(Self.errorEnvelope(.notDefined, "server busy", to: client))
                return
            }
            guard case .readRequest = packet else {
                transfers.addTask {
                    var record = TransferRecord(client: client, local: local, outcome: "refused")
                    record.request = request
                    record.message = "Access violation: this server is read-only, write requests are refused"
                    await self.sendError(.accessViolation, record.message!, from: local, to: client)
                    self.log(record)
                    self.limiter.release(client: clientKey)
                }
                return
            }
            let mtu = envelope.metadata?.packetInfo.flatMap { interfaces.mtu(interfaceIndex: $0.interfaceIndex) }
            transfers.addTask {
                await self.transfer(request, client: client, local: local, mtu: mtu)
                self.limiter.release(client: clientKey)
            }
        case .error:
            return  // an ERROR to the listening port has no transfer to end
        case .data, .ack, .optionAck:
            log(TransferRecord(client: client, local: local, outcome: "refused", message: "not a request"))
            try? await outbound.write(
                Self.errorEnvelope(.illegalOperation, "Illegal TFTP operation: expected a read request", to: client))
        }
    }

    /// One read request, from path check to the last ACK (or the refusal).
    private func transfer(_ request: TFTPRequest, client: SocketAddress, local: SocketAddress, mtu: Int?) async {
        var record = TransferRecord(client: client, local: local, outcome: "ok")
        record.request = request
        do throws(TFTPRefusal) {
            let path = try TFTPPath.normalise(request.filename)
            record.path = path
            var options: [String: String] = [:]
            for option in request.options { options[option.name] = option.value }
            let content = try await provider.content(
                for: TFTPReadRequest(path: path, mode: request.mode, options: options, client: client, local: local))
            let source = try TransferSource(content, mode: request.mode)
            let negotiation: TFTPOptionNegotiation
            do {
                negotiation = try TFTPOptionNegotiation(
                    requested: request.options, limits: configuration.negotiationLimits,
                    pathBlockSizeLimit: mtu.map {
                        TFTPOptionNegotiation.blockSizeLimit(mtu: $0, ipv6: local.protocol == .inet6)
                    },
                    transferSize: source.size)
            } catch {
                throw error.refusal
            }
            record.granted = negotiation.acknowledged
            record.bytes = source.size
            let end = await run(source, negotiation: negotiation, client: client, local: local)
            record.outcome = end.outcome
            record.message = end.message
            record.blocks = end.statistics.blocksSent
            record.retransmits = end.statistics.retransmissions
            record.bytes = end.outcome == "ok" ? source.size : end.statistics.bytesAcknowledged
        } catch {
            record.outcome = error.outcome
            record.message = error.message
            await sendError(error.code, error.message, from: local, to: client)
        }
        log(record)
    }

    /// Runs the transfer on a new socket bound to `local`, port 0, until it ends or the task is cancelled.
    private func run(
        _ source: TransferSource, negotiation: TFTPOptionNegotiation, client: SocketAddress, local: SocketAddress
    ) async -> TransferEnd {
        let machine = TransferHandler.Machine(
            configuration: .init(
                size: source.size, blockSize: negotiation.blockSize, windowSize: negotiation.windowSize,
                timeout: .seconds(negotiation.timeout), retries: configuration.retries,
                sendsOptionAck: !negotiation.acknowledged.isEmpty,
                optionAckAnswersTransferSize: negotiation.answersTransferSize))
        let optionAck =
            negotiation.acknowledged.isEmpty ? nil : TFTPPacket.optionAck(negotiation.acknowledged).encoded()
        do {
            let (channel, ended) = try await DatagramBootstrap(group: group).bind(to: local) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let completion = channel.eventLoop.makePromise(of: TransferEnd.self)
                    try channel.pipeline.syncOperations.addHandler(
                        TransferHandler(
                            machine: machine, client: client, source: source, optionAck: optionAck,
                            completion: completion))
                    return (channel, completion.futureResult)
                }
            }
            return try await withTaskCancellationHandler {
                try await ended.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            return TransferEnd(outcome: "server error", statistics: .init(), message: "\(error)")
        }
    }

    /// Sends one ERROR from a new socket bound to `local`, as a transfer would.
    private func sendError(
        _ code: TFTPErrorCode, _ message: String, from local: SocketAddress, to client: SocketAddress
    )
        async
    {
        do {
            let channel = try await DatagramBootstrap(group: group).bind(to: local).get()
            try? await channel.writeAndFlush(Self.errorEnvelope(code, message, to: client))
            try? await channel.close()
        } catch {
            logger.warning(
                "cannot send TFTP error", metadata: ["tftp.peer": "\(Self.describe(client))", "error": "\(error)"])
        }
    }

    private static func errorEnvelope(_ code: TFTPErrorCode, _ message: String, to client: SocketAddress)
        -> AddressedEnvelope<ByteBuffer>
    {
        AddressedEnvelope(remoteAddress: client, data: TFTPPacket.error(code: code, message: message).encoded())
    }

    /// The address a transfer answers from: where the request was sent (packet info), port 0. Link-local IPv6
    /// needs the interface as scope, which the packet info gives too.
    static func transferAddress(_ info: NIOPacketInfo?, fallback: SocketAddress?) -> SocketAddress {
        var address = info?.destinationAddress ?? fallback ?? (try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        if case .v6(let v6) = address, let info, v6.address.sin6_scope_id == 0,
            v6.address.sin6_addr.__in6_u.__u6_addr8.0 == 0xFE, v6.address.sin6_addr.__in6_u.__u6_addr8.1 & 0xC0 == 0x80
        {
            var raw = v6.address
            raw.sin6_scope_id = UInt32(info.interfaceIndex)
            address = SocketAddress(raw, host: v6.host)
        }
        address.port = 0
        return address
    }

    /// `ip:port`, IPv6 in brackets.
    static func describe(_ address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "\(address)"
        guard let port = address.port else { return ip }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    private func log(_ record: TransferRecord) {
        logger.info("tftp transfer", metadata: record.metadata)
    }
}
