import Foundation
import Logging
import NIOConcurrencyHelpers
import SocketBuffers
import Synchronization

/// The ProxyDHCP responder: receives on the DHCP port (67) and PXE's boot-server port (4011), hands each PXE
/// client's request to `decide` (the boot script), and sends what ``ProxyOffer`` makes of the choice to
/// ``ReplyDestination`` — broadcasts out of the interface the request came in on. One log line per request it
/// acts on: `dhcp.mac`, `dhcp.arch`, `dhcp.user_class`, `dhcp.relay`, `dhcp.file`, `dhcp.outcome` (`offered`,
/// `silent`, `script error`, `dropped`). Clients that are not PXE or HTTP boot, and REQUESTs naming another
/// server, are left to the site's server without a line (they are most of a network's DHCP traffic).
///
/// ``reload(configuration:decide:)`` swaps the interfaces, limits, `next_server` and the script for every request
/// received after it, on the same sockets; answers being computed finish with what they started with.
public final class ProxyDHCPServer: Sendable {
    /// What the boot script chose; throwing means the script failed (logged as `script error`, no answer).
    public typealias Decide = @Sendable (PXEClientRequest) async throws -> BootChoice
    /// Sees every PXE client request received, answered or not (a REQUEST to the site's server too): where what
    /// DHCP teaches about a client is recorded. Called on a receiving thread; must be quick.
    public typealias Observe = @Sendable (PXEClientRequest) -> Void

    /// What requests are answered with; replaced whole by a reload.
    private struct Policy {
        var configuration: ProxyDHCPConfiguration
        var decide: Decide
    }

    private let dhcp: DHCPSocket
    private let bootServer: DHCPSocket
    private let policy: NIOLockedValueBox<Policy>
    private let observe: Observe
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let slots = AnswerSlots()
    private let limiter: NIOLockedValueBox<AnswerLimiter>
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    /// Takes the sockets systemd passed and binds the ports they do not cover (the error names the port and says
    /// what privilege binding it needs, or which socket from systemd is on neither port).
    public init(
        configuration: ProxyDHCPConfiguration, decide: @escaping Decide, observe: @escaping Observe = { _ in },
        logger: Logger
    ) throws(DHCPBindError) {
        let ports = [configuration.dhcpPort, configuration.bootServerPort]
        var inherited: [UInt16: DHCPSocket] = [:]
        for descriptor in configuration.inheritedSockets {
            let socket = try DHCPSocket(adopting: descriptor)
            guard ports.contains(socket.port), inherited[socket.port] == nil else {
                throw .inheritedOnOtherPort(socket.address, port: socket.port, expected: ports)
            }
            inherited[socket.port] = socket
        }
        if let socket = inherited[configuration.dhcpPort] {
            dhcp = socket
        } else {
            dhcp = try DHCPSocket(address: configuration.bindAddress, port: configuration.dhcpPort)
        }
        if let socket = inherited[configuration.bootServerPort] {
            bootServer = socket
        } else {
            bootServer = try DHCPSocket(address: configuration.bindAddress, port: configuration.bootServerPort)
        }
        policy = NIOLockedValueBox(Policy(configuration: configuration, decide: decide))
        self.observe = observe
        self.logger = logger
        limiter = NIOLockedValueBox(AnswerLimiter(perMAC: configuration.answersPerMAC))
        started = clock.now
        let buffers = [dhcp, bootServer].map { (socket: DHCPSocket) in
            ListenerReceiveBuffer.enlarge(socket.descriptor, ownSocket: !inherited.values.contains { $0 === socket })
        }
        ListenerReceiveBuffer.noticeIfShort(buffers, server: "dhcp", logger: logger)
    }

    /// The settings requests are answered with now.
    public var configuration: ProxyDHCPConfiguration { policy.withLockedValue { $0.configuration } }

    /// Answers every request received from now on with `configuration` and `decide` (SIGHUP). The sockets stay: the
    /// bind address and ports of `configuration` are not looked at.
    public func reload(configuration: ProxyDHCPConfiguration, decide: @escaping Decide) {
        let perMAC = policy.withLockedValue { policy in
            let before = policy.configuration.answersPerMAC
            policy = Policy(configuration: configuration, decide: decide)
            return before
        }
        if perMAC != configuration.answersPerMAC {
            limiter.withLockedValue { $0 = AnswerLimiter(perMAC: configuration.answersPerMAC) }
        }
    }

    /// The ports bound (the real ones when 0 was asked).
    public var ports: (dhcp: UInt16, bootServer: UInt16) { (dhcp.port, bootServer.port) }

