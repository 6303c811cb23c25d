import ArgumentParser
import Foundation
import TFTP

/// `thinboot tftp get [options] HOST REMOTE`: reads one file, like a boot ROM would.
struct TFTPGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch REMOTE from the TFTP server HOST."
    )

    @Option(help: "Server port.") var port: Int = 69
    @Option(help: "Ask for this block size (8-65464); PXE ROMs ask 1408-1468.") var blksize: Int?
    @Option(help: "Ask for this window size (RFC 7440, 1-65535).") var windowsize: Int?
    @Flag(help: "Ask for the transfer size (tsize), as PXE ROMs do.") var tsize = false
    @Option(help: "Seconds before resending; also sent as the timeout option.") var timeout: Int?
    @Option(help: "Resends of one packet before giving up.") var retries: Int = 5
    @Option(help: "octet or netascii.") var mode: TFTPMode = .octet
    @Option(name: .short, help: "Write to FILE, or - for stdout (default: REMOTE's file name).") var output: String?
    @Argument(help: "Server host name or address.") var host: String
    @Argument(help: "Path on the server.") var remote: String

    func validate() throws {
        if let blksize, !(8...65464).contains(blksize) { throw ValidationError("--blksize must be 8-65464") }
        if let windowsize, !(1...65535).contains(windowsize) { throw ValidationError("--windowsize must be 1-65535") }
        if let timeout, !(1...255).contains(timeout) { throw ValidationError("--timeout must be 1-255") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0-65535") }
    }

    func run() throws {
        let client = TFTPClient(
            host: host, port: port, mode: mode,
            options: .init(
                blockSize: blksize, windowSize: windowsize, requestTransferSize: tsize, timeoutSeconds: timeout),
            timeoutSeconds: timeout ?? 1, retries: retries)
        let target = output ?? String(remote.split(separator: "/").last ?? Substring(remote))
        let sink = try OutputSink(target)
        var progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1, label: remote)
        do {
            _ = try client.get(remote, progress: { progress.update(bytes: $0, total: $1) }, sink: sink.write)
            progress.finish()
            try sink.close()
        } catch {
            progress.finish()
            sink.discard()
            throw error
        }
    }
}

extension TFTPMode: ExpressibleByArgument {}

/// Where fetched bytes go: stdout, or a file opened for writing. A regular file named directly is removed again if
/// the transfer fails; anything else (`/dev/null`, a FIFO, a symlink and what it points to) is only written to,
/// never replaced or removed.
private final class OutputSink {
    private let handle: FileHandle
    /// The file to remove on failure: a regular file only.
    private let partialFile: String?
    private var closed = false

    init(_ target: String) throws {
        guard target != "-" else {
            handle = .standardOutput
            partialFile = nil
            return
        }
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ValidationError(
                "cannot write \(target): \(String(cString: strerror(errno))) (check the folder exists and is writable)")
        }
        // The path itself must be that regular file: through a symlink, removing the path would remove the link.
        var opened = stat()
        var named = stat()
        let regular =
            fstat(descriptor, &opened) == 0 && lstat(target, &named) == 0 && named.st_mode & S_IFMT == S_IFREG
            && named.st_dev == opened.st_dev && named.st_ino == opened.st_ino
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        partialFile = regular ? target : nil
    }

    func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    func close() throws {
        guard !closed, handle !== FileHandle.standardOutput else { return }
        closed = true
        try handle.close()
    }

    func discard() {
        try? close()
        if let partialFile { unlink(partialFile) }
    }
}

/// A one-line progress display (bytes, total when known, rate) on stderr, redrawn at most ten times a second.
struct ProgressLine {
    let enabled: Bool
    let label: String
    private let started = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now - .seconds(1)
    private var drawn = false

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    mutating func update(bytes: Int, total: Int?) {
        guard enabled, ContinuousClock.now - lastDrawn >= .milliseconds(100) else { return }
        lastDrawn = .now
        let seconds = max(
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                + Double((ContinuousClock.now - started).components.seconds), 0.001)
        let rate = Double(bytes) / seconds / 1_048_576
        let size = total.map { " / \($0)" } ?? ""
        let percent = total.flatMap { $0 > 0 ? " (\(bytes * 100 / $0)%)" : nil } ?? ""
        FileHandle.standardError.write(
            Data("\r\(label): \(bytes)\(size) bytes\(percent) \(String(format: "%.1f", rate)) MiB/s\u{1B}[K".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
