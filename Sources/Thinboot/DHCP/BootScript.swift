import DHCP
import Files
import Logging
import NBD
import Scripting
import TFTP

/// The `[dhcp] boot` script as the ProxyDHCP responder calls it: the request as `req`, on the same sandbox and
/// limits as routes, and what it returned as a ``BootChoice``.
///
/// Returns: a file name (TFTP from this host), `{ file = …, server = … }`, an `http://` URL (the boot URI for
/// HTTP boot clients and iPXE), `thinboot.file(path)`, or nil (silence).
public struct BootScript: Sendable {
    public let script: String
    let pool: ScriptPool

    public init(script: String, pool: ScriptPool) {
        self.script = script
        self.pool = pool
    }

    /// The boot script of `[dhcp]` on a pool like the routes': the same sandbox, `[tftp.scripts]`' limits,
    /// `thinboot.file` under the TFTP root (the config's folder on a DHCP-only host), `thinboot.data` under the
    /// config's folder.
    public static func make(
        config: ThinbootConfig, dhcp: DHCPSection, exportStore: NBDExportStore? = nil, logger: Logger
    ) throws -> BootScript {
        let settings = config.tftp?.scripts ?? ScriptSettings()
        let host = ThinbootScriptHost(
            root: try ConfinedDirectory(path: config.tftp?.root ?? config.directory),
            dataRoot: try ConfinedDirectory(path: config.directory), nbd: config.nbd, exportStore: exportStore,
            http: config.http, logger: logger)
        let pool = ScriptPool(host: host, limits: settings.limits, workers: settings.workers, logger: logger)
        return BootScript(script: dhcp.boot, pool: pool)
    }

    /// Compiles the script as a request would (its top-level code runs once), for `thinboot check`.
    public func check() async throws(ScriptError) {
        try await pool.check(script: script)
    }

    /// What the script chose for `request`; a failing script or an unusable answer throws. `thinboot.url` names
    /// the address the request reached, as it does for a TFTP or HTTP request.
    public func choose(_ request: PXEClientRequest) async throws(BootScriptError) -> BootChoice {
        let output: ScriptOutput
        do {
            output = try await pool.run(
                script: script, argument: Self.requestValue(request),
                info: ScriptCallInfo(
                    script: script, serverAddress: request.localAddress?.description, acceptsFields: true))
        } catch {
            throw BootScriptError(script: script, line: error.line, reason: error.reason)
        }
        return try choice(from: output)
    }

    /// The `req` table of a DHCP request.
    public static func requestValue(_ request: PXEClientRequest) -> ScriptValue {
        var fields: [String: ScriptValue] = [
            "protocol": "dhcp",
            "mac": .text(request.macText),
            "vendor_class": .text(request.vendorClass),
            "interface": .text(request.interface),
            "message": .text(request.message.name),
        ]
        if let arch = request.architecture {
            fields["arch_code"] = .integer(Int64(arch.code))
            if let name = arch.name { fields["arch"] = .text(name) }
        }
        if let uuid = request.uuid { fields["uuid"] = .text(uuid) }
        if let userClass = request.userClass { fields["user_class"] = .text(userClass) }
        if let relay = request.relay { fields["relay"] = .text(relay.description) }
        if let ip = request.clientAddress { fields["ip"] = .text(ip.description) }
        return .record(fields)
    }

    func choice(from output: ScriptOutput) throws(BootScriptError) -> BootChoice {
        switch output {
        case .nothing:
            return .silent
        case .bytes(let bytes):
            return try Self.target(String(decoding: bytes, as: UTF8.self), server: nil, script: script)
        case .file(let path):
            return try Self.target(path, server: nil, script: script)
        case .imageFile:
            throw BootScriptError(
                script: script, line: nil,
                reason: "returned thinboot.image_file: a DHCP answer names a file, return its TFTP path instead")
        case .fields(let fields):
            guard let file = fields["file"] else {
                throw BootScriptError(
                    script: script, line: nil,
                    reason: "returned a table without `file`: return { file = NAME, server = IP }")
            }
            var server: IPv4Address?
            if let text = fields["server"].map({ String(decoding: $0, as: UTF8.self) }) {
                guard let address = IPv4Address(parsing: text) else {
                    throw BootScriptError(
                        script: script, line: nil, reason: "server \"\(text)\" is not an IPv4 address")
                }
                server = address
            }
            return try Self.target(String(decoding: file, as: UTF8.self), server: server, script: script)
        }
    }

    private static func target(_ text: String, server: IPv4Address?, script: String) throws(BootScriptError)
        -> BootChoice
    {
        guard !text.isEmpty, text.utf8.count <= BootChoice.maxFileLength, !text.utf8.contains(0) else {
            throw BootScriptError(
                script: script, line: nil,
                reason: "boot file of \(text.utf8.count) bytes: use 1...\(BootChoice.maxFileLength) bytes without NUL")
        }
        if text.hasPrefix("http://") || text.hasPrefix("https://") { return .url(text) }
        return .file(text, server: server)
    }
}

/// A boot script that failed or returned something that cannot be a boot file: the client gets no answer and
/// the log gets `dhcp.outcome="script error"` with this.
public struct BootScriptError: Error, Sendable, CustomStringConvertible {
    public let script: String
    public let line: Int?
    public let reason: String

    public var description: String {
        "\(script)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}
