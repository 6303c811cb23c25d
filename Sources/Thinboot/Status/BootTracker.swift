import BootEvents
import Foundation
import NIOConcurrencyHelpers

/// The boot status: turns every ``BootEvent`` of every protocol into one row per client — tied across protocols
/// by MAC, and by IP where the MAC is learned later (NBD connections join by IP) — with the stages of its last
/// boot, its last failure, and the transfers in flight. Also the one place events become metrics.
///
/// Bounded: at most `capacity` clients, the one seen longest ago dropped first, and none kept past `history`.
/// Events come from engine threads and event loops; each takes the lock once or twice for a few dictionary
/// operations (per transfer or request, never per block).
public final class BootTracker: BootEventSink {
    /// A client's row and what the tracker knows beside it.
    struct Row {
        var id: Int
        var client: BootStatus.Client
        /// The MAC look-up by IP was tried: it is not retried on every request.
        var lookedUp = false
    }

    struct InFlight {
        var transfer: BootStatus.Transfer
        /// Bytes and retransmissions as the transfer's server updates them.
        var progress: TransferProgress?
        /// An NBD connection's export, as its metrics label it.
        var export: String?
        /// Bytes of `progress` already added to `thinboot_nbd_bytes_read_total`; the connection's end adds the rest.
        var countedBytes = 0
    }

    struct State {
        var rows: RecencyTable<Int, Row>
        var byMAC: [String: Int] = [:]
        var byIP: [String: Int] = [:]
        var nextID = 0
        var inFlight: [String: InFlight] = [:]
    }

    /// Transfers and connections listed in flight at most; more are counted in the metrics only.
    static let inFlightCapacity = 4096
    /// A client with no event for this long is no longer "booting".
    static let bootingWindow: Double = 600

    public let metrics: BootMetrics
    private let classifier: StageClassifier
    private let arch: ArchTable
    private let history: Double
    private let macForIP: @Sendable (String) -> (mac: MACAddress, source: String)?
    private let clock: @Sendable () -> Double
    private let state: NIOLockedValueBox<State>

    /// - Parameters:
    ///   - macForIP: the MAC other parts of the server know for an IP (the router's memory, the neighbour table),
    ///     asked once per client that no event named a MAC for.
    ///   - clock: seconds since 1970 (replaceable in tests).
    public init(
        classifier: StageClassifier, arch: ArchTable = ArchTable(), capacity: Int = AdminSection.defaultClients,
        history: Duration = .seconds(AdminSection.defaultHistoryHours * 3600), metrics: BootMetrics = BootMetrics(),
        macForIP: @escaping @Sendable (String) -> (mac: MACAddress, source: String)? = { _ in nil },
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.classifier = classifier
        self.arch = arch
        self.history = Double(history.components.seconds)
        self.metrics = metrics
        self.macForIP = macForIP
        self.clock = clock
        state = NIOLockedValueBox(State(rows: RecencyTable(capacity: capacity)))
    }

    public func record(_ event: BootEvent) {
        let now = clock()
        let path = event.path.map(Self.relative)
        var learned = Self.macNamed(by: event)
        if learned == nil, let ip = event.clientIP, needsLookUp(ip) {
            learned = macForIP(ip).map { ($0.mac.description, $0.source) }
        }
        let (completedBoot, countedBytes): (Double?, Int) = state.withLockedValue { state in
            var countedBytes = 0
            switch (event.source, event.phase) {
            case (.tftp, .started), (.nbd, .started):
                if let peer = event.peer, state.inFlight.count < Self.inFlightCapacity {
                    state.inFlight[peer] = InFlight(
                        transfer: BootStatus.Transfer(
                            source: event.source.rawValue, client: event.clientIP ?? peer, mac: learned?.mac,
                            path: path, bytes: 0, size: event.size, retransmits: 0, started: now, rate: 0),
                        progress: event.progress, export: event.source == .nbd ? event.path : nil)
                }
            case (.tftp, .finished), (.nbd, .finished):
                if let peer = event.peer { countedBytes = state.inFlight.removeValue(forKey: peer)?.countedBytes ?? 0 }
            default: break
            }
            guard var row = Self.row(for: event, mac: learned?.mac, now: now, in: &state) else {
                return (nil, countedBytes)
            }
            if let learned, row.client.mac == nil {
                row.client.mac = learned.mac
                row.client.macSource = learned.source
                state.byMAC[learned.mac] = row.id
            }
            if let ip = event.clientIP {
                if row.client.ip != ip {
                    if let old = row.client.ip, state.byIP[old] == row.id { state.byIP[old] = nil }
                    row.client.ip = ip
                    row.client.ipSource = event.source.rawValue
                }
                state.byIP[ip] = row.id
                row.lookedUp = row.lookedUp || learned == nil
            }
            row.client.lastSeen = now
            let completed = update(&row.client, with: event, path: path, now: now)
            if let peer = event.peer, state.inFlight[peer] != nil {
                state.inFlight[peer]?.transfer.mac = row.client.mac
            }
            Self.store(row, in: &state)
            return (completed, countedBytes)
        }
        // What a status taken during the connection already counted is not counted again.
        var uncounted = event
        uncounted.bytes -= countedBytes
        metrics.record(uncounted)
        if let completedBoot { metrics.bootCompleted(seconds: completedBoot) }
    }

