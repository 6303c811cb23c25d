/// `[tftp.arch]`: which architecture a client has, told by the boot loader it fetched first. Keys are file names
/// (matched case-insensitively against the last path component), values are architecture names scripts see as
/// `req.arch`. Entries add to (or override) the defaults.
///
/// ```toml
/// [tftp.arch]
/// "pxelinux.0"  = "x86-bios"
/// "bootx64.efi" = "x86_64-efi"
/// ```
public struct ArchTable: Sendable, Equatable {
    /// File name (lowercase) → architecture.
    public let loaders: [String: String]

    /// The well-known boot loaders.
    public static let defaults: [String: String] = [
        "pxelinux.0": "x86-bios", "lpxelinux.0": "x86-bios", "undionly.kpxe": "x86-bios",
        "bootx64.efi": "x86_64-efi", "grubx64.efi": "x86_64-efi", "ipxe.efi": "x86_64-efi",
        "snponly.efi": "x86_64-efi", "syslinux.efi": "x86_64-efi",
        "bootaa64.efi": "arm64-efi", "grubaa64.efi": "arm64-efi",
    ]

    public init(loaders: [String: String] = ArchTable.defaults) {
        self.loaders = loaders
    }

    init(_ table: ConfigTable?) throws(ConfigError) {
        var loaders = Self.defaults
        for (name, arch) in try table?.stringMap() ?? [:] {
            guard !name.isEmpty, !name.contains("/") else {
                throw table!.error(name, "use a boot loader's file name without folders (\"pxelinux.0\")")
            }
            loaders[name.lowercased()] = arch
        }
        self.loaders = loaders
    }

    /// The architecture a request for `path` reveals, if it is a known boot loader.
    public func arch(forLoaderPath path: String) -> String? {
        // The last non-empty component, cut at `/` bytes.
        let utf8 = path.utf8
        var end = utf8.endIndex
        while end > utf8.startIndex, utf8[utf8.index(before: end)] == 0x2F { end = utf8.index(before: end) }
        let start = utf8[..<end].lastIndex(of: 0x2F).map { utf8.index(after: $0) } ?? utf8.startIndex
        let name = Substring(utf8[start..<end])
        // Every request asks: a name already lowercase ASCII is looked up as it is (a short one is a small string,
        // no allocation), only others are lowercased.
        if name.utf8.allSatisfy({ $0 < 0x80 && !(0x41...0x5A).contains($0) }) { return loaders[String(name)] }
        return loaders[name.lowercased()]
    }
}
