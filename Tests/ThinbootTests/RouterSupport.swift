import Foundation
import NIOCore
import Scripting
import TFTP
import TestSupport
import Testing

@testable import Thinboot

/// A plain folder as `ConfinedFiles` for router tests (the real confinement is `StaticRoot`'s, tested there).
struct FolderFiles: ConfinedFiles {
    let path: String

    func open(relativePath: String) throws(TFTPRefusal) -> OpenedFile {
        guard !relativePath.split(separator: "/").contains("..") else { throw TFTPRefusal.notFound }
        let descriptor = Glibc.open("\(path)/\(relativePath)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TFTPRefusal.notFound }
        var info = stat()
        fstat(descriptor, &info)
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw TFTPRefusal.notFound
        }
        return OpenedFile(descriptor: descriptor, size: Int(info.st_size), path: relativePath)
    }
}

/// A router over a config file, as `serve` builds it but with folder stand-ins and a fake neighbour table.
func makeRouter(
    configFile: String, neighbours: @escaping @Sendable (String) -> MACAddress? = { _ in nil },
    log: LogRecord = LogRecord()
) throws -> Router {
    let config = try ThinbootConfig.load(path: configFile)
    let tftp = try #require(config.tftp)
    let host = ThinbootScriptHost(
        root: FolderFiles(path: tftp.root), dataRoot: FolderFiles(path: config.directory), nbd: config.nbd,
        logger: log.logger)
    let pool = ScriptPool(host: host, limits: tftp.scripts.limits, workers: 2, logger: log.logger)
    return Router(
        routes: tftp.routes, root: FolderFiles(path: tftp.root), pool: pool, arch: tftp.arch, neighbours: neighbours,
        logger: log.logger)
}

/// A read request from `ip` as the TFTP server hands it over.
func readRequest(_ path: String, from ip: String = "192.168.202.31", port: Int = 2070, options: [String: String] = [:])
    throws -> TFTPReadRequest
{
    TFTPReadRequest(
        path: path, mode: .octet, options: options, client: try SocketAddress(ipAddress: ip, port: port),
        local: try SocketAddress(ipAddress: "192.168.202.10", port: 69))
}

extension Router {
    /// What the TFTP server would send for `request`: the router behind the TFTP adapter, computation awaited.
    func content(for request: TFTPReadRequest) async throws(TFTPRefusal) -> TFTPContent {
        switch try TFTPRouteProvider(router: self).answer(for: request) {
        case .content(let content):
            return content
        case .compute(let job):
            let result = await withCheckedContinuation { continuation in job { continuation.resume(returning: $0) } }
            return try result.get()
        }
    }
}

/// The bytes a router answered, reading a file answer from its descriptor.
func bytes(of content: BootContent) -> [UInt8] { bytes(of: content.tftp) }

func text(of content: BootContent) -> String { String(decoding: bytes(of: content), as: UTF8.self) }

/// The bytes a provider answered, reading a file answer from its descriptor.
func bytes(of content: TFTPContent) -> [UInt8] {
    switch content {
    case .bytes(let bytes): return bytes
    case .file(let file):
        var bytes = [UInt8](repeating: 0, count: file.size)
        let count = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, file.size, 0) }
        return Array(bytes.prefix(max(0, count)))
    }
}

func text(of content: TFTPContent) -> String { String(decoding: bytes(of: content), as: UTF8.self) }

/// The repository's `examples` folder.
func examplesFolder() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").path
}
