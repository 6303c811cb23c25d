/// `[clients]`: where a client's MAC comes from when the kernel's neighbour table cannot know it (clients across
/// a router, whose neighbour entry is the router's).
///
/// ```toml
/// [clients]
/// leases = ["/var/lib/misc/dnsmasq.leases", "/var/lib/kea/kea-leases4.csv", "/var/lib/dhcp/dhcpd.leases"]
/// ```
public struct ClientsSection: Sendable, Equatable {
    /// The site DHCP servers' lease files (`leases`), absolute, in the order they are asked. The format of each
    /// (dnsmasq, Kea memfile CSV, ISC dhcpd) is read from its content.
    public let leases: [String]

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        let leases = try table.stringArray("leases") ?? []
        for (index, path) in leases.enumerated() where path.isEmpty {
            throw table.error("leases[\(index)]", "is empty: name a lease file (\"/var/lib/misc/dnsmasq.leases\")")
        }
        self.leases = leases.map(paths.resolve)
        try table.finish()
    }
}
