import Foundation

/// What a finished external tool printed and how it exited.
public struct ToolResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    /// True when the tool was killed because it outlived its time limit.
    public let timedOut: Bool

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a real peer (tftp-hpa, atftp, curl, busybox, nbdinfo, …) with a hard time limit, so a hung peer fails
/// the test instead of the whole run. Only the process this call started is ever signalled.
public func runTool(
    _ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: Duration = .seconds(60),
    currentDirectory: String? = nil, environment: [String: String]? = nil
) async throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    if let environment { process.environment = environment }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try withSignalsUnblocked { try process.run() }
    let pid = process.processIdentifier
    if let stdin { try? inPipe.fileHandleForWriting.write(contentsOf: stdin) }
    try? inPipe.fileHandleForWriting.close()

    // The watchdog and the blocking pipe reads run on Dispatch threads, never on Swift's cooperative pool: with
    // two cores that pool has two threads, and two blocking reads on it would starve the watchdog forever.
    let killed = KillFlag()
    let watchdog = DispatchWorkItem {
        if process.isRunning {
            killed.set()
            kill(pid, SIGKILL)
        }
    }
    let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: watchdog)
    async let stdoutData = readToEnd(outPipe)
    async let stderrData = readToEnd(errPipe)
    let (out, err) = await (stdoutData, stderrData)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            process.waitUntilExit()
            continuation.resume()
        }
    }
    watchdog.cancel()
    return ToolResult(
        status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self),
        timedOut: killed.isSet)
}

/// Reads a pipe to its end on a Dispatch thread.
private func readToEnd(_ pipe: Pipe) async -> Data {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile())
        }
    }
}

/// Set once by the watchdog when it had to kill the process.
private final class KillFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// The absolute path of a tool on PATH, or an error saying to run `scripts/bootstrap`.
public func which(_ tool: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
        let candidate = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw MissingTool(name: tool)
}

public struct MissingTool: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "\(name) is not installed: run scripts/bootstrap" }
}
