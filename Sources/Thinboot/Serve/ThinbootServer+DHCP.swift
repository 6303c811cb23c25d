import BootEvents
import DHCP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The ProxyDHCP service, answering as `[dhcp]` of `config` says (nothing until a reload adds the section when
    /// it is absent), on the sockets from systemd named `dhcp` where there are any. What each PXE request taught
    /// (answered or not: a REQUEST to the site's server names the client's address) is recorded in ``learned``,
    /// which the TFTP and HTTP router reads.
    func makeDHCPService(
        _ config: ThinbootConfig, events: any BootEventSink = IgnoredBootEvents(), metrics: BootMetrics? = nil,
        readiness: ServeReadiness
    ) async throws -> DHCPService {
        let learned = learned
        return DHCPService(
            settings: try await dhcpSettings(config, events: events, metrics: metrics),
            inheritedSockets: activated.sockets(for: "dhcp"),
            observe: { request in
                guard let mac = MACAddress(bytes: request.hardwareAddress), mac.isClientAddress else { return }
                learned.learn(
                    mac: mac, arch: request.architecture?.name, archCode: request.architecture?.code,
                    uuid: request.uuid, userClass: request.userClass, ip: request.boundAddress?.description)
            }, logger: logger, onBound: { _ in readiness.bound() })
    }

    /// What the responder answers with for `config` (at start and on each reload): `[dhcp]`'s settings and its boot
    /// script, made as ``BootScript/make(config:dhcp:exportStore:logger:)`` says; nil without `[dhcp]`.
    ///
    /// Each answer the script chose is a ``BootEvent`` (`offered`, `silent` or `script error`), and each run of the
    /// script is counted in `metrics`. With `compiled`, a script that does not compile throws (a reload keeps the
    /// running one).
    func dhcpSettings(
        _ config: ThinbootConfig, events: any BootEventSink, metrics: BootMetrics?, compiled: Bool = false
    ) async throws -> DHCPService.Settings? {
        guard let section = config.dhcp else { return nil }
        let script = try BootScript.make(config: config, dhcp: section, exportStore: exportStore, logger: logger)
        if compiled { try await script.check() }
        let scriptLabel = Self.scriptLabel(section.boot, config: config)
        return DHCPService.Settings(section: section) { request in
            let started = ContinuousClock.now
            let mac = MACAddress(bytes: request.hardwareAddress)?.description
            let arch = request.architecture?.name
            do {
                let choice = try await script.choose(request)
                metrics?.scriptRan(script: scriptLabel, outcome: "ok", duration: started.duration(to: .now))
                let file: String? =
                    switch choice {
                    case .file(let file, _): file
                    case .url(let url): url
                    case .silent: nil
                    }
                events.record(
                    BootEvent(
                        source: .dhcp, clientIP: nil, mac: mac, arch: arch, path: file,
                        outcome: file == nil ? "silent" : "offered", duration: started.duration(to: .now)))
                return choice
            } catch {
                metrics?.scriptRan(script: scriptLabel, outcome: "error", duration: started.duration(to: .now))
                events.record(
                    BootEvent(
                        source: .dhcp, clientIP: nil, mac: mac, arch: arch, path: nil, outcome: "script error",
                        message: "\(error)", duration: started.duration(to: .now)))
                throw error
            }
        }
    }
}
