import NIOCore

/// Whether a read request may start a transfer: a pure decision over the requests pending, with no socket and no
/// lock (``TransferRegistry`` holds one behind its lock, shared by the engines).
///
/// Rules (issue 11; RFC 1350 and RFC 1123 4.2.3.1 for duplicates):
/// - A request from the address and port of a request still pending (its script running, its transfer in flight)
///   is the client's retransmission of it: a duplicate, never a second run or a second transfer.
/// - A transfer is half-open until the client's first ACK, like a TCP SYN: the request may have been spoofed.
///   Half-open transfers have their own caps, in total and per client IP. When no slot is free, a newcomer
///   displaces the oldest half-open transfer of the IP holding the most, if that IP holds more than the newcomer's
///   and the transfer is older than ``displaceableAge`` (a real client answers within a round trip; once it has the
///   OACK, iPXE only ever resends its ACK, so a young transfer is left alone): one source never keeps the slots of
///   others, and an established transfer is never displaced.
/// - An IP whose half-open transfer was displaced may not displace another IP's for ``displacementBar``: a client
///   that answers within a second is never displaced, so this holds back sources that do not answer (and a client
///   on a link lossy enough to lose its first ACK for a second, which still gets free slots). Without it, a flood
///   from a few dozen IPs takes back each slot the moment it turns displaceable, since it asks far more often than a
///   booting client retries.
/// - Each client IP may start `newTransfersPerSecond` transfers a second that it then leaves unacknowledged (a token
///   bucket holding one second's worth). A first ACK or a refusal (one short ERROR) gives the token back, so a
///   client that answers is never slowed: the bucket only meters the bytes sent to a source that never answers.
/// - Past any limit the request is not answered: boot ROMs take an ERROR as final, but retransmit an unanswered
///   request (what dnsmasq does at `tftp-max`, by not reading its socket).
/// - Every table keyed by client is bounded: an IP's entry goes when it holds nothing, its bucket is full and no bar
///   is on it (a bar that ran out goes at the IP's next request), and idle entries are swept when there are more
///   than ``trackedClientsLimit``.
struct TransferAdmission: Sendable {
    struct Limits: Sendable, Hashable {
        var maxTransfers: Int
        var maxTransfersPerClient: Int
        var maxHalfOpen: Int
        var maxHalfOpenPerClient: Int
        var newTransfersPerSecond: Int
    }

    /// A client's IP as its 16 bytes (IPv4 as an IPv4-mapped IPv6 address), hashed and compared as two words:
    /// every request looks it up several times, and text would be formatted (`inet_ntop`) and hashed byte by byte.
    struct Host: Sendable, Hashable {
        var high: UInt64
        var low: UInt64
    }

    /// Where a request came from: the client's IP and its port.
    struct Endpoint: Sendable, Hashable {
        var host: Host
        var port: UInt16

