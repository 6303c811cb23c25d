import Scripting

/// One request for a boot file, whatever protocol carried it: everything a route script learns, the `req` table.
/// The router never looks at the protocol's own fields; only scripts do.
public struct BootRequest: Sendable, Hashable {
    /// What the protocol itself told about the request, beyond the path and the addresses.
    public enum ProtocolFields: Sendable, Hashable {
        /// The transfer mode (`octet`, `netascii`) and the options the client requested, names lowercased.
        case tftp(mode: String, options: [String: String])
        /// The method (`GET`, `HEAD`), the headers with lowercased names, and the decoded query parameters.
        case http(method: String, headers: [String: String], query: [String: String])

        /// `req.protocol`.
        public var name: String {
            switch self {
            case .tftp: "tftp"
            case .http: "http"
            }
        }
    }

    /// Normalised path relative to the root.
    public var path: String
    /// Client address and port.
    public var ip: String
    public var port: Int
    /// The server address the client sent the request to.
    public var localIP: String?
    /// The protocol and its own fields.
    public var fields: ProtocolFields
    /// Lowercase `aa:bb:cc:dd:ee:ff`, when known.
    public var mac: MACAddress?
    /// `x86-bios`, `x86_64-efi`, … when known.
    public var arch: String?
    /// What the route pattern captured.
    public var match: RouteMatch

    public init(
        path: String, ip: String, port: Int, localIP: String? = nil,
        fields: ProtocolFields = .tftp(mode: "octet", options: [:]), mac: MACAddress? = nil, arch: String? = nil,
        match: RouteMatch = RouteMatch()
    ) {
        self.path = path
        self.ip = ip
        self.port = port
        self.localIP = localIP
        self.fields = fields
        self.mac = mac
        self.arch = arch
        self.match = match
    }

    /// The `req` table.
    var scriptValue: ScriptValue {
        var fields: [String: ScriptValue] = [
            "protocol": .text(self.fields.name),
            "path": .text(path),
            "ip": .text(ip),
            "port": .integer(Int64(port)),
            "params": .record(match.params.mapValues { .text($0) }),
            "captures": .list(match.captures.map { .text($0) }),
        ]
        switch self.fields {
        case .tftp(let mode, let options):
            fields["mode"] = .text(mode)
            fields["options"] = .record(options.mapValues { .text($0) })
        case .http(let method, let headers, let query):
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
