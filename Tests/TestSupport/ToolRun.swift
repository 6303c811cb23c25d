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
    try process.run()
    let pid = process.processIdentifier
    if let stdin { try? inPipe.fileHandleForWriting.write(contentsOf: stdin) }
    try? inPipe.fileHandleForWriting.close()

    // Drain both pipes concurrently: a peer that fills one pipe would otherwise block forever.
    async let out = Task.detached { outPipe.fileHandleForReading.readDataToEndOfFile() }.value
    async let err = Task.detached { errPipe.fileHandleForReading.readDataToEndOfFile() }.value
    let watchdog = Task.detached {
        try await Task.sleep(for: timeout)
        if process.isRunning { kill(pid, SIGKILL) }
        return true
    }
    let (stdoutData, stderrData) = await (out, err)
    process.waitUntilExit()
    watchdog.cancel()
    let timedOut = (try? await watchdog.value) ?? false
    return ToolResult(
        status: process.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self),
        timedOut: timedOut && process.terminationReason == .uncaughtSignal)
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
