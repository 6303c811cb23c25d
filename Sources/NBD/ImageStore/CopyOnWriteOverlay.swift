import NIOCore

/// One connection's private writes over a shared image: 4 KiB blocks held in memory, read back by that
/// connection only and dropped with it. Bounded by a byte limit, past which writes fail with `ENOSPC`. A block
/// device stacked on the image: unwritten ranges read from the mapping, as the image itself would.
struct CopyOnWriteOverlay: NBDBlockDevice {
    /// The overlay's unit: one page, the size clients usually write.
    static let blockSize = 4096

    /// The image below; never written.
    let image: MappedImage
    private var blocks: [UInt64: [UInt8]] = [:]
    private let limit: UInt64

    init(image: MappedImage, limit: UInt64) {
        self.image = image
        self.limit = limit
    }

    var size: UInt64 { image.size }

    func read(offset: UInt64, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard covers(offset: offset, length: UInt64(length)) else {
            return image.read(offset: offset, length: length, allocator: allocator)
        }
        return merged(offset: offset, length: length, allocator: allocator)
    }

    mutating func write(offset: UInt64, bytes: ByteBuffer) -> NBDErrorCode {
        store(offset: offset, length: bytes.readableBytes, bytes: bytes)
    }

    mutating func writeZeroes(offset: UInt64, length: Int) -> NBDErrorCode {
        store(offset: offset, length: length, bytes: nil)
    }

    /// TRIM is advisory: the overlay keeps what it has.
    mutating func trim(offset: UInt64, length: Int) -> NBDErrorCode { .ok }

    /// Nothing is ever durable: the overlay goes with the connection.
    mutating func flush() -> NBDErrorCode { .ok }

    func extents(offset: UInt64, length: UInt32, limit: Int) -> [NBDExtent] {
        // Written blocks are data; reporting the whole range as data is always correct.
        guard covers(offset: offset, length: UInt64(length)) else {
            return image.extents(offset: offset, length: length, limit: limit)
        }
        return [NBDExtent(length: length, flags: 0)]
    }

    func willNeed(offset: UInt64, length: Int) { image.willNeed(offset: offset, length: length) }

    /// Bytes the overlay holds now.
    var storedBytes: UInt64 { UInt64(blocks.count * Self.blockSize) }

    /// Whether any overlay block touches [offset, offset+length).
    private func covers(offset: UInt64, length: UInt64) -> Bool {
        guard !blocks.isEmpty, length > 0 else { return false }
        let first = offset / UInt64(Self.blockSize)
        let last = (offset + length - 1) / UInt64(Self.blockSize)
        if UInt64(blocks.count) < last - first + 1 {
            return blocks.keys.contains { $0 >= first && $0 <= last }
        }
        return (first...last).contains { blocks[$0] != nil }
    }

    /// Writes `bytes` (or zeroes when nil) at `offset`, filling partial blocks from the image.
    private mutating func store(offset: UInt64, length: Int, bytes: ByteBuffer?) -> NBDErrorCode {
        let blockSize = UInt64(Self.blockSize)
        let first = offset / blockSize
        let last = (offset + UInt64(length) - 1) / blockSize
        let newBlocks = (first...last).count { blocks[$0] == nil }
        guard storedBytes + UInt64(newBlocks) * blockSize <= limit else { return .noSpace }
        var source = bytes
        var position = offset
        let end = offset + UInt64(length)
        while position < end {
            let index = position / blockSize
            let within = Int(position % blockSize)
            let count = Int(min(blockSize - UInt64(within), end - position))
            var block: [UInt8]
            if let existing = blocks[index] {
                block = existing
            } else {
                guard let loaded = loadBlock(index) else { return .io }
                block = loaded
            }
            if source != nil {
                block.withUnsafeMutableBytes { raw in
                    _ = source!.readWithUnsafeReadableBytes { readable in
                        (raw.baseAddress! + within).copyMemory(from: readable.baseAddress!, byteCount: count)
                        return count
                    }
                }
            } else {
                block.replaceSubrange(within..<within + count, with: repeatElement(0, count: count))
            }
            blocks[index] = block
            position += UInt64(count)
        }
        return .ok
    }

    /// [offset, offset+length) as this connection sees it: overlay blocks where written, the image elsewhere.
    /// Runs of unwritten blocks are copied from the image in one guarded copy each.
    private func merged(offset: UInt64, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        var buffer = allocator.buffer(capacity: length)
        let blockSize = UInt64(Self.blockSize)
        let end = offset + UInt64(length)
        var position = offset
        var imageRun: UInt64?  // start of the pending run read from the image
        func flushImageRun(upTo stop: UInt64) -> Bool {
            guard let start = imageRun else { return true }
            imageRun = nil
            let count = Int(stop - start)
            var copied = false
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                copied = image.copy(offset: start, length: count, into: raw.baseAddress!)
                return count
            }
            return copied
        }
        while position < end {
            let index = position / blockSize
            let within = Int(position % blockSize)
            let count = Int(min(blockSize - UInt64(within), end - position))
            if let block = blocks[index] {
                guard flushImageRun(upTo: position) else { return nil }
                buffer.writeBytes(block[within..<within + count])
            } else if imageRun == nil {
                imageRun = position
            }
            position += UInt64(count)
        }
        return flushImageRun(upTo: end) ? buffer : nil
    }

    /// One block of the image, zero-padded past its end.
    private func loadBlock(_ index: UInt64) -> [UInt8]? {
        var block = [UInt8](repeating: 0, count: Self.blockSize)
        let start = index * UInt64(Self.blockSize)
        let count = Int(min(UInt64(Self.blockSize), image.size - start))
        let copied = block.withUnsafeMutableBytes { image.copy(offset: start, length: count, into: $0.baseAddress!) }
        return copied ? block : nil
    }
}
