import DHCP
import Logging
import Scripting
import ServiceLifecycle
import TFTP

extension ThinbootServer {
    /// The ProxyDHCP service for `[dhcp]`: the boot script on a worker pool with `[tftp.scripts]`' limits
    /// (the route sandbox), its host reaching the TFTP root (or the config's folder on a DHCP-only host).
    /// What each request taught is recorded in ``learned``, which the TFTP router reads.
    func makeDHCPService(_ section: DHCPSection) throws -> DHCPService {
        let script = BootScript(
            script: section.boot, pool: try makeScriptPool(settings: config.tftp?.scripts ?? ScriptSettings()))
        let learned = learned
        return DHCPService(
            configuration: section.serverConfiguration(),
            decide: { request in
                if let mac = MACAddress(bytes: request.hardwareAddress), mac.isClientAddress {
                    learned.learn(
                        mac: mac, arch: request.architecture?.name, archCode: request.architecture?.code,
                        uuid: request.uuid, userClass: request.userClass, ip: request.clientAddress?.description)
                }
                return try await script.choose(request, serverAddress: nil)
            }, logger: logger)
    }

    /// A script pool like the routes': same sandbox, same limits, `thinboot.file` under the TFTP root.
    private func makeScriptPool(settings: ScriptSettings) throws -> ScriptPool {
        let root = try StaticRoot(path: config.tftp?.root ?? config.directory)
        let host = ThinbootScriptHost(
            root: root, dataRoot: try StaticRoot(path: config.directory), nbd: config.nbd, logger: logger)
        return ScriptPool(host: host, limits: settings.limits, workers: settings.workers, logger: logger)
    }
}
