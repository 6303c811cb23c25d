import HTTP
import NIOConcurrencyHelpers

/// What the admin listener answers, through the same HTTP server as boot files (``HTTPServer``): `/status` (the
/// page), `/status.json`, `/metrics` (Prometheus text format) and `/healthz`. A client outside `[admin] allow`
/// gets 403 for every path. All of it is rendered on the event loop: a snapshot under one short lock and string
/// building, no I/O. A reload replaces `allow` for every request after it.
public final class AdminProvider: HTTPBootProvider {
    public let tracker: BootTracker
    private let allowed: NIOLockedValueBox<[AddressBlock]>

    public init(tracker: BootTracker, allow: [AddressBlock]) {
        self.tracker = tracker
        allowed = NIOLockedValueBox(allow)
    }

    /// The client addresses answered; anything else gets 403.
    public var allow: [AddressBlock] {
        get { allowed.withLockedValue { $0 } }
        set { allowed.withLockedValue { $0 = newValue } }
    }

    /// Always answers at once: nothing here waits for a worker.
    public func answer(
        for request: HTTPBootRequest,
        completion: @escaping @Sendable (Result<HTTPBootAnswer, HTTPRefusal>) -> Void
    ) throws(HTTPRefusal) -> HTTPBootAnswer? {
        let ip = request.clientIP
        let allow = allow
        guard allow.contains(where: { $0.contains(ip) }) else {
            throw HTTPRefusal.forbidden("Forbidden: this address is not in [admin] allow")
        }
        var path = Substring(request.path)
        while path.hasPrefix("/") { path = path.dropFirst() }
        switch path {
        case "", "status":
            return .bytes(StatusPage.render(tracker.status()), contentType: "text/html; charset=utf-8")
        case "status.json":
            return .bytes(tracker.status().json(), contentType: "application/json")
        case "metrics":
            // The booting gauge is counted when the status is taken.
            _ = tracker.status()
            return .bytes(tracker.metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "healthz":
            return .bytes(Array("ok\n".utf8), contentType: "text/plain; charset=utf-8")
        default:
            throw HTTPRefusal.notFound
        }
    }
}
