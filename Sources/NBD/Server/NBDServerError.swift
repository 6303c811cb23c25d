/// A listener could not be opened.
public struct NBDServerError: Error, CustomStringConvertible {
    /// The `host:port` that could not be bound.
    public let address: String
    /// The system's reason.
    public let underlying: any Error

    public var description: String {
        "cannot listen on \(address) (\(underlying)): is another NBD server running there, or is the port privileged?"
    }
}
