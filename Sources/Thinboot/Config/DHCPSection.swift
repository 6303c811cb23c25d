import DHCP

/// `[dhcp]`: the ProxyDHCP server that answers PXE and HTTP-boot clients beside the site's DHCP server.
///
/// ```toml
/// [dhcp]
/// proxy      = true                 # required: Thinboot never hands out addresses
/// interfaces = ["br0"]              # where to answer; default: all
/// boot       = "scripts/boot.lua"   # decides each PXE client's boot file
/// # next_server = "10.0.0.5"        # default: this host's address on the interface the request came in on
/// ```
public struct DHCPSection: Sendable, Equatable {
    /// Interfaces answered on (`interfaces`), empty for all.
    public let interfaces: [String]
    /// The boot script (`boot`), absolute.
    public let boot: String
    /// `siaddr` when the script names no server (`next_server`).
    public let nextServer: IPv4Address?
    /// Answers per MAC per second (`answers_per_mac`, 1...100, default 4).
    public let answersPerMAC: Int
    /// Boot script calls in flight (`max_pending`, 1...4096, default 64).
    public let maxPending: Int

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        guard table.has("proxy") else {
            throw table.error(
                "proxy", "is required: set proxy = true (Thinboot answers PXE clients only, never hands out addresses)")
        }
        guard try table.bool("proxy", default: false) else {
            throw table.error(
                "proxy", "must be true: Thinboot is a ProxyDHCP server beside the site's DHCP server, never one itself")
        }
        interfaces = try table.stringArray("interfaces") ?? []
        for (index, name) in interfaces.enumerated() where name.isEmpty || name.utf8.count > 15 || name.contains("/") {
            throw table.error("interfaces[\(index)]", "\"\(name)\" is not an interface name (`ip link` lists them)")
        }
        boot = paths.resolve(try table.requiredString("boot"))
        if let text = try table.string("next_server") {
            guard let address = IPv4Address(parsing: text) else {
                throw table.error("next_server", "\"\(text)\" is not an IPv4 address (\"10.0.0.5\")")
            }
            nextServer = address
        } else {
            nextServer = nil
        }
        answersPerMAC = try table.int("answers_per_mac", default: 4, in: 1...100)
        maxPending = try table.int("max_pending", default: 64, in: 1...4096)
        try table.finish()
    }

    /// The responder's settings.
    func serverConfiguration() -> ProxyDHCPConfiguration {
        ProxyDHCPConfiguration(
            interfaces: interfaces, nextServer: nextServer, answersPerMAC: answersPerMAC, maxPending: maxPending)
    }
}
