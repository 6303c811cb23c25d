import CImageReaders
import Files
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// A file system inside an image file, read with libsquashfs or libext2fs: squashfs, ext2/3/4, or one partition
/// of a raw MBR/GPT disk. Paths resolve the way the client's kernel sees them with the image as its root (see
/// ``resolve(_:in:)``). The libraries' handles are not thread-safe, so every call takes the image's lock.
///
/// Opening from bytes (``init(bytes:)``) and ``list(_:)``, ``read(_:limit:)`` are the whole surface a fuzz target
/// needs.
public final class FileSystemImage: Sendable {
    /// What the image file holds.
    public let format: ImageFormat
    /// The image file, kept open: an image replaced by rename stays readable as long as this lives.
    public let file: OpenedFile
    /// The partition read, for a raw disk.
    let partition: DiskPartition?
    private let handle: Handle
    /// Held around every use of `handle`: a pthread mutex, so ThreadSanitizer sees what it orders.
    private let lock = NIOLock()

    /// How many symlinks one lookup follows (Linux's own limit).
    static let maximumSymlinkHops = 40
    /// The most names one listing returns.
    public static let maximumListedNames = 100_000

    /// Opens the file system in `file`; for a raw disk, partition `partition` (1-based) or else the first Linux one.
    public init(file: OpenedFile, partition number: Int? = nil) throws(ImageError) {
        let fail = { (kind: ImageError.Kind) in ImageError(image: file.path, path: "", kind: kind) }
        let start: [UInt8]
        let partitions: [DiskPartition]
        do throws(FileReadError) {
            start = try Self.start(of: file, at: 0)
            partitions = FileSystemKind(sniffing: start) == nil ? try DiskPartition.partitions(in: file) : []
        } catch {
            throw fail(.unreadableFile(error.description))
        }
        var offset: UInt64 = 0
        var length = UInt64(file.size)
        var kind = FileSystemKind(sniffing: start)
        if kind != nil {
            format = kind == .squashfs ? .squashfs : .ext4
            partition = nil
        } else {
            guard !partitions.isEmpty else { throw fail(.unknownFormat) }
            guard let chosen = DiskPartition.choose(number, from: partitions, fileSize: file.size) else {
                let wanted = number.map { "partition \($0)" } ?? "Linux partition"
                throw fail(.noPartition("the disk has no \(wanted) inside the file"))
            }
            do throws(FileReadError) {
                kind = FileSystemKind(sniffing: try Self.start(of: file, at: Int(chosen.offset)))
            } catch {
                throw fail(.unreadableFile(error.description))
            }
            guard kind != nil else {
                throw fail(.noPartition("partition \(chosen.number) holds neither squashfs nor ext2/3/4"))
            }
            format = .raw
            partition = chosen
            offset = chosen.offset
            length = chosen.length
        }
        let opened = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { message in
            message[0] = 0
            let pointer = thinboot_image_open(
                file.descriptor, offset, length, kind == .squashfs ? THINBOOT_FS_SQUASHFS : THINBOOT_FS_EXT,
                message.baseAddress, message.count)
            return (pointer, String(cString: message.baseAddress!))
        }
        guard let pointer = opened.0 else { throw fail(.corrupt(opened.1)) }
        self.file = file
        handle = Handle(pointer)
    }

    /// Opens an image held in memory (fuzzing, tests).
    public convenience init(bytes: [UInt8], partition: Int? = nil) throws(ImageError) {
        let descriptor = bytes.withUnsafeBytes { thinboot_memory_file($0.baseAddress, $0.count) }
        guard descriptor >= 0 else {
            throw ImageError(image: "(memory)", path: "", kind: .unreadableFile(String(cString: strerror(errno))))
        }
        let file: OpenedFile
        do throws(FileReadError) {
            file = try OpenedFile(adopting: descriptor, path: "(memory)")
        } catch {
            throw ImageError(image: "(memory)", path: "", kind: .unreadableFile(error.description))
        }
        try self.init(file: file, partition: partition)
    }

