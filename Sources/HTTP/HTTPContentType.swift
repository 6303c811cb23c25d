/// The `Content-Type` of a path by its extension: what EDK2 and iPXE look at.
public enum HTTPContentType {
    /// `application/efi` for EFI binaries, `text/plain` for configs and scripts, ISO and disk images by their types
    /// (EDK2 takes those as RAM disks), `application/octet-stream` otherwise.
    public static func of(path: String) -> String {
        // Every response asks: an ASCII path (nearly every one) is read as bytes, with no `Character` made (the
        // `Character` reading and `contains` were a tenth of a small generated response's CPU).
        if path.utf8.allSatisfy({ $0 < 0x80 }) { return ofASCII(Array(path.utf8)) }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let inPXELinuxFolder = path.contains("pxelinux.cfg/")
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            return name == "default" || inPXELinuxFolder ? textPlain : octetStream
        }
        return of(extension: name[name.index(after: dot)...].lowercased(), inPXELinuxFolder: inPXELinuxFolder)
    }

    /// ``of(path:)`` for an ASCII path, by the same rules.
    private static func ofASCII(_ path: [UInt8]) -> String {
        var end = path.endIndex
        while end > 0, path[end - 1] == UInt8(ascii: "/") { end -= 1 }
        let start = path[..<end].lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
        let name = start < end ? path[start..<end] : path[...]
        let inPXELinuxFolder = contains(path, "pxelinux.cfg/")
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot != name.startIndex else {
            return name.elementsEqual("default".utf8) || inPXELinuxFolder ? textPlain : octetStream
        }
        let lowercased = name[(dot + 1)...].map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return of(extension: String(decoding: lowercased, as: UTF8.self), inPXELinuxFolder: inPXELinuxFolder)
    }

    /// The type of a lowercased extension; an unknown one is text in a `pxelinux.cfg/` folder.
    private static func of(extension: String, inPXELinuxFolder: Bool) -> String {
        switch `extension` {
        case "efi": "application/efi"
        case "ipxe", "pxe", "cfg", "conf", "txt", "menu", "lst", "sh", "lua", "toml", "csv", "list": textPlain
        case "iso": "application/x-iso9660-image"
        case "img": octetStream
        case "json": "application/json"
        case "html", "htm": "text/html; charset=utf-8"
        default: inPXELinuxFolder ? textPlain : octetStream
        }
    }

    private static func contains(_ bytes: [UInt8], _ needle: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    static let textPlain = "text/plain; charset=utf-8"
    static let octetStream = "application/octet-stream"
}
