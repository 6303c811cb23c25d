/// A listen address could not be bound.
public struct HTTPBindError: Error, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let underlying: any Error

    public var description: String {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return
            "cannot listen for HTTP on \(address): \(underlying) (check [http] listen; ports below 1024 need root or CAP_NET_BIND_SERVICE)"
    }
}
