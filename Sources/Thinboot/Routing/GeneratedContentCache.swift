import Files
import NIOCore
import Synchronization

/// Generated files by protocol, client IP and path for a few seconds, so a retry or a `tsize` probe followed by the
/// real transfer gets the very same bytes even when the script's answer depends on time or changing data. The
/// protocol is part of the key: a script may answer TFTP and HTTP differently for the same path.
final class GeneratedContentCache: Sendable {
    private struct Key: Hashable {
        let protocolName: String
        let ip: String
        let path: String

        init(_ request: BootRequest) {
            protocolName = request.fields.name
            ip = request.ip
            path = request.path
        }
    }

    private struct Entry {
        let content: BootContent
        let expires: NIODeadline
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let lifetime: TimeAmount
    private let capacity: Int

    init(lifetime: TimeAmount = .seconds(5), capacity: Int = 4096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func content(for request: BootRequest) -> BootContent? {
        let now = NIODeadline.now()
        return entries.withLock { entries in
            guard let entry = entries[Key(request)], entry.expires > now else { return nil }
            return entry.content
        }
    }

    func store(_ content: BootContent, for request: BootRequest) {
        let now = NIODeadline.now()
        entries.withLock { entries in
            if entries.count >= capacity { entries = entries.filter { $0.value.expires > now } }
            // Still full of live entries: a burst of distinct clients. Skip caching rather than grow without bound.
            guard entries.count < capacity else { return }
            entries[Key(request)] = Entry(content: content, expires: now + lifetime)
        }
    }
}
