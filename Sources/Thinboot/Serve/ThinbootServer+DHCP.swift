import DHCP
import Logging
import ServiceLifecycle

extension ThinbootServer {
    /// The ProxyDHCP service for `[dhcp]`, its boot script made as ``BootScript/make(config:dhcp:logger:)`` says.
    /// What each request taught is recorded in ``learned``, which the TFTP router reads.
    func makeDHCPService(_ section: DHCPSection) throws -> DHCPService {
        let script = try BootScript.make(config: config, dhcp: section, logger: logger)
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
}
