import Files
import NIOConcurrencyHelpers
import NIOCore

/// Generated files by protocol, client IP and path for a few seconds, so a retry or a `tsize` probe followed by the
/// real transfer gets the very same bytes even when the script's answer depends on time or changing data. The
/// protocol is part of the key (a script may answer TFTP and HTTP differently for the same path), and so is HTTP's
/// query.
///
/// Bounded in entries and in bytes: past either bound the entry stored longest ago goes first (O(1), so a burst
/// of distinct clients costs the same per request however full the cache is), and expired entries go at the next
/// lookup or store.
final class GeneratedContentCache: Sendable {
    private struct Key: Hashable {
        let protocolName: String
        let ip: String
        let path: String
        /// HTTP's query: `?mac=` variants of one path are different answers, and HEAD and GET agree.
        let query: [String: String]

        init(_ request: BootRequest) {
            protocolName = request.fields.name
            ip = request.ip
            path = request.path
            if case .http(_, _, let query) = request.fields { self.query = query } else { query = [:] }
        }
    }

    private struct Entry {
        let content: BootContent
        /// The Content-Type the script set (HTTP), nil for the type by extension.
        let contentType: String?
        let expires: NIODeadline
    }

    private struct State {
        var entries: RecencyTable<Key, Entry>
        var bytes = 0
    }

    /// Bytes of generated files held at most, all clients together.
    static let defaultByteCapacity = 64 << 20

    private let state: NIOLockedValueBox<State>
    private let lifetime: TimeAmount
    private let byteCapacity: Int

    init(lifetime: TimeAmount = .seconds(5), capacity: Int = 4096, byteCapacity: Int = defaultByteCapacity) {
        self.lifetime = lifetime
        self.byteCapacity = byteCapacity
        state = NIOLockedValueBox(State(entries: RecencyTable(capacity: capacity)))
    }

    /// Entries and bytes held now.
    var usage: (entries: Int, bytes: Int) { state.withLockedValue { ($0.entries.count, $0.bytes) } }

    /// The answer kept for `request` and the Content-Type it was stored with.
    func content(for request: BootRequest) -> (content: BootContent, contentType: String?)? {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            Self.dropExpired(from: &state, now: now)
            return state.entries.value(for: Key(request)).map { ($0.content, $0.contentType) }
        }
    }

    /// Drops every expired answer: they expire in the order they were stored, so they are all at the old end, and
    /// each is dropped once (O(1) per store, amortised). Lookups drop them too, so the bytes go soon after the
    /// burst that stored them, not only when the next answer is stored.
    private static func dropExpired(from state: inout State, now: NIODeadline) {
        while let oldest = state.entries.oldestEntry, oldest.value.expires <= now {
            state.bytes -= state.entries.removeOldest()?.content.size ?? 0
        }
    }

    func store(_ content: BootContent, contentType: String? = nil, for request: BootRequest) {
        // One answer larger than the whole cache is served, not kept.
        let size = content.size
        guard size <= byteCapacity else { return }
        let now = NIODeadline.now()
        state.withLockedValue { state in
            let key = Key(request)
            if let replaced = state.entries.removeValue(for: key) { state.bytes -= replaced.content.size }
            Self.dropExpired(from: &state, now: now)
            while state.bytes + size > byteCapacity, let evicted = state.entries.removeOldest() {
                state.bytes -= evicted.content.size
            }
            if let evicted = state.entries.store(
                Entry(content: content, contentType: contentType, expires: now + lifetime), for: key)
            {
                state.bytes -= evicted.content.size
            }
            state.bytes += size
        }
    }
}
