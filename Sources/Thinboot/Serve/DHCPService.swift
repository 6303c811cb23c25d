import DHCP
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The ProxyDHCP responder as a service: binds ports 67 and 4011 when the group starts (a bind failure ends
/// `serve` saying which port and what privilege it needs), answers until graceful shutdown.
///
/// A reload (``reload(to:)``) changes the running responder's interfaces, limits, `next_server` and boot script in
/// place; a `[dhcp]` section added starts one (binding the ports then), a section removed stops it. Sockets from
/// systemd serve the first responder only: one started after a stop binds its own.
public final class DHCPService: Service, Sendable {
    /// What the responder answers with: `[dhcp]` and the boot script's decision.
    public struct Settings: Sendable {
        public var section: DHCPSection
        public var decide: ProxyDHCPServer.Decide

        public init(section: DHCPSection, decide: @escaping ProxyDHCPServer.Decide) {
            self.section = section
            self.decide = decide
        }
    }

    private struct State {
        /// What the group starts with; nil when `[dhcp]` is absent at start (a reload may add it).
        var initial: Settings?
        var server: ProxyDHCPServer?
        /// Sockets from systemd (socket activation) the next responder takes; none once one has.
        var inherited: [Int32]
        /// The section the running responder answers with.
        var section: DHCPSection?
        var stopping = false
    }

    private let observe: ProxyDHCPServer.Observe
    private let logger: Logger
    private let onBound: @Sendable ((dhcp: UInt16, bootServer: UInt16)) -> Void
    private let state: NIOLockedValueBox<State>
    /// Responders started by a reload, for ``run()`` to run.
    private let started: AsyncStream<ProxyDHCPServer>
    private let startedSink: AsyncStream<ProxyDHCPServer>.Continuation

    /// - Parameter settings: nil for a service that answers nothing until a reload adds `[dhcp]`.
    /// - Parameter inheritedSockets: bound UDP sockets systemd passed, served instead of binding their ports
    ///   (``ProxyDHCPConfiguration/inheritedSockets``).
    /// - Parameter onBound: told the ports of the responder the group starts with.
    public init(
        settings: Settings?, inheritedSockets: [Int32] = [], observe: @escaping ProxyDHCPServer.Observe = { _ in },
        logger: Logger, onBound: @escaping @Sendable ((dhcp: UInt16, bootServer: UInt16)) -> Void = { _ in }
    ) {
        state = NIOLockedValueBox(State(initial: settings, inherited: inheritedSockets))
        self.observe = observe
        self.logger = logger
        self.onBound = onBound
        (started, startedSink) = AsyncStream.makeStream(of: ProxyDHCPServer.self)
    }

    public func run() async throws {
        if let initial = state.withLockedValue({ $0.initial }) {
            let server = try start(initial)
            onBound(server.ports)
        }
        let started = started
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for await server in started {
                    group.addTask { await server.run() }
                }
            }
        } onGracefulShutdown: {
            let server = self.state.withLockedValue { state in
                state.stopping = true
                return state.server
            }
            server?.shutdown()
            self.startedSink.finish()
        }
    }

    /// Answers with `settings` from now on, starting the responder if none runs, or stops it when `settings` is
    /// nil (answers being computed still go out). True when `[dhcp]` differs from the one answered with before (the
    /// script is swapped either way: what it sees of the config may have changed). Throws, changing nothing, when
    /// the ports cannot be bound.
    public func reload(to settings: Settings?) throws(DHCPBindError) -> Bool {
        let (server, section, stopping) = state.withLockedValue { ($0.server, $0.section, $0.stopping) }
        guard !stopping else { return false }
        switch (server, settings) {
        case (nil, nil):
            return false
        case (let server?, nil):
            state.withLockedValue {
                $0.server = nil
                $0.section = nil
            }
            server.shutdown()
            logger.info("dhcp proxy stopped", metadata: ["dhcp.reloaded": "true"])
        case (nil, let settings?):
            _ = try start(settings)
        case (let server?, let settings?):
            server.reload(configuration: settings.section.serverConfiguration(), decide: settings.decide)
            state.withLockedValue { $0.section = settings.section }
        }
        return section != settings?.section
    }

    /// Binds a responder for `settings` and hands it to ``run()``.
    private func start(_ settings: Settings) throws(DHCPBindError) -> ProxyDHCPServer {
        var configuration = settings.section.serverConfiguration()
        configuration.inheritedSockets = state.withLockedValue { state in
            defer { state.inherited = [] }
            return state.inherited
        }
        let server = try ProxyDHCPServer(
            configuration: configuration, decide: settings.decide, observe: observe, logger: logger)
        state.withLockedValue {
            $0.server = server
            $0.section = settings.section
        }
        startedSink.yield(server)
        logger.info(
            "dhcp proxy listening",
            metadata: [
                "dhcp.ports": "\(server.ports.dhcp),\(server.ports.bootServer)",
                "dhcp.interfaces":
                    "\(configuration.interfaces.isEmpty ? "all" : configuration.interfaces.joined(separator: ","))",
            ])
        return server
    }
}
