import Foundation
import Logging
import Testing

@testable import Thinboot

#if canImport(Glibc)
    import Glibc
#endif

/// What an admin's `grep` and log shipper read: one logfmt line per event, every field splitting back out.
@Suite struct LineLogHandlerTests {
    /// Logs one event through a pipe and returns the bytes written.
    private func line(
        message: Logger.Message, metadata: Logger.Metadata, handlerMetadata: Logger.Metadata = [:],
        format: LogFormat = .logfmt
    ) throws -> String {
        var ends: [CInt] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        var handler = LineLogHandler(label: "thinboot", descriptor: ends[1], format: format)
        handler.metadata = handlerMetadata
        handler.log(
            event: LogEvent(
                level: .info, message: message, metadata: metadata, source: "TFTP", file: #file, function: #function,
                line: #line))
        close(ends[1])
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(ends[0], &bytes, bytes.count)
        return String(decoding: bytes[0..<max(0, count)], as: UTF8.self)
    }

    @Test func oneLineWithTimeLevelLabelMessageAndSortedFields() throws {
        let text = try line(
            message: "tftp transfer", metadata: ["tftp.path": "pxelinux.0", "tftp.bytes": "42"],
            handlerMetadata: ["role": "tftp"])
        #expect(text.hasSuffix("\n"))
        #expect(text.filter { $0 == "\n" }.count == 1)
        let fields = text.dropLast().split(separator: " ", maxSplits: 3)
        let stamp = String(fields[0])
        // 2026-11-28T08:09:16.123Z
        #expect(stamp.count == 24 && stamp.hasSuffix("Z") && stamp.dropFirst(10).first == "T", "\(stamp)")
        #expect(fields[1] == "info")
        #expect(fields[2] == "thinboot:")
        #expect(fields[3] == "tftp transfer role=tftp tftp.bytes=42 tftp.path=pxelinux.0")
    }

    @Test func valuesThatWouldNotSplitBackAreQuotedAndEscaped() throws {
        let text = try line(
            message: "tftp transfer",
            metadata: [
                "a.granted": "blksize=1468 tsize=300", "b.outcome": "server stopped", "c.empty": "",
                "d.message": "say \"hi\"\\\n",
            ])
        #expect(
            text.hasSuffix(
                #"a.granted="blksize=1468 tsize=300" b.outcome="server stopped" c.empty="" d.message="say \"hi\"\\\n""#
                    + "\n"), "\(text)")
    }

    /// What Loki or Elasticsearch read with `--log-format json`: one object per line, every value a string, the
    /// logfmt line's keys, and control characters and quotes escaped so any JSON parser reads it back.
    @Test func jsonIsOneObjectPerLineWithTheSameKeys() throws {
        let text = try line(
            message: "tftp transfer",
            metadata: [
                "tftp.path": "pxelinux.0", "tftp.outcome": "server stopped", "d.message": "say \"hi\"\\\n\u{1}é",
                "level": "clash",
            ],
            handlerMetadata: ["role": "tftp"], format: .json)
        #expect(text.hasSuffix("}\n"))
        #expect(text.filter { $0 == "\n" }.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String], "\(text)")
        #expect(object["level"] == "info")
        #expect(object["label"] == "thinboot")
        #expect(object["message"] == "tftp transfer")
        #expect(object["role"] == "tftp")
        #expect(object["tftp.path"] == "pxelinux.0")
        #expect(object["tftp.outcome"] == "server stopped")
        #expect(object["d.message"] == "say \"hi\"\\\n\u{1}é")
        // A metadata key that would overwrite a fixed one is kept under its own name.
        #expect(object["field.level"] == "clash")
        let stamp = try #require(object["time"])
        #expect(stamp.count == 24 && stamp.hasSuffix("Z") && stamp.dropFirst(10).first == "T", "\(stamp)")
        // The same key order as logfmt: the fixed keys, then the fields sorted.
        #expect(text.hasPrefix(#"{"time":""#))
        #expect(text.contains(#""message":"tftp transfer","d.message":"#), "\(text)")
    }
}
