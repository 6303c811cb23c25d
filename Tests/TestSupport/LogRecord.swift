import Logging
import NIOConcurrencyHelpers

/// Every line a test's logger wrote, as `level message key=value…` (keys sorted), so a test checks what an
/// admin would read in the log.
public final class LogRecord: Sendable {
    private let storage = NIOLockedValueBox<[String]>([])
    private let level: Logger.Level

    /// - Parameter level: the lowest level recorded; in-process servers use `.info` to skip per-packet traces.
    public init(level: Logger.Level = .trace) {
        self.level = level
    }

    /// A logger writing into this record.
    public var logger: Logger {
        var logger = Logger(label: "test") { _ in RecordingHandler(record: self) }
        logger.logLevel = level
        return logger
    }

    /// The lines so far.
    public var lines: [String] { storage.withLockedValue { $0 } }

    /// The lines containing `text`.
    public func matching(_ text: String) -> [String] { lines.filter { $0.contains(text) } }

    fileprivate func append(_ line: String) { storage.withLockedValue { $0.append(line) } }
}

private struct RecordingHandler: LogHandler {
    let record: LogRecord
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        record.append(([event.level.rawValue, "\(event.message)"] + fields).joined(separator: " "))
    }
}
