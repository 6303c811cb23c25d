import Files
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes a transfer sends, and how DATA datagrams are cut from them.
///
/// Files are read window by window with one `preadv` straight into the datagram buffer (header, payload, header,
/// payload, …), so no block is copied twice and no file is read whole. A file sent as netascii is converted into
/// the same layout as its windows go out (``NetasciiStream``). Content made in memory (scripts) is copied into it.
enum TransferSource: Sendable {
    case file(OpenedFile)
    case bytes(ByteBuffer)
    case netascii(NetasciiStream)

    /// Prepares provider content for `mode`. Netascii needs the converted size up front (`tsize` must be exact): a
    /// file is counted once per version (``NetasciiSizes``), which reads it whole unless that version was counted
    /// before, so the server does it off its engine threads (see ``countsWholeFile(_:mode:)``).
    init(_ content: BootContent, mode: TFTPMode) throws(TFTPRefusal) {
        switch (content, mode) {
        case (.bytes(let bytes), .octet):
            self = .bytes(bytes)
        case (.bytes(let bytes), .netascii):
            self = .bytes(ByteBuffer(bytes: Netascii.encode(Array(bytes.readableBytesView))))
        case (.file(let file), .octet):
            self = .file(file)
        case (.file(let file), .netascii):
            guard let size = NetasciiSizes.shared.size(of: file) else {
                throw TFTPRefusal(code: .notDefined, message: "Read error", outcome: .serverError)
            }
            self = .netascii(NetasciiStream(file: file, size: size))
        }
    }

    /// Whether preparing `content` for `mode` reads a whole file: a file sent as netascii whose size this version
    /// has not been counted yet.
    static func countsWholeFile(_ content: BootContent, mode: TFTPMode, sizes: NetasciiSizes = .shared) -> Bool {
        guard case .file(let file) = content, mode == .netascii else { return false }
        return sizes.cachedSize(of: file) == nil
    }

    /// Bytes to send.
    var size: Int {
        switch self {
        case .file(let file): file.size
        case .bytes(let buffer): buffer.readableBytes
        case .netascii(let stream): stream.size
        }
    }

    /// Writes the DATA datagrams of `blocks` into `buffer`, each `stride` bytes from the previous one (the last may
    /// be shorter), file bytes through `readAhead` when given. Returns false if the file no longer has the bytes it
    /// had when opened.
    func writeDatagrams(
        _ blocks: ClosedRange<Int>, blockSize: Int, into buffer: inout ByteBuffer, readAhead: ReadAhead? = nil
    ) -> Bool {
        let first = (blocks.lowerBound - 1) * blockSize
        let end = min((blocks.upperBound) * blockSize, size)
        let payloadBytes = max(0, end - first)
        let total = blocks.count * Self.headerSize + payloadBytes
        return buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { memory in
            var offset = 0
            for block in blocks {
                TFTPPacket.writeDataHeader(
                    block: TFTPReadTransfer<ContinuousClock.Instant>.blockNumber(of: block),
                    at: memory.baseAddress! + offset)
                offset += Self.headerSize + blockSize
            }
            guard
                fillPayloads(
                    memory, blocks: blocks, first: first, end: end, blockSize: blockSize, readAhead: readAhead)
            else { return 0 }
            return total
        } == total
    }

    private func fillPayloads(
        _ memory: UnsafeMutableRawBufferPointer, blocks: ClosedRange<Int>, first: Int, end: Int, blockSize: Int,
        readAhead: ReadAhead?
    ) -> Bool {
        let stride = Self.headerSize + blockSize
        switch self {
        case .netascii(let stream):
            return stream.writePayloads(
                blocks, blockSize: blockSize, into: memory, offset: Self.headerSize, stride: stride)
        case .bytes(let buffer):
            buffer.withUnsafeReadableBytes { source in
                var position = first
                var offset = Self.headerSize
                while position < end {
                    let length = min(blockSize, end - position)
                    memory.baseAddress!.advanced(by: offset).copyMemory(
                        from: source.baseAddress!.advanced(by: position), byteCount: length)
                    position += length
                    offset += stride
                }
            }
            return true
        case .file(let file) where readAhead != nil:
            var position = first
            var offset = Self.headerSize
            while position < end {
                let length = min(blockSize, end - position)
                guard readAhead!.copy(from: file, at: position, length: length, to: memory.baseAddress! + offset)
                else { return false }
                position += length
                offset += stride
            }
            return true
        case .file(let file):
            // One preadv per up to IOV_MAX blocks, each iovec pointing at a payload slot after its header.
            var position = first
            var offset = Self.headerSize
            let chunk = 1024
            return withUnsafeTemporaryAllocation(of: iovec.self, capacity: chunk) { vectors in
                while position < end {
                    var count = 0
                    var bytes = 0
                    var cursor = position
                    while count < chunk, cursor < end {
                        let length = min(blockSize, end - cursor)
                        vectors[count] = iovec(
                            iov_base: memory.baseAddress!.advanced(by: offset), iov_len: length)
                        count += 1
                        bytes += length
                        cursor += length
                        offset += stride
                    }
                    guard Self.readFully(file.descriptor, vectors, count: count, bytes: bytes, at: position) else {
                        return false
                    }
                    position = cursor
                }
                return true
            }
        }
    }

    private static func readFully(
        _ descriptor: CInt, _ vectors: UnsafeMutableBufferPointer<iovec>, count: Int, bytes: Int, at position: Int
    ) -> Bool {
        var result: Int
        repeat {
            result = preadv(descriptor, vectors.baseAddress!, CInt(count), off_t(position))
        } while result < 0 && errno == EINTR
        // A short read means the file shrank since it was opened: never send made-up bytes.
        return result == bytes
    }

    static let headerSize = TFTPPacket.dataHeaderSize
}
