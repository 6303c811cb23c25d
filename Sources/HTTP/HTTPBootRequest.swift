import NIOCore
import NIOHTTP1

/// A request as a boot provider sees it: the method, the path already percent-decoded and normalised (relative to
/// the root, `/` separators, no `.`/`..` or empty components), the decoded query, and the headers with lowercased
/// names.
public struct HTTPBootRequest: Sendable {
    /// `GET` or `HEAD`; nothing else reaches a provider.
    public var method: String
    /// The normalised path relative to the root (see `RequestPath` in Files).
    public var path: String
    /// The decoded query parameters; the first of repeated names wins.
    public var query: [String: String]
    /// The headers as received.
    public var received: HTTPHeaders
    /// The headers, names lowercased; repeated headers joined with `, `. Made when asked (for a script's
    /// `req.headers`): a static or cached answer never needs them.
    public var headers: [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in received {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        return headers
    }
    /// The client's address and port.
    public var client: SocketAddress
    /// The server address the client connected to, for URLs that this client can reach.
    public var local: SocketAddress
    /// ``client``'s IP as text (`?` when it has none), made once per connection.
    public var clientIP: String
    /// ``local``'s IP as text, made once per connection.
    public var localIP: String?

    public init(
        method: String, path: String, query: [String: String] = [:], headers: HTTPHeaders = [:],
        client: SocketAddress, local: SocketAddress, clientIP: String? = nil, localIP: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.received = headers
        self.client = client
        self.local = local
        self.clientIP = clientIP ?? client.ipAddress ?? "?"
        self.localIP = localIP ?? local.ipAddress
    }
}
