/// Turns a decoded request path into a path relative to the root, or refuses it: the rules of a TFTP file name
/// (`TFTPPath` in the TFTP module, which this module does not depend on), so one file has one name over both
/// protocols.
///
/// `//`, `/./` and `\` are normalised and served, never redirected (EDK2 does not follow redirects). NUL and control
/// characters, any `..` component and invalid UTF-8 (overlong forms included) are refused with 403. The result never
/// starts with `/`, has no empty or `.` components, and uses `/` separators; symlinks are the provider's business
/// (its confined walk).
public enum HTTPPath {
    /// The normalised path for `bytes`, or 403 (an escape attempt) / 404 (nothing left to name a file).
    public static func normalise(_ bytes: [UInt8]) throws(HTTPRefusal) -> String {
        var path: [UInt8] = []
        path.reserveCapacity(bytes.count)
        var start = 0
        while start < bytes.count {
            var stop = start
            while stop < bytes.count, bytes[stop] != UInt8(ascii: "/"), bytes[stop] != UInt8(ascii: "\\") {
                if bytes[stop] < 0x20 || bytes[stop] == 0x7F {
                    throw .forbidden("Forbidden: control character in the path")
                }
                stop += 1
            }
            switch stop - start {
            case 0:
                break
            case 1 where bytes[start] == UInt8(ascii: "."):
                break
            case 2 where bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: "."):
                throw .forbidden("Forbidden: \"..\" in the path")
            default:
                if !path.isEmpty { path.append(UInt8(ascii: "/")) }
                path.append(contentsOf: bytes[start..<stop])
            }
            start = stop + 1
        }
        guard let text = String(validating: path, as: UTF8.self) else {
            throw .forbidden("Forbidden: the path is not valid UTF-8")
        }
        guard !text.isEmpty else { throw .notFound }
        return text
    }
}
