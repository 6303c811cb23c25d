/// The servers one config can run; `thinboot serve --only ROLE` picks one, so the same file drives a TFTP host
/// and an NBD host.
public enum ServerRole: String, CaseIterable, Sendable {
    case tftp
    case http
    case nbd
}
