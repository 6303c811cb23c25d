import Synchronization

/// One step of one client's boot, as a protocol server saw it: a TFTP transfer, an HTTP request, an NBD
/// connection or a ProxyDHCP answer. Every server reports at the place it writes its one log line (and, for
/// transfers and connections, when they start), and one tracker turns the events into the boot status and the
/// metrics. Fields a protocol does not know stay nil or zero.
public struct BootEvent: Sendable {
    /// The protocol that saw the step.
    public enum Source: String, Sendable, CaseIterable {
        case tftp, http, nbd, dhcp
    }

    /// Where in its life the step is.
    public enum Phase: Sendable {
        /// A transfer or connection starts: it is in flight until its `finished`.
        case started
        /// A transfer or connection that `started` has ended.
        case finished
        /// A one-shot step that never was in flight: an HTTP request, a DHCP answer, a refused TFTP request.
        case answered
    }

    /// Where the answer came from, for the transfer-duration histograms.
    public enum ContentKind: String, Sendable {
        /// A file under the static root.
        case `static`
        /// A script's answer.
        case generated
        /// A file read inside an NBD image.
        case image
    }

    /// Requests of one NBD command on a connection, and how many of them failed.
    public struct CommandCount: Sendable, Equatable {
        public var command: String
        public var count: Int
        public var failed: Int

        public init(command: String, count: Int, failed: Int) {
            self.command = command
            self.count = count
            self.failed = failed
        }
    }

    public var source: Source
    public var phase: Phase
    /// The client's IP (nil for a DHCP answer: the client has none yet).
    public var clientIP: String?
    /// `ip:port` of the client's socket: a transfer or connection in flight is known by it until it ends.
    public var peer: String?
    /// The client's MAC when the protocol carries it (DHCP), as `aa:bb:cc:dd:ee:ff`.
    public var mac: String?
    /// The firmware architecture when the protocol carries it (DHCP option 93), e.g. `x86_64-efi`.
    public var arch: String?
    /// The path asked for as the router saw it (TFTP, HTTP: percent-decoded, without the query), the boot file
    /// offered (DHCP), or the export (NBD).
    public var path: String?
    /// HTTP: the `mac=` query parameter as the client sent it (iPXE's `${mac}`), for the tracker to parse.
    public var queryMAC: String?
    /// How it ended, in the protocol's own words (`ok`, `not found`, `script error`, `offered`, ...).
    public var outcome: String
    /// What went wrong, for a failure.
    public var message: String?
    /// HTTP status code.
    public var status: Int?
    /// Bytes sent (TFTP, HTTP) or read (NBD) so far.
    public var bytes: Int
    /// The whole size, when known (TFTP, HTTP).
    public var size: Int?
    /// TFTP retransmissions.
    public var retransmits: Int
    public var kind: ContentKind?
    /// The export's version (NBD `NAME@VERSION`), when it has one.
    public var version: String?
    /// NBD requests by command.
    public var commands: [CommandCount]
    /// How long it took (for a finished step).
    public var duration: Duration
    /// A started transfer's live counts, which its server updates as ACKs arrive (TFTP) or replies go out (NBD).
    public var progress: TransferProgress?

    public init(
        source: Source, phase: Phase = .answered, clientIP: String?, peer: String? = nil, mac: String? = nil,
        arch: String? = nil, path: String?, queryMAC: String? = nil, outcome: String, message: String? = nil,
        status: Int? = nil,
        bytes: Int = 0, size: Int? = nil, retransmits: Int = 0, kind: ContentKind? = nil, version: String? = nil,
        commands: [CommandCount] = [], duration: Duration = .zero, progress: TransferProgress? = nil
    ) {
        self.progress = progress
        self.source = source
        self.phase = phase
        self.clientIP = clientIP
        self.peer = peer
        self.mac = mac
        self.arch = arch
        self.path = path
        self.queryMAC = queryMAC
        self.outcome = outcome
        self.message = message
        self.status = status
        self.bytes = bytes
        self.size = size
        self.retransmits = retransmits
        self.kind = kind
        self.version = version
        self.commands = commands
        self.duration = duration
    }
}

/// Where servers report ``BootEvent``s. Called on engine threads and event loops: it must not block.
public protocol BootEventSink: Sendable {
    func record(_ event: BootEvent)
    /// False when events go nowhere: a server then builds none (a busy TFTP server built two per request for
    /// nothing when there is no `[admin]` section).
    var isRecording: Bool { get }
}

extension BootEventSink {
    public var isRecording: Bool { true }
}

/// The sink of a server nobody watches (no `[admin]` section, tests, `thinboot nbd inetd`).
public struct IgnoredBootEvents: BootEventSink {
    public init() {}
    public func record(_ event: BootEvent) {}
    public var isRecording: Bool { false }
}

/// How far a transfer in flight has got: bytes acknowledged (TFTP) or read (NBD) and retransmissions, stored by the
/// thread running the transfer (relaxed atomic stores: no lock, no allocation) and read by the status page and the
/// metrics.
public final class TransferProgress: Sendable {
    private let acknowledged = Atomic<Int>(0)
    private let resent = Atomic<Int>(0)

    public init() {}

    public func update(bytes: Int, retransmits: Int) {
        acknowledged.store(bytes, ordering: .relaxed)
        resent.store(retransmits, ordering: .relaxed)
    }

    public var bytes: Int { acknowledged.load(ordering: .relaxed) }
    public var retransmits: Int { resent.load(ordering: .relaxed) }
}
