/// One `[[tftp.route]]`: a path pattern and the Lua script that answers it.
public struct RouteConfig: Sendable, Equatable {
    /// The glob (`pxelinux.cfg/*`, `ltsp/{arch}/lts.conf`, `**/pxelinux.cfg/*`).
    public let path: String
    /// The script file, absolute.
    public let script: String
    /// `path`, parsed.
    public let pattern: RoutePattern
    /// The protocols this route answers (`protocols = ["http"]`); nil means every protocol.
    public let protocols: Set<String>?
    /// The boot stage this route's files are (`stage = "kernel"`), for the status page; nil: by file name.
    public let stage: StageClassifier.Tag?

    /// Whether the route answers requests of `protocol` (`tftp`, `http`).
    public func serves(_ protocol: String) -> Bool {
        protocols?.contains(`protocol`) ?? true
    }

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        path = try table.requiredString("path")
        script = paths.resolve(try table.requiredString("script"))
        do {
            pattern = try RoutePattern(path)
        } catch {
            throw table.error("path", "\"\(path)\" \(error.problem)")
        }
        if let names = try table.stringArray("protocols") {
            for (index, name) in names.enumerated() where name != "tftp" && name != "http" {
                throw table.error("protocols[\(index)]", "\"\(name)\" is not a protocol: write \"tftp\" or \"http\"")
            }
            protocols = Set(names)
        } else {
            protocols = nil
        }
        stage = try table.has("stage") ? StageClassifier.Tag(stage: table, path: path, route: path) : nil
        try table.finish()
    }
}
