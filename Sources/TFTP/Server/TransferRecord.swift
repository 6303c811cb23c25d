import BootEvents
import Logging
import NIOCore

/// What the one log line of a request says: who asked what, what was granted, how it went.
struct TransferRecord: Sendable {
    var client: SocketAddress
    /// The addresses' IPs as text when already made (for the provider), to make them once only.
    var clientIP: String?
    var local: SocketAddress
    var localIP: String?
    var request: TFTPRequest?
    var path: String?
    var granted: [TFTPOption] = []
    var bytes = 0
    var blocks = 0
    var retransmits = 0
    var outcome: TransferOutcome
    var message: String?
    /// Where the content's bytes come from (for the duration histogram's `kind`): answered at once, the static root.
    var kind: BootEvent.ContentKind = .static
    /// The transfer started (its event said so): its end is `finished`, not `answered`.
    var launched = false
    let started = ContinuousClock.now

    init(client: SocketAddress, local: SocketAddress, outcome: TransferOutcome, message: String? = nil) {
        self.client = client
        self.local = local
        self.outcome = outcome
        self.message = message
    }

    /// The fields of the log line. Built with one dictionary of the right size and no interpolation of values
    /// that are text already: a busy server writes thousands of these a second.
    var metadata: Logger.Metadata {
        let elapsed = started.duration(to: .now).components
        // Hundredths of a millisecond, rounded to tenths.
        let hundredths = elapsed.seconds * 100_000 + elapsed.attoseconds / 10_000_000_000_000
        let tenths = (hundredths + 5) / 10
        var metadata: Logger.Metadata = [:]
        metadata.reserveCapacity(12)
        metadata["tftp.peer"] = .string(TFTPServer.describe(client, ip: clientIP))
        metadata["tftp.local"] = .string(localIP ?? local.ipAddress ?? "?")
        metadata["tftp.outcome"] = .string(outcome.rawValue)
        metadata["tftp.duration_ms"] = .string("\(tenths / 10).\(tenths % 10)")
        if let request {
            metadata["tftp.path"] = .string(path ?? String(decoding: request.filename, as: UTF8.self))
            metadata["tftp.mode"] = .string(request.mode.rawValue)
            metadata["tftp.options"] = .string(Self.text(of: request.options))
        }
        if outcome.sentData {
            metadata["tftp.granted"] = .string(Self.text(of: granted))
            metadata["tftp.bytes"] = .string(String(bytes))
            metadata["tftp.blocks"] = .string(String(blocks))
            metadata["tftp.retransmits"] = .string(String(retransmits))
        }
        if let message { metadata["tftp.message"] = .string(message) }
        return metadata
    }

    /// The boot-status event of this request: started (in flight, `bytes` of `size` to go), finished, or — never
    /// launched — answered.
    func event(starting: Bool) -> BootEvent {
        let phase: BootEvent.Phase = starting ? .started : launched ? .finished : .answered
        return BootEvent(
            source: .tftp, phase: phase, clientIP: clientIP ?? client.ipAddress,
            peer: TFTPServer.describe(client, ip: clientIP),
            path: path ?? request.map { String(decoding: $0.filename, as: UTF8.self) }, outcome: outcome.rawValue,
            message: message, bytes: phase == .started ? 0 : bytes, size: phase == .started ? bytes : nil,
            retransmits: retransmits, kind: kind,
            duration: started.duration(to: .now))
    }

    /// `name=value name=value`.
    private static func text(of options: [TFTPOption]) -> String {
        var text = ""
        for option in options {
            if !text.isEmpty { text += " " }
            text += option.name
            text += "="
            text += option.value
        }
        return text
    }
}