    /// The names in the folder at `path`, sorted.
    public func list(_ path: String) throws(ImageError) -> [String] {
        try withHandle { (handle) throws(ImageError) -> [String] in
            let folder = try resolve(path, in: handle)
            guard folder.kind == THINBOOT_NODE_DIRECTORY else { throw error(path, .notRegularFile) }
            let names = Names()
            let status = withUnsafeMutablePointer(to: &names.context) { context in
                thinboot_image_list(handle.pointer, folder.pointer, Names.collect, context)
            }
            guard status == THINBOOT_IMAGE_OK else { throw error(path, .corrupt(handle.message)) }
            return names.context.names.sorted()
        }
    }

    /// The bytes of the regular file at `path`; refused when it is larger than `limit`.
    public func read(_ path: String, limit: Int) throws(ImageError) -> [UInt8] {
        var bytes: [UInt8] = []
        try copy(path, limit: limit) { chunk throws(ImageError) in bytes.append(contentsOf: chunk) }
        return bytes
    }

    /// The size of the regular file at `path`.
    public func size(of path: String) throws(ImageError) -> Int {
        try withHandle { (handle) throws(ImageError) -> Int in
            try regularFile(path, in: handle).size
        }
    }

    /// Hands the regular file at `path` to `sink` in order, a chunk at a time; returns its size. Refused before
    /// any byte when it is larger than `limit`.
    @discardableResult
    public func copy(
        _ path: String, limit: Int, to sink: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) -> Int {
        try withHandle { (handle) throws(ImageError) -> Int in
            let node = try regularFile(path, in: handle)
            guard node.size <= limit else { throw error(path, .tooLarge(size: node.size, limit: limit)) }
            let chunkSize = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(
                byteCount: min(chunkSize, max(node.size, 1)), alignment: 16)
            defer { buffer.deallocate() }
            var offset = 0
            while offset < node.size {
                var done = 0
                let wanted = min(buffer.count, node.size - offset)
                let status = thinboot_image_read(
                    handle.pointer, node.pointer, UInt64(offset), buffer.baseAddress, wanted, &done)
                guard status == THINBOOT_IMAGE_OK else { throw error(path, .corrupt(handle.message)) }
                guard done == wanted else { throw error(path, .corrupt("the file ends before its size")) }
                try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<done]))
                offset += done
            }
            return node.size
        }
    }

    /// Writes the regular file at `path` whole into `descriptor` at the same offsets, decompressing on several
    /// threads (``thinboot_image_extract``); returns its size. Refused before any byte when it is larger than
    /// `limit`; a failed write is `cacheFailed`.
    public func extract(_ path: String, limit: Int, into descriptor: CInt) throws(ImageError) -> Int {
        try withHandle { (handle) throws(ImageError) -> Int in
            let node = try regularFile(path, in: handle)
            guard node.size <= limit else { throw error(path, .tooLarge(size: node.size, limit: limit)) }
            switch thinboot_image_extract(handle.pointer, node.pointer, descriptor) {
            case THINBOOT_IMAGE_OK: return node.size
            case THINBOOT_IMAGE_WRITE_FAILED: throw error(path, .cacheFailed(handle.message))
            default: throw error(path, .corrupt(handle.message))
            }
        }
    }

    /// Runs `body` with the library handle under the image's lock; the error stays typed, which
    /// `NIOLock.withLock` would erase.
    private func withHandle<T>(_ body: (Handle) throws(ImageError) -> T) throws(ImageError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(handle)
    }

    // MARK: - Resolution

    /// The node `path` names, resolved as the client's kernel would with the image as root: `..` at the root stays
    /// there, a symlink is followed inside the image (an absolute target from the image's root), at most
    /// ``maximumSymlinkHops`` of them. Nothing can name a node outside the image: there is nothing outside.
    private func resolve(_ path: String, in handle: Handle) throws(ImageError) -> Node {
        var root: OpaquePointer?
        guard thinboot_image_root(handle.pointer, &root) == THINBOOT_IMAGE_OK, let root else {
            throw error(path, .corrupt(handle.message))
        }
        let rootNode = Node(root)
        guard rootNode.kind == THINBOOT_NODE_DIRECTORY else { throw error(path, .corrupt("the root is not a folder")) }
        // Folders walked so far, the root first; `..` pops one but never the root.
        var walked = [rootNode]
        var pending = Self.components(of: path)
        var hops = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == [UInt8(ascii: ".")] { continue }
            if component == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                if walked.count > 1 { walked.removeLast() }
                continue
            }
            let parent = walked[walked.count - 1]
            guard parent.kind == THINBOOT_NODE_DIRECTORY, !component.contains(0) else { throw error(path, .notFound) }
            var child: OpaquePointer?
            let status = (component + [0]).withUnsafeBufferPointer { name in
                name.withMemoryRebound(to: CChar.self) {
                    thinboot_image_lookup(handle.pointer, parent.pointer, $0.baseAddress, &child)
                }
            }
            if status == THINBOOT_IMAGE_NOT_FOUND { throw error(path, .notFound) }
            guard status == THINBOOT_IMAGE_OK, let child else { throw error(path, .corrupt(handle.message)) }
            let node = Node(child)
            guard node.kind == THINBOOT_NODE_SYMLINK else {
                walked.append(node)
                continue
            }
            hops += 1
            guard hops <= Self.maximumSymlinkHops else { throw error(path, .tooManySymlinks) }
            let target = try symlinkTarget(node, path, in: handle)
            if target.first == UInt8(ascii: "/") { walked.removeSubrange(1...) }
            pending.append(contentsOf: Self.components(of: target))
        }
        return walked[walked.count - 1]
    }

    private func regularFile(_ path: String, in handle: Handle) throws(ImageError) -> Node {
        let node = try resolve(path, in: handle)
        switch node.kind {
        case THINBOOT_NODE_FILE: return node
        case THINBOOT_NODE_DIRECTORY: throw error(path, .isDirectory)
        default: throw error(path, .notRegularFile)
        }
    }

    private func symlinkTarget(_ node: Node, _ path: String, in handle: Handle) throws(ImageError)
        -> [UInt8]
    {
        let capacity = Int(PATH_MAX)
        var target = [UInt8](repeating: 0, count: capacity)
        var length = 0
        let status = target.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                thinboot_image_readlink(handle.pointer, node.pointer, $0.baseAddress, capacity, &length)
            }
        }
        guard status == THINBOOT_IMAGE_OK else { throw error(path, .corrupt(handle.message)) }
        return Array(target[0..<length])
    }

    /// The components of `path`, last first, cut at every `/` byte.
    private static func components(of path: [UInt8]) -> [[UInt8]] {
        path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).reversed().map { Array($0) }
    }

    private static func components(of path: String) -> [[UInt8]] { components(of: Array(path.utf8)) }

    private func error(_ path: String, _ kind: ImageError.Kind) -> ImageError {
        ImageError(image: file.path, path: path, kind: kind)
    }

    /// The first bytes of a file system starting at `offset`: enough for both super block magics.
    private static func start(of file: OpenedFile, at offset: Int) throws(FileReadError) -> [UInt8] {
        try file.bytes(at: offset, count: 2048)
    }
}

/// The C image handle; closed with its owner. Used only under the owner's lock, hence `@unchecked`.
private final class Handle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { thinboot_image_close(pointer) }

    /// The last failure's message.
    var message: String { String(cString: thinboot_image_error(pointer)) }
}

/// A node looked up in an image; freed with this object. Lives only under the image's lock.
private final class Node {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { thinboot_node_free(pointer) }

    var kind: thinboot_node_kind { thinboot_node_kind_of(pointer) }
    var size: Int { Int(clamping: thinboot_node_size(pointer)) }
}

/// Collects the names a listing hands its C callback.
private final class Names {
    struct Context {
        var names: [String] = []
    }

    var context = Context()

    static let collect: thinboot_list_callback = { context, name, length in
        let names = context!.assumingMemoryBound(to: Context.self)
        let bytes = UnsafeRawBufferPointer(start: name, count: length)
        names.pointee.names.append(String(decoding: bytes, as: UTF8.self))
        return names.pointee.names.count >= FileSystemImage.maximumListedNames ? 1 : 0
    }
}
