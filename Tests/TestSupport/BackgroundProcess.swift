import Foundation

/// A peer server (in.tftpd, nbd-server, …) started by a test and killed by PID when the test is done.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let errorPipe = Pipe()

    /// Starts `executable`; `environment` adds to this process's own.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorPipe
        try withSignalsUnblocked { try process.run() }
    }

    public var isRunning: Bool { process.isRunning }

    /// The PID, for tests that signal the process (SIGHUP to reload).
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Stops the process this object started (SIGTERM, then SIGKILL after a second) and returns its stderr.
    @discardableResult
    public func stop() -> String {
        let pid = process.processIdentifier
        if process.isRunning { kill(pid, SIGTERM) }
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Sends `signal` (SIGTERM unless told) and waits up to `grace` for the process to exit by itself (then
    /// SIGKILL): how it ended, for tests of graceful shutdown. The wait runs on a Dispatch thread: blocking one of
    /// the two threads of Swift's cooperative pool for seconds would starve servers that other tests run in this
    /// process.
    public func terminate(signal: Int32 = SIGTERM, grace: Duration = .seconds(30)) async -> Termination {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.terminateBlocking(signal: signal, grace: grace))
            }
        }
    }

    private func terminateBlocking(signal: Int32, grace: Duration) -> Termination {
        let pid = process.processIdentifier
        if process.isRunning { kill(pid, signal) }
        let polls = Int(grace.components.seconds) * 100
        for _ in 0..<polls where process.isRunning { usleep(10_000) }
        let killed = process.isRunning
        if killed { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return Termination(
            exitStatus: !killed && process.terminationReason == .exit ? process.terminationStatus : nil,
            stderr: String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// How a process ended after ``terminate(grace:)``.
    public struct Termination: Sendable {
        /// The exit status, or nil when it died by a signal or had to be killed.
        public let exitStatus: Int32?
        public let stderr: String
    }

    deinit { if process.isRunning { stop() } }
}
