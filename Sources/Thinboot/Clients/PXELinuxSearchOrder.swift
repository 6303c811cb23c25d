/// The config file names pxelinux tries, in order, relative to the folder `pxelinux.0` came from: its UUID, its
/// MAC as `01-aa-bb-cc-dd-ee-ff`, its IPv4 address in uppercase hex shortened one digit at a time, `default`.
public enum PXELinuxSearchOrder {
    public static func names(mac: MACAddress, uuid: String? = nil, ipv4: String? = nil, folder: String = "")
        -> [String]
    {
        var names: [String] = []
        if let uuid { names.append(uuid.lowercased()) }
        names.append(mac.pxelinuxName)
        if let ipv4, let hex = hexAddress(ipv4) {
            for length in stride(from: hex.count, through: 1, by: -1) { names.append(String(hex.prefix(length))) }
        }
        names.append("default")
        let prefix = folder.split(separator: "/").map { $0 + "/" }.joined()
        return names.map { prefix + "pxelinux.cfg/" + $0 }
    }

    /// `192.168.202.4` → `C0A8CA04`.
    static func hexAddress(_ ipv4: String) -> String? {
        let parts = ipv4.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        return parts.map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