        init(_ address: SocketAddress) {
            switch address {
            case .v4(let v4):
                host = Host(high: 0, low: 0xFFFF_0000_0000 | UInt64(UInt32(bigEndian: v4.address.sin_addr.s_addr)))
                port = UInt16(bigEndian: v4.address.sin_port)
            case .v6(let v6):
                var address = v6.address.sin6_addr
                let words = withUnsafeBytes(of: &address) { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                        raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    )
                }
                host = Host(high: UInt64(bigEndian: words.0), low: UInt64(bigEndian: words.1))
                port = UInt16(bigEndian: v6.address.sin6_port)
            case .unixDomainSocket:
                host = Host(high: 0, low: 0)
                port = 0
            }
        }
    }

    /// One admitted request, until it is released: an endpoint may ask again once its earlier request is over, so
    /// a late release of the earlier one must not free the later one's slot.
    struct Ticket: Sendable, Hashable {
        var endpoint: Endpoint
        var number: UInt64
        var admittedAt: ContinuousClock.Instant
    }

    enum Verdict: Sendable, Hashable {
        case admitted(Ticket)
        /// A retransmission of a request still pending: already being served.
        case duplicate
        /// A limit is reached (its key, for the log line).
        case busy(String)
        /// The server is stopping.
        case stopping
    }

    private struct Client: Sendable {
        var transfers = 0
        /// This IP's half-open tickets, oldest first (at most `maxHalfOpenPerClient`).
        var halfOpen: [Ticket] = []
        var tokens: Double
        var refilledAt: ContinuousClock.Instant
        /// Until when this IP may not displace another's transfer, since one of its own half-open ones was.
        var displacingBarredUntil: ContinuousClock.Instant?
    }

    /// How old a half-open transfer must be before a newcomer may displace it: a server's first resend comes
    /// after a second, and a client that answers does so long before.
    static let displaceableAge = Duration.seconds(1)
    /// How long an IP whose half-open transfer was displaced may not displace another's (it still takes free slots).
    static let displacementBar = Duration.seconds(10)

    let limits: Limits
    private(set) var transfers = 0
    private(set) var halfOpen = 0
    private(set) var isStopped = false
    private var clients: [Host: Client] = [:]
    private var pending: [Endpoint: UInt64] = [:]
    /// Tickets displaced whose engine has not noticed yet (at most `maxHalfOpen` in practice: each goes at its
    /// transfer's next timer or ACK).
    private var displaced: Set<Ticket> = []
    /// The IPs holding half-open transfers: where a newcomer looks for one to displace.
    private var halfOpenHolders: Set<Host> = []
    private var issued: UInt64 = 0

    /// Entries of client IPs kept before idle ones are swept (each a few dozen bytes).
    var trackedClientsLimit: Int { max(65_536, 2 * limits.maxTransfers) }
    /// Client IPs with an entry, for tests of the bound.
    var trackedClients: Int { clients.count }

    init(limits: Limits) {
        self.limits = limits
    }

    /// Decides on a request from `endpoint`; when admitted its ticket holds a half-open slot until
    /// ``establish(_:)`` or ``release(_:established:refused:)``.
    mutating func admit(_ endpoint: Endpoint, now: ContinuousClock.Instant) -> Verdict {
        guard !isStopped else { return .stopping }
        guard pending[endpoint] == nil else { return .duplicate }
        // Taken out of the table while it changes, so its ticket array is not copied on every append.
        var client =
            clients.removeValue(forKey: endpoint.host)
            ?? Client(tokens: Double(limits.newTransfersPerSecond), refilledAt: now)
        refill(&client, now: now)
        if let until = client.displacingBarredUntil, until <= now { client.displacingBarredUntil = nil }
        if let verdict = check(client) {
            remember(client, for: endpoint.host)
            return verdict
        }
        if transfers >= limits.maxTransfers || halfOpen >= limits.maxHalfOpen {
            guard client.displacingBarredUntil == nil, displaceHalfOpen(heldBelow: client.halfOpen.count, now: now)
            else {
                remember(client, for: endpoint.host)
                return .busy(transfers >= limits.maxTransfers ? "max_transfers" : "max_half_open")
            }
        }
        issued += 1
        let ticket = Ticket(endpoint: endpoint, number: issued, admittedAt: now)
        client.tokens -= 1
        client.transfers += 1
        client.halfOpen.append(ticket)
        halfOpenHolders.insert(endpoint.host)
        transfers += 1
        halfOpen += 1
        remember(client, for: endpoint.host)
        pending[endpoint] = ticket.number
        return .admitted(ticket)
    }

    private func check(_ client: Client) -> Verdict? {
        if client.transfers >= limits.maxTransfersPerClient { return .busy("max_transfers_per_client") }
        if client.halfOpen.count >= limits.maxHalfOpenPerClient { return .busy("max_half_open_per_client") }
        if client.tokens < 1 { return .busy("new_transfers_per_second") }
        return nil
    }

    /// The transfer of `ticket` had its first ACK: no longer half-open, and its token comes back. False when it
    /// was displaced meanwhile: the engine ends it.
    mutating func establish(_ ticket: Ticket) -> Bool {
        guard !isDisplaced(ticket) else { return false }
        // Changed in place: one hash of the IP, and its ticket array is not copied.
        guard let slot = clients.index(forKey: ticket.endpoint.host),
            let index = clients.values[slot].halfOpen.firstIndex(of: ticket)
        else { return true }
        clients.values[slot].halfOpen.remove(at: index)
        if clients.values[slot].halfOpen.isEmpty { halfOpenHolders.remove(ticket.endpoint.host) }
        clients.values[slot].tokens = min(clients.values[slot].tokens + 1, Double(limits.newTransfersPerSecond))
        halfOpen -= 1
        return true
    }

    /// Whether `ticket` was displaced by a newer request (its engine then ends the transfer without a word).
    /// Asked on every event of every transfer; nearly always nothing is displaced, and then nothing is hashed.
    func isDisplaced(_ ticket: Ticket) -> Bool { !displaced.isEmpty && displaced.contains(ticket) }

    /// The request of `ticket` is over. `established`: ``establish(_:)`` accepted its first ACK; `refused`: it was
    /// answered with one ERROR and no data, which costs a spoofed victim no more than the request did, so its token
    /// comes back.
    mutating func release(_ ticket: Ticket, established: Bool, refused: Bool) {
        if !displaced.isEmpty, displaced.remove(ticket) != nil { return }
        guard pending[ticket.endpoint] == ticket.number, var client = clients.removeValue(forKey: ticket.endpoint.host)
        else { return }
        pending[ticket.endpoint] = nil
        transfers -= 1
        client.transfers -= 1
        if !established, let index = client.halfOpen.firstIndex(of: ticket) {
            client.halfOpen.remove(at: index)
            if client.halfOpen.isEmpty { halfOpenHolders.remove(ticket.endpoint.host) }
            halfOpen -= 1
            if refused { client.tokens = min(client.tokens + 1, Double(limits.newTransfersPerSecond)) }
        }
        remember(client, for: ticket.endpoint.host)
    }

    /// Admits nothing from now on.
    mutating func stop() {
        isStopped = true
    }

    /// Frees a slot by displacing the oldest half-open transfer of the IP holding the most (of those holding as
    /// many, the oldest), if it holds more than `count`, and bars that IP from displacing. Costs a pass over the IPs
    /// holding half-open transfers (at most `maxHalfOpen`), only when every slot is taken.
    private mutating func displaceHalfOpen(heldBelow count: Int, now: ContinuousClock.Instant) -> Bool {
        var holder: Host?
        var most = count
        var oldest = UInt64.max
        let youngest = now.advanced(by: .zero - Self.displaceableAge)
        for ip in halfOpenHolders {
            guard let held = clients[ip]?.halfOpen, held.count >= most, let first = held.first,
                first.admittedAt <= youngest
            else { continue }
            // Among IPs holding as many, the one whose oldest is oldest: the SYN queue's drop-oldest.
            guard held.count > most || first.number < oldest, held.count > count else { continue }
            holder = ip
            most = held.count
            oldest = first.number
        }
        guard let holder, var client = clients.removeValue(forKey: holder) else { return false }
        let victim = client.halfOpen.removeFirst()
        if client.halfOpen.isEmpty { halfOpenHolders.remove(holder) }
        client.transfers -= 1
        client.displacingBarredUntil = now.advanced(by: Self.displacementBar)
        halfOpen -= 1
        transfers -= 1
        pending[victim.endpoint] = nil
        displaced.insert(victim)
        clients[holder] = client
        return true
    }

    private mutating func remember(_ client: Client, for ip: Host) {
        if client.transfers == 0, client.tokens >= Double(limits.newTransfersPerSecond),
            client.displacingBarredUntil == nil
        {
            clients[ip] = nil
            return
        }
        if clients[ip] == nil, clients.count >= trackedClientsLimit {
            // Drops the entries of IPs that hold nothing (their buckets start full again and their bars go: both
            // only matter while an attack lasts). At most once per `trackedClientsLimit - transfers` new IPs: O(1)
            // amortised.
            clients = clients.filter { $0.value.transfers > 0 }
        }
        clients[ip] = client
    }

    private func refill(_ client: inout Client, now: ContinuousClock.Instant) {
        let rate = Double(limits.newTransfersPerSecond)
        let (seconds, attoseconds) = client.refilledAt.duration(to: now).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        guard elapsed > 0 else { return }
        client.tokens = min(rate, client.tokens + elapsed * rate)
        client.refilledAt = now
    }
}
