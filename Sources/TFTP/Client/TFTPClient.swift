import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A TFTP read client over a plain UDP socket: it resolves the server, runs a ``TFTPClientTransfer`` and hands the
/// file's bytes to a sink in order. Blocking by design (a command-line tool and probes); ``fetch`` wraps it for
/// async callers on a thread of its own.
public struct TFTPClient: Sendable {
    public var host: String
    public var port: Int
    public var mode: TFTPMode
    public var options: TFTPClientTransfer.Options
    /// Seconds before a datagram is resent.
    public var timeoutSeconds: Int
    /// Resends of one datagram before giving up.
    public var retries: Int

    public init(
        host: String, port: Int = 69, mode: TFTPMode = .octet, options: TFTPClientTransfer.Options = .init(),
        timeoutSeconds: Int = 1, retries: Int = 5
    ) {
        self.host = host
        self.port = port
        self.mode = mode
        self.options = options
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
    }

    /// Reads `path`, calling `sink` with each run of bytes and `progress` with (bytes so far, size if announced).
    /// Returns the number of bytes received.
    public func get(
        _ path: String, progress: (Int, Int?) -> Void = { _, _ in }, sink: ([UInt8]) throws -> Void
    ) throws -> Int {
        let server = try resolve()
        let socket = Glibc.socket(Int32(server.ss_family), Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { throw TFTPClientError(.socket(call: "socket", errno: errno)) }
        defer { close(socket) }
        Self.makeRoomForAWindow(on: socket, options: options)

        var transfer = TFTPClientTransfer(
            filename: path, mode: mode, options: options, timeout: .seconds(Int64(timeoutSeconds)), retries: retries)
        var deadline: ContinuousClock.Instant?
        var announced: Int?
        var receiveBuffer = [UInt8](repeating: 0, count: 65536 + 4)
        var pending = transfer.start()
        while true {
            for action in pending {
                switch action {
                case .send(let datagram):
                    try send(datagram, on: socket, to: server, port: transfer.transferPort)
                case .sendTo(let port, let datagram):
                    try send(datagram, on: socket, to: server, port: port)
                case .deliver(let bytes):
                    try sink(bytes)
                    progress(transfer.bytesReceived, announced)
                case .announceSize(let size):
                    announced = size
                    progress(transfer.bytesReceived, announced)
                case .scheduleTimeout(let amount):
                    deadline = .now + .nanoseconds(amount.nanoseconds)
                case .finish(let outcome):
                    return try Self.result(of: outcome, retries: retries)
                }
            }
            pending = try wait(on: socket, from: server, until: deadline, buffer: &receiveBuffer, transfer: &transfer)
        }
    }

    /// Reads `path` whole into memory on NIO's blocking-I/O thread pool, so async callers never block.
    public func fetch(_ path: String) async throws -> [UInt8] {
        let client = self
        return try await NIOThreadPool.singleton.runIfActive {
            var content: [UInt8] = []
            _ = try client.get(path) { content += $0 }
            return content
        }
    }

    private static func result(of outcome: TFTPClientTransfer.Outcome, retries: Int) throws -> Int {
        switch outcome {
        case .completed(let bytes): return bytes
        case .serverError(let code, let message): throw TFTPClientError(.server(code: code, message: message))
        case .timedOut: throw TFTPClientError(.timedOut(retries: retries))
        case .protocolViolation(let reason): throw TFTPClientError(.protocolViolation(reason))
        }
    }

    /// Waits for one datagram from the server's host (others are ignored) or the deadline.
    private func wait(
        on socket: CInt, from server: sockaddr_storage, until deadline: ContinuousClock.Instant?,
        buffer: inout [UInt8], transfer: inout TFTPClientTransfer
    ) throws -> [TFTPClientTransfer.Action] {
        while true {
            let remaining = deadline.map { max(.zero, $0 - .now) } ?? .seconds(60)
            let milliseconds = Int32(
                min(
                    remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000,
                    60_000))
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw TFTPClientError(.socket(call: "poll", errno: errno))
            }
            if ready == 0 { return transfer.timerFired() }
            var source = sockaddr_storage()
            var sourceLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(socket, bytes.baseAddress, bytes.count, 0, $0, &sourceLength)
                    }
                }
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                // ICMP port unreachable surfaces as ECONNREFUSED on some paths: keep waiting for the timer.
                if errno == ECONNREFUSED { continue }
                throw TFTPClientError(.socket(call: "recvfrom", errno: errno))
            }
            guard SocketAddressBytes.sameHost(source, server) else { continue }
            var datagram = ByteBufferAllocator().buffer(capacity: count)
            datagram.writeBytes(buffer[0..<count])
            return transfer.received(datagram, fromPort: SocketAddressBytes.port(of: source))
        }
    }

    private func send(_ datagram: ByteBuffer, on socket: CInt, to server: sockaddr_storage, port: Int?) throws {
        var target = server
        if let port { SocketAddressBytes.setPort(&target, port) }
        let length = socklen_t(
            server.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
        )
        let sent = datagram.withUnsafeReadableBytes { bytes in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, bytes.baseAddress, bytes.count, 0, $0, length)
                }
            }
        }
        if sent < 0 { throw TFTPClientError(.socket(call: "sendto", errno: errno)) }
    }

    private func resolve() throws -> sockaddr_storage {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, "\(port)", &hints, &list)
        guard status == 0, let first = list else {
            throw TFTPClientError(.unresolvable(host: host, reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(
                from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return storage
    }
}

extension TFTPClient {
    /// Asks for a receive buffer that holds a whole window: the kernel drops what does not fit, and a window whose
    /// tail is dropped costs a timeout (nothing after the gap shows the loss). Root may exceed `rmem_max`.
    fileprivate static func makeRoomForAWindow(on socket: CInt, options: TFTPClientTransfer.Options) {
        guard let windowSize = options.windowSize, windowSize > 1 else { return }
        let blockSize = options.blockSize ?? 512
        var bytes = CInt(clamping: windowSize * (blockSize + 4 + 64))
        let size = socklen_t(MemoryLayout<CInt>.size)
        if setsockopt(socket, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, size) != 0 {
            _ = setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &bytes, size)
        }
    }
}
