import Foundation

/// One export as `thinboot check` reports it: its name, file, legacy port and size, or why it cannot be served.
public struct NBDExportStatus: Sendable {
    public let name: String
    public let file: String
    public let port: Int?
    /// The file's size in bytes, nil when it cannot be read.
    public let size: UInt64?
    /// What is wrong with the file, nil when it can be served.
    public let problem: String?

    init(_ export: NBDExportConfig) {
        name = export.name
        file = export.file
        port = export.port
        var problem: String?
        var size: UInt64?
        if !FileManager.default.isReadableFile(atPath: export.file) {
            problem = "cannot read \(export.file): create the image or fix the path"
        } else if let attributes = try? FileManager.default.attributesOfItem(atPath: export.file),
            attributes[.type] as? FileAttributeType == .typeRegular, let bytes = attributes[.size] as? NSNumber
        {
            size = bytes.uint64Value
        } else {
            problem = "\(export.file) is not a regular file"
        }
        self.size = size
        self.problem = problem
    }

    /// One line for `thinboot check`: `trusty-amd64  /opt/…/amd64.img  1073741824 bytes  port 2001`.
    public var summary: String {
        var line = "\(name)  \(file)  " + (size.map { "\($0) bytes" } ?? "UNAVAILABLE (\(problem ?? "?"))")
        if let port { line += "  port \(port)" }
        return line
    }
}
