import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads the config file on SIGHUP, whatever the config enables: admins and `logrotate` send SIGHUP as a
/// matter of course, and its default action would kill the process. A file that no longer parses changes nothing.
/// What a running server can take is applied (the NBD exports); every other change is named in one log line, to
/// apply at the next start. Route scripts and static files need no signal: they are re-read when they change.
struct ReloadService: Service {
    private let signals: UnixSignalsSequence
    private let running: ThinbootConfig
    private let roles: Set<ServerRole>
    private let nbd: NBDService?
    private let logger: Logger

    /// `signals` must already trap SIGHUP when the other services start, so no early signal is missed.
    init(
        signals: UnixSignalsSequence, running: ThinbootConfig, roles: Set<ServerRole>, nbd: NBDService?,
        logger: Logger
    ) {
        self.signals = signals
        self.running = running
        self.roles = roles
        self.nbd = nbd
        self.logger = logger
    }

    func run() async throws {
        // Cancelled with the group on shutdown; the signal sequence ends with it.
        await cancelWhenGracefulShutdown {
            for await _ in signals { await reload() }
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
        var applied: [String] = []
        var notApplied: [String] = []
        if let nbd {
            do {
                try await nbd.server.reload(
                    exports: config.nbd?.exports.map(\.definition) ?? [], folders: config.nbd?.imageFolders ?? [])
                applied.append("nbd exports")
            } catch {
                logger.error(
                    "nbd reload failed; keeping the current exports", metadata: ["reload.error": "\(error)"])
                notApplied.append("nbd exports")
            }
        }
        if roles.contains(.tftp), config.tftp != running.tftp {
            notApplied.append("[tftp] settings")
        }
        if roles.contains(.tftp), running.tftp == nil, config.tftp != nil { notApplied.append("a new [tftp] server") }
        if roles.contains(.dhcp), config.dhcp != running.dhcp { notApplied.append("[dhcp] settings") }
        if config.clients != running.clients { notApplied.append("[clients] lease files") }
        if roles.contains(.nbd), running.nbd == nil, config.nbd != nil { notApplied.append("a new [nbd] server") }
        if roles.contains(.http), config.http != running.http { notApplied.append("[http] settings") }
        if config.admin != running.admin { notApplied.append("[admin] settings") }
        if roles.contains(.nbd), let old = running.nbd, let new = config.nbd, old.listen != new.listen {
            notApplied.append("[nbd] listen")
        }
        var metadata: Logger.Metadata = ["reload.applied": "\(applied.isEmpty ? "-" : applied.joined(separator: ", "))"]
        if !notApplied.isEmpty {
            metadata["reload.restart_to_apply"] = "\(notApplied.joined(separator: ", "))"
        }
        logger.notice("config reloaded", metadata: metadata)
    }
}
