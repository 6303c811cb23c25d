import BootEvents
import CTFTPShims
import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// One thread running TFTP: it reads requests from the listening sockets it shares with the other engines, and
/// runs every transfer it starts on that transfer's own socket, with one epoll set and one queue of
/// retransmission deadlines.
///
/// Why not a channel per transfer on SwiftNIO: a transfer of a small file lives for two round trips, and NIO's
/// channel setup and teardown (bootstrap futures, pipeline, four epoll changes) measured about 55 µs of CPU per
/// transfer, three times dnsmasq's whole cost. Here a transfer costs its sends and receives, a few objects, and a
/// socket: usually a spare one an earlier transfer left (``SpareSockets``), else a new one and one `epoll_ctl`.
///
/// Everything but ``post(_:)`` and ``stop()`` runs on the engine's thread; other threads hand it work through
/// ``post(_:)``, which is why the unchecked `Sendable` is sound.
final class TransferEngine: @unchecked Sendable {
    /// Datagrams read per system call on a listening socket.
    static let requestsPerRead = 32
    /// Bytes per datagram slot on a listening socket: an RRQ is at most 512 bytes (RFC 2347); anything longer is
    /// refused anyway, and a slot of 2 KiB keeps it recognisable as too long rather than cut.
    static let requestSlotSize = 2048
    /// Requests read from one listener per wake while the engine runs no transfer.
    private static let requestsPerWake = 4 * requestsPerRead
    /// Requests read from one listener per wake while it runs transfers, after their events: a lockstep client sends
    /// its next ACK only once the last one is answered, so a listener kept full by a flood cost every block of a real
    /// transfer up to 128 decisions (a tftp-hpa fetch of 4 MiB moved 5 blocks a second during a flood on a loaded
    /// machine, against 680 without, and finished only when the flood ended). The listener stays readable, so the
    /// next wake comes at once: a boot storm's requests still all get in, at the cost of more `epoll_wait` calls.
    static let requestsWhileTransfersRun = 8
    /// Segments per segmented write (the kernel's UDP_MAX_SEGMENTS is 64 on older kernels).
    private static let maximumSegments = 64
    /// A segmented write is one UDP datagram to the kernel: it must fit 64 KiB with the IP and UDP headers.
    private static let maximumSegmentedBytes = 65_000
    /// The most of a window laid out at once (plus one datagram): the size the window buffer is bounded by.
    static let layoutBytes = 256 * 1024
    /// How long an engine runs no transfer before it hands memory back to the kernel.
    private static let idleBeforeRelease: Duration = .seconds(1)

    private let poll: EventPoll
    private let launcher: TransferLauncher
    private let logger: Logger
    private let inbox = NIOLockedValueBox<[@Sendable (TransferEngine) -> Void]>([])
    private var running = true
    private var transfers = TransferTable()
    private var deadlines = DeadlineQueue()
    private var spares = SpareSockets()
    private var nextSerial: UInt64 = 0
    /// Listening sockets (descriptor → bound address), shared with the other engines until dropped.
    private var listeners: [CInt: SocketAddress] = [:]
    private let listening: ListeningSockets
    /// Whether this engine still counts as a holder of the listening sockets (even when there are none).
    private var holdsListeners = true
    private let requestBuffer: UnsafeMutableRawBufferPointer
    private let requestInfo: UnsafeMutablePointer<ctftp_datagram>
    /// Where windows are laid out before they are sent (header, payload, header, payload… as UDP segmentation cuts
    /// it), shared by the engine's transfers: a send copies it into the kernel, so no transfer needs its own. At
    /// most ``layoutBytes`` plus a datagram, and dropped when the engine is idle.
    private var windowBuffer = ByteBuffer()
    /// When the engine hands memory back if it still runs no transfer; nil when it has since it last ran one.
    private var releaseAt: ContinuousClock.Instant?
    /// The engine's thread, once its loop runs: what ``assertOnEngineThread()`` compares with.
    private var thread: pthread_t?
    /// Where a transfer socket's datagrams land: an ACK is 4 bytes, an ERROR at most a block.
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    /// Listening sockets that were ready in this wake, read once its transfers had their turn (kept to reuse its
    /// storage).
    private var readyListeners: [CInt] = []

