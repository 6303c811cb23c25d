/// What differs between two configs, one line per change an admin would name ("[tftp] listen: +127.0.0.1:1069"),
/// in the file's order. `thinboot check --against OLD` prints it, and a SIGHUP reload logs it.
public struct ConfigChanges: Sendable, Equatable {
    /// The changes, each a short sentence; empty when the configs serve the same.
    public let lines: [String]

    public var isEmpty: Bool { lines.isEmpty }

    /// The changes a running `serve` takes on SIGHUP: the routes, their scripts' limits, the arch table and the
    /// root; TFTP's, HTTP's and NBD's limits and listen addresses; the NBD exports and image folders (and their
    /// legacy ports), and what scripts see of them and of the HTTP URL; the `[clients]` lease files; all of `[dhcp]`,
    /// even added or removed; `[admin]` listen and allow. Every other change waits for a restart: a server section
    /// added or removed, the status page's bounds, `[nbd]` image cache and `keep_replaced`, `[serve]`.
    public var appliedOnReload: [String] { lines.filter(Self.appliesOnReload) }
    /// The changes that wait for a restart.
    public var needingRestart: [String] { lines.filter { !Self.appliesOnReload($0) } }

    private static func appliesOnReload(_ line: String) -> Bool {
        [
            "[[nbd.export]]", "[[nbd.images]]", "[[tftp.route]]", "[tftp.arch]", "[tftp.scripts]", "[tftp] root",
            "[tftp] listen", "[tftp] transfer limits", "[nbd] advertise", "[nbd] listen", "[nbd] limits",
            "[http] advertise", "[http] listen", "[http] limits", "[clients]", "[dhcp]", "[admin] listen",
            "[admin] allow",
        ].contains { line.hasPrefix($0) }
    }

