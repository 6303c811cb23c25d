/// Where a client's MAC was learned, as the boot status names it (`macSource`): a MAC a route found is
/// remembered with its source, so the status page says "neighbour table" for a client no request named, not
/// only that the router remembered it.
public enum MACSource: String, Sendable {
    /// A `{mac}` capture or a MAC in the request's path (`pxelinux.cfg/01-…`).
    case path
    /// What the ProxyDHCP tied to the IP.
    case dhcp
    /// The site DHCP server's lease files (`[clients] leases`).
    case leases
    /// The kernel's neighbour table (on-link clients only).
    case neighbourTable = "neighbour table"
}
