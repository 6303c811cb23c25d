/// The `Content-Type` of a path by its extension: what EDK2 and iPXE look at.
public enum HTTPContentType {
    /// `application/efi` for EFI binaries, `text/plain` for configs and scripts, ISO and disk images by their types
    /// (EDK2 takes those as RAM disks), `application/octet-stream` otherwise.
    public static func of(path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            return name == "default" || path.contains("pxelinux.cfg/") ? textPlain : octetStream
        }
        switch name[name.index(after: dot)...].lowercased() {
        case "efi": return "application/efi"
        case "ipxe", "pxe", "cfg", "conf", "txt", "menu", "lst", "sh", "lua", "toml", "csv", "list":
            return textPlain
        case "iso": return "application/x-iso9660-image"
        case "img": return octetStream
        case "json": return "application/json"
        case "html", "htm": return "text/html; charset=utf-8"
        default:
            return path.contains("pxelinux.cfg/") ? textPlain : octetStream
        }
    }

    static let textPlain = "text/plain; charset=utf-8"
    static let octetStream = "application/octet-stream"
}
