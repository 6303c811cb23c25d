#if canImport(Glibc)
    import Glibc
#endif

/// A blocking UDP socket on 127.0.0.1 for tests that play a TFTP client datagram by datagram (hold ACKs, drop
/// some, abort): every receive waits at most `timeout`, so no test waits forever on a server that stays silent.
final class LoopbackDatagramSocket {
    private let descriptor: CInt

    init(timeoutMilliseconds: Int = 5000) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(call: "socket", error: errno) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw SocketFailure(call: "bind", error: errno)
        }
    }

    deinit { close(descriptor) }

    /// Sends `bytes` to 127.0.0.1:`port`.
    func send(_ bytes: [UInt8], to port: Int) throws {
        var address = Self.loopback(port: port)
        let sent = bytes.withUnsafeBytes { payload in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        descriptor, payload.baseAddress, payload.count, 0, $0,
                        socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw SocketFailure(call: "sendto", error: errno) }
    }

    /// The next datagram and the port it came from, or nil when none came within the timeout.
    func receive() throws -> (bytes: [UInt8], port: Int)? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let received = buffer.withUnsafeMutableBytes { memory in
            withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, memory.baseAddress, memory.count, 0, $0, &length)
                }
            }
        }
        if received < 0, errno == EAGAIN || errno == EWOULDBLOCK { return nil }
        guard received >= 0 else { throw SocketFailure(call: "recvfrom", error: errno) }
        return (Array(buffer[0..<received]), Int(UInt16(bigEndian: peer.sin_port)))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }

    struct SocketFailure: Error, CustomStringConvertible {
        let call: String
        let error: CInt
        var description: String { "\(call) failed: \(String(cString: strerror(error)))" }
    }
}

/// TFTP datagrams as a test client sends them.
enum ClientDatagram {
    static func readRequest(_ name: String, mode: String, options: [(String, String)] = []) -> [UInt8] {
        var packet: [UInt8] = [0, 1] + Array(name.utf8) + [0] + Array(mode.utf8) + [0]
        for (key, value) in options { packet += Array(key.utf8) + [0] + Array(value.utf8) + [0] }
        return packet
    }

    static func ack(_ block: UInt16) -> [UInt8] { [0, 4, UInt8(block >> 8), UInt8(block & 0xFF)] }

    static func error(_ message: String) -> [UInt8] { [0, 5, 0, 0] + Array(message.utf8) + [0] }
}
