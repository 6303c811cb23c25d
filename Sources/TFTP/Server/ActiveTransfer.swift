import CTFTPShims
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// One read transfer in flight on a ``TransferEngine``: its own socket, its ``TFTPReadTransfer`` state machine and
/// what the machine's actions need (the client's address, the bytes, the OACK). Only its engine's thread touches it.
final class ActiveTransfer {
    typealias Machine = TFTPReadTransfer<ContinuousClock.Instant>

    /// The transfer's socket, bound to the address the request was sent to, port chosen by the kernel.
    let descriptor: CInt
    /// Tells the engine's stale timer entries from this transfer's.
    let serial: UInt64
    var machine: Machine
    let client: SocketAddress
    /// The client's address as the kernel reports a sender, to tell its datagrams from a stranger's.
    private let clientStorage: sockaddr_storage
    let source: TransferSource
    let optionAck: ByteBuffer?
    /// File bytes read ahead, for transfers whose windows are small (see ``ReadAhead``).
    let readAhead: ReadAhead?
    /// Whether a deadline of this transfer is in the engine's heap (at most one is).
    var timerArmed = false
    /// Whether windows go out as segmented writes (UDP GSO): one kernel pass per window instead of one per block.
    var useSegmentation = System.supportsUDPSegmentationOffload
    /// The message of the client's ERROR, for the log line.
    var peerMessage: String?
    private let onEnd: (TransferEnd) -> Void
    private var ended = false

    init(
        descriptor: CInt, serial: UInt64, machine: Machine, client: SocketAddress, source: TransferSource,
        optionAck: ByteBuffer?, onEnd: @escaping (TransferEnd) -> Void
    ) {
        self.descriptor = descriptor
        self.serial = serial
        self.machine = machine
        self.client = client
        self.clientStorage = client.storage
        self.source = source
        let configuration = machine.configuration
        if case .file = source,
            ReadAhead.pays(size: configuration.size, windowBytes: configuration.windowSize * configuration.blockSize)
        {
            readAhead = ReadAhead()
        } else {
            readAhead = nil
        }
        self.optionAck = optionAck
        self.onEnd = onEnd
    }

    /// Closes the socket and reports the end, once.
    func end(outcome: String, message: String?) {
        guard !ended else { return }
        ended = true
        _ = close(descriptor)
        onEnd(TransferEnd(outcome: outcome, statistics: machine.statistics, message: message))
    }

    /// Sends one datagram to the client; a failure (ICMP port unreachable surfacing as ECONNREFUSED, a full
    /// buffer) is left to the retransmission timer.
    func send(_ bytes: UnsafeRawBufferPointer) {
        send(bytes, to: clientStorage)
    }

    /// Whether `sender` is the client (same address and port).
    func isClient(_ sender: sockaddr_storage) -> Bool {
        SocketAddressBytes.sameHost(sender, clientStorage)
            && SocketAddressBytes.port(of: sender) == SocketAddressBytes.port(of: clientStorage)
    }

    /// Sends one datagram to `peer` (the client, or a stranger that gets ERROR 5).
    func send(_ bytes: UnsafeRawBufferPointer, to peer: sockaddr_storage) {
        var peer = peer
        let length = Self.length(of: peer)
        _ = withUnsafePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(descriptor, bytes.baseAddress, bytes.count, CInt(MSG_DONTWAIT), address, length)
            }
        }
    }

    /// The length of the socket address in `storage`, as `sendto` wants it.
    private static func length(of storage: sockaddr_storage) -> socklen_t {
        socklen_t(
            CInt(storage.ss_family) == AF_INET6
                ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    /// Sends `length` bytes of `window` as datagrams of `segment` bytes in one call; false if the kernel or route
    /// cannot segment (the caller falls back to one datagram per call).
    func sendSegmented(_ bytes: UnsafeRawBufferPointer, segment: Int) -> Bool {
        var peer = clientStorage
        let length = Self.length(of: peer)
        let sent = withUnsafePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                ctftp_send_segmented(descriptor, bytes.baseAddress!, bytes.count, UInt16(segment), address, length)
            }
        }
        if sent >= 0 { return true }
        let error = errno
        // A full buffer is a loss like any other; anything else means no segmentation here.
        return error == EAGAIN || error == EWOULDBLOCK || error == ECONNREFUSED
    }
}
