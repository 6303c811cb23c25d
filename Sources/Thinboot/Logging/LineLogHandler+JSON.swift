import Logging

extension LineLogHandler {
    /// The keys every JSON line starts with; a metadata key of the same name is written as `field.KEY`, so an
    /// object never has one key twice (JSON parsers disagree on which duplicate wins).
    static let jsonFixedKeys: Set<String> = ["time", "level", "label", "message"]

    /// One JSON object, the same fields as the logfmt line in the same order:
    ///
    ///     {"time":"2026-11-28T08:09:16.123Z","level":"info","label":"thinboot","message":"tftp transfer","tftp.outcome":"ok"}
    ///
    /// Every value is a string, as in logfmt: a shipper's field types then never flip between lines.
    func appendJSONLine(level: Logger.Level, message: String, _ fields: [Field], to line: inout [UInt8]) {
        line.append(contentsOf: #"{"time":""#.utf8)
        Self.appendTimestamp(to: &line)
        line.append(contentsOf: #"","level":"#.utf8)
        Self.appendJSONString(level.rawValue, to: &line)
        line.append(contentsOf: #","label":"#.utf8)
        Self.appendJSONString(label, to: &line)
        line.append(contentsOf: #","message":"#.utf8)
        Self.appendJSONString(message, to: &line)
        for (key, value) in fields {
            line.append(0x2C)
            Self.appendJSONString(Self.jsonFixedKeys.contains(key) ? "field.\(key)" : key, to: &line)
            line.append(0x3A)
            Self.appendJSONString(Self.text(of: value), to: &line)
        }
        line.append(0x7D)
    }

    /// Appends `text` as a JSON string (RFC 8259 §7): quote, backslash and control characters escaped. Swift
    /// strings are valid UTF-8, so every other byte goes out as it is.
    static func appendJSONString(_ text: String, to line: inout [UInt8]) {
        var text = text
        line.append(0x22)
        text.withUTF8 { bytes in
            for byte in bytes {
                switch byte {
                case 0x22, 0x5C:
                    line.append(0x5C)
                    line.append(byte)
                case 0x0A: line.append(contentsOf: "\\n".utf8)
                case 0x0D: line.append(contentsOf: "\\r".utf8)
                case 0x09: line.append(contentsOf: "\\t".utf8)
                case ..<0x20:
                    line.append(contentsOf: "\\u00".utf8)
                    line.append(hexDigit(byte >> 4))
                    line.append(hexDigit(byte & 0xF))
                default: line.append(byte)
                }
            }
        }
        line.append(0x22)
    }
}
