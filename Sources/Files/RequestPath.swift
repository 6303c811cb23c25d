/// Turns the name a client asked for (a TFTP file name, a percent-decoded HTTP path) into a path relative to a
/// confined root, or says why it cannot name a file there: one rule for every protocol, so one file has one name
/// over all of them.
///
/// What boot loaders send is accepted: a leading `/` (pxelinux, GRUB), `//` and `/./`, and `\` separators (Windows
/// loaders). Anything that could leave the root or confuse a log is refused: NUL and control characters, `..`
/// components, invalid UTF-8 (overlong forms included). The result never starts with `/`, has no empty or `.`
/// components, and uses `/` separators. Symlinks are the root's business (``ConfinedDirectory``).
public enum RequestPath {
    /// Why a name cannot name a file under the root.
    public enum Refusal: Error, Sendable, Equatable {
        /// A byte below 0x20 or DEL.
        case controlCharacter(UInt8)
        /// A `..` component.
        case parentComponent
        /// The bytes are not UTF-8.
        case invalidUTF8
        /// Nothing is left once separators and `.` are dropped.
        case empty

        /// For a client's error message: what is wrong with the name.
        public var reason: String {
            switch self {
            case .controlCharacter(let byte): "control character 0x\(String(byte, radix: 16)) in the path"
            case .parentComponent: "\"..\" in the path"
            case .invalidUTF8: "the path is not valid UTF-8"
            case .empty: "no file named"
            }
        }
    }

    /// The normalised path for `bytes`.
    public static func normalise(_ bytes: ArraySlice<UInt8>) throws(Refusal) -> String {
        // Components are copied byte by byte, each after one `/`: every request passes here, so no splitting into
        // strings. Separators and `.` are ASCII, so the result is valid UTF-8 exactly when the name is.
        var path: [UInt8] = []
        path.reserveCapacity(bytes.count)
        var start = bytes.startIndex
        let end = bytes.endIndex
        while start < end {
            var stop = start
            while stop < end, bytes[stop] != 0x2F, bytes[stop] != 0x5C {
                let byte = bytes[stop]
                if byte < 0x20 || byte == 0x7F { throw .controlCharacter(byte) }
                stop += 1
            }
            switch stop - start {
            case 0:
                break
            case 1 where bytes[start] == 0x2E:
                break
            case 2 where bytes[start] == 0x2E && bytes[start + 1] == 0x2E:
                throw .parentComponent
            default:
                if !path.isEmpty { path.append(0x2F) }
                path.append(contentsOf: bytes[start..<stop])
            }
            start = stop + 1
        }
        guard let text = String(validating: path, as: UTF8.self) else { throw .invalidUTF8 }
        guard !text.isEmpty else { throw .empty }
        return text
    }

    /// The normalised path for `bytes`.
    public static func normalise(_ bytes: [UInt8]) throws(Refusal) -> String {
        try normalise(bytes[...])
    }
}
