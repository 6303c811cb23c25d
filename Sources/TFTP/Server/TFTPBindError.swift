import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listen address the server could not bind, or engines it could not start; the message names the address and
/// what to do.
public struct TFTPBindError: Error, Sendable, CustomStringConvertible {
    /// The address as configured; nil when no address was at fault (the engines could not start).
    public let address: SocketAddress?
    /// The system's reason.
    public let reason: String
    /// What usually fixes it.
    public let hint: String?

    init(address: SocketAddress?, error: any Error) {
        self.address = address
        let code = (error as? IOError)?.errnoCode
        reason = code.map { String(cString: strerror($0)) } ?? "\(error)"
        switch code {
        case EACCES where (address?.port ?? 0) < 1024:
            hint = "ports below 1024 need root or CAP_NET_BIND_SERVICE"
        case EADDRINUSE:
            hint = "another server is listening there"
        case EADDRNOTAVAIL:
            hint = "no interface of this host has that address"
        default:
            hint = nil
        }
    }

    public var description: String {
        let what = address.map { "cannot listen on \(TFTPServer.describe($0)) for TFTP" } ?? "cannot start TFTP"
        return "\(what): \(reason)" + (hint.map { " (\($0))" } ?? "")
    }
}
