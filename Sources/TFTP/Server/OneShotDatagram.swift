import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one datagram from a new socket bound to an address, port 0, and closes it: how a refusal answers "from a
/// new port, from the address the request was sent to" without the cost of a channel, since nothing comes back.
enum OneShotDatagram {
    /// Sends `bytes` to `destination` from `source` (its port is ignored: the kernel picks one). Throws the errno
    /// of the step that failed.
    static func send(_ bytes: ByteBuffer, from source: SocketAddress, to destination: SocketAddress) throws(IOError) {
        let family = source.protocol == .inet6 ? AF_INET6 : AF_INET
        let socketType = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
        let descriptor = socket(family, socketType, 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        defer { _ = close(descriptor) }
        var local = source
        local.port = 0
        guard local.withSockAddr({ bind(descriptor, $0, socklen_t($1)) }) == 0 else {
            throw IOError(errnoCode: errno, reason: "bind")
        }
        let sent = bytes.withUnsafeReadableBytes { payload in
            destination.withSockAddr { address, length in
                sendto(descriptor, payload.baseAddress, payload.count, 0, address, socklen_t(length))
            }
        }
        guard sent == bytes.readableBytes else { throw IOError(errnoCode: errno, reason: "sendto") }
    }
}
