import NBD

/// One export as `thinboot check` reports it: where it comes from, its file, legacy port, size and version, or
/// why it cannot be served.
public struct NBDExportStatus: Sendable {
    public let name: String
    public let file: String
    public let port: Int?
    /// The image folder it was found in, nil for an `[[nbd.export]]` entry.
    public let folder: String?
    /// The file's size in bytes, nil when it cannot be opened.
    public let size: UInt64?
    /// The newest version's id, nil when it cannot be opened.
    public let version: String?
    /// What is wrong with the file, nil when it can be served.
    public let problem: String?

    init(_ definition: NBDExportDefinition, in store: NBDExportStore) {
        name = definition.name
        file = definition.path
        port = definition.legacyPort
        folder = store.folders.first { definition.path.hasPrefix($0.folder + "/") }?.folder
        do throws(NBDImageError) {
            let image = try store.open(definition).image
            size = image.size
            version = image.contentVersion.id
            problem = nil
        } catch {
            size = nil
            version = nil
            problem = error.problem
        }
    }

    /// One line for `thinboot check`:
    /// `trusty-amd64  /opt/…/amd64.img  1073741824 bytes  version 3f9a2c01  port 2001`.
    public var summary: String {
        var line = "\(name)  \(file)  "
        if let size, let version {
            line += "\(size) bytes  version \(version)"
        } else {
            line += "UNAVAILABLE (\(problem ?? "?"))"
        }
        if let port { line += "  port \(port)" }
        if let folder { line += "  (found in \(folder))" }
        return line
    }
}
