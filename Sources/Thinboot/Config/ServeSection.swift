/// `[serve]`: how the `serve` process runs, whatever servers it runs.
///
/// ```toml
/// [serve]
/// user  = "thinboot"   # started as root, serve becomes this user once its config is read; default "nobody"
/// group = "thinboot"   # default: the user's own group
/// ```
public struct ServeSection: Sendable, Equatable {
    /// The account `serve` runs as when started as root (`user`); nil for the default, `nobody`.
    public let user: String?
    /// The group (`group`); nil for the user's primary group.
    public let group: String?

    public init(user: String? = nil, group: String? = nil) {
        self.user = user
        self.group = group
    }

    init(_ table: ConfigTable) throws(ConfigError) {
        user = try table.string("user")
        group = try table.string("group")
        for key in ["user", "group"] {
            if let name = key == "user" ? user : group, name.isEmpty || name.contains(":") || name.contains("/") {
                throw table.error(key, "\"\(name)\" is not an account name (`getent passwd` lists them)")
            }
        }
        try table.finish()
    }
}
