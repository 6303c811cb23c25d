import NIOConcurrencyHelpers
@_spi(CustomByteBufferAllocator) import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ByteBuffers that point into an image mapping instead of owning memory: handing one to the channel makes the
/// kernel copy straight from the mapping into the socket (one `writev` with the reply header), with no copy in
/// user space.
///
/// Each such buffer owns a reference to its image: the reference is taken when the buffer is made and dropped
/// when NIO frees the buffer's storage, after the socket took the bytes or the write failed. So however a
/// connection ends (half-close, DISC, shutdown, reset) and however the store lets go of the image (renamed
/// over, export removed on SIGHUP), the mapping outlives every queued reply that points into it.
enum BorrowedBytes {
    static let allocator = ByteBufferAllocator(
        allocate: { malloc($0 == 0 ? 1 : $0) },
        reallocate: { pointer, oldSize, newSize in BorrowedBytes.reallocate(pointer, oldSize, newSize) },
        deallocate: { BorrowedBytes.deallocate($0) },
        copy: { $0.copyMemory(from: $1, byteCount: $2) })

    /// The images lent out, by the address of the borrowed bytes (two live mappings never share an address).
    private struct Loan {
        var buffers: Int
        let image: MappedImage
    }
    private static let loans = NIOLockedValueBox<[UInt: Loan]>([:])

    /// A read-only buffer over `length` mapped bytes at `start`, keeping `image` mapped while it lives.
    static func buffer(start: UnsafeRawPointer, length: Int, image: MappedImage) -> ByteBuffer {
        loans.withLockedValue { loans in
            loans[UInt(bitPattern: start), default: Loan(buffers: 0, image: image)].buffers += 1
        }
        return ByteBuffer(
            takingOwnershipOf: UnsafeMutableRawBufferPointer(
                start: UnsafeMutableRawPointer(mutating: start), count: length),
            allocator: allocator)
    }

    /// Ends one buffer's loan of `pointer`; false when the pointer was never lent (it is malloc'd memory).
    private static func endLoan(_ pointer: UnsafeMutableRawPointer) -> Bool {
        let (lent, lastReference) = loans.withLockedValue { loans -> (Bool, MappedImage?) in
            let key = UInt(bitPattern: pointer)
            guard var loan = loans[key] else { return (false, nil) }
            loan.buffers -= 1
            if loan.buffers > 0 {
                loans[key] = loan
                return (true, nil)
            }
            return (true, loans.removeValue(forKey: key)?.image)
        }
        // The last buffer into a mapping the store no longer holds unmaps it here, outside the lock.
        withExtendedLifetime(lastReference) {}
        return lent
    }

    private static func deallocate(_ pointer: UnsafeMutableRawPointer) {
        if !endLoan(pointer) { free(pointer) }
    }

    /// Growing a borrowed buffer (nothing on the server does) copies it out of the mapping and ends the loan.
    private static func reallocate(_ pointer: UnsafeMutableRawPointer?, _ oldSize: Int, _ newSize: Int)
        -> UnsafeMutableRawPointer?
    {
        guard let pointer else { return malloc(newSize == 0 ? 1 : newSize) }
        guard loans.withLockedValue({ $0[UInt(bitPattern: pointer)] != nil }) else {
            return realloc(pointer, newSize == 0 ? 1 : newSize)
        }
        let fresh = malloc(newSize == 0 ? 1 : newSize)
        if let fresh { fresh.copyMemory(from: pointer, byteCount: min(oldSize, newSize)) }
        _ = endLoan(pointer)
        return fresh
    }
}
