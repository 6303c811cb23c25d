import NIOCore

/// What a transmission reads and writes, whatever is behind it: the mapped image itself, or a connection's
/// copy-on-write overlay stacked on the image (the shape of nbdkit's filters: a device over a device). The
/// transmission checks permissions and ranges first; a device only moves bytes.
protocol NBDBlockDevice {
    /// The export's size in bytes.
    var size: UInt64 { get }
    /// The bytes of [offset, offset+length), or nil when the file no longer backs them (truncated, faulted).
    func read(offset: UInt64, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer?
    /// Writes `bytes` at `offset`.
    mutating func write(offset: UInt64, bytes: ByteBuffer) -> NBDErrorCode
    /// Makes [offset, offset+length) read as zeroes.
    mutating func writeZeroes(offset: UInt64, length: Int) -> NBDErrorCode
    /// The client no longer needs [offset, offset+length) (advisory).
    mutating func trim(offset: UInt64, length: Int) -> NBDErrorCode
    /// Makes what was written durable (`NBD_CMD_FLUSH`, FUA).
    mutating func flush() -> NBDErrorCode
    /// The `base:allocation` extents of the range, at most `limit` of them.
    func extents(offset: UInt64, length: UInt32, limit: Int) -> [NBDExtent]
    /// A read-ahead hint (`NBD_CMD_CACHE`).
    func willNeed(offset: UInt64, length: Int)
}

extension MappedImage: NBDBlockDevice {
    func read(offset: UInt64, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        borrow(offset: offset, length: length)
    }

    func write(offset: UInt64, bytes: ByteBuffer) -> NBDErrorCode {
        writeThrough(offset: offset, bytes: bytes) ? .ok : .io
    }

    func writeZeroes(offset: UInt64, length: Int) -> NBDErrorCode {
        punchHole(offset: offset, length: UInt64(length)) ? .ok : .io
    }

    func trim(offset: UInt64, length: Int) -> NBDErrorCode {
        punchHole(offset: offset, length: UInt64(length)) ? .ok : .io
    }

    func flush() -> NBDErrorCode {
        // A read-only image has nothing of the client's to make durable.
        !writable || sync() ? .ok : .io
    }
}
