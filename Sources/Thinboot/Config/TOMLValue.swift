import CTOMLReader

/// A value of a parsed TOML document. The document is read whole out of toml++ (`CTOMLReader`) and freed in the
/// same call, so a config or inventory parse keeps nothing behind: TOMLKit never freed its parsed document nor
/// most strings read from it, so every reload leaked the whole file, and the config-loader fuzz target leaked on
/// every input (each leak forced a full LeakSanitizer scan: about 40 inputs a second).
enum TOMLValue: Equatable, Sendable {
    case table([String: TOMLValue])
    case array([TOMLValue])
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// A local date, a local time or a date-time, as its TOML text.
    case date(String)
    case time(String)
    case dateTime(String)

    /// A parse error: toml++'s description (or ``TOMLText``'s) and its 1-based line.
    struct ParseError: Error, Equatable {
        let line: Int
        let description: String
        /// Whether quoting a key is the cure (a stray character in a key or table name).
        var quotingHelps = false
    }

    /// The root table of `text`, or the first parse error. ``TOMLText`` checks the text first: what it finds,
    /// toml++ would abort the process on.
    static func parseDocument(_ text: String) throws(ParseError) -> [String: TOMLValue] {
        if let problem = TOMLText.problem(in: text) {
            throw ParseError(line: problem.line, description: problem.description, quotingHelps: problem.quotingHelps)
        }
        var text = text
        var result = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { thinboot_toml_parse($0.baseAddress, $0.count) }
        }
        defer { thinboot_toml_free(&result) }
        guard let bytes = result.bytes else {
            throw ParseError(line: 1, description: "out of memory while parsing")
        }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: result.count)
        if result.error_line != 0 {
            throw ParseError(line: Int(result.error_line), description: String(decoding: buffer, as: UTF8.self))
        }
        var reader = FlatReader(buffer: buffer)
        guard case .table(let root) = reader.node() else { preconditionFailure("a TOML document is a table") }
        return root
    }

    /// What a message calls this type ("expected a string, found integer").
    var typeName: String {
        switch self {
        case .table: "table"
        case .array: "array"
        case .string: "string"
        case .integer: "integer"
        case .float: "floating-point number"
        case .bool: "bool"
        case .date: "date"
        case .time: "time"
        case .dateTime: "date-time"
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var int: Int? { if case .integer(let value) = self { Int(exactly: value) } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var array: [TOMLValue]? { if case .array(let value) = self { value } else { nil } }
    var table: [String: TOMLValue]? { if case .table(let value) = self { value } else { nil } }
}

/// Reads the flattened document `CTOMLReader.h` lays out; the layout is ours, so a mismatch is a bug.
private struct FlatReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    mutating func node() -> TOMLValue {
        let tag = scalar(UInt8.self)
        switch tag {
        case UInt8(ascii: "t"):
            let count = Int(scalar(UInt32.self))
            var table: [String: TOMLValue] = [:]
            table.reserveCapacity(count)
            for _ in 0..<count {
                let key = text()
                table[key] = node()
            }
            return .table(table)
        case UInt8(ascii: "a"):
            let count = Int(scalar(UInt32.self))
            var array: [TOMLValue] = []
            array.reserveCapacity(count)
            for _ in 0..<count { array.append(node()) }
            return .array(array)
        case UInt8(ascii: "s"): return .string(text())
        case UInt8(ascii: "i"): return .integer(scalar(Int64.self))
        case UInt8(ascii: "f"): return .float(scalar(Double.self))
        case UInt8(ascii: "b"): return .bool(scalar(UInt8.self) != 0)
        case UInt8(ascii: "D"): return .date(text())
        case UInt8(ascii: "T"): return .time(text())
        case UInt8(ascii: "X"): return .dateTime(text())
        default: preconditionFailure("CTOMLReader: unknown tag \(tag) at \(offset - 1)")
        }
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type) -> T {
        precondition(offset + MemoryLayout<T>.size <= buffer.count, "CTOMLReader: truncated document")
        defer { offset += MemoryLayout<T>.size }
        return buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    mutating func scalar(_: Double.Type) -> Double { Double(bitPattern: scalar(UInt64.self)) }

    mutating func text() -> String {
        let count = Int(scalar(UInt32.self))
        precondition(offset + count <= buffer.count, "CTOMLReader: truncated document")
        defer { offset += count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]), as: UTF8.self)
    }
}
