import CNBDShims
import Files
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One image file opened and mapped once, shared by every connection that chose it. Replacing the file by
/// rename leaves this object on the old inode, so connections that hold it read the old image to the end.
/// Truncating or rewriting the file in place is survived: every read touches its pages under a SIGBUS guard
/// before a reply header is written (a page past the file's new end faults there), and a fault marks the image
/// stale. There is no `fstat` per read: the touch already proves the pages are backed, and it must run anyway.
public final class MappedImage: @unchecked Sendable {
    /// The path it was opened from.
    public let path: String
    /// The size when opened; the export's size for every connection on this image.
    public let size: UInt64
    /// The file's version when mapped, to notice a rename-replace or a resize when the next connection arrives.
    let version: FileVersion
    /// Whether the file was opened for writing (a writable export without copy-on-write).
    public let writable: Bool
    /// The content's short id, for `NAME@VERSION`.
    public let contentVersion: ImageVersion
    /// The open file, for readers of the files inside the image (it stays this version's file after a
    /// rename-replace, when the path already names the new one). Valid while this object lives.
    public let descriptor: Int32
    private let base: UnsafeMutableRawPointer?
    // Written once by the first failed read; `NIOLockedValueBox` keeps the flag safe across event loops.
    private let staleFlag = NIOLockedValueBox(false)

    /// Opens and maps `path`. Throws with a message naming the path and the system error.
    public init(path: String, writable: Bool) throws(NBDImageError) {
        cnbd_install_sigbus_guard()
        let fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else {
            throw NBDImageError(path: path, problem: "cannot open the image (\(String(cString: strerror(errno))))")
        }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw NBDImageError(path: path, problem: "not a regular file: export an image file")
        }
        var mapping: UnsafeMutableRawPointer?
        if status.st_size > 0 {
            // Read-only even for writable exports: writes go through pwrite, which a shared mapping sees.
            let pointer = mmap(nil, Int(status.st_size), PROT_READ, MAP_SHARED, fd, 0)
            guard let pointer, pointer != MAP_FAILED else {
                close(fd)
                throw NBDImageError(path: path, problem: "cannot map the image (\(String(cString: strerror(errno))))")
            }
            mapping = pointer
        }
        guard let contentVersion = ImageVersion(descriptor: fd, size: UInt64(status.st_size)) else {
            if let mapping { munmap(mapping, Int(status.st_size)) }
            close(fd)
            throw NBDImageError(path: path, problem: "cannot read the image (\(String(cString: strerror(errno))))")
        }
        self.contentVersion = contentVersion
        self.path = path
        self.writable = writable
        descriptor = fd
        base = mapping
        size = UInt64(status.st_size)
        version = FileVersion(status)
    }

    deinit {
        if let base { munmap(base, Int(size)) }
        close(descriptor)
    }

    /// True once a read found the file shorter than the mapping or faulted: it was truncated or rewritten in
    /// place. New connections get a fresh mapping; this one keeps answering `EIO` for the lost range.
    public var isStale: Bool { staleFlag.withLockedValue { $0 } }

    /// Marks the image stale; returns true for the first caller, who logs it.
    func markStale() -> Bool {
        staleFlag.withLockedValue { stale in
            defer { stale = true }
            return !stale
        }
    }

    /// `length` bytes at `offset` as a buffer borrowing the mapping (and keeping this image mapped while it
    /// lives), or nil when a page of the range faulted under the guard (the file was truncated). The caller has
    /// checked the range against `size`.
    func borrow(offset: UInt64, length: Int) -> ByteBuffer? {
        guard length > 0 else { return ByteBuffer() }
        guard let start = pointer(offset: offset, length: length) else { return nil }
        return BorrowedBytes.buffer(start: start, length: length, image: self)
    }

    /// Copies `length` bytes at `offset` into `destination` under the guard; false on a fault (truncation).
    func copy(offset: UInt64, length: Int, into destination: UnsafeMutableRawPointer) -> Bool {
        guard length > 0 else { return true }
        guard let base, offset + UInt64(length) <= size else { return false }
        return cnbd_guarded_copy(destination, base + Int(offset), length) == 0
    }

    /// A read-ahead hint for `NBD_CMD_CACHE`.
    func willNeed(offset: UInt64, length: Int) {
        guard let base, length > 0 else { return }
        _ = cnbd_will_need(base + Int(offset), length)
    }

    /// Writes through to the file (writable exports only).
    func writeThrough(offset: UInt64, bytes: ByteBuffer) -> Bool {
        bytes.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let written = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                done += written
            }
            return true
        }
    }

    /// Frees a range of a writable image so it reads as zeroes.
    func punchHole(offset: UInt64, length: UInt64) -> Bool {
        cnbd_punch_hole(descriptor, Int64(offset), Int64(length)) == 0
    }

    /// Makes written data durable (`NBD_CMD_FLUSH` and FUA on writable exports).
    func sync() -> Bool { fsync(descriptor) == 0 }

    /// The `base:allocation` extents of [offset, offset+length) from the file's holes. Data is reported as
    /// allocated (flags 0), holes as `HOLE|ZERO`. Stops after `limit` extents; the client asks for the rest.
    func extents(offset: UInt64, length: UInt32, limit: Int) -> [NBDExtent] {
        let end = offset + UInt64(length)
        var extents: [NBDExtent] = []
        var position = offset
        while position < end && extents.count < limit {
            let data = cnbd_seek_data(descriptor, Int64(position))
            // ENXIO: no data after `position`; any other failure: no hole information, so report data.
            if data < 0 && errno != ENXIO { break }
            let dataStart: UInt64 = data < 0 ? end : UInt64(data)
            if dataStart > position {
                extents.append(
                    NBDExtent(length: UInt32(min(dataStart, end) - position), flags: NBDExtent.hole | NBDExtent.zero))
                position = min(dataStart, end)
                continue
            }
            let hole = cnbd_seek_hole(descriptor, Int64(position))
            let dataEnd: UInt64 = hole < 0 ? end : min(UInt64(hole), end)
            guard dataEnd > position else { break }
            extents.append(NBDExtent(length: UInt32(dataEnd - position), flags: 0))
            position = dataEnd
        }
        if extents.isEmpty {
            // lseek failed outright (no SEEK_DATA support): everything is data, which is always correct.
            extents.append(NBDExtent(length: UInt32(end - position), flags: 0))
        }
        return extents
    }

    /// The mapped bytes of the range after touching every page under the SIGBUS guard; nil on a fault.
    private func pointer(offset: UInt64, length: Int) -> UnsafeRawPointer? {
        guard let base, offset + UInt64(length) <= size else { return nil }
        let start = UnsafeRawPointer(base + Int(offset))
        guard cnbd_guarded_touch(start, length) == 0 else { return nil }
        return start
    }
}