    /// The status now: clients seen within the history, newest first, and what is in flight. NBD bytes read since
    /// the last status are added to the metrics here, so a scrape during a long read sees it grow while the hot
    /// path only stores its progress.
    public func status() -> BootStatus {
        let now = clock()
        let (clients, transfers, reads) = state.withLockedValue { state in
            while let oldest = state.rows.oldestEntry, oldest.value.client.lastSeen < now - history {
                Self.remove(oldest.key, from: &state)
            }
            let clients = state.rows.newestFirst().map(\.client)
            var reads: [(export: String, bytes: Int)] = []
            var transfers: [BootStatus.Transfer] = []
            transfers.reserveCapacity(state.inFlight.count)
            for index in state.inFlight.values.indices {
                let inFlight = state.inFlight.values[index]
                var transfer = inFlight.transfer
                if let progress = inFlight.progress {
                    transfer.bytes = progress.bytes
                    transfer.retransmits = progress.retransmits
                    if let export = inFlight.export, transfer.bytes > inFlight.countedBytes {
                        reads.append((export, transfer.bytes - inFlight.countedBytes))
                        state.inFlight.values[index].countedBytes = transfer.bytes
                    }
                }
                transfers.append(transfer)
            }
            return (clients, transfers, reads)
        }
        for read in reads { metrics.nbdRead(export: read.export, bytes: read.bytes) }
        var booting = 0
        let rows = clients.map { client in
            var client = client
            // Past booting once at its root or beyond: the lts.conf server of a split setup sees only lts.conf.
            client.booting =
                !client.stages.isEmpty && !client.stages.contains { (BootStage(rawValue: $0.stage) ?? .dhcp) >= .root }
                && now - client.lastSeen < Self.bootingWindow
            if client.booting { booting += 1 }
            return client
        }
        metrics.setBooting(booting)
        let inFlight = transfers.sorted { $0.started < $1.started }.map { transfer in
            var transfer = transfer
            let elapsed = now - transfer.started
            transfer.rate = elapsed > 0 ? Double(transfer.bytes) / elapsed : 0
            return transfer
        }
        return BootStatus(now: now, clients: rows, transfers: inFlight)
    }

    /// Whether no row has a MAC for `ip` yet, nor has one been looked up for it.
    private func needsLookUp(_ ip: String) -> Bool {
        state.withLockedValue { state in
            guard let id = state.byIP[ip], let row = state.rows.value(for: id) else { return true }
            return row.client.mac == nil && !row.lookedUp
        }
    }

    /// Applies `event` to the client: architecture, stage, image, failure. Returns the boot's duration when this
    /// event connected its root.
    private func update(_ client: inout BootStatus.Client, with event: BootEvent, path: String?, now: Double)
        -> Double?
    {
        if let arch = event.arch {
            client.arch = arch
            client.archSource = "dhcp"
        } else if client.archSource != "dhcp", let path, let loaderArch = self.arch.arch(forLoaderPath: path) {
            client.arch = loaderArch
            client.archSource = "boot loader"
        }
        if Self.failed(event, path: path) {
            client.lastFailure = BootStatus.Failure(
                at: now, source: event.source.rawValue,
                outcome: event.status.map { "\($0) \(event.outcome)" } ?? event.outcome, path: path,
                message: event.message)
            return nil
        }
        let reached: (stage: BootStage, route: String?)?
        switch event.source {
        case .dhcp: reached = event.outcome == "offered" ? (.dhcp, nil) : nil
        case .nbd: reached = event.phase == .started ? (.root, nil) : nil
        case .tftp, .http:
            let succeeded = event.source == .tftp ? event.outcome == "ok" : (200..<400).contains(event.status ?? 0)
            reached = succeeded && event.phase != .started ? path.flatMap(classifier.classify) : nil
        }
        guard let reached else { return nil }
        // Power-on again: a new DHCP offer after a stage past the boot loader, or a boot loader after the root. A
        // DHCP offer right after the loader is the same boot: a chain-loaded iPXE asks again (UEFI PXE, HTTP boot).
        if (reached.stage == .dhcp && client.stages.contains { (BootStage(rawValue: $0.stage) ?? .dhcp) > .loader })
            || (reached.stage == .loader && Self.has(.root, client))
        {
            client.stages = []
            client.bootSeconds = nil
        }
        guard !Self.has(reached.stage, client) else { return nil }
        client.stages.append(
            BootStatus.Stage(
                stage: reached.stage.rawValue, title: reached.stage.title, at: now - event.duration.seconds,
                seconds: event.source == .tftp || event.source == .http ? event.duration.seconds : nil,
                source: event.source.rawValue, path: path, route: reached.route))
        client.stages.sort { (BootStage(rawValue: $0.stage) ?? .dhcp) < (BootStage(rawValue: $1.stage) ?? .dhcp) }
        guard reached.stage == .root else { return nil }
        client.image = path
        client.imageVersion = event.version
        let first = client.stages.map(\.at).min() ?? now
        client.bootSeconds = now - first
        return client.stages.count > 1 ? client.bootSeconds : nil
    }

