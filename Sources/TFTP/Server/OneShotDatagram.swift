import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one datagram from a new socket bound to an address, port 0, and closes it: how a refusal answers "from a
/// new port, from the address the request was sent to" without watching a socket nothing comes back to.
enum OneShotDatagram {
    /// Sends `bytes` to `destination` from `source` (its port is ignored: the kernel picks one). Throws the errno
    /// of the step that failed.
    static func send(_ bytes: ByteBuffer, from source: SocketAddress, to destination: SocketAddress) throws(IOError) {
        var local = source
        local.port = 0
        let descriptor: CInt
        do throws(EngineError) {
            descriptor = try BoundSocket.udp(bound: local)
        } catch {
            throw error.ioError
        }
        defer { _ = close(descriptor) }
        let sent = bytes.withUnsafeReadableBytes { payload in
            destination.withSockAddr { address, length in
                sendto(descriptor, payload.baseAddress, payload.count, 0, address, socklen_t(length))
            }
        }
        guard sent == bytes.readableBytes else { throw IOError(errnoCode: errno, reason: "sendto") }
    }
}
