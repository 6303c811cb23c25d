/// The servers one config can run; `thinboot serve --only ROLE` picks one, so the same file drives a TFTP host,
/// an NBD host and a ProxyDHCP host.
public enum ServerRole: String, CaseIterable, Sendable {
    case tftp
    case http
    case nbd
    case dhcp
}
