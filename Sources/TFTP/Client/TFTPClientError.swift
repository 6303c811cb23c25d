/// Why a `thinboot tftp get` (or a probe) failed; the description is the one line the user sees.
public struct TFTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The host name did not resolve.
        case unresolvable(host: String, reason: String)
        /// A socket call failed.
        case socket(call: String, errno: Int32)
        /// The server answered with ERROR.
        case server(code: TFTPErrorCode, message: String)
        /// No answer after every retry.
        case timedOut(retries: Int)
        /// The server broke the protocol.
        case protocolViolation(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .unresolvable(let host, let reason): "cannot resolve \(host): \(reason)"
        case .socket(let call, let errno): "\(call) failed: \(String(cString: strerror(errno)))"
        case .server(let code, let message): "server error \(code.rawValue): \(message)"
        case .timedOut(let retries): "no answer from the server after \(retries) retries: check host, port and firewall"
        case .protocolViolation(let reason): "protocol error: \(reason)"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
