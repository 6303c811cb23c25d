import BootEvents
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import TFTP

/// The TFTP server as a service: binds every `[tftp] listen` address when the group starts (a bind failure ends
/// `serve` with the address and the reason), serves until shutdown, and on graceful shutdown stops taking requests
/// while the transfers in flight finish — for at most ``shutdownGrace``, then the rest are cut.
///
/// A reload with new limits or listen addresses starts a new server beside the running one (``reload(to:)``): the
/// addresses both configs listen on are handed over as the same sockets, new ones are bound, then the old server
/// stops taking requests and finishes its transfers with the settings they started with.
public final class TFTPService: Service, Sendable {
    /// How long graceful shutdown waits for transfers in flight. Without a bound, one client that vanished after
    /// negotiating `timeout 255` would hold SIGTERM for 255 s × (retries + 1); a cut transfer is logged as
    /// `server stopped` and the boot ROM simply asks again.
    public static let shutdownGrace: Duration = .seconds(10)

    private struct Running {
        /// The configuration asked for last, to tell whether a reload changes anything.
        var configuration: TFTPServerConfiguration
        var server: TFTPServer?
        /// How many of the server's listeners came from systemd (they come first and are never dropped).
        let fromSystemd: Int
    }

    private let provider: any TFTPContentProvider
    private let logger: Logger
    private let onBound: @Sendable ([SocketAddress]) -> Void
    private let events: any BootEventSink
    private let running: NIOLockedValueBox<Running>
    /// Servers a reload started, for ``run()`` to run beside the one it drains.
    private let replacements: AsyncStream<TFTPServer>
    private let replacementSink: AsyncStream<TFTPServer>.Continuation

    /// - Parameters:
    ///   - events: told every transfer as it starts and ends (the boot status and metrics).
    ///   - onBound: told the bound addresses (real ports when port 0 was configured), for tests.
    public init(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents(),
        onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.events = events
        self.provider = provider
        self.logger = logger
        self.onBound = onBound
        running = NIOLockedValueBox(
            Running(configuration: configuration, server: nil, fromSystemd: configuration.inheritedSockets.count))
        (replacements, replacementSink) = AsyncStream.makeStream(of: TFTPServer.self)
    }

    /// What a child task of ``run()`` ended with.
    private enum Event {
        case replaced(TFTPServer)
        case serverEnded
        case shutdownGraceOver
        case noMoreReplacements
    }

    public func run() async throws {
        let configuration = running.withLockedValue { $0.configuration }
        let first = try await TFTPServer.bind(
            configuration: configuration, provider: provider, logger: logger, events: events)
        running.withLockedValue { $0.server = first }
        logger.info("tftp listening", metadata: ["tftp.listen": "\(first.localAddresses)"])
        onBound(first.localAddresses)
        let replacements = replacements
        try await withThrowingTaskGroup(of: Event.self) { group in
            var servers = 1
            group.addTask {
                try await first.run()
                return .serverEnded
            }
            group.addTask {
                for await server in replacements { return .replaced(server) }
                return .noMoreReplacements
            }
            group.addTask {
                // Returns when graceful shutdown starts, or at once when the service is cancelled.
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return .shutdownGraceOver }
                self.stopTakingRequests()
                try? await Task.sleep(for: Self.shutdownGrace)
                return .shutdownGraceOver
            }
            // Every server ending (all transfers done, or a listener failure), or the grace running out, ends all.
            loop: while let event = try await group.next() {
                switch event {
                case .replaced(let server):
                    servers += 1
                    group.addTask {
                        try await server.run()
                        return .serverEnded
                    }
                    group.addTask {
                        for await server in replacements { return .replaced(server) }
                        return .noMoreReplacements
                    }
                case .serverEnded:
                    servers -= 1
                    if servers == 0 { break loop }
                case .noMoreReplacements:
                    continue
                case .shutdownGraceOver:
                    break loop
                }
            }
            replacementSink.finish()
            group.cancelAll()
        }
    }

    /// Serves `configuration` (its limits and `listen`) from now on; false when it is the one running. Throws,
    /// changing nothing, when a new address cannot be bound.
    public func reload(to configuration: TFTPServerConfiguration) async throws -> Bool {
        let (old, current, fromSystemd) = running.withLockedValue { ($0.configuration, $0.server, $0.fromSystemd) }
        guard let current, configuration != old, let copies = current.duplicateListeners() else { return false }
        // Sockets systemd passed are kept whatever `listen` says (they come first); otherwise an address both
        // configs listen on keeps its socket, and only the new ones are bound.
        let addresses = current.localAddresses
        var next = configuration
        next.inheritedSockets = []
        for (index, copy) in copies.enumerated() {
            if index < fromSystemd || (fromSystemd == 0 && configuration.listen.contains(addresses[index])) {
                next.inheritedSockets.append(copy)
            } else {
                _ = close(copy)
            }
        }
        next.listen = fromSystemd > 0 ? [] : configuration.listen.filter { !addresses.contains($0) }
        let server = try await TFTPServer.bind(configuration: next, provider: provider, logger: logger, events: events)
        running.withLockedValue {
            $0.configuration = configuration
            $0.server = server
        }
        replacementSink.yield(server)
        current.shutdownGracefully()
        logger.info("tftp listening", metadata: ["tftp.listen": "\(server.localAddresses)", "tftp.reloaded": "true"])
        return true
    }

    private func stopTakingRequests() {
        running.withLockedValue { $0.server }?.shutdownGracefully()
    }
}

#if canImport(Glibc)
    import Glibc
#endif
