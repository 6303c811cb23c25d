import Foundation
import Logging
import NBD
import NIOCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// An NBD server running in the test process on 127.0.0.1 (port 0), with sparse pattern images made for the
/// test, and helpers to drive libnbd's tools against it.
final class NBDServerHarness: Sendable {
    /// Image size: a few MiB with a hole in the middle, so block status has something to report.
    static let imageSize = 4 << 20

    let directory: TemporaryDirectory
    let server: NBDServer
    let port: Int

    /// Starts a server for `exports` (each gets a fresh image at `file(name)` unless the file already exists);
    /// `configure` changes the configuration's limits, `logger` receives the server's log.
    init(
        _ make: (TemporaryDirectory) throws -> [NBDExportDefinition], handshakeTimeout: TimeAmount = .seconds(10),
        hosts: [String] = ["127.0.0.1"], configure: (inout NBDServerConfiguration) -> Void = { _ in },
        logger: Logger = Logger(label: "nbd-test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws {
        directory = try TemporaryDirectory("nbd-interop")
        let exports = try make(directory)
        for (index, export) in exports.enumerated() where !FileManager.default.fileExists(atPath: export.path) {
            try Self.makeImage(at: export.path, seed: UInt64(index + 1))
        }
        var configuration = NBDServerConfiguration(
            listen: hosts.map { (host: $0, port: 0) }, exports: exports, handshakeTimeout: handshakeTimeout)
        configure(&configuration)
        server = NBDServer(configuration: configuration, logger: logger)
        try await server.start()
        port = server.listeningAddresses.first?.port ?? 0
    }

    /// Writes a sparse image: pattern data in the first and last MiB, a hole in between.
    static func makeImage(at path: String, seed: UInt64, size: Int = imageSize) throws {
        let pattern = patternBytes(count: 1 << 20, seed: seed)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        ftruncate(fd, off_t(size))
        for offset in [0, size - (1 << 20)] {
            _ = pattern.withUnsafeBytes { pwrite(fd, $0.baseAddress, pattern.count, off_t(offset)) }
        }
    }

    func uri(_ name: String = "", port: Int? = nil) -> String {
        "nbd://127.0.0.1:\(port ?? self.port)/\(name)"
    }

    func stop() async {
        await server.shutdown()
        directory.remove()
    }

    /// Runs `body` against this server, then stops it, whether `body` returned or threw.
    func serving(_ body: (NBDServerHarness) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// Runs a Python snippet under `nbdsh` (libnbd's shell; `h` is a fresh handle, `nbd`, `os`, `errno` and
    /// `hashlib` are imported) and returns its stdout lines. Uses the system Python, which has libnbd's module.
    func nbdsh(_ script: String) async throws -> [String] {
        let result = try await runTool(
            "/usr/bin/nbdsh", ["-c", "import errno, hashlib, os\n" + script], timeout: .seconds(60),
            environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": NSTemporaryDirectory()])
        guard result.status == 0 else {
            throw ToolFailure(tool: "nbdsh", status: result.status, stderr: result.stderr)
        }
        return result.stdoutText.split(separator: "\n").map(String.init)
    }
}

/// A peer tool exited non-zero.
struct ToolFailure: Error, CustomStringConvertible {
    let tool: String
    let status: Int32
    let stderr: String
    var description: String { "\(tool) exited \(status): \(stderr)" }
}

/// The Python for "call this and print the errno name, or ok".
func pythonErrno(_ label: String, _ call: String) -> String {
    """

    try:
        \(call)
        print("\(label) ok")
    except nbd.Error as e:
        print("\(label)", errno.errorcode.get(e.errnum, e.errnum))

    """
}
