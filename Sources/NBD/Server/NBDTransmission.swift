import Logging
import NIOCore

/// Executes one connection's transmission requests against its export and builds the replies, with no I/O of
/// its own: the channel handler writes the buffers returned here. The protocol's rules (permissions, ranges,
/// reply shapes) live here; the bytes come from one block device, the image or the connection's copy-on-write
/// overlay on it. READ data from the image is a buffer borrowing the mapping, so the bytes go from the page
/// cache to the socket without a copy in user space.
struct NBDTransmission {
    /// What to do after a request.
    enum Outcome {
        /// Write these buffers, in order (a header, maybe followed by data).
        case reply([ByteBuffer])
        /// The client sent DISC: finish what is queued and close.
        case disconnect
    }

    /// Counters for the connection's log line.
    struct Statistics {
        var requests = 0
        var bytesRead: UInt64 = 0
        var bytesWritten: UInt64 = 0
        var errors = 0
        /// Requests and failures by command (``NBDCommand`` 0...7, then any other), inline: counting one
        /// allocates nothing.
        var byCommand = InlineArray<9, Int>(repeating: 0)
        var failedByCommand = InlineArray<9, Int>(repeating: 0)

        static func slot(_ command: NBDCommand) -> Int { command.rawValue < 8 ? Int(command.rawValue) : 8 }

        /// The commands seen, for the connection's boot-status event.
        var commandCounts: [(command: String, count: Int, failed: Int)] {
            (0..<9).compactMap { slot in
                guard byCommand[slot] > 0 else { return nil }
                let name = slot < 8 ? NBDCommand(rawValue: UInt16(slot)).description : "other"
                return (name, byCommand[slot], failedByCommand[slot])
            }
        }
    }

    let export: NBDOpenExport
    let negotiation: NBDNegotiation
    private let allocator: ByteBufferAllocator
    private let logger: Logger
    /// The image, or this connection's overlay on it.
    private var device: any NBDBlockDevice
    private(set) var statistics = Statistics()

    init(export: NBDOpenExport, negotiation: NBDNegotiation, allocator: ByteBufferAllocator, logger: Logger) {
        self.export = export
        self.negotiation = negotiation
        self.allocator = allocator
        self.logger = logger
        if case .copyOnWrite(let limit) = export.definition.access {
            device = CopyOnWriteOverlay(image: export.image, limit: limit)
        } else {
            device = export.image
        }
    }

    private var image: MappedImage { export.image }

    /// Handles one request. `shuttingDown` answers everything but DISC with `ESHUTDOWN`.
    mutating func handle(_ request: NBDRequest, shuttingDown: Bool) -> Outcome {
        statistics.requests += 1
        statistics.byCommand[Statistics.slot(request.command)] += 1
        if request.command == .disconnect { return .disconnect }
        if shuttingDown { return fail(request, .shutdown, "the server is shutting down") }
        switch request.command {
        case .read: return read(request)
        case .write, .trim, .writeZeroes: return modify(request)
        case .flush:
            if device.flush() != .ok { return fail(request, .io, "fsync failed") }
            return done(request)
        case .cache:
            if let failure = checkRange(request) { return failure }
            device.willNeed(offset: request.offset, length: Int(request.length))
            return done(request)
        case .blockStatus: return blockStatus(request)
        default: return fail(request, .invalid, "unknown command \(request.command.rawValue)")
        }
    }

    private mutating func read(_ request: NBDRequest) -> Outcome {
        if request.length > NBDLimits.maximumRequestLength {
            return fail(request, .invalid, "read longer than \(NBDLimits.maximumRequestLength) bytes")
        }
        if let failure = checkRange(request) { return failure }
        let length = Int(request.length)
        guard let data = device.read(offset: request.offset, length: length, allocator: allocator) else {
            if image.markStale() {
                logger.error(
                    "image changed on disk (truncated or rewritten in place): reads past its new end get EIO; replace images by rename",
                    metadata: ["nbd.export": "\(export.definition.name)", "nbd.file": "\(image.path)"])
            }
            return fail(request, .io, "the image was truncated or rewritten under the server")
        }
        statistics.bytesRead += UInt64(length)
        var header = allocator.buffer(capacity: NBDReplyEncoder.structuredHeaderLength + 8)
        if negotiation.structuredReplies {
            NBDReplyEncoder.offsetDataHeader(
                cookie: request.cookie, offset: request.offset, dataLength: length, into: &header)
        } else {
            NBDReplyEncoder.simpleReply(cookie: request.cookie, error: .ok, into: &header)
        }
        return .reply([header, data])
    }

