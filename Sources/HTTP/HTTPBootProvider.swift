/// Answers boot requests over HTTP; the Thinboot module plugs its router (routes, then the static root) in here.
///
/// The server first asks ``immediateAnswer(for:)`` on the connection's event loop: what costs no more than opening a
/// file (a static file) is answered there, without a hop to another thread. Only when it returns nil is
/// ``answer(for:)`` called, off the event loop, for work that may take a while (a script).
public protocol HTTPBootProvider: Sendable {
    /// The answer if it is at hand without blocking, nil to have ``answer(for:)`` called instead.
    func immediateAnswer(for request: HTTPBootRequest) throws(HTTPRefusal) -> HTTPBootAnswer?

    func answer(for request: HTTPBootRequest) async throws(HTTPRefusal) -> HTTPBootAnswer
}

extension HTTPBootProvider {
    /// By default every request goes to ``answer(for:)``.
    public func immediateAnswer(for request: HTTPBootRequest) throws(HTTPRefusal) -> HTTPBootAnswer? { nil }
}
