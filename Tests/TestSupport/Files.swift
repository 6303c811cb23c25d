import Foundation

/// A fresh folder under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "thinboot-test") throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    /// The absolute path of `name` inside this folder.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `bytes` to `name`, creating parent folders, and returns the absolute path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic pseudo-random bytes (xorshift), so a failing digest comparison is reproducible.
public func patternBytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// The SHA-256 of a file as hex, computed by coreutils' `sha256sum` (what an admin would compare).
public func sha256(file: String) async throws -> String {
    try digest(of: try await runTool("sha256sum", [file]), for: file)
}

/// The SHA-256 of bytes as hex.
public func sha256(_ bytes: Data) async throws -> String {
    try digest(of: try await runTool("sha256sum", ["-"], stdin: bytes), for: "bytes")
}

private func digest(of result: ToolResult, for subject: String) throws -> String {
    guard result.status == 0, let digest = result.stdoutText.split(separator: " ").first else {
        throw DigestFailure(subject: subject, status: result.status, stderr: result.stderr)
    }
    return String(digest)
}

/// `sha256sum` failed (most often: the file is not there).
public struct DigestFailure: Error, CustomStringConvertible {
    public let subject: String
    public let status: Int32
    public let stderr: String
    public var description: String { "sha256sum \(subject) exited \(status): \(stderr)" }
}

/// The `thinboot` executable built next to the test bundle (`swift build` puts both in `.build/<config>/`).
public func thinbootExecutable() throws -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
    for _ in 0..<6 {
        let candidate = directory.appendingPathComponent("thinboot").path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: candidate)
        {
            return candidate
        }
        directory.deleteLastPathComponent()
    }
    throw MissingTool(name: "the thinboot executable (run `swift build` first)")
}