    /// Serves until ``shutdown()``: one receiving thread per socket, answers computed as tasks.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (socket, port) in [(dhcp, PXEClientRequest.Port.dhcp), (bootServer, .bootServer)] {
                group.addTask { await self.receiveLoop(socket, port: port) }
            }
        }
    }

    /// Stops receiving: nothing received from now on is answered (the threads end within a quarter of a second);
    /// answers being computed still go out.
    public func shutdown() {
        stopped.store(true, ordering: .relaxed)
        slots.close()
    }

    private func receiveLoop(_ socket: DHCPSocket, port: PXEClientRequest.Port) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                while !self.stopped.load(ordering: .relaxed) {
                    guard let datagram = socket.receive(timeoutMilliseconds: 250) else { continue }
                    // A request that came in after shutdown (during the wait) is not answered.
                    guard !self.stopped.load(ordering: .relaxed) else { break }
                    self.handle(datagram, on: socket, port: port)
                }
                done.resume()
            }
            thread.name = port == .dhcp ? "thinboot-dhcp" : "thinboot-dhcp4011"
            thread.start()
        }
    }

    private func handle(_ datagram: DHCPSocket.Datagram, on socket: DHCPSocket, port: PXEClientRequest.Port) {
        let interface = DHCPSocket.interfaceName(datagram.interfaceIndex)
        // Read once: a reload in the middle of this request does not mix two configs.
        let (configuration, decide) = policy.withLockedValue { ($0.configuration, $0.decide) }
        guard configuration.interfaces.isEmpty || configuration.interfaces.contains(interface) else { return }
        let message: DHCPMessage
        do {
            message = try DHCPMessage(decoding: datagram.bytes)
        } catch {
            log(
                "dhcp request dropped", outcome: "dropped",
                ["dhcp.peer": "\(datagram.peer)", "dhcp.interface": "\(interface)", "dhcp.reason": "\(error)"])
            return
        }
        guard
            let request = PXEClientRequest(
                message: message, interface: interface, port: port, localAddress: datagram.localAddress)
        else { return }
        observe(request)
        guard ProxyOffer.isAddressed(message, request: request, serverIdentifier: datagram.localAddress) else { return }
        let now = (clock.now - started) / .seconds(1)
        switch limiter.withLockedValue({ $0.admit(request.hardwareAddress, now: now) }) {
        case .answer: break
        case .dropAndLog:
            log(request, outcome: "dropped", file: nil, reason: "more than \(configuration.answersPerMAC) a second")
            return
        case .dropQuietly: return
        }
        // Past `max_pending` answers in progress this thread stops reading until one finishes.
        guard slots.take(of: configuration.maxPending) else { return }
        Task {
            defer { slots.release() }
            await answer(
                message, request: request, datagram: datagram, socket: socket, configuration: configuration,
                decide: decide)
        }
    }

    private func answer(
        _ message: DHCPMessage, request: PXEClientRequest, datagram: DHCPSocket.Datagram, socket: DHCPSocket,
        configuration: ProxyDHCPConfiguration, decide: Decide
    ) async {
        let choice: BootChoice
        do {
            choice = try await decide(request)
        } catch {
            log(request, outcome: "script error", file: nil, reason: "\(error)")
            return
        }
        let local = datagram.localAddress
        guard
            let reply = ProxyOffer.answer(
                to: message, request: request, choice: choice, serverIdentifier: local,
                nextServer: configuration.nextServer ?? local)
        else {
            log(request, outcome: "silent", file: nil, reason: nil)
            return
        }
        let bytes = reply.encoded()
        let destination = ReplyDestination.of(
            request: request, broadcastFlag: message.isBroadcast, sourcePort: datagram.peerPort,
            clientPort: configuration.clientPort)
        let sent: Bool
        switch destination {
        case .broadcast:
            sent = socket.send(
                bytes, to: .broadcast, port: configuration.clientPort, interfaceIndex: datagram.interfaceIndex,
                source: local)
        case .unicast(let address, let port):
            sent = socket.send(bytes, to: address, port: port, interfaceIndex: 0, source: local)
        }
        log(request, outcome: "offered", file: reply.bootFileName, reason: sent ? nil : "the kernel refused the send")
    }

    private func log(_ request: PXEClientRequest, outcome: String, file: String?, reason: String?) {
        var metadata: Logger.Metadata = [
            "dhcp.mac": "\(request.macText)",
            "dhcp.arch": "\(request.architecture?.description ?? "-")",
            "dhcp.user_class": "\(request.userClass ?? "-")",
            "dhcp.relay": "\(request.relay?.description ?? "-")",
            "dhcp.file": "\(file ?? "-")",
            "dhcp.interface": "\(request.interface)",
            "dhcp.message": "\(request.message.name)",
        ]
        if let reason { metadata["dhcp.reason"] = "\(reason)" }
        log("dhcp answer", outcome: outcome, metadata)
    }

    private func log(_ message: Logger.Message, outcome: String, _ metadata: Logger.Metadata) {
        var metadata = metadata
        metadata["dhcp.outcome"] = "\(outcome)"
        logger.info(message, metadata: metadata)
    }
}
