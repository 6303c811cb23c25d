/// Turns the file name of a request into a path relative to the root, or refuses it.
///
/// What PXE ROMs and boot loaders send is accepted: a leading `/` (pxelinux, GRUB), `\` separators (Windows
/// loaders) and trailing 0xFF bytes (some ROMs pad the name). Anything that could leave the root or confuse a log
/// is refused: NUL and control characters, `..` components, invalid UTF-8. The result never starts with `/`, has
/// no empty or `.` components, and uses `/` separators. Symlinks are the root's business (see `StaticRoot`).
public enum TFTPPath {
    /// The normalised path for `filename`, or ERROR 2 (access violation) / ERROR 1 (nothing left to name a file).
    public static func normalise(_ filename: [UInt8]) throws(TFTPRefusal) -> String {
        var bytes = filename[...]
        while bytes.last == 0xFF { bytes = bytes.dropLast() }
        for byte in bytes where byte < 0x20 || byte == 0x7F {
            throw refusal("control character 0x\(String(byte, radix: 16)) in file name")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw refusal("file name is not valid UTF-8")
        }
        var components: [Substring] = []
        for component in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "/" || $0 == "\\" }) {
            switch component {
            case ".": continue
            case "..": throw refusal("\"..\" in file name")
            default: components.append(component)
            }
        }
        guard !components.isEmpty else { throw TFTPRefusal.notFound }
        return components.joined(separator: "/")
    }

    /// Convenience for names given as text (tests, scripts).
    public static func normalise(_ filename: String) throws(TFTPRefusal) -> String {
        try normalise(Array(filename.utf8))
    }

    private static func refusal(_ message: String) -> TFTPRefusal {
        TFTPRefusal(code: .accessViolation, message: "Access violation: \(message)", outcome: "refused")
    }
}
