/// A check of TOML text before it reaches the TOML library: toml++ (inside TOMLKit) asserts, and so aborts the
/// process, on a non-ASCII byte in a table header (`[é]`) instead of reporting it. TOML allows non-ASCII only
/// inside strings and comments, so such a byte anywhere else is an error with a line number here, and a config or
/// inventory edited with a stray character never kills a running server on reload.
enum TOMLText {
    /// The 1-based line of the first non-ASCII byte outside strings and comments, or nil.
    static func lineOfNonASCIIOutsideStrings(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        var line = 1
        var index = 0
        func starts(_ marker: String) -> Bool {
            let marker = Array(marker.utf8)
            return index + marker.count <= bytes.count && Array(bytes[index..<index + marker.count]) == marker
        }
        /// Skips to just past `end`, counting lines; a backslash escapes the next byte when `escapes`.
        func skip(past end: String, escapes: Bool) {
            let terminator = Array(end.utf8)
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                if escapes && bytes[index] == UInt8(ascii: "\\") {
                    index += 1
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                    continue
                }
                if starts(end) {
                    index += terminator.count
                    return
                }
                index += 1
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if starts("\"\"\"") {
                index += 3
                skip(past: "\"\"\"", escapes: true)
            } else if starts("'''") {
                index += 3
                skip(past: "'''", escapes: false)
            } else if byte == UInt8(ascii: "\"") {
                index += 1
                skip(past: "\"", escapes: true)
            } else if byte == UInt8(ascii: "'") {
                index += 1
                skip(past: "'", escapes: false)
            } else if byte == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else {
                if byte >= 0x80 { return line }
                if byte == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
        }
        return nil
    }
}
