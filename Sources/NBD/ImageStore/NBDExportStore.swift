import Files
import NIOConcurrencyHelpers

/// An export chosen by a client: its definition and the mapped image it reads from for the whole connection.
public struct NBDOpenExport: Sendable {
    public let definition: NBDExportDefinition
    public let image: MappedImage

    /// What the handshake reports.
    public var info: NBDExportInfo {
        NBDExportInfo(
            name: definition.name, description: definition.description, size: image.size,
            flags: definition.transmissionFlags)
    }
}

/// The configured exports and their mapped images, shared by every listener and connection. An image is mapped
/// once; a new connection checks the file's version and maps the file again only when it was replaced (another
/// inode) or resized, so connections already open keep their mapping. A shared mapping follows the file's bytes
/// by itself, so a newer modification time alone needs no new one.
public final class NBDExportStore: Sendable {
    private struct State {
        var definitions: [NBDExportDefinition] = []
        var images: [String: MappedImage] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init(exports: [NBDExportDefinition]) {
        replace(exports)
    }

    /// Swaps in a new export list (SIGHUP). Connections already open keep the images they hold.
    public func replace(_ exports: [NBDExportDefinition]) {
        state.withLockedValue { state in
            state.definitions = exports
            let paths = Set(exports.map(\.path))
            state.images = state.images.filter { paths.contains($0.key) }
        }
    }

    /// The configured exports.
    public var definitions: [NBDExportDefinition] { state.withLockedValue { $0.definitions } }

    /// The definition a newstyle client gets for `name` on the main port: that name, or the default for "".
    public func definition(named name: String) -> NBDExportDefinition? {
        state.withLockedValue { state in
            if let match = state.definitions.first(where: { $0.name == name }) { return match }
            if name.isEmpty { return state.definitions.first(where: \.isDefault) }
            return nil
        }
    }

    /// Opens `definition`'s image, reusing the current mapping unless the file was replaced or resized.
    public func open(_ definition: NBDExportDefinition) throws(NBDImageError) -> NBDOpenExport {
        let writable = definition.access == .writable
        let cached = state.withLockedValue { $0.images[definition.path] }
        if let cached, cached.writable == writable, !cached.isStale,
            let current = FileVersion(path: definition.path),
            current.isSameFile(as: cached.version), current.size == cached.version.size
        {
            return NBDOpenExport(definition: definition, image: cached)
        }
        let image = try MappedImage(path: definition.path, writable: writable)
        state.withLockedValue { $0.images[definition.path] = image }
        return NBDOpenExport(definition: definition, image: image)
    }

    /// Every export with its current size, or the reason it cannot be opened (for `thinboot check`).
    public func inventory() -> [(definition: NBDExportDefinition, size: Result<UInt64, NBDImageError>)] {
        definitions.map { definition in
            do throws(NBDImageError) {
                return (definition, .success(try open(definition).image.size))
            } catch {
                return (definition, .failure(error))
            }
        }
    }
}
