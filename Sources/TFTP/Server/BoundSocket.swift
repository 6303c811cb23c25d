import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A nonblocking, close-on-exec UDP socket bound to an address: the listeners, every transfer and every one-shot
/// refusal start as one.
enum BoundSocket {
    /// A socket of `address`'s family, with `prepare` run on it before `bind` (socket options); the descriptor is
    /// the caller's to close.
    static func udp(bound address: SocketAddress, prepare: (CInt) -> CInt = { _ in 0 }) throws(EngineError) -> CInt {
        let descriptor = socket(
            address.protocol == .inet6 ? AF_INET6 : AF_INET,
            CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw EngineError(call: "socket", errno: errno) }
        guard prepare(descriptor) == 0 else {
            let error = errno
            _ = close(descriptor)
            throw EngineError(call: "setsockopt", errno: error)
        }
        guard address.withSockAddr({ bind(descriptor, $0, socklen_t($1)) }) == 0 else {
            let error = errno
            _ = close(descriptor)
            throw EngineError(call: "bind", errno: error)
        }
        return descriptor
    }
}
