/// `[[nbd.images]]`: a folder whose `*.img` files are exports, named by `prefix` and the file's name without
/// `.img` (`amd64.img` with prefix `trusty-` is `trusty-amd64`).
public struct NBDImageFolder: Sendable, Hashable {
    /// The folder, absolute.
    public var folder: String
    /// Put before every name found here.
    public var prefix: String

    public init(folder: String, prefix: String = "") {
        self.folder = folder
        self.prefix = prefix
    }

    /// The export a file of this folder is, or nil for a file that is not an image or is still being written:
    /// names not ending in `.img` (`*.tmp`, `*.part`), dotfiles (rsync's and editors' temporaries), and names
    /// that cannot be export names.
    func exportName(forFile file: String) -> String? {
        guard file.hasSuffix(Self.imageSuffix), !file.hasPrefix("."), file.utf8.count > Self.imageSuffix.utf8.count
        else { return nil }
        let name = prefix + file.dropLast(Self.imageSuffix.count)
        guard NBDExportDefinition.isValidName(name) else { return nil }
        return name
    }

    static let imageSuffix = ".img"
}
