import Dispatch
import Files
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Which image a file is read from: the image file, and for a raw disk the partition (nil: the first Linux one).
public struct ImageSource: Sendable, Hashable {
    public var path: String
    public var partition: Int?

    public init(path: String, partition: Int? = nil) {
        self.path = path
        self.partition = partition
    }
}

/// Every image files are read from, opened once per version, and the cache of files extracted from them. Shared
/// by TFTP, HTTP and scripts; knows nothing of either protocol.
///
/// An image is opened again when its file changes (another inode, size or times), so a file replaced by rename is
/// read in its new version from the next request on; the old version's cached files are simply never asked for
/// again and age out.
public final class ImageLibrary: Sendable {
    public let settings: ImageCacheSettings
    private let images = NIOLockedValueBox<[ImageSource: FileSystemImage]>([:])
    /// Images opened by version id (``image(version:of:partition:open:)``).
    private let versions = NIOLockedValueBox<[VersionKey: FileSystemImage]>([:])
    /// How many images opened by version stay open.
    static let maximumOpenVersions = 32

    private struct VersionKey: Hashable {
        let version: String
        let path: String
        let partition: Int?
    }
    private let cache: ImageFileCache
    /// Extractions run here, never on the thread that asked: a script worker or an event loop stays free.
    private let extractors = DispatchQueue(label: "thinboot.images.extract", attributes: .concurrent)

    public init(settings: ImageCacheSettings = ImageCacheSettings()) {
        self.settings = settings
        cache = ImageFileCache(settings: settings)
    }

    /// The image as its file is now, opened (or the one already open when the file has not changed).
    public func image(_ source: ImageSource) throws(ImageError) -> FileSystemImage {
        let current = FileVersion(path: source.path)
        if let open = images.withLockedValue({ $0[source] }), open.file.version == current { return open }
        let file: OpenedFile
        do throws(FileReadError) {
            file = try OpenedFile(path: source.path)
        } catch {
            throw ImageError(image: source.path, path: "", kind: .unreadableFile(error.description))
        }
        let image = try FileSystemImage(file: file, partition: source.partition)
        images.withLockedValue { $0[source] = image }
        return image
    }

    /// The image of one version known by its id (an NBD store's ``ImageVersion``), opened by `open` the first time
    /// (a duplicate of the store's descriptor, so a version replaced by rename stays readable), then reused.
    public func image(
        version: String, of path: String, partition: Int?, open: () throws(ImageError) -> OpenedFile
    ) throws(ImageError) -> FileSystemImage {
        let key = VersionKey(version: version, path: path, partition: partition)
        if let open = versions.withLockedValue({ $0[key] }) { return open }
        let image = try FileSystemImage(file: try open(), partition: partition)
        versions.withLockedValue { versions in
            // Old versions are only asked for while pinned boots finish: a few are plenty, reopened if needed.
            if versions.count >= Self.maximumOpenVersions { versions.removeAll() }
            versions[key] = image
        }
        return image
    }

    /// The file at `path` (normalised) inside `source`, as it is now: see ``content(of:from:completion:)``.
    public func content(
        of path: String, in source: ImageSource,
        completion: @escaping @Sendable (Result<BootContent, ImageError>) -> Void
    ) {
        do throws(ImageError) {
            content(of: path, from: try image(source), completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    /// The file at `path` (normalised) inside `image`, as content any protocol serves: from the cache, or
    /// extracted once (concurrent first requests share one extraction). `completion` runs once, on the calling
    /// thread when the file is cached, else on an extraction thread.
    public func content(
        of path: String, from image: FileSystemImage,
        completion: @escaping @Sendable (Result<BootContent, ImageError>) -> Void
    ) {
        let key = ImageFileCache.Key(image: image.file.version, partition: image.partition?.number, path: path)
        switch cache.lookup(key, waiter: completion) {
        case .ready(let content): completion(.success(content))
        case .waiting: break
        case .extract:
            extractors.async {
                self.cache.finish(key, with: Result { () throws(ImageError) in try self.extract(path, from: image) })
            }
        }
    }

    /// ``content(of:in:completion:)`` awaited.
    public func content(of path: String, in source: ImageSource) async throws(ImageError) -> BootContent {
        let result = await withCheckedContinuation { continuation in
            content(of: path, in: source) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Bytes held by the cache now: in memory, in the folder, and how many files.
    public var cacheUsage: (memory: Int, disk: Int, files: Int) { cache.usage }

    /// Reads the file whole: into memory when small, else into an unlinked copy in the cache folder.
    private func extract(_ path: String, from image: FileSystemImage) throws(ImageError) -> BootContent {
        let size = try image.size(of: path)
        let limit = settings.maximumFileBytes
        guard size <= limit else {
            throw ImageError(image: image.file.path, path: path, kind: .tooLarge(size: size, limit: limit))
        }
        if size <= settings.memoryFileBytes {
            return .bytes(ByteBuffer(bytes: try image.read(path, limit: settings.memoryFileBytes)))
        }
        let copy = try cacheFile(for: path, of: image)
        do throws(ImageError) {
            _ = try image.extract(path, limit: limit, into: copy.descriptor)
        } catch {
            guard case .cacheFailed(let reason) = error.kind else { throw error }
            throw ImageError(image: error.image, path: path, kind: .cacheFailed("\(settings.folder): \(reason)"))
        }
        do throws(FileReadError) {
            // Reopened through fstat so the size and version are the copy's, complete.
            return .file(try OpenedFile(adopting: dup(copy.descriptor), path: copy.path))
        } catch {
            throw ImageError(image: image.file.path, path: path, kind: .cacheFailed(error.description))
        }
    }

    /// A new empty file in the cache folder, already unlinked: it lives exactly as long as its descriptor.
    private func cacheFile(for path: String, of image: FileSystemImage) throws(ImageError) -> OpenedFile {
        var template = Array("\(settings.folder)/thinboot-image-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ImageError(
                image: image.file.path, path: path,
                kind: .cacheFailed("\(settings.folder): \(String(cString: strerror(errno)))"))
        }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        do throws(FileReadError) {
            return try OpenedFile(adopting: descriptor, path: "\(image.file.path):/\(path)")
        } catch {
            throw ImageError(image: image.file.path, path: path, kind: .cacheFailed(error.description))
        }
    }
}
