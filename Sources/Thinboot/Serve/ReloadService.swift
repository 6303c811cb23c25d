import Logging
import ServiceLifecycle
import Synchronization
import TFTP
import UnixSignals

/// Re-reads the config file on SIGHUP, whatever the config enables: admins and `logrotate` send SIGHUP as a
/// matter of course, and its default action would kill the process. A file that no longer parses changes nothing.
/// What a running server can take is applied (the NBD exports); what changed is logged (``ConfigChanges``), and
/// what only a restart applies is named in the same line. Route scripts and static files need no signal: they are
/// re-read when they change. systemd hears `RELOADING=1` before and `READY=1` after.
final class ReloadService: Service, Sendable {
    private let signals: UnixSignalsSequence
    private let running: ThinbootConfig
    private let nbd: NBDService?
    private let tftp: TFTPService?
    private let routing: LiveRouting?
    private let makeRouting: @Sendable (ThinbootConfig) throws -> LiveRouting.Snapshot?
    private let tftpConfiguration: @Sendable (TFTPSection) -> TFTPServerConfiguration
    private let logger: Logger
    /// The last config that loaded, for the changes a reload names.
    private let previous: Mutex<ThinbootConfig>

    /// `signals` must already trap SIGHUP when the other services start, so no early signal is missed.
    init(
        signals: UnixSignalsSequence, running: ThinbootConfig, nbd: NBDService?, tftp: TFTPService?,
        routing: LiveRouting?, makeRouting: @escaping @Sendable (ThinbootConfig) throws -> LiveRouting.Snapshot?,
        tftpConfiguration: @escaping @Sendable (TFTPSection) -> TFTPServerConfiguration, logger: Logger
    ) {
        self.tftp = tftp
        self.routing = routing
        self.makeRouting = makeRouting
        self.tftpConfiguration = tftpConfiguration
        self.signals = signals
        self.running = running
        self.nbd = nbd
        self.logger = logger
        previous = Mutex(running)
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
        let changes = ConfigChanges(from: previous.withLock { $0 }, to: config)
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
        previous.withLock { $0 = config }
        if let tftp, let section = config.tftp {
            do {
                if try await tftp.reload(to: tftpConfiguration(section)) { applied.append("tftp limits and listeners") }
            } catch {
                logger.error(
                    "tftp reload failed; keeping the current listeners and limits",
                    metadata: ["reload.error": "\(error)"])
            }
        }
        if let nbd {
            do {
                try await nbd.server.reload(
                    exports: config.nbd?.exports.map(\.definition) ?? [], folders: config.nbd?.imageFolders ?? [])
                applied.append("nbd exports")
            } catch {
                logger.error(
                    "nbd reload failed; keeping the current exports", metadata: ["reload.error": "\(error)"])
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
    }
}
