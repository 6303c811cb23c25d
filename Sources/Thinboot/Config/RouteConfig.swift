/// One `[[tftp.route]]`: a path pattern and the Lua script that answers it.
public struct RouteConfig: Sendable, Equatable {
    /// The glob (`pxelinux.cfg/*`, `ltsp/{arch}/lts.conf`, `**/pxelinux.cfg/*`).
    public let path: String
    /// The script file, absolute.
    public let script: String
    /// `path`, parsed.
    public let pattern: RoutePattern

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        path = try table.requiredString("path")
        script = paths.resolve(try table.requiredString("script"))
        do {
            pattern = try RoutePattern(path)
        } catch {
            throw table.error("path", "\"\(path)\" \(error.problem)")
        }
        try table.finish()
    }
}
