import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// Re-reads the config file on SIGHUP, whatever the config enables: admins and `logrotate` send SIGHUP as a
/// matter of course, and its default action would kill the process. A file that no longer parses changes nothing.
/// The routes are swapped first (a script that does not compile refuses the whole reload), then each running
/// server takes its part (``ReloadPart``); what changed is logged (``ConfigChanges``), and what only a restart
/// applies is named in the same line, and once in a `needs a restart` line of its own. Route scripts and static
/// files need no signal: they are re-read when they change. systemd hears `RELOADING=1` before and `READY=1` after.
final class ReloadService: Service, Sendable {
    private let signals: UnixSignalsSequence
    private let running: ThinbootConfig
    private let routing: LiveRouting?
    private let makeRouting: @Sendable (ThinbootConfig) throws -> LiveRouting.Snapshot?
    private let parts: [ReloadPart]
    private let logger: Logger
    /// The last config that loaded, for the changes a reload names.
    private let previous: NIOLockedValueBox<ThinbootConfig>
    /// The restart-only changes already warned about, so each is warned about once.
    private let announced = NIOLockedValueBox<Set<String>>([])

    /// `signals` must already trap SIGHUP when the other services start, so no early signal is missed.
    init(
        signals: UnixSignalsSequence, running: ThinbootConfig, routing: LiveRouting?,
        makeRouting: @escaping @Sendable (ThinbootConfig) throws -> LiveRouting.Snapshot?, parts: [ReloadPart],
        logger: Logger
    ) {
        self.routing = routing
        self.makeRouting = makeRouting
        self.parts = parts
        self.signals = signals
        self.running = running
        self.logger = logger
        previous = NIOLockedValueBox(running)
    }

    func run() async throws {
        // Cancelled with the group on shutdown; the signal sequence ends with it.
        await cancelWhenGracefulShutdown {
            for await _ in self.signals {
                SystemdNotifier.reloading()
                await self.reload()
                SystemdNotifier.ready(status: "serving; config reloaded")
            }
        }
    }

    private func reload() async {
        let config: ThinbootConfig
        do {
            config = try ThinbootConfig.load(path: running.file)
        } catch {
            logger.error(
                "reload failed: the config file does not load; nothing changed",
                metadata: ["reload.error": "\(error)"])
            return
        }
        let changes = ConfigChanges(from: previous.withLockedValue { $0 }, to: config)
        var applied: [String] = []
        if let routing, !changes.isEmpty {
            // Built and compiled beside the running one; swapped in only if every script compiles.
            do {
                if let snapshot = try makeRouting(config) {
                    if let errors = await snapshot.router?.checkScripts(), let first = errors.first {
                        throw first
                    }
                    routing.replace(with: snapshot)
                    applied.append("routes, scripts, root")
                }
            } catch {
                logger.error(
                    "reload failed: the new routes do not load; nothing changed", metadata: ["reload.error": "\(error)"]
                )
                return
            }
        }
        previous.withLockedValue { $0 = config }
        for part in parts {
            do {
                if try await part.apply(config) { applied.append(part.name) }
            } catch {
                logger.error(
                    "\(part.name) reload failed; keeping the current ones", metadata: ["reload.error": "\(error)"])
            }
        }
        var metadata: Logger.Metadata = [
            "reload.applied": "\(applied.isEmpty ? "-" : applied.joined(separator: ", "))",
            "reload.changes": "\(changes.isEmpty ? "none" : changes.lines.joined(separator: "; "))",
        ]
        // Against the config serve started with: those changes stay pending until a restart, however many
        // reloads come in between.
        let pending = ConfigChanges(from: running, to: config).needingRestart
        if !pending.isEmpty {
            metadata["reload.restart_to_apply"] = "\(pending.joined(separator: "; "))"
        }
        logger.notice("config reloaded", metadata: metadata)
        let fresh = announced.withLockedValue { announced in
            let fresh = pending.filter { !announced.contains($0) }
            announced.formUnion(fresh)
            return fresh
        }
        for line in fresh {
            logger.warning("needs a restart", metadata: ["reload.key": "\(line)"])
        }
    }
}
