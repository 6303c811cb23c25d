import CNBDShims
@_spi(CustomByteBufferAllocator) import NIOCore

/// ByteBuffers that point into an image mapping instead of owning memory: handing one to the channel makes the
/// kernel copy straight from the mapping into the socket (one `writev` with the reply header), with no copy in
/// user space. The no-op deallocator leaves the pages to the mapping, which the connection keeps alive until
/// its channel is gone (and with it every queued write).
enum BorrowedBytes {
    static let allocator = ByteBufferAllocator(
        allocate: cnbd_borrowed_malloc, reallocate: cnbd_borrowed_realloc, deallocate: cnbd_borrowed_free,
        copy: cnbd_borrowed_copy)

    /// A read-only buffer over `length` mapped bytes at `start`.
    static func buffer(start: UnsafeRawPointer, length: Int) -> ByteBuffer {
        ByteBuffer(
            takingOwnershipOf: UnsafeMutableRawBufferPointer(
                start: UnsafeMutableRawPointer(mutating: start), count: length),
            allocator: allocator)
    }
}
