import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// A `thinboot serve` a test started from a config it rewrites: ``reload(_:)`` writes the new text and sends
/// SIGHUP, then waits for the reload's line in the log.
final class ReloadingServe: Sendable {
    let folder: TemporaryDirectory
    let configFile: String
    let log: ServeLog
    private let process: BackgroundProcess
    private let reloads = Counter()

    /// Starts serve on `config` (written to `thinboot.toml` in `folder`) and waits until it is serving.
    init(_ config: String, in folder: TemporaryDirectory, only: String? = nil, namespace: String? = nil) async throws {
        self.folder = folder
        configFile = try folder.write("thinboot.toml", config)
        log = ServeLog(path: folder.file("serve.log"))
        var command =
            [try thinbootExecutable(), "serve", "--config", configFile] + (only.map { ["--only", $0] } ?? [])
        if let namespace { command = ["/usr/sbin/ip", "netns", "exec", namespace] + command }
        // `exec` keeps the PID serve's, for the signals.
        process = try BackgroundProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>\"\(log.path)\""] + command)
        try await log.wait(for: "serving")
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Rewrites the config and sends SIGHUP; returns once serve logged that it reloaded (`config reloaded`, or
    /// `reload failed` when `expectFailure`).
    func reload(_ config: String, expectFailure: Bool = false) async throws {
        _ = try folder.write("thinboot.toml", config)
        let count = reloads.next(expectFailure ? "failed" : "reloaded")
        #expect(kill(process.processIdentifier, SIGHUP) == 0)
        try await log.wait(for: expectFailure ? "reload failed" : "config reloaded", count: count)
    }

    /// SIGTERM; the exit status (nil when it had to be killed).
    func stop() async -> Int32? { await process.terminate().exitStatus }

    deinit { process.stop() }

    /// How many reloads of each kind were asked for.
    private final class Counter: Sendable {
        private let counts = NIOLockedValueBox<[String: Int]>([:])
        func next(_ kind: String) -> Int {
            counts.withLockedValue {
                $0[kind, default: 0] += 1
                return $0[kind]!
            }
        }
    }
}
