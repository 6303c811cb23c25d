/// A file inside an image cannot be served: each protocol answers ``Kind/notFound`` like a missing static file
/// (TFTP ERROR 1, HTTP 404); every other kind fails that one request.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No such file or folder inside the image (or a component on the way is not a folder).
        case notFound
        /// The path names a folder where a file is wanted.
        case isDirectory
        /// The path names a device, FIFO or socket, or a file where a folder is wanted.
        case notRegularFile
        /// More than 40 symlinks on the way (a loop).
        case tooManySymlinks
        /// The file is larger than the reader accepts.
        case tooLarge(size: Int, limit: Int)
        /// The image file itself cannot be opened or read.
        case unreadableFile(String)
        /// Neither squashfs, ext2/3/4 nor a partitioned disk.
        case unknownFormat
        /// A partitioned disk without the partition asked for (or without a Linux partition).
        case noPartition(String)
        /// The file system library refused the image: corrupt, truncated, or an unsupported feature.
        case corrupt(String)
        /// The cache folder cannot hold the extracted copy.
        case cacheFailed(String)
    }

    /// The image file.
    public let image: String
    /// The path inside the image (empty for the image itself).
    public let path: String
    public let kind: Kind

    public init(image: String, path: String, kind: Kind) {
        self.image = image
        self.path = path
        self.kind = kind
    }

    /// What went wrong, without the image's location on the server (a script or client may read it).
    public var reason: String {
        switch kind {
        case .notFound: "no such file in the image"
        case .isDirectory: "is a directory"
        case .notRegularFile: "not a regular file"
        case .tooManySymlinks: "too many symlinks"
        case .tooLarge(let size, let limit): "\(size) bytes, over the limit of \(limit)"
        case .unreadableFile(let reason): "cannot read the image: \(reason)"
        case .unknownFormat: "not a squashfs, ext2/3/4 or partitioned disk image"
        case .noPartition(let reason): reason
        case .corrupt(let reason): "corrupt image: \(reason)"
        case .cacheFailed(let reason): "cannot cache the file: \(reason) (check [nbd] image_cache)"
        }
    }

    public var description: String { "\(image):/\(path): \(reason)" }
}
