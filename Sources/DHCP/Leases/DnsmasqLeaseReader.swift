/// dnsmasq's lease file (`--dhcp-leasefile`, `/var/lib/misc/dnsmasq.leases`): one line per IPv4 lease,
/// `expiry mac ip hostname client-id`, expiry in seconds since 1970 (0: never ends). dnsmasq rewrites the whole
/// file on every change, so it is always read whole. DHCPv6 leases follow a `duid` line; they name no MAC and
/// are left out.
public enum DnsmasqLeaseReader {
    /// Longest line read; a longer one is skipped with a warning (hostnames and client ids are short).
    public static let maxLineLength = 1024

    /// The leases in `bytes`, a whole file. Pure: for tests and the fuzzer as much as for ``LeaseFiles``.
    public static func parse(_ bytes: [UInt8]) -> LeaseParse {
        var result = LeaseParse()
        var lineNumber = 0
        var inIPv6 = false
        for line in bytes.split(separator: LeaseText.newline, omittingEmptySubsequences: false) {
            lineNumber += 1
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            guard !fields.isEmpty, !inIPv6 else { continue }
            if fields[0].elementsEqual("duid".utf8) {
                inIPv6 = true
                continue
            }
            guard line.count <= maxLineLength else {
                result.warnings.append(LeaseWarning(line: lineNumber, problem: "longer than \(maxLineLength) bytes"))
                continue
            }
            guard fields.count >= 3, let expiry = LeaseText.integer(fields[0]) else {
                result.warnings.append(
                    LeaseWarning(
                        line: lineNumber,
                        problem: "not `expiry mac ip host client-id`: \(LeaseText.excerpt(line))"))
                continue
            }
            guard let address = LeaseText.address(fields[2]) else {
                result.warnings.append(
                    LeaseWarning(line: lineNumber, problem: "not an IPv4 address: \(LeaseText.excerpt(fields[2]))"))
                continue
            }
            guard let mac = LeaseText.hardwareAddress(fields[1]) else {
                result.warnings.append(
                    LeaseWarning(line: lineNumber, problem: "not an Ethernet address: \(LeaseText.excerpt(fields[1]))"))
                continue
            }
            result.leases.append(
                Lease(address: address, hardwareAddress: mac, expires: expiry == 0 ? nil : expiry, isBound: true))
        }
        result.consumed = bytes.count
        return result
    }
}
