/// What differs between two configs, one line per change an admin would name ("[tftp] listen: +127.0.0.1:1069"),
/// in the file's order. `thinboot check --against OLD` prints it, and a SIGHUP reload logs it.
public struct ConfigChanges: Sendable, Equatable {
    /// The changes, each a short sentence; empty when the configs serve the same.
    public let lines: [String]

    public var isEmpty: Bool { lines.isEmpty }

    /// The changes a running `serve` takes on SIGHUP: the routes, their scripts' limits, the arch table and the
    /// root; TFTP's limits and listen addresses; the NBD exports (and their legacy ports), and what scripts see of them and of the HTTP URL; the `[clients]` lease files. Every
    /// other change waits for a restart.
    public var appliedOnReload: [String] { lines.filter(Self.appliesOnReload) }
    /// The changes that wait for a restart.
    public var needingRestart: [String] { lines.filter { !Self.appliesOnReload($0) } }

    private static func appliesOnReload(_ line: String) -> Bool {
        [
            "[[nbd.export]]", "[[tftp.route]]", "[tftp.arch]", "[tftp.scripts]", "[tftp] root", "[tftp] listen",
            "[tftp] transfer limits", "[nbd] advertise", "[http] advertise",
            "[clients]",
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
            if oldServer != new.serverConfiguration() { lines.append("[http] limits") }
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
        }
        Self.section("dhcp", old.dhcp, new.dhcp, into: &lines) { old, new, lines in
            if old != new { lines.append("[dhcp] settings") }
        }
        if old.clients != new.clients { lines.append("[clients] lease files") }
        if old.admin != new.admin { lines.append("[admin] settings") }
        if old.serve != new.serve { lines.append("[serve] user or group") }
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
