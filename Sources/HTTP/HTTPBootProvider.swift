/// Answers boot requests over HTTP; the Thinboot module plugs its router (routes, then the static root) in here.
///
/// The server asks on the connection's event loop. What costs no more than a lookup or opening a file (a static
/// file, a generated answer still cached) is returned at once, without a thread switch. Work that may take a while
/// (a script) goes to the provider's own workers: it returns nil and calls `completion` once, on any thread, and
/// the server takes the answer back to the event loop. Two thread switches per computed answer, none otherwise.
public protocol HTTPBootProvider: Sendable {
    /// The answer, or nil when it comes later through `completion` (called exactly once then, never when an answer
    /// or a refusal is returned at once).
    func answer(
        for request: HTTPBootRequest,
        completion: @escaping @Sendable (Result<HTTPBootAnswer, HTTPRefusal>) -> Void
    ) throws(HTTPRefusal) -> HTTPBootAnswer?
}
