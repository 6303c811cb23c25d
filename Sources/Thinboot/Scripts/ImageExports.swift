import Files
import Images
import NBD

#if canImport(Glibc)
    import Glibc
#endif

/// The images behind this config's NBD exports, for reading files inside them: an export name (`NAME` for the
/// newest version, `NAME@VERSION` for a pinned one while the store keeps it) resolved through the same
/// ``NBDExportStore`` the NBD server and `thinboot.exports()` use, so a pinned kernel, initrd and root are one
/// image; and the one library that opens and caches them for TFTP, HTTP and scripts alike.
public final class ImageExports: Sendable {
    /// Opens images per version and caches the files extracted from them.
    public let library: ImageLibrary
    private let store: NBDExportStore?
    /// `partition` of the configured exports, by name (images found in folders use the first Linux one).
    private let partitions: [String: Int]

    public init(nbd: NBDSection?, store: NBDExportStore?) {
        self.store = store
        library = ImageLibrary(settings: nbd?.imageCache ?? ImageCacheSettings())
        var partitions: [String: Int] = [:]
        for export in nbd?.exports ?? [] { partitions[export.name] = export.partition }
        self.partitions = partitions
    }

    /// The opened file system of the version `name` names, or why there is none (a message for scripts and logs).
    func image(for name: String) throws(ImageExportFailure) -> FileSystemImage {
        guard let store else { throw .unknown("no NBD exports: add [[nbd.export]]") }
        let opened: NBDOpenExport?
        do throws(NBDImageError) {
            opened = try store.open(named: name)
        } catch {
            throw .unreadable("\(name): \(error)")
        }
        guard let opened else { throw .unknown("no NBD export or version named \(name)") }
        let mapped = opened.image
        let partition = partitions[opened.definition.name]
        do throws(ImageError) {
            // The store's open descriptor is that version's file even after a rename replaced it.
            return try library.image(version: mapped.contentVersion.id, of: mapped.path, partition: partition) {
                () throws(ImageError) in
                do throws(FileReadError) {
                    return try OpenedFile(adopting: dup(mapped.descriptor), path: mapped.path)
                } catch {
                    throw ImageError(image: mapped.path, path: "", kind: .unreadableFile(error.description))
                }
            }
        } catch {
            throw .unreadable("\(name): \(error.reason)")
        }
    }
}

/// Why an export name gives no image: no such export or version (answered like a missing file), or an image that
/// cannot be read (a server error).
enum ImageExportFailure: Error {
    case unknown(String)
    case unreadable(String)

    var message: String {
        switch self {
        case .unknown(let message), .unreadable(let message): message
        }
    }
}
