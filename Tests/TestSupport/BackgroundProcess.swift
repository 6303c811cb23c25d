import Foundation

/// A peer server (in.tftpd, nbd-server, …) started by a test and killed by PID when the test is done.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let errorPipe = Pipe()

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorPipe
        try process.run()
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

    deinit { if process.isRunning { stop() } }
}
