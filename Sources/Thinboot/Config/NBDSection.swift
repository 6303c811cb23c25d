import Images
import Logging
import NBD

/// `[nbd]`: where the NBD server listens and the images it exports.
public struct NBDSection: Sendable {
    /// Addresses to listen on (`listen`), default `0.0.0.0:10809`.
    public let listen: [ListenAddress]
    /// The host put into `nbdroot=` strings when NBD runs on another host than TFTP (`advertise`).
    public let advertise: String?
    /// `[[nbd.export]]` in order.
    public let exports: [NBDExportConfig]
    /// `[[nbd.images]]`: folders whose `*.img` files are exports too.
    public let imageFolders: [NBDImageFolder]
    /// How long a replaced image version stays servable by `NAME@VERSION` (`keep_replaced`, seconds).
    public let keepReplaced: Duration
    /// Connections open at once, in total (`max_connections`) and per client IP (`max_connections_per_client`).
    public let maxConnections: Int
    public let maxConnectionsPerClient: Int
    /// Reply bytes queued per connection before it stops taking requests (`max_queued_reply_bytes`).
    public let maxQueuedReplyBytes: Int
    /// Where files read from inside images are cached (`image_cache`, a folder; default the system temp folder)
    /// and how much of it they may take (`image_cache_max`, default 4G).
    public let imageCache: ImageCacheSettings

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        listen = try ListenAddress.list("listen", in: table, default: ["0.0.0.0:10809"])
        advertise = try table.string("advertise")
        maxConnections = try table.int(
            "max_connections", default: NBDServerConfiguration.defaultMaxConnections,
            in: NBDServerConfiguration.connectionLimitRange)
        maxConnectionsPerClient = try table.int(
            "max_connections_per_client", default: NBDServerConfiguration.defaultMaxConnectionsPerClient,
            in: NBDServerConfiguration.connectionLimitRange)
        let range = NBDServerConfiguration.queuedReplyBytesRange
        let queued = try NBDExportConfig.byteCount("max_queued_reply_bytes", in: table)
        if let queued, !range.contains(Int(clamping: queued)) {
            throw table.error(
                "max_queued_reply_bytes",
                "\(queued) is out of range: use \(range.lowerBound)...\(range.upperBound) bytes")
        }
        maxQueuedReplyBytes = queued.map { Int($0) } ?? NBDServerConfiguration.defaultMaxQueuedReplyBytes
        var imageCache = ImageCacheSettings()
        if let folder = try table.string("image_cache") { imageCache.folder = paths.resolve(folder) }
        if let bytes = try NBDExportConfig.byteCount("image_cache_max", in: table) {
            imageCache.diskBytes = Int(clamping: bytes)
        }
        self.imageCache = imageCache
        exports = try table.tables("export").map { export throws(ConfigError) in
            try NBDExportConfig(export, paths: paths)
        }
        imageFolders = try table.tables("images").map { images throws(ConfigError) in
            let folder = NBDImageFolder(
                folder: paths.resolve(try images.requiredString("folder")),
                prefix: try images.string("prefix", default: ""))
            if !folder.prefix.isEmpty && !NBDExportDefinition.isValidName(folder.prefix) {
                throw images.error("prefix", "\"\(folder.prefix)\" cannot start an export name: leave out `@`")
            }
            try images.finish()
            return folder
        }
        let defaultKeep = Int(NBDExportStore.defaultKeepReplaced.components.seconds)
        keepReplaced = .seconds(
            try table.int(
                "keep_replaced", default: defaultKeep, in: NBDServerConfiguration.keepReplacedSecondsRange))
        try table.finish()
        try checkUnique(table)
    }

    /// Refuses two exports with one name, two defaults, and a legacy port used twice or by a listener.
    private func checkUnique(_ table: ConfigTable) throws(ConfigError) {
        var names: [String: Int] = [:]
        var ports: [Int: String] = [:]
        for address in listen { ports[address.port] = "nbd.listen" }
        var defaultIndex: Int?
        for (index, export) in exports.enumerated() {
            let key = "export[\(index)]"
            if let earlier = names[export.name] {
                throw table.error(
                    "\(key).name",
                    "\"\(export.name)\" is already the name of nbd.export[\(earlier)]; names must be unique")
            }
            names[export.name] = index
            if export.isDefault {
                if let defaultIndex {
                    throw table.error(
                        "\(key).default", "nbd.export[\(defaultIndex)] is already the default; only one export can be")
                }
                defaultIndex = index
            }
            if let port = export.port {
                if let owner = ports[port] {
                    throw table.error(
                        "\(key).port", "port \(port) is already used by \(owner); give each legacy export its own port")
                }
                ports[port] = "nbd.\(key)"
            }
        }
    }

    /// The server settings this section describes.
    public func serverConfiguration() -> NBDServerConfiguration {
        NBDServerConfiguration(
            listen: listen.map { (host: $0.host, port: $0.port) }, exports: exports.map(\.definition),
            imageFolders: imageFolders, keepReplaced: keepReplaced,
            maxConnections: maxConnections, maxConnectionsPerClient: maxConnectionsPerClient,
            maxQueuedReplyBytes: maxQueuedReplyBytes)
    }

    /// The store of every export and image version this section describes, for the NBD server and the route
    /// scripts of one process.
    public func makeExportStore(logger: Logger) -> NBDExportStore {
        NBDExportStore(
            exports: exports.map(\.definition), folders: imageFolders, keepReplaced: keepReplaced, logger: logger)
    }

    /// Every export, configured or found in a folder, with its file's size and version, or why it cannot be
    /// served (for `thinboot check`).
    public func exportStatuses(logger: Logger) -> [NBDExportStatus] {
        let store = makeExportStore(logger: logger)
        return store.definitions.map { NBDExportStatus($0, in: store) }
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
    /// Shown to clients listing exports.
    public let description: String
    /// Served to clients that ask for the empty name.
    public let isDefault: Bool
    /// `readonly` (default true), `cow` and `cow_max` as one access mode.
    public let access: NBDExportAccess
    /// The handshake on the legacy port: newstyle (default) or oldstyle.
    public let legacyStyle: NBDHandshakeStyle
    /// For a raw disk image, the partition files are read from (`partition`, 1-based); nil: the first Linux one.
    public let partition: Int?

    init(_ table: ConfigTable, paths: PathResolver) throws(ConfigError) {
        name = try table.requiredString("name")
        if !NBDExportDefinition.isValidName(name) {
            throw table.error(
                "name",
                "must be 1 to \(NBDLimits.maximumStringLength - 9) bytes without `@` (NAME@VERSION pins a version); use `default = true` for the empty name"
            )
        }
        file = paths.resolve(try table.requiredString("file"))
        port = try table.int("port")
        if let port, !(1...65535).contains(port) {
            throw table.error("port", "\(port) is out of range: use 1...65535")
        }
        description = try table.string("description", default: "")
        isDefault = try table.bool("default", default: false)
        let readOnly = try table.bool("readonly", default: true)
        let copyOnWrite = try table.bool("cow", default: false)
        if copyOnWrite && !readOnly {
            throw table.error("readonly", "cow = true never writes the image; remove readonly = false")
        }
        let copyOnWriteLimit = try Self.byteCount("cow_max", in: table)
        if copyOnWriteLimit != nil && !copyOnWrite {
            throw table.error("cow_max", "only applies with cow = true")
        }
        access =
            copyOnWrite
            ? .copyOnWrite(limit: copyOnWriteLimit ?? NBDExportAccess.defaultCopyOnWriteLimit)
            : readOnly ? .readOnly : .writable
        switch try table.string("legacy", default: "newstyle") {
        case "newstyle": legacyStyle = .newstyle
        case "oldstyle": legacyStyle = .oldstyle
        case let other:
            throw table.error("legacy", "\"\(other)\" is not a handshake: write \"newstyle\" or \"oldstyle\"")
        }
        if table.has("legacy") && port == nil {
            throw table.error("legacy", "only applies to a legacy port: add `port = …`")
        }
        partition = try table.int("partition")
        if let partition, !(1...1024).contains(partition) {
            throw table.error("partition", "\(partition) is out of range: partitions count from 1 (sda1)")
        }
        try table.finish()
    }

    /// A size as an integer of bytes or a string with a K, M, G or T suffix (`"512M"`).
    static func byteCount(_ key: String, in table: ConfigTable) throws(ConfigError) -> UInt64? {
        guard table.has(key) else { return nil }
        if let bytes = try? table.int(key) {
            guard bytes > 0 else { throw table.error(key, "must be positive") }
            return UInt64(bytes)
        }
        let text = try table.requiredString(key)
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let unit = text.last.flatMap({ units[Character($0.uppercased())] }), let number = UInt64(text.dropLast()),
            number > 0
        {
            return number * unit
        }
        throw table.error(
            key, "\"\(text)\" is not a size: write bytes (1048576) or a number with K, M, G or T (\"512M\")")
    }

    /// The NBD server's view of this export.
    public var definition: NBDExportDefinition {
        NBDExportDefinition(
            name: name, path: file, description: description, isDefault: isDefault, access: access,
            legacyPort: port, legacyStyle: legacyStyle)
    }
}
