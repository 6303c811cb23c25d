import Foundation

/// The whole Thinboot configuration: one TOML file drives the TFTP host, the NBD host, or both.
public struct ThinbootConfig: Sendable {
    /// The config file as given.
    public let file: String
    /// The folder relative paths in the file resolve against.
    public let directory: String
    /// `[tftp]`, or nil when this config runs no TFTP server.
    public let tftp: TFTPSection?
    /// `[nbd]`, or nil when this config declares no NBD exports.
    public let nbd: NBDSection?
    /// `[http]`, or nil when this config runs no HTTP server (it serves the `[tftp]` root and routes).
    public let http: HTTPSection?
    /// `[dhcp]`, or nil when this config runs no ProxyDHCP server.
    public let dhcp: DHCPSection?
    /// `[clients]`: lease files to take MACs from; empty when absent.
    public let clients: ClientsSection?
    /// `[admin]`, or nil when this config runs no admin listener.
    public let admin: AdminSection?
    /// `[serve]`: the account `serve` runs as (defaults when the section is absent).
    public let serve: ServeSection

    /// Reads and checks `path`. Every error names the file, the key and the problem.
    public static func load(path: String) throws(ConfigError) -> ThinbootConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(text, file: path)
    }

    /// Parses config text as if it were in `file` (relative paths resolve against that file's folder).
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ThinbootConfig {
        let toml: [String: TOMLValue]
        do {
            toml = try TOMLValue.parseDocument(text)
        } catch {
            throw ConfigError(
                file: file, key: nil,
                problem: "not valid TOML at line \(error.line): \(error.description)"
                    + (error.quotingHelps ? "; quote the key (\"…\")" : ""))
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL.path
        let root = ConfigTable(file: file, path: "", table: toml)
        let paths = PathResolver(directory: directory)
        let tftp = try root.table("tftp").map { table throws(ConfigError) in
            try TFTPSection(table, paths: paths)
        }
        let nbd = try root.table("nbd").map { table throws(ConfigError) in
            try NBDSection(table, paths: paths)
        }
        let http = try root.table("http").map { table throws(ConfigError) in try HTTPSection(table) }
        let dhcp = try root.table("dhcp").map { table throws(ConfigError) in
            try DHCPSection(table, paths: paths)
        }
        let clients = try root.table("clients").map { table throws(ConfigError) in
            try ClientsSection(table, paths: paths)
        }
        let admin = try root.table("admin").map { table throws(ConfigError) in try AdminSection(table) }
        let serve =
            try root.table("serve").map { table throws(ConfigError) in try ServeSection(table) } ?? ServeSection()
        try root.finish()
        if tftp == nil && nbd == nil && dhcp == nil {
            throw ConfigError(
                file: file, key: nil, problem: "nothing to serve: add a [tftp], an [nbd] or a [dhcp] section")
        }
        if http != nil && tftp == nil {
            throw ConfigError(
                file: file, key: "http",
                problem: "HTTP serves the [tftp] root and routes: add a [tftp] section with `root`")
        }
        return ThinbootConfig(
            file: file, directory: directory, tftp: tftp, nbd: nbd, http: http, dhcp: dhcp, clients: clients,
            admin: admin, serve: serve)
    }
}

/// Resolves paths written in the config against the config file's folder.
public struct PathResolver: Sendable {
    public let directory: String

    public func resolve(_ path: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : URL(fileURLWithPath: directory).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
