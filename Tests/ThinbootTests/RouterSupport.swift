import Files
import Foundation
import NIOCore
import Scripting
import TFTP
import TestSupport
import Testing

@testable import Thinboot

/// A router over a config file, as `serve` builds it (its `[clients]` lease files too) but with a fake neighbour
/// table and two script workers.
func makeRouter(
    configFile: String, neighbours: @escaping @Sendable (String) -> MACAddress? = { _ in nil },
    learned: DHCPLearnedClients = DHCPLearnedClients(), log: LogRecord = LogRecord()
) throws -> Router {
    let config = try ThinbootConfig.load(path: configFile)
    let tftp = try #require(config.tftp)
    let root = try StaticRoot(path: tftp.root)
    let host = ThinbootScriptHost(
        root: root.directory, dataRoot: try ConfinedDirectory(path: config.directory), nbd: config.nbd,
        http: config.http, logger: log.logger)
    let pool = ScriptPool(host: host, limits: tftp.scripts.limits, workers: 2, logger: log.logger)
    return Router(
        routes: tftp.routes, root: root, pool: pool, arch: tftp.arch, learned: learned,
        leases: LeaseFiles(paths: config.clients?.leases ?? [], logger: log.logger), neighbours: neighbours,
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
    func content(for request: TFTPReadRequest) async throws(TFTPRefusal) -> BootContent {
        switch try TFTPRouteProvider(router: self).answer(for: request) {
        case .content(let content, _):
            return content
        case .compute(let job):
            let result = await withCheckedContinuation { continuation in
                job { content, _ in continuation.resume(returning: content) }
            }
            return try result.get()
        }
    }
}

/// The bytes a provider answered, reading a file answer from its descriptor.
func bytes(of content: BootContent) -> [UInt8] {
    switch content {
    case .bytes(let bytes): return Array(bytes.readableBytesView)
    case .file(let file): return (try? file.readWhole()) ?? []
    }
}

func text(of content: BootContent) -> String { String(decoding: bytes(of: content), as: UTF8.self) }

/// The repository's `examples` folder.
func examplesFolder() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").path
}
