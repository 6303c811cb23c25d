/// Turns the file name of a request into a path relative to the root, or refuses it.
///
/// What PXE ROMs and boot loaders send is accepted: a leading `/` (pxelinux, GRUB), `\` separators (Windows
/// loaders) and trailing 0xFF bytes (some ROMs pad the name). Anything that could leave the root or confuse a log
/// is refused: NUL and control characters, `..` components, invalid UTF-8. The result never starts with `/`, has
/// no empty or `.` components, and uses `/` separators. Symlinks are the root's business (see `ConfinedDirectory`).
public enum TFTPPath {
    /// The normalised path for `filename`, or ERROR 2 (access violation) / ERROR 1 (nothing left to name a file).
    public static func normalise(_ filename: [UInt8]) throws(TFTPRefusal) -> String {
        var end = filename.count
        while end > 0, filename[end - 1] == 0xFF { end -= 1 }
        // Components are copied byte by byte, each after one `/`: every request passes here, so no splitting into
        // strings. Separators and `.` are ASCII, so the result is valid UTF-8 exactly when the name is.
        var path: [UInt8] = []
        path.reserveCapacity(end)
        var start = 0
        while start < end {
            var stop = start
            while stop < end, filename[stop] != 0x2F, filename[stop] != 0x5C {
                let byte = filename[stop]
                if byte < 0x20 || byte == 0x7F {
                    throw refusal("control character 0x\(String(byte, radix: 16)) in file name")
                }
                stop += 1
            }
            switch stop - start {
            case 0:
                break
            case 1 where filename[start] == 0x2E:
                break
            case 2 where filename[start] == 0x2E && filename[start + 1] == 0x2E:
                throw refusal("\"..\" in file name")
            default:
                if !path.isEmpty { path.append(0x2F) }
                path.append(contentsOf: filename[start..<stop])
            }
            start = stop + 1
        }
        guard let text = String(validating: path, as: UTF8.self) else {
            throw refusal("file name is not valid UTF-8")
        }
        guard !text.isEmpty else { throw TFTPRefusal.notFound }
        return text
    }

    /// Convenience for names given as text (tests, scripts).
    public static func normalise(_ filename: String) throws(TFTPRefusal) -> String {
        try normalise(Array(filename.utf8))
    }

    private static func refusal(_ message: String) -> TFTPRefusal {
        TFTPRefusal(code: .accessViolation, message: "Access violation: \(message)", outcome: .refused)
    }
}