    private mutating func modify(_ request: NBDRequest) -> Outcome {
        // The decoder has already consumed (or drained) a WRITE's payload, so refusing keeps the stream framed.
        if !export.definition.access.acceptsWrites {
            return fail(request, .notPermitted, "\(export.definition.name) is read-only")
        }
        if let failure = checkRange(request) { return failure }
        let length = Int(request.length)
        var error: NBDErrorCode =
            switch request.command {
            case .write: device.write(offset: request.offset, bytes: request.payload ?? ByteBuffer())
            case .writeZeroes: device.writeZeroes(offset: request.offset, length: length)
            default: device.trim(offset: request.offset, length: length)
            }
        if error == .ok && request.flags.contains(.fua) { error = device.flush() }
        guard error == .ok else {
            return fail(
                request, error,
                error == .noSpace ? "copy-on-write overlay is full (cow_max)" : "writing the image failed")
        }
        statistics.bytesWritten += UInt64(request.length)
        return done(request)
    }

    private mutating func blockStatus(_ request: NBDRequest) -> Outcome {
        guard negotiation.structuredReplies, let contextID = negotiation.allocationContextID else {
            return fail(request, .invalid, "BLOCK_STATUS needs base:allocation selected with SET_META_CONTEXT")
        }
        if let failure = checkRange(request) { return failure }
        let extents = device.extents(
            offset: request.offset, length: request.length,
            limit: request.flags.contains(.requestOne) ? 1 : NBDLimits.maximumBlockStatusExtents)
        var reply = allocator.buffer(capacity: NBDReplyEncoder.structuredHeaderLength + 4 + 8 * extents.count)
        NBDReplyEncoder.blockStatus(cookie: request.cookie, contextID: contextID, extents: extents, into: &reply)
        return .reply([reply])
    }

    /// `EINVAL` for an empty range or one past the end of the export.
    private mutating func checkRange(_ request: NBDRequest) -> Outcome? {
        let (end, overflow) = request.offset.addingReportingOverflow(UInt64(request.length))
        if request.length == 0 || overflow || end > device.size {
            return fail(request, .invalid, "range \(request.offset)+\(request.length) is outside the export")
        }
        return nil
    }

    private func done(_ request: NBDRequest) -> Outcome {
        var reply = allocator.buffer(capacity: NBDReplyEncoder.structuredHeaderLength)
        if negotiation.structuredReplies {
            NBDReplyEncoder.structuredDone(cookie: request.cookie, into: &reply)
        } else {
            NBDReplyEncoder.simpleReply(cookie: request.cookie, error: .ok, into: &reply)
        }
        return .reply([reply])
    }

    private mutating func fail(_ request: NBDRequest, _ error: NBDErrorCode, _ message: String) -> Outcome {
        statistics.errors += 1
        statistics.failedByCommand[Statistics.slot(request.command)] += 1
        logger.trace(
            "request failed",
            metadata: ["nbd.command": "\(request.command)", "nbd.error": "\(error)", "nbd.reason": "\(message)"])
        var reply = allocator.buffer(capacity: NBDReplyEncoder.structuredHeaderLength + 6 + message.utf8.count)
        if negotiation.structuredReplies {
            NBDReplyEncoder.structuredError(cookie: request.cookie, error: error, message: message, into: &reply)
        } else {
            NBDReplyEncoder.simpleReply(cookie: request.cookie, error: error, into: &reply)
        }
        return .reply([reply])
    }
}
