import DHCP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The ProxyDHCP service for `[dhcp]`, its boot script made as
    /// ``BootScript/make(config:dhcp:exportStore:logger:)`` says. What each PXE request taught (answered or not: a
    /// REQUEST to the site's server names the client's address) is recorded in ``learned``, which the TFTP and
    /// HTTP router reads.
    func makeDHCPService(_ section: DHCPSection) throws -> DHCPService {
        let script = try BootScript.make(config: config, dhcp: section, exportStore: exportStore, logger: logger)
        let learned = learned
        return DHCPService(
            configuration: section.serverConfiguration(),
            decide: { request in try await script.choose(request) },
            observe: { request in
                guard let mac = MACAddress(bytes: request.hardwareAddress), mac.isClientAddress else { return }
                learned.learn(
                    mac: mac, arch: request.architecture?.name, archCode: request.architecture?.code,
                    uuid: request.uuid, userClass: request.userClass, ip: request.boundAddress?.description)
            }, logger: logger)
    }
}