    init(listening: ListeningSockets, launcher: TransferLauncher, logger: Logger) throws(EngineError) {
        poll = try EventPoll()
        self.listening = listening
        self.launcher = launcher
        self.logger = logger
        for (descriptor, address) in zip(listening.descriptors, listening.addresses) {
            try poll.add(descriptor, exclusive: true)
            listeners[descriptor] = address
        }
        requestBuffer = .allocate(byteCount: Self.requestsPerRead * Self.requestSlotSize, alignment: 16)
        requestInfo = .allocate(capacity: Self.requestsPerRead)
        requestInfo.initialize(repeating: ctftp_datagram(), count: Self.requestsPerRead)
        receiveBuffer = .allocate(byteCount: 65_536, alignment: 16)
    }

    deinit {
        requestBuffer.deallocate()
        requestInfo.deinitialize(count: Self.requestsPerRead)
        requestInfo.deallocate()
        receiveBuffer.deallocate()
    }

    /// Starts the engine's thread.
    func start(name: String) throws(EngineError) {
        try EngineThread.spawn(name: name) { self.loop() }
    }

    /// Runs `work` on the engine's thread, soon.
    func post(_ work: @escaping @Sendable (TransferEngine) -> Void) {
        inbox.withLockedValue { $0.append(work) }
        poll.wake()
    }

    /// Ends the thread once the work posted before has run; transfers still in flight are cut.
    func stop() {
        post { engine in engine.running = false }
    }

    // MARK: On the engine's thread

    private func loop() {
        thread = pthread_self()
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        while running {
            let ready = poll.wait(into: events, timeoutMilliseconds: millisecondsToNextDeadline())
            for index in 0..<ready {
                let descriptor = events[index].data.fd
                if let transfer = transfers[descriptor] {
                    if events[index].events & EPOLLOUT.rawValue != 0 { resumeWindow(of: transfer) }
                    // Resuming a window can end the transfer (its file changed): only a live one reads on.
                    if events[index].events & ~EPOLLOUT.rawValue != 0, transfers[descriptor] === transfer {
                        receiveFromClient(transfer)
                    }
                } else if listeners[descriptor] != nil {
                    readyListeners.append(descriptor)
                } else if descriptor == poll.wakeDescriptor {
                    poll.drainWakes()
                    runInbox()
                } else if spares.contains(descriptor) {
                    discardDatagram(on: descriptor)
                }
                // Anything else was closed earlier in this batch (a cut transfer, a dropped listener): its number
                // may already name another thread's descriptor, so it is left alone.
            }
            for descriptor in readyListeners {
                // Looked up again: the inbox may have dropped the listeners meanwhile.
                guard let bound = listeners[descriptor] else { continue }
                receiveRequests(
                    descriptor, bound: bound,
                    budget: transfers.isEmpty ? Self.requestsPerWake : Self.requestsWhileTransfersRun)
            }
            readyListeners.removeAll(keepingCapacity: true)
            let now = ContinuousClock.now
            fireDueTimers(now: now)
            closeExpiredSpares(now: now)
            releaseMemoryWhenIdle(now: now)
        }
        dropListeners()
        cutTransfers()
    }

    private func runInbox() {
        assertOnEngineThread()
        let work = inbox.withLockedValue { pending in
            defer { pending = [] }
            return pending
        }
        for item in work { item(self) }
    }

