import Foundation
import NIOConcurrencyHelpers
import Scripting

/// A host over one folder, recording what scripts log.
final class TestHost: ScriptHost {
    let root: String
    let logged = NIOLockedValueBox<[String]>([])

    init(root: String) { self.root = root }

    func exports(for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue {
        .list([
            .record([
                "name": "trusty-amd64", "size": 1_048_576,
                "nbdroot": .text("\(call.serverAddress ?? "?"),trusty-amd64,nbd0"),
            ])
        ])
    }

    func file(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String {
        try confined(path)
    }

    func read(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [UInt8] {
        let full = try confined(path)
        guard let bytes = try? Array(Data(contentsOf: URL(fileURLWithPath: full))) else {
            throw ScriptHostError("\(path): no such file")
        }
        return bytes
    }

    func data(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue {
        .record(["groups": .list(["lab", "office"]), "count": 2, "ratio": .number(0.5), "open": true])
    }

    func log(_ level: ScriptLogLevel, _ message: String, for call: ScriptCallInfo) {
        logged.withLockedValue { $0.append("\(level.rawValue): \(message)") }
    }

    private func confined(_ path: String) throws(ScriptHostError) -> String {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw ScriptHostError("\(path) is outside the root")
        }
        return "\(root)/\(path)"
    }
}
