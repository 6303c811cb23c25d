import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// One line per event on a file descriptor (stderr), in logfmt:
///
///     2026-11-28T08:09:16.123Z info thinboot: tftp transfer tftp.outcome=ok tftp.path=pxelinux.0 tftp.granted="blksize=1408 tsize=0"
///
/// UTC timestamp with milliseconds, level, label, message, then the metadata sorted by key; a value with a space,
/// a quote, an `=` or nothing in it is quoted, so every line splits back into its fields. With ``LogFormat/json``
/// the same line is one JSON object with the same keys (see ``appendJSONLine``). The line is formatted
/// into one buffer and written with one `write`, so lines from different threads never interleave and a busy
/// TFTP server pays a few microseconds per line, not a formatter's.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    private let descriptor: CInt
    private let format: LogFormat

    /// A handler writing to `descriptor` (stderr unless told) in `format`.
    public init(label: String, descriptor: CInt = STDERR_FILENO, format: LogFormat = .logfmt) {
        self.label = label
        self.descriptor = descriptor
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Most events carry only their own metadata: no merge then.
        var fields = event.metadata ?? [:]
        if let provided = metadataProvider?.get() { fields.merge(provided) { own, _ in own } }
        if !metadata.isEmpty { fields.merge(metadata) { own, _ in own } }
        if let error = event.error { fields["error"] = "\(error)" }
        var line: [UInt8] = []
        line.reserveCapacity(320)
        let sorted = fields.sorted(by: { $0.key < $1.key })
        switch format {
        case .logfmt: appendLogfmtLine(level: event.level, message: event.message.description, sorted, to: &line)
        case .json: appendJSONLine(level: event.level, message: event.message.description, sorted, to: &line)
        }
        line.append(0x0A)
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }  // stderr gone: nothing sensible left to do with a log line
                offset += written
            }
        }
    }

    private func appendLogfmtLine(
        level: Logger.Level, message: String, _ fields: [Field], to line: inout [UInt8]
    ) {
        Self.appendTimestamp(to: &line)
        line.append(0x20)
        line.append(contentsOf: level.rawValue.utf8)
        line.append(0x20)
        line.append(contentsOf: label.utf8)
        line.append(contentsOf: ": ".utf8)
        line.append(contentsOf: message.utf8)
        for (key, value) in fields {
            line.append(0x20)
            line.append(contentsOf: key.utf8)
            line.append(0x3D)
            Self.appendValue(Self.text(of: value), to: &line)
        }
    }

    /// One metadata field, as sorting the metadata gives it (no second array of texts is made).
    typealias Field = (key: String, value: Logger.Metadata.Value)

    static func text(of value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }

    /// Appends `text`, quoted and escaped when it would not read back as one field.
    static func appendValue(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            let needsQuotes =
                bytes.isEmpty
                || bytes.contains { $0 == 0x20 || $0 == 0x22 || $0 == 0x3D || $0 == 0x5C || $0 < 0x20 || $0 == 0x7F }
            guard needsQuotes else {
                line.append(contentsOf: bytes)
                return
            }
            line.append(0x22)
            for byte in bytes {
                switch byte {
                case 0x22, 0x5C:
                    line.append(0x5C)
                    line.append(byte)
                case 0x0A:
                    line.append(contentsOf: "\\n".utf8)
                case 0x0D:
                    line.append(contentsOf: "\\r".utf8)
                case 0x09:
                    line.append(contentsOf: "\\t".utf8)
                case ..<0x20, 0x7F:
                    line.append(contentsOf: "\\x".utf8)
                    line.append(hexDigit(byte >> 4))
                    line.append(hexDigit(byte & 0xF))
                default:
                    line.append(byte)
                }
            }
            line.append(0x22)
        }
    }

    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x61 + value - 10
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, from the real-time clock, digit by digit.
    static func appendTimestamp(to line: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, count: 4, to: &line)
        line.append(0x2D)
        appendDigits(Int(parts.tm_mon) + 1, count: 2, to: &line)
        line.append(0x2D)
        appendDigits(Int(parts.tm_mday), count: 2, to: &line)
        line.append(0x54)
        appendDigits(Int(parts.tm_hour), count: 2, to: &line)
        line.append(0x3A)
        appendDigits(Int(parts.tm_min), count: 2, to: &line)
        line.append(0x3A)
        appendDigits(Int(parts.tm_sec), count: 2, to: &line)
        line.append(0x2E)
        appendDigits(now.tv_nsec / 1_000_000, count: 3, to: &line)
        line.append(0x5A)
    }

    private static func appendDigits(_ value: Int, count: Int, to line: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        for _ in 0..<count {
            line.append(0x30 + UInt8((rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
