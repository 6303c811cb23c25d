import HTTP

/// `[admin]`: the admin listener serving `/status`, `/status.json`, `/metrics` and `/healthz`. It is apart from the
/// boot HTTP server because the status page carries MACs and IPs and belongs on the admin network. Its own section
/// type, so a reload can compare and re-apply it as a whole.
public struct AdminSection: Sendable, Equatable {
    public static let defaultListen = ["127.0.0.1:9108"]
    /// Loopback only, unless the config says otherwise.
    public static let defaultAllow = ["127.0.0.0/8", "::1/128"]
    public static let defaultClients = 4096
    public static let defaultHistoryHours = 6

    /// Addresses to listen on (`listen`).
    public let listen: [ListenAddress]
    /// Client addresses allowed (`allow`, CIDR blocks); anything else gets 403.
    public let allow: [AddressBlock]
    /// Clients kept on the status page at most (`clients`); past it the one seen longest ago is dropped.
    public let clients: Int
    /// Hours a client stays on the page after it was last seen (`history_hours`).
    public let historyHours: Int
    /// `[[admin.stage]]`: stages of static paths no common name gives away (`path` glob, `stage`).
    public let stages: [StageClassifier.Tag]

    init(_ table: ConfigTable) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: Self.defaultListen)
        var blocks: [AddressBlock] = []
        for (index, text) in (try table.stringArray("allow") ?? Self.defaultAllow).enumerated() {
            guard let block = AddressBlock(parsing: text) else {
                throw table.error(
                    "allow[\(index)]", "\"\(text)\" is not an address block: write \"10.0.0.0/8\" or \"::1/128\"")
            }
            blocks.append(block)
        }
        allow = blocks
        clients = try table.int("clients", default: Self.defaultClients, in: 1...1_000_000)
        historyHours = try table.int("history_hours", default: Self.defaultHistoryHours, in: 1...24 * 30)
        stages = try table.tables("stage").map { stage throws(ConfigError) in
            let path = try stage.requiredString("path")
            let tag = try StageClassifier.Tag(stage: stage, path: path, route: nil)
            try stage.finish()
            return tag
        }
        try table.finish()
    }

    /// The listener's HTTP settings: the boot server's defaults, but few connections — it serves people and one
    /// Prometheus.
    public func serverConfiguration() -> HTTPServerConfiguration {
        HTTPServerConfiguration(
            listen: listen.map { (host: $0.host, port: $0.port) }, maxConnections: 256, maxConnectionsPerClient: 32)
    }
}

extension StageClassifier.Tag {
    /// Reads `stage = "kernel"` from a route or `[[admin.stage]]` table.
    init(stage table: ConfigTable, path: String, route: String?) throws(ConfigError) {
        let text = try table.requiredString("stage")
        guard let stage = BootStage(rawValue: text) else {
            let names = BootStage.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw table.error("stage", "\"\(text)\" is not a stage: write one of \(names)")
        }
        do {
            pattern = try RoutePattern(path)
        } catch {
            throw table.error("path", "\"\(path)\" \(error.problem)")
        }
        self.stage = stage
        self.route = route
    }
}
