import Logging
import NIOCore
import Scripting
import TFTP

/// Answers TFTP read requests: the first `[[tftp.route]]` whose pattern matches runs its Lua script with the
/// client's context; no match, or a script returning nil, falls through to the static root. A failing script
/// answers ERROR 0 with a short message and logs one line with the script, line and reason.
public final class Router: TFTPContentProvider {
    /// The routes in config order.
    public let routes: [RouteConfig]
    let root: any ConfinedFiles
    let pool: ScriptPool
    let arch: ArchTable
    let clients: ClientMemory
    /// What ProxyDHCP taught per MAC: the firmware's architecture beats a guess from the boot loader.
    let learned: DHCPLearnedClients
    let neighbours: @Sendable (String) -> MACAddress?
    let logger: Logger
    private let generated = GeneratedContentCache()

    /// A router over `root` running `routes` on `pool`. `neighbours` looks a client IP up in the kernel's
    /// neighbour table (replaceable in tests).
    public init(
        routes: [RouteConfig], root: any ConfinedFiles, pool: ScriptPool, arch: ArchTable = ArchTable(),
        clients: ClientMemory = ClientMemory(), learned: DHCPLearnedClients = DHCPLearnedClients(),
        neighbours: @escaping @Sendable (String) -> MACAddress? = { NeighbourTable().mac(for: $0) },
        logger: Logger
    ) {
        self.routes = routes
        self.root = root
        self.pool = pool
        self.arch = arch
        self.clients = clients
        self.learned = learned
        self.neighbours = neighbours
        self.logger = logger
    }

    /// A static file, or a script's answer still cached for this client; nil when a script must run.
    public func immediateContent(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPContent? {
        let ip = noteBootLoader(request)
        guard firstRoute(for: request.path) != nil else { return try root.content(at: request.path) }
        return generated.bytes(ip: ip, path: request.path).map { .bytes($0) }
    }

    public func content(for request: TFTPReadRequest) async throws(TFTPRefusal) -> TFTPContent {
        let ip = noteBootLoader(request)
        let boot = BootRequest(
            path: request.path, ip: ip, port: request.client.port ?? 0, localIP: request.local.ipAddress,
            options: request.options, mode: request.mode.rawValue)
        return try await answer(boot, knownMAC: nil, knownArch: nil)
    }

    /// Remembers the architecture of a boot loader the client fetches, for its later requests; returns the
    /// client's IP as text.
    private func noteBootLoader(_ request: TFTPReadRequest) -> String {
        let ip = request.client.ipAddress ?? "?"
        if let loaderArch = arch.arch(forLoaderPath: request.path) {
            clients.remember(arch: loaderArch, for: ip)
        }
        return ip
    }

    /// Answers `request` as the server would. `knownMAC`/`knownArch` stand in for the neighbour table and the
    /// boot-loader memory (for `thinboot render`); the path and route captures still take precedence.
    public func answer(_ request: BootRequest, knownMAC: MACAddress?, knownArch: String?) async throws(TFTPRefusal)
        -> TFTPContent
    {
        guard let (route, match) = firstRoute(for: request.path) else {
            return try root.content(at: request.path)
        }
        var request = request
        request.match = match
        request.mac = mac(for: request, match: match) ?? knownMAC
        request.arch =
            match.params["arch"] ?? knownArch ?? request.mac.flatMap(learned.arch(for:))
            ?? clients.arch(for: request.ip)
        if let cached = generated.bytes(ip: request.ip, path: request.path) { return .bytes(cached) }

        let output: ScriptOutput
        do {
            output = try await pool.run(
                script: route.script, argument: request.scriptValue,
                info: ScriptCallInfo(script: route.script, serverAddress: request.localIP))
        } catch {
            logger.error(
                "route script failed",
                metadata: [
                    "script": "\(error.script)", "line": "\(error.line.map(String.init) ?? "-")",
                    "reason": "\(error.reason)", "kind": "\(error.kind.rawValue)", "tftp.peer": "\(request.ip)",
                    "tftp.path": "\(request.path)",
                ])
            throw TFTPRefusal(code: .notDefined, message: "Script error", outcome: "script error")
        }
        switch output {
        case .bytes(let bytes):
            generated.store(bytes, ip: request.ip, path: request.path)
            return .bytes(bytes)
        case .file(let path):
            return try root.content(at: path)
        case .nothing:
            return try root.content(at: request.path)
        case .fields:
            // Routes never ask for tables (ScriptCallInfo.acceptsFields is false): the pool refuses them.
            throw TFTPRefusal(code: .notDefined, message: "Script error", outcome: "script error")
        }
    }

    /// The first route matching `path`, with its captures.
    public func firstRoute(for path: String) -> (RouteConfig, RouteMatch)? {
        for route in routes {
            if let match = route.pattern.match(path) { return (route, match) }
        }
        return nil
    }

    /// The client's MAC: a `{mac}` capture (any form), a MAC in the path, the kernel's neighbour table, or what
    /// an earlier request from the same IP revealed. A MAC found is remembered for that IP.
    private func mac(for request: BootRequest, match: RouteMatch) -> MACAddress? {
        if let text = match.params["mac"], let mac = MACAddress(parsing: text) {
            clients.remember(mac: mac, for: request.ip)
            return mac
        }
        if let mac = MACAddress(inPath: request.path) ?? neighbours(request.ip) {
            clients.remember(mac: mac, for: request.ip)
            return mac
        }
        return clients.mac(for: request.ip)
    }
}
