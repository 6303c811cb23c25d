import NIOCore

/// How an `NBDServer` runs: where it listens, what it exports, and its timeouts.
public struct NBDServerConfiguration: Sendable {
    /// The main listeners, serving every export by name (host, port); port 0 picks a free port.
    public var listen: [(host: String, port: Int)]
    /// The exports; those with a `legacyPort` also get a listener of their own.
    public var exports: [NBDExportDefinition]
    /// A client that has not finished the handshake by then is disconnected.
    public var handshakeTimeout: TimeAmount
    /// How long connections may go on after shutdown starts (answering `ESHUTDOWN`) before they are closed.
    public var shutdownGrace: TimeAmount

    public init(
        listen: [(host: String, port: Int)], exports: [NBDExportDefinition],
        handshakeTimeout: TimeAmount = .seconds(10), shutdownGrace: TimeAmount = .seconds(2)
    ) {
        self.listen = listen
        self.exports = exports
        self.handshakeTimeout = handshakeTimeout
        self.shutdownGrace = shutdownGrace
    }
}
