import BootEvents
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
    /// The address the socket is bound to, port 0: what a spare is lent by.
    let local: SocketAddress
    /// Tells the engine's stale timer entries from this transfer's.
    let serial: UInt64
    var machine: Machine
    let client: SocketAddress
    /// The client's address as the kernel reports a sender, to tell its datagrams from a stranger's.
    let clientStorage: sockaddr_storage
    let source: TransferSource
    let optionAck: ByteBuffer?
    /// File bytes read ahead, for transfers whose windows are small (see ``ReadAhead``).
    let readAhead: ReadAhead?
    /// Whether a deadline of this transfer is in the engine's heap (at most one is).
    var timerArmed = false
    /// Whether windows go out as segmented writes (UDP GSO): one kernel pass per window instead of one per block.
    var useSegmentation = System.supportsUDPSegmentationOffload
    /// The blocks of the current window still to send because the socket's send buffer filled up (a big window
    /// on a link that drains slowly); the engine sends them when the socket is writable again.
    var unsent: ClosedRange<Int>?
    /// Bytes from one DATA datagram to the next when a window is laid out: header and a full block.
    var datagramStride: Int { TransferSource.headerSize + machine.configuration.blockSize }
    /// The message of the client's ERROR, for the log line.
    var peerMessage: String?
    /// Runs at the client's first ACK: the transfer is no longer half-open; false when its slot was displaced.
    let onEstablished: () -> Bool
    /// Whether a half-open transfer's slot went to a newer request (asked at its timers).
    let isDisplaced: () -> Bool
    /// Whether ``onEstablished`` accepted the first ACK.
    var established = false
    /// Where the status page reads how far the transfer has got.
    let progress: TransferProgress?
    private let onEnd: (TransferEnd) -> Void
    private var ended = false

    init(
        descriptor: CInt, local: SocketAddress, serial: UInt64, machine: Machine, client: SocketAddress,
        source: TransferSource,
        optionAck: ByteBuffer?, onEstablished: @escaping () -> Bool = { true },
        isDisplaced: @escaping () -> Bool = { false }, progress: TransferProgress? = nil,
        onEnd: @escaping (TransferEnd) -> Void
    ) {
        self.progress = progress
        self.descriptor = descriptor
        self.local = local
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
        self.onEstablished = onEstablished
        self.isDisplaced = isDisplaced
        self.onEnd = onEnd
    }

    /// Publishes the machine's counts to ``progress``: once per ACK or timer, two relaxed atomic stores.
    func publishProgress() {
        guard let progress else { return }
        progress.update(bytes: machine.statistics.bytesAcknowledged, retransmits: machine.statistics.retransmissions)
    }

    /// Reports the end, once. The socket is the engine's to close or keep as a spare.
    func end(outcome: TransferOutcome, message: String?) {
        guard !ended else { return }
        ended = true
        onEnd(
            TransferEnd(
                outcome: outcome, statistics: machine.statistics, message: message,
                established: established))
    }

    /// Sends one datagram to the client; false when the socket's send buffer is full (the caller waits until it
    /// drains). Other failures (ICMP port unreachable surfacing as ECONNREFUSED) are losses like any other, left
    /// to the retransmission timer.
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        send(bytes, to: clientStorage)
    }

    /// Whether `sender` is the client (same address and port).
    func isClient(_ sender: sockaddr_storage) -> Bool {
        SocketAddressBytes.sameEndpoint(sender, clientStorage)
    }

    /// Sends one datagram to `peer` (the client, or a stranger that gets ERROR 5); false when the send buffer is
    /// full.
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer, to peer: sockaddr_storage) -> Bool {
        var peer = peer
        let length = Self.length(of: peer)
        let sent = withUnsafePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(descriptor, bytes.baseAddress, bytes.count, CInt(MSG_DONTWAIT), address, length)
            }
        }
        return sent >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// The length of the socket address in `storage`, as `sendto` wants it.
    private static func length(of storage: sockaddr_storage) -> socklen_t {
        socklen_t(
            CInt(storage.ss_family) == AF_INET6
                ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    /// What a segmented send did.
    enum SegmentedSend {
        case sent
        /// The send buffer is full: wait until it drains.
        case full
        /// The kernel or route cannot segment: send datagram by datagram.
        case unsupported
    }

    /// Sends `bytes` as datagrams of `segment` bytes in one call (UDP GSO).
    func sendSegmented(_ bytes: UnsafeRawBufferPointer, segment: Int) -> SegmentedSend {
        var peer = clientStorage
        let length = Self.length(of: peer)
        let sent = withUnsafePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                ctftp_send_segmented(descriptor, bytes.baseAddress!, bytes.count, UInt16(segment), address, length)
            }
        }
        if sent >= 0 { return .sent }
        switch errno {
        case EAGAIN, EWOULDBLOCK: return .full
        case ECONNREFUSED: return .sent  // a loss like any other
        default: return .unsupported
        }
    }
}
