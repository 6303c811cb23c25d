/// `[nbd]`: where the NBD server listens and the images it exports.
public struct NBDSection: Sendable {
    /// Addresses to listen on (`listen`), default `0.0.0.0:10809`.
    public let listen: [ListenAddress]
    /// The host put into `nbdroot=` strings when NBD runs on another host than TFTP (`advertise`).
    public let advertise: String?
    /// `[[nbd.export]]` in order.
    public let exports: [NBDExportConfig]

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: ["0.0.0.0:10809"])
        advertise = try table.string("advertise")
        exports = try table.tables("export").map { export throws(ConfigError) in
            try NBDExportConfig(export, paths: paths)
        }
        try table.finish()
    }
}

/// One `[[nbd.export]]`.
public struct NBDExportConfig: Sendable {
    /// The export name clients ask for.
    public let name: String
    /// The image file, absolute.
    public let file: String
    /// A legacy port serving only this export, or nil.
    public let port: Int?

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        name = try table.requiredString("name")
        file = paths.resolve(try table.requiredString("file"))
        port = try table.int("port")
        try table.finish()
    }
}