    private func millisecondsToNextDeadline() -> CInt {
        // Compared one by one, not through an array: this runs on every wake of the engine.
        var next = deadlines.earliest
        if let expiry = spares.nextExpiry, next.map({ expiry < $0 }) ?? true { next = expiry }
        if let release = releaseAt, next.map({ release < $0 }) ?? true { next = release }
        guard let earliest = next else { return -1 }
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: earliest).components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: max(0, milliseconds))
    }

    /// Reads and decides on up to `budget` requests from a listener, in batches of up to ``requestsPerRead``.
    private func receiveRequests(_ descriptor: CInt, bound: SocketAddress, budget: Int) {
        var left = budget
        while left > 0 {
            let wanted = min(left, Self.requestsPerRead)
            left -= wanted
            let count = Int(
                ctftp_receive_batch(
                    descriptor, requestBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.requestSlotSize,
                    requestInfo, CInt(wanted)))
            guard count > 0 else {
                if count < 0 { logger.debug("tftp listener error", metadata: ["error": "\(errno)"]) }
                return
            }
            for index in 0..<count {
                let info = requestInfo[index]
                let bytes = UnsafeRawBufferPointer(
                    start: requestBuffer.baseAddress! + index * Self.requestSlotSize,
                    count: min(info.length, Self.requestSlotSize))
                guard let client = SocketAddress(storage: info.peer) else { continue }
                var local = info.has_local != 0 ? SocketAddress(storage: info.local) ?? bound : bound
                local.port = 0
                carryOut(
                    launcher.decide(
                        ByteBuffer(bytes: bytes), client: client, local: local,
                        interfaceIndex: info.has_local != 0 ? Int(info.interface_index) : nil))
            }
            guard count == wanted else { return }
        }
    }

    private func carryOut(_ decision: RequestDecision) {
        switch decision {
        case .ignore(let record):
            if let record { launcher.log(record) }
        case .refuse(let refusal, let record, let plan):
            launcher.refuse(refusal, record: record, plan: plan)
        case .start(let plan, let source):
            launcher.launch(plan, source, on: self)
        case .compute(let plan, let computation):
            launcher.compute(plan, computation, on: self)
        }
    }

    /// Starts a transfer on a new socket bound to `local`, port 0; `onEnd` runs on this thread when it ends.
    func begin(
        local: SocketAddress, client: SocketAddress, machine: ActiveTransfer.Machine, source: TransferSource,
        optionAck: ByteBuffer?, onEstablished: @escaping () -> Bool, isDisplaced: @escaping () -> Bool,
        progress: TransferProgress? = nil, onEnd: @escaping (TransferEnd) -> Void
    ) {
        let descriptor: CInt
        if let spare = spares.take(for: local, client: client.storage) {
            descriptor = spare
            // Late datagrams for its earlier transfers must not pass for this one's (bounded: a flood cannot hold
            // the engine here).
            var drained = 0
            while drained < 1024, discardDatagram(on: descriptor) { drained += 1 }
        } else {
            do throws(EngineError) {
                descriptor = try BoundSocket.udp(bound: local)
                do throws(EngineError) {
                    try poll.add(descriptor)
                } catch {
                    _ = close(descriptor)
                    throw error
                }
            } catch {
                onEnd(TransferEnd(outcome: .serverError, statistics: .init(), message: error.description))
                return
            }
        }
        nextSerial += 1
        let transfer = ActiveTransfer(
            descriptor: descriptor, local: local, serial: nextSerial, machine: machine, client: client, source: source,
            optionAck: optionAck, onEstablished: onEstablished, isDisplaced: isDisplaced, progress: progress,
            onEnd: onEnd)
        transfers[descriptor] = transfer
        perform(transfer.machine.start(now: .now), on: transfer)
    }

    private func receiveFromClient(_ transfer: ActiveTransfer) {
        var peer = sockaddr_storage()
        var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let received = withUnsafeMutablePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                recvfrom(
                    transfer.descriptor, receiveBuffer.baseAddress, receiveBuffer.count, CInt(MSG_DONTWAIT), address,
                    &peerLength)
            }
        }
        // Nothing there (another engine's stale event), or an ICMP error surfacing: the timer covers both.
        guard received >= 0 else { return }
        let bytes = UnsafeRawBufferPointer(start: receiveBuffer.baseAddress, count: received)
        guard transfer.isClient(peer) else {
            answerStranger(bytes, peer: peer, on: transfer)
            return
        }
        // The common case, an ACK, without building a packet.
        if received == 4, bytes[0] == 0, bytes[1] == UInt8(TFTPOpcode.ack.rawValue) {
            acknowledge(UInt16(bytes[2]) << 8 | UInt16(bytes[3]), on: transfer)
            return
        }
        switch try? TFTPPacket(decoding: ByteBuffer(bytes: bytes)) {
        case .ack(let block):
            acknowledge(block, on: transfer)
        case .error(_, let message):
            transfer.peerMessage = message
            perform(transfer.machine.errorReceived(), on: transfer)
        default:
            // An ERROR too garbled to decode (no NUL, trailing bytes) still means the client gave up.
            if received >= 2, bytes[0] == 0, bytes[1] == UInt8(TFTPOpcode.error.rawValue) {
                perform(transfer.machine.errorReceived(), on: transfer)
            }
        // Anything else from the client is noise; the timer covers a client that lost track.
        }
    }

    private func acknowledge(_ block: UInt16, on transfer: ActiveTransfer) {
        let wasHalfOpen = !transfer.machine.isEstablished
        let action = transfer.machine.ackReceived(block: block, now: .now)
        transfer.publishProgress()
        // Before the action: it may finish the transfer, and the slot must be released as established.
        if wasHalfOpen, transfer.machine.isEstablished {
            guard transfer.onEstablished() else {
                finish(transfer, outcome: .displaced, message: nil)
                return
            }
            transfer.established = true
        }
        perform(action, on: transfer)
    }

    private func answerStranger(_ bytes: UnsafeRawBufferPointer, peer: sockaddr_storage, on transfer: ActiveTransfer) {
        // Never answer an ERROR with an ERROR: two confused peers would ping-pong forever.
        if bytes.count >= 2, bytes[0] == 0, bytes[1] == UInt8(TFTPOpcode.error.rawValue) { return }
        let packet = TFTPPacket.error(code: .unknownTransferID, message: "Unknown transfer ID").encoded()
        _ = packet.withUnsafeReadableBytes { transfer.send($0, to: peer) }
    }

    private func perform(_ action: ActiveTransfer.Machine.Action, on transfer: ActiveTransfer) {
        assertOnEngineThread()
        switch action {
        case .sendOptionAck(let deadline):
            // A full buffer loses the OACK like the network could; the timer resends it.
            _ = transfer.optionAck?.withUnsafeReadableBytes { transfer.send($0) }
            arm(transfer, at: deadline)
        case .sendBlocks(let blocks, let deadline):
            guard sendBlocks(blocks, of: transfer) else { return }
            arm(transfer, at: deadline)
        case .scheduleTimeout(let deadline):
            arm(transfer, at: deadline)
        case .doNothing:
            break
        case .finish(let outcome):
            finish(transfer, outcome: outcome, message: transfer.peerMessage)
        }
    }

    /// Sends a window (or what is left of one); false when the file no longer has its bytes (the transfer then
    /// ended with an ERROR). A full send buffer stops it: the rest goes out when the socket is writable.
    ///
    /// A window goes out in parts of at most ``layoutBytes``: each is laid out, then sent, so the engine's window
    /// buffer stays that small whatever window a client negotiated.
    private func sendBlocks(_ blocks: ClosedRange<Int>, of transfer: ActiveTransfer) -> Bool {
        assertOnEngineThread()
        // A new window (the timer, a window restart) replaces what was left of the last one.
        forgetStall(of: transfer)
        let perPart = max(1, Self.layoutBytes / transfer.datagramStride)
        var next = blocks.lowerBound
        while next <= blocks.upperBound {
            let part = next...min(next + perPart - 1, blocks.upperBound)
            guard layOut(part, of: transfer) else {
                endBecauseFileChanged(transfer)
                return false
            }
            if let refused = transmitLaidOut(part, of: transfer) {
                noteStall(of: transfer, unsent: refused...blocks.upperBound)
                return true
            }
            next = part.upperBound + 1
        }
        return true
    }

    // MARK: Window layout

    /// Lays the DATA datagrams of `blocks` out in the window buffer as header, payload, header, payload…, each
    /// `datagramStride` bytes from the last and only the transfer's last one shorter: exactly the layout UDP
    /// segmentation offload cuts by itself. False when the file no longer has the bytes it had.
    private func layOut(_ blocks: ClosedRange<Int>, of transfer: ActiveTransfer) -> Bool {
        windowBuffer.clear(minimumCapacity: blocks.count * transfer.datagramStride)
        return transfer.source.writeDatagrams(
            blocks, blockSize: transfer.machine.configuration.blockSize, into: &windowBuffer,
            readAhead: transfer.readAhead)
    }

    private func endBecauseFileChanged(_ transfer: ActiveTransfer) {
        let message = "File changed during transfer"
        _ = TFTPPacket.error(code: .notDefined, message: message).encoded().withUnsafeReadableBytes {
            transfer.send($0)
        }
        finish(transfer, outcome: .serverError, message: message)
    }

    // MARK: GSO batching

    /// Sends the datagrams of `blocks` laid out in the window buffer, as many per system call as the kernel
    /// segments at once (one by one without UDP GSO); returns the first block a full send buffer refused, nil when
    /// every one went.
    private func transmitLaidOut(_ blocks: ClosedRange<Int>, of transfer: ActiveTransfer) -> Int? {
        let stride = transfer.datagramStride
        return windowBuffer.withUnsafeReadableBytes { window in
            var offset = 0
            var next = blocks.lowerBound
            while next <= blocks.upperBound {
                let last = min(next + datagramsPerWrite(transfer) - 1, blocks.upperBound)
                let length =
                    (last - next) * stride + TransferSource.headerSize + transfer.machine.byteRange(ofBlock: last).count
                let datagrams = UnsafeRawBufferPointer(rebasing: window[offset..<offset + length])
                if last > next {
                    switch transfer.sendSegmented(datagrams, segment: stride) {
                    case .sent: break
                    case .full: return next
                    case .unsupported:
                        // No UDP_SEGMENT on this kernel or route: datagram by datagram from now on.
                        transfer.useSegmentation = false
                        continue
                    }
                } else if !transfer.send(datagrams) {
                    return next
                }
                offset += (last - next + 1) * stride
                next = last + 1
            }
            return nil
        }
    }

    /// Datagrams one write hands the kernel: up to its segment limit within one 64 KiB UDP send with GSO, else 1.
    private func datagramsPerWrite(_ transfer: ActiveTransfer) -> Int {
        guard transfer.useSegmentation else { return 1 }
        return max(1, min(Self.maximumSegments, Self.maximumSegmentedBytes / transfer.datagramStride))
    }

    // MARK: Stall bookkeeping

    /// The send buffer filled up: `unsent` goes out when the socket is writable again.
    private func noteStall(of transfer: ActiveTransfer, unsent: ClosedRange<Int>) {
        transfer.unsent = unsent
        poll.watchWritable(transfer.descriptor, true)
    }

    /// Drops what was left of a stalled window (a new window replaces it, or the transfer ends).
    private func forgetStall(of transfer: ActiveTransfer) {
        guard transfer.unsent != nil else { return }
        transfer.unsent = nil
        poll.watchWritable(transfer.descriptor, false)
    }

    /// The socket drained: sends what was left of the window.
    private func resumeWindow(of transfer: ActiveTransfer) {
        guard let rest = transfer.unsent else {
            poll.watchWritable(transfer.descriptor, false)
            return
        }
        _ = sendBlocks(rest, of: transfer)
    }

    /// Keeps at most one deadline per transfer in the queue: an earlier one that fires before the current deadline
    /// just re-arms itself (the machine answers `scheduleTimeout`), which is cheaper than replacing it on every ACK.
    private func arm(_ transfer: ActiveTransfer, at deadline: ContinuousClock.Instant) {
        guard !transfer.timerArmed else { return }
        transfer.timerArmed = true
        deadlines.insert(.init(deadline: deadline, descriptor: transfer.descriptor, serial: transfer.serial))
    }

    private func fireDueTimers(now: ContinuousClock.Instant) {
        while let entry = deadlines.popDue(now: now) {
            guard let transfer = transfers[entry.descriptor], transfer.serial == entry.serial else { continue }
            transfer.timerArmed = false
            if !transfer.established, transfer.isDisplaced() {
                finish(transfer, outcome: .displaced, message: nil)
                continue
            }
            let action = transfer.machine.timerFired(now: now)
            transfer.publishProgress()
            perform(action, on: transfer)
        }
    }

    private func finish(_ transfer: ActiveTransfer, outcome: TransferOutcome, message: String?) {
        assertOnEngineThread()
        transfers[transfer.descriptor] = nil
        forgetStall(of: transfer)
        if !spares.keep(transfer.descriptor, local: transfer.local, lastClient: transfer.clientStorage, now: .now) {
            _ = close(transfer.descriptor)
        }
        transfer.end(outcome: outcome, message: message)
    }

    /// Reads and drops one datagram from a spare socket (no transfer runs there: a late duplicate or a stranger's);
    /// false when there was none. Called once per readiness event, as the poll is level triggered.
    @discardableResult
    private func discardDatagram(on descriptor: CInt) -> Bool {
        recv(descriptor, receiveBuffer.baseAddress, receiveBuffer.count, CInt(MSG_DONTWAIT)) >= 0
    }

    private func closeExpiredSpares(now: ContinuousClock.Instant) {
        guard !spares.isEmpty else { return }
        while let descriptor = spares.popExpired(now: now) { _ = close(descriptor) }
    }

    /// Ends every transfer in flight as `server stopped` (the server is being cancelled) and closes the spares.
    func cutTransfers() {
        assertOnEngineThread()
        for transfer in transfers.removeAll() {
            _ = close(transfer.descriptor)
            transfer.end(outcome: .serverStopped, message: nil)
        }
        for descriptor in spares.removeAll() { _ = close(descriptor) }
    }

    /// Stops reading the listening sockets; the last engine to let go closes them.
    func dropListeners() {
        assertOnEngineThread()
        guard holdsListeners else { return }
        holdsListeners = false
        for descriptor in listeners.keys { poll.remove(descriptor) }
        listeners = [:]
        listening.release()
    }

    // MARK: Memory when idle

    /// A second after the engine's last transfer ended, hands memory back: the window buffer goes, and the
    /// allocator returns the pages freed since to the kernel. Without the trim, glibc keeps them in each thread's
    /// arena (a burst of transfers allocates on the engine threads and the threads that counted netascii sizes),
    /// so RSS would stay at the burst's peak.
    private func releaseMemoryWhenIdle(now: ContinuousClock.Instant) {
        guard transfers.isEmpty else {
            releaseAt = now + Self.idleBeforeRelease
            return
        }
        guard let due = releaseAt, now >= due else { return }
        releaseAt = nil
        windowBuffer = ByteBuffer()
        _ = ctftp_release_free_memory()
    }

    /// Checks, in debug builds, that the caller runs on this engine's thread, as NIO's `assertInEventLoop()` does:
    /// the engine's state has no lock because only its thread touches it.
    @inline(__always)
    private func assertOnEngineThread(file: StaticString = #fileID, line: UInt = #line) {
        assert(
            thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false,
            "TransferEngine called off its thread; hand it work with post(_:)", file: file, line: line)
    }
}
