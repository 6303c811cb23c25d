import Files

#if canImport(Glibc)
    import Glibc
#endif

/// File bytes read ahead of the blocks a transfer with small windows sends: a lockstep transfer at blksize 1468
/// then costs one `pread` per 32 KiB instead of one per block, a third of its system calls. Netascii reads its
/// input through one too (``NetasciiStream``, and the counting pass of ``NetasciiSizes``).
final class ReadAhead {
    static let capacity = 32 * 1024
    private let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    /// The file offset of `storage[0]`, and how many bytes from there are held.
    private var start = 0
    private var count = 0

    deinit { storage.deallocate() }

    /// Whether a transfer of `size` bytes sending `windowBytes` per window gains from reading ahead: only when a
    /// window is well under the capacity and the file spans more than a window.
    static func pays(size: Int, windowBytes: Int) -> Bool {
        windowBytes * 2 <= capacity && size > windowBytes
    }

    /// Copies the file's bytes `position..<position + length` to `destination`, reading the next `capacity`
    /// bytes when they are not held; false when the file holds fewer bytes than it did when opened.
    func copy(from file: OpenedFile, at position: Int, length: Int, to destination: UnsafeMutableRawPointer) -> Bool {
        if position < start || position + length > start + count {
            guard min(Self.capacity, file.size - position) >= length, fill(from: file, at: position) else {
                return false
            }
        }
        destination.copyMemory(from: storage.baseAddress! + (position - start), byteCount: length)
        return true
    }

    /// The held bytes from `position` on, reading the next `capacity` bytes when `position` is not held: at least
    /// one byte, or nil when the file (as opened) ends there or holds fewer bytes than it did when opened.
    func bytes(of file: OpenedFile, at position: Int) -> UnsafeRawBufferPointer? {
        if position < start || position >= start + count {
            guard position < file.size, fill(from: file, at: position) else { return nil }
        }
        return UnsafeRawBufferPointer(rebasing: storage[(position - start)..<count])
    }

    /// Holds the file's next `capacity` bytes from `position` (fewer at its end); false if they are not there.
    private func fill(from file: OpenedFile, at position: Int) -> Bool {
        let wanted = min(Self.capacity, file.size - position)
        guard Self.readFully(file.descriptor, into: storage, count: wanted, at: position) else {
            count = 0
            return false
        }
        start = position
        count = wanted
        return true
    }

    private static func readFully(
        _ descriptor: CInt, into storage: UnsafeMutableRawBufferPointer, count: Int, at position: Int
    ) -> Bool {
        var done = 0
        while done < count {
            let result = pread(descriptor, storage.baseAddress! + done, count - done, off_t(position + done))
            if result < 0, errno == EINTR { continue }
            // Zero before `count`: the file shrank since it was opened; never send made-up bytes.
            guard result > 0 else { return false }
            done += result
        }
        return true
    }
}
