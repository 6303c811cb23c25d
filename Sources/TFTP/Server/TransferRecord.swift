import Logging
import NIOCore

/// What the one log line of a request says: who asked what, what was granted, how it went.
struct TransferRecord: Sendable {
    var client: SocketAddress
    /// The client's IP as text when already known (it keys the client's transfer slots), to print it once only.
    var clientIP: String?
    var local: SocketAddress
    var request: TFTPRequest?
    var path: String?
    var granted: [TFTPOption] = []
    var bytes = 0
    var blocks = 0
    var retransmits = 0
    var outcome: String
    var message: String?
    let started = ContinuousClock.now

    init(client: SocketAddress, local: SocketAddress, outcome: String, message: String? = nil) {
        self.client = client
        self.local = local
        self.outcome = outcome
        self.message = message
    }

    var metadata: Logger.Metadata {
        let elapsed = started.duration(to: .now).components
        let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "tftp.peer": "\(TFTPServer.describe(client, ip: clientIP))",
            "tftp.local": "\(local.ipAddress ?? "?")",
            "tftp.outcome": "\(outcome)",
            "tftp.duration_ms": "\((milliseconds * 10).rounded() / 10)",
        ]
        if let request {
            metadata["tftp.path"] = "\(path ?? String(decoding: request.filename, as: UTF8.self))"
            metadata["tftp.mode"] = "\(request.mode.rawValue)"
            metadata["tftp.options"] = "\(request.options.map(\.description).joined(separator: " "))"
        }
        if outcome != "refused" && outcome != "busy" && outcome != "not found" {
            metadata["tftp.granted"] = "\(granted.map(\.description).joined(separator: " "))"
            metadata["tftp.bytes"] = "\(bytes)"
            metadata["tftp.blocks"] = "\(blocks)"
            metadata["tftp.retransmits"] = "\(retransmits)"
        }
        if let message { metadata["tftp.message"] = "\(message)" }
        return metadata
    }
}
