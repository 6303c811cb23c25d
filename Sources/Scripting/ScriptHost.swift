/// What the `thinboot` table in scripts is backed by. The host decides which files scripts may reach; the
/// runtime only converts values and turns thrown `ScriptHostError`s into Lua errors. Methods run on worker
/// threads, several at once.
public protocol ScriptHost: Sendable {
    /// `thinboot.exports()`: the NBD exports, as a list of records.
    func exports(for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue
    /// `thinboot.file(path)`: checks that `path` is a readable file inside the allowed roots and returns the
    /// path to stream (passed back in `ScriptOutput.file`).
    func file(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String
    /// `thinboot.read(path)`: the bytes of a file inside the allowed roots.
    func read(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [UInt8]
    /// `thinboot.data(path)`: a TOML or CSV inventory as a value, cached until the file changes.
    func data(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue
    /// `thinboot.log(level, message)`.
    func log(_ level: ScriptLogLevel, _ message: String, for call: ScriptCallInfo)
    /// `thinboot.url(path)`: the absolute URL of `path` on this server's HTTP listener.
    func url(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String
    /// `thinboot.image_file(export, path)`: the normalised path to stream from inside the export's image (passed
    /// back in `ScriptOutput.imageFile`; looked up when the answer is read).
    func imageFile(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String
    /// `thinboot.image_read(export, path)`: the bytes of a file inside the export's image.
    func imageRead(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [UInt8]
    /// `thinboot.image_list(export, dir)`: the names in a folder inside the export's image, sorted.
    func imageList(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [String]
}

extension ScriptHost {
    /// Hosts without an HTTP server have no URLs to give.
    public func url(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String {
        throw ScriptHostError("no HTTP server: add an [http] section")
    }

    /// Hosts without NBD exports have no images to read.
    public func imageFile(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> String
    {
        throw ScriptHostError("no image export \(export): add it to [nbd]")
    }

    public func imageRead(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> [UInt8]
    {
        throw ScriptHostError("no image export \(export): add it to [nbd]")
    }

    public func imageList(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> [String]
    {
        throw ScriptHostError("no image export \(export): add it to [nbd]")
    }
}

/// Who is calling the host: the script and the request's server address (for `nbdroot=` strings).
public struct ScriptCallInfo: Sendable, Hashable {
    /// The script file.
    public var script: String
    /// The address the client reached this server on, when there is a client.
    public var serverAddress: String?
    /// Whether the caller takes a returned table as ``ScriptOutput/fields(_:)`` (DHCP boot scripts); route
    /// scripts returning a table fail as before.
    public var acceptsFields: Bool

    public init(script: String, serverAddress: String? = nil, acceptsFields: Bool = false) {
        self.script = script
        self.serverAddress = serverAddress
        self.acceptsFields = acceptsFields
    }
}

/// A host refusal, raised in the script as a Lua error with this message (the script may catch it with pcall).
public struct ScriptHostError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Levels for `thinboot.log`.
public enum ScriptLogLevel: String, Sendable, CaseIterable {
    case debug, info, notice, warning, error
}