    private static func has(_ stage: BootStage, _ client: BootStatus.Client) -> Bool {
        client.stages.contains { $0.stage == stage.rawValue }
    }

    /// A failure worth showing: not a size probe, not a busy server's silence, and not a miss in pxelinux's
    /// config search order (it asks up to 11 names before `default`).
    static func failed(_ event: BootEvent, path: String?) -> Bool {
        switch event.source {
        case .tftp:
            guard event.phase != .started else { return false }
            switch event.outcome {
            case "ok", "probe", "busy", "displaced", "server stopped": return false
            case "not found": return !(path.map(isConfigSearch) ?? false)
            default: return true
            }
        case .http:
            guard let status = event.status, status >= 400 else { return false }
            return !(status == 404 && (path.map(isConfigSearch) ?? false))
        case .dhcp:
            return event.outcome == "script error"
        case .nbd:
            return false
        }
    }

    private static func isConfigSearch(_ path: String) -> Bool {
        path.hasPrefix("pxelinux.cfg/") || path.contains("/pxelinux.cfg/")
    }

    /// The MAC the event itself names: DHCP's, an HTTP `mac=` query, or one in the path (`pxelinux.cfg/01-…`).
    static func macNamed(by event: BootEvent) -> (mac: String, source: String)? {
        if let text = event.mac, let mac = MACAddress(parsing: text), mac.isClientAddress {
            return (mac.description, event.source.rawValue)
        }
        guard let path = event.path, event.source == .tftp || event.source == .http else { return nil }
        if let text = event.queryMAC, let mac = MACAddress(parsing: text), mac.isClientAddress {
            return (mac.description, "query")
        }
        if let mac = MACAddress(inPath: relative(path)), mac.isClientAddress {
            return (mac.description, "path")
        }
        return nil
    }

    /// A TFTP path as the router reads it: clients may send a leading `/` (`/pxelinux.0`).
    static func relative(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        return String(path.drop { $0 == "/" })
    }

    /// The row `event` belongs to, made when it is a new client; rows for the same client found under its MAC
    /// and its IP are merged into one.
    private static func row(for event: BootEvent, mac: String?, now: Double, in state: inout State) -> Row? {
        let byMAC = mac.flatMap { state.byMAC[$0] }.flatMap { state.rows.value(for: $0) }
        let byIP = event.clientIP.flatMap { state.byIP[$0] }.flatMap { state.rows.value(for: $0) }
        switch (byMAC, byIP) {
        case (let row?, nil):
            return row
        case (nil, let row?):
            // The IP now belongs to another machine: a new row for it.
            if let mac, let known = row.client.mac, known != mac { return newRow(now: now, in: &state) }
            return row
        case (var row?, let other?):
            guard row.id != other.id else { return row }
            guard other.client.mac == nil else { return row }
            // What was seen by IP before the MAC was known is the same client's boot.
            for stage in other.client.stages where !row.client.stages.contains(where: { $0.stage == stage.stage }) {
                row.client.stages.append(stage)
            }
            row.client.stages.sort {
                (BootStage(rawValue: $0.stage) ?? .dhcp) < (BootStage(rawValue: $1.stage) ?? .dhcp)
            }
            row.client.lastFailure = row.client.lastFailure ?? other.client.lastFailure
            row.client.arch = row.client.arch ?? other.client.arch
            row.client.archSource = row.client.archSource ?? other.client.archSource
            row.client.firstSeen = min(row.client.firstSeen, other.client.firstSeen)
            remove(other.id, from: &state)
            return row
        case (nil, nil):
            guard event.clientIP != nil || mac != nil else { return nil }
            return newRow(now: now, in: &state)
        }
    }

    private static func newRow(now: Double, in state: inout State) -> Row {
        state.nextID += 1
        return Row(
            id: state.nextID,
            client: BootStatus.Client(
                stages: [], firstSeen: now, lastSeen: now, booting: false))
    }

    private static func store(_ row: Row, in state: inout State) {
        guard let evicted = state.rows.store(row, for: row.id) else { return }
        unindex(evicted, in: &state)
    }

    private static func remove(_ id: Int, from state: inout State) {
        guard let removed = state.rows.removeValue(for: id) else { return }
        unindex(removed, in: &state)
    }

    private static func unindex(_ row: Row, in state: inout State) {
        if let mac = row.client.mac, state.byMAC[mac] == row.id { state.byMAC[mac] = nil }
        if let ip = row.client.ip, state.byIP[ip] == row.id { state.byIP[ip] = nil }
    }
}

extension Duration {
    /// As seconds, with the fraction.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