    public init(from old: ThinbootConfig, to new: ThinbootConfig) {
        var lines: [String] = []
        Self.section("tftp", old.tftp, new.tftp, into: &lines) { old, new, lines in
            Self.listen("[tftp] listen", old.listen, new.listen, into: &lines)
            if old.root != new.root { lines.append("[tftp] root: \(old.root) -> \(new.root)") }
            var oldLimits = old.server
            oldLimits.listen = new.server.listen
            if oldLimits != new.server { lines.append("[tftp] transfer limits") }
            Self.routes(old.routes, new.routes, into: &lines)
            if old.arch != new.arch { lines.append("[tftp.arch] table") }
            if old.scripts != new.scripts { lines.append("[tftp.scripts] limits") }
        }
        Self.section("http", old.http, new.http, into: &lines) { old, new, lines in
            Self.listen("[http] listen", old.listen, new.listen, into: &lines)
            var oldServer = old.serverConfiguration()
            oldServer.listen = new.serverConfiguration().listen
            if oldServer != new.serverConfiguration() { lines.append("[http] limits and timeouts") }
            if old.advertise != new.advertise { lines.append("[http] advertise") }
        }
        Self.section("nbd", old.nbd, new.nbd, into: &lines) { old, new, lines in
            Self.listen("[nbd] listen", old.listen, new.listen, into: &lines)
            if old.advertise != new.advertise { lines.append("[nbd] advertise") }
            if old.maxConnections != new.maxConnections || old.maxConnectionsPerClient != new.maxConnectionsPerClient
                || old.maxQueuedReplyBytes != new.maxQueuedReplyBytes
            {
                lines.append("[nbd] limits")
            }
            if old.keepReplaced != new.keepReplaced { lines.append("[nbd] keep_replaced") }
            if old.imageCache != new.imageCache { lines.append("[nbd] image_cache or image_cache_max") }
            let before = Dictionary(old.exports.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let after = Dictionary(new.exports.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for export in new.exports {
                guard let previous = before[export.name] else {
                    lines.append("[[nbd.export]] added: \(export.name)")
                    continue
                }
                if Self.describe(previous) != Self.describe(export) {
                    lines.append("[[nbd.export]] changed: \(export.name)")
                }
            }
            for export in old.exports where after[export.name] == nil {
                lines.append("[[nbd.export]] removed: \(export.name)")
            }
            for folder in new.imageFolders where !old.imageFolders.contains(folder) {
                lines.append("[[nbd.images]] added: \(folder.folder)")
            }
            for folder in old.imageFolders where !new.imageFolders.contains(folder) {
                lines.append("[[nbd.images]] removed: \(folder.folder)")
            }
        }
        Self.section("dhcp", old.dhcp, new.dhcp, into: &lines) { old, new, lines in
            if old.interfaces != new.interfaces {
                lines.append("[dhcp] interfaces: \(Self.names(old.interfaces)) -> \(Self.names(new.interfaces))")
            }
            if old.boot != new.boot { lines.append("[dhcp] boot: \(old.boot) -> \(new.boot)") }
            if old.nextServer != new.nextServer {
                lines.append(
                    "[dhcp] next_server: \(old.nextServer.map { "\($0)" } ?? "-") -> \(new.nextServer.map { "\($0)" } ?? "-")"
                )
            }
            if old.answersPerMAC != new.answersPerMAC || old.maxPending != new.maxPending {
                lines.append("[dhcp] limits")
            }
        }
        if old.clients != new.clients { lines.append("[clients] lease files") }
        Self.section("admin", old.admin, new.admin, into: &lines) { old, new, lines in
            Self.listen("[admin] listen", old.listen, new.listen, into: &lines)
            if old.allow != new.allow {
                lines.append("[admin] allow: \(new.allow.map(\.description).joined(separator: ", "))")
            }
            if old.clients != new.clients || old.historyHours != new.historyHours || old.stages != new.stages {
                lines.append("[admin] clients, history_hours or stages")
            }
        }
        let (oldServe, newServe) = (old.serve, new.serve)
        if oldServe.user != newServe.user {
            lines.append("[serve] user: \(oldServe.user ?? "nobody") -> \(newServe.user ?? "nobody")")
        }
        if oldServe.group != newServe.group {
            lines.append("[serve] group: \(oldServe.group ?? "-") -> \(newServe.group ?? "-")")
        }
        self.lines = lines
    }

    /// A section added, removed, or compared by `compare` when in both.
    private static func section<Section>(
        _ name: String, _ old: Section?, _ new: Section?, into lines: inout [String],
        compare: (Section, Section, inout [String]) -> Void
    ) {
        switch (old, new) {
        case (nil, nil): break
        case (nil, .some): lines.append("[\(name)] added")
        case (.some, nil): lines.append("[\(name)] removed")
        case (.some(let old), .some(let new)): compare(old, new, &lines)
        }
    }

    /// Interface names as the config lists them; "all" for none.
    private static func names(_ interfaces: [String]) -> String {
        interfaces.isEmpty ? "all" : interfaces.joined(separator: ",")
    }

    private static func listen(
        _ key: String, _ old: [ListenAddress], _ new: [ListenAddress], into lines: inout [String]
    ) {
        let added = new.filter { !old.contains($0) }.map { "+\($0)" }
        let removed = old.filter { !new.contains($0) }.map { "-\($0)" }
        if !(added + removed).isEmpty { lines.append("\(key): \((added + removed).joined(separator: " "))") }
    }

    private static func routes(_ old: [RouteConfig], _ new: [RouteConfig], into lines: inout [String]) {
        guard old != new else { return }
        // By path, as the admin wrote them: "+new", "-gone", "~same path, other script or protocols".
        let oldPaths = Set(old.map(\.path))
        let newPaths = Set(new.map(\.path))
        let added = new.filter { !oldPaths.contains($0.path) }.map { "+\($0.path)" }
        let removed = old.filter { !newPaths.contains($0.path) }.map { "-\($0.path)" }
        let changed = new.filter { route in
            old.contains { $0.path == route.path } && !old.contains(route)
        }.map { "~\($0.path)" }
        let moved = added.isEmpty && removed.isEmpty && changed.isEmpty ? ["order"] : []
        lines.append("[[tftp.route]] \((added + removed + changed + moved).joined(separator: " "))")
    }

    /// Every setting of an export, for comparison.
    private static func describe(_ export: NBDExportConfig) -> String {
        "\(export.file)|\(export.port.map(String.init) ?? "-")|\(export.description)|\(export.isDefault)|"
            + "\(export.access)|\(export.legacyStyle)"
    }
}
