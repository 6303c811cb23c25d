import Foundation
import Testing

/// The stderr of a `thinboot serve` the test started with `2>FILE`, read while the server runs.
struct ServeLog {
    let path: String

    var text: String {
        (try? String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)) ?? ""
    }

    /// Waits up to 30 s until `line` appears `count` times, else records an issue with the log and throws.
    func wait(for line: String, count: Int = 1) async throws {
        for _ in 0..<300 {
            if text.components(separatedBy: line).count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(count) × \"\(line)\" never logged: \(text)")
        throw ServeLogTimeout(line: line)
    }
}

struct ServeLogTimeout: Error, CustomStringConvertible {
    let line: String
    var description: String { "never logged: \(line)" }
}
