import Scripting

/// Everything a route script learns about one request: the `req` table.
public struct BootRequest: Sendable, Hashable {
    /// Normalised path relative to the root.
    public var path: String
    /// Client address and port.
    public var ip: String
    public var port: Int
    /// The server address the client sent the request to.
    public var localIP: String?
    /// TFTP options the client requested (names lowercased).
    public var options: [String: String]
    /// `octet` or `netascii`.
    public var mode: String
    /// Lowercase `aa:bb:cc:dd:ee:ff`, when known.
    public var mac: MACAddress?
    /// `x86-bios`, `x86_64-efi`, … when known.
    public var arch: String?
    /// What the route pattern captured.
    public var match: RouteMatch
    /// `tftp` or `http`.
    public var `protocol` = "tftp"
    /// HTTP only: `GET` or `HEAD`, the headers (names lowercased) and the decoded query parameters.
    public var method: String?
    public var headers: [String: String] = [:]
    public var query: [String: String] = [:]

    public init(
        path: String, ip: String, port: Int, localIP: String? = nil, options: [String: String] = [:],
        mode: String = "octet", mac: MACAddress? = nil, arch: String? = nil, match: RouteMatch = RouteMatch()
    ) {
        self.path = path
        self.ip = ip
        self.port = port
        self.localIP = localIP
        self.options = options
        self.mode = mode
        self.mac = mac
        self.arch = arch
        self.match = match
    }

    /// What a generated answer is kept under for this client: the path, and over HTTP the query too (a script may
    /// answer `?mac=` differently); HEAD and GET share it, so both see the same length.
    var cacheKey: String {
        guard `protocol` == "http", !query.isEmpty else { return path }
        return path + "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// The `req` table.
    var scriptValue: ScriptValue {
        var fields: [String: ScriptValue] = [
            "path": .text(path),
            "ip": .text(ip),
            "port": .integer(Int64(port)),
            "mode": .text(mode),
            "options": .record(options.mapValues { .text($0) }),
            "params": .record(match.params.mapValues { .text($0) }),
            "captures": .list(match.captures.map { .text($0) }),
        ]
        fields["protocol"] = .text(`protocol`)
        if let method {
            fields["method"] = .text(method)
            fields["headers"] = .record(headers.mapValues { .text($0) })
            fields["query"] = .record(query.mapValues { .text($0) })
        }
        if let localIP { fields["local_ip"] = .text(localIP) }
        if let mac { fields["mac"] = .text(mac.description) }
        if let arch { fields["arch"] = .text(arch) }
        return .record(fields)
    }
}
