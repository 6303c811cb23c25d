import Files
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// An export chosen by a client: its definition and the mapped image it reads from for the whole connection.
public struct NBDOpenExport: Sendable {
    public let definition: NBDExportDefinition
    public let image: MappedImage
    /// The name the client asked for: `NAME`, or `NAME@VERSION` for a pinned one.
    public let requestedName: String

    /// What the handshake reports.
    public var info: NBDExportInfo {
        NBDExportInfo(
            name: requestedName, description: definition.description, size: image.size,
            flags: definition.transmissionFlags)
    }
}

/// The exports (configured, and found in image folders) and their mapped images, shared by every listener,
/// connection and script. Each image is mapped once per version. A new connection checks the file and maps it
/// again only when it was replaced (another inode) or resized; connections already open keep their mapping, and a
/// shared mapping follows in-place changes by itself.
///
/// A replaced version stays servable as `NAME@VERSION` for `keepReplaced`, so a boot that started on it ends on
/// it: its config, kernel and root all name the same bytes. ``refresh(now:)`` notices replacements, folder
/// changes and expiries; ``ImageFolderWatcher`` calls it when a watched folder changes and every second.
public final class NBDExportStore: Sendable {
    private struct State {
        var configured: [NBDExportDefinition] = []
        var folders: [NBDImageFolder] = []
        /// Exports found in folders that passed the settle rule, by path.
        var discovered: [String: NBDExportDefinition] = [:]
        /// Folder files not yet settled: the version seen and when it was first seen so.
        var sightings: [String: (version: FileVersion, since: ContinuousClock.Instant)] = [:]
        /// Every export name's versions, including names no longer exported whose last version is kept.
        var versions: [String: ExportVersions] = [:]
        /// Names whose folder file lost to a configured export or an earlier folder, warned about once.
        var shadowed: Set<String> = []
        /// Exports whose image cannot be opened now, warned about once until it can.
        var unavailable: Set<String> = []
    }

    /// How long a replaced version stays servable by `NAME@VERSION`.
    public let keepReplaced: Duration
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    public static let defaultKeepReplaced = Duration.seconds(15 * 60)
    /// Replaced versions kept per export at most, whatever their age: each holds a descriptor and a mapping.
    public static let maximumReplacedVersions = 4
    /// A file new in a folder is taken once unchanged for this long, or at once when it was last written more
    /// than `writtenLongAgo` nanoseconds ago.
    static let folderSettle = Duration.seconds(1)
    static let writtenLongAgo = 3_000_000_000

    public init(
        exports: [NBDExportDefinition], folders: [NBDImageFolder] = [], keepReplaced: Duration = defaultKeepReplaced,
        logger: Logger = Logger(label: "thinboot.nbd", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.keepReplaced = keepReplaced
        self.logger = logger
        replace(exports, folders: folders)
    }

    /// Swaps in a new export list and folders (SIGHUP). Connections already open keep the images they hold.
    public func replace(_ exports: [NBDExportDefinition], folders: [NBDImageFolder] = []) {
        state.withLockedValue { state in
            state.configured = exports
            if state.folders != folders {
                state.folders = folders
                state.discovered = [:]
                state.sightings = [:]
            }
        }
        refresh()
    }

    /// The exports served now: the configured ones in order, then those found in folders, by name.
    public var definitions: [NBDExportDefinition] { state.withLockedValue { Self.definitions(of: $0) } }

    /// The folders watched for images.
    public var folders: [NBDImageFolder] { state.withLockedValue { $0.folders } }

    /// The definition a newstyle client gets for `name` on the main port: that name, or the default for "".
    public func definition(named name: String) -> NBDExportDefinition? {
        let definitions = definitions
        if let match = definitions.first(where: { $0.name == name }) { return match }
        if name.isEmpty { return definitions.first(where: \.isDefault) }
        return nil
    }

    /// The export `requested` names: `NAME` (its newest version, or the default for ""), or `NAME@VERSION` (that
    /// version, while it is current or kept). Nil for an unknown name or version; throws when the file of the
    /// newest version cannot be opened.
    public func open(named requested: String) throws(NBDImageError) -> NBDOpenExport? {
        guard let at = requested.utf8.lastIndex(of: UInt8(ascii: "@")) else {
            guard let definition = definition(named: requested) else { return nil }
            return try open(definition)
        }
        let name = String(requested[..<at])
        guard let version = ImageVersion(id: String(requested[requested.index(after: at)...])) else { return nil }
        if let definition = definition(named: name), let newest = try? open(definition),
            newest.image.contentVersion == version
        {
            return NBDOpenExport(definition: definition, image: newest.image, requestedName: requested)
        }
        let now = ContinuousClock.now
        return state.withLockedValue { state in
            guard let kept = state.versions[name]?.image(version, at: now) else { return nil }
            return NBDOpenExport(definition: kept.definition, image: kept.image, requestedName: requested)
        }
    }

    /// Opens `definition`'s newest image, mapping the file again if it was replaced or resized (which publishes a
    /// new version and keeps the one before).
    public func open(_ definition: NBDExportDefinition) throws(NBDImageError) -> NBDOpenExport {
        let writable = definition.access == .writable
        let cached = state.withLockedValue { $0.versions[definition.name]?.current }
        if let cached, cached.image.writable == writable, cached.image.path == definition.path, !cached.image.isStale,
            let now = FileVersion(path: definition.path),
            now.isSameFile(as: cached.image.version), now.size == cached.image.version.size
        {
            return NBDOpenExport(definition: definition, image: cached.image, requestedName: definition.name)
        }
        let image = try MappedImage(path: definition.path, writable: writable)
        publish(image, as: definition)
        return NBDOpenExport(definition: definition, image: image, requestedName: definition.name)
    }

    /// The versions of `name` a client can pin now, newest first.
    public func versions(of name: String) -> [ImageVersion] {
        let now = ContinuousClock.now
        return state.withLockedValue { $0.versions[name]?.servable(at: now).map(\.image.contentVersion) ?? [] }
    }

    /// Looks at every file again: folder images added, settled, replaced or removed, configured images replaced,
    /// and kept versions past `keepReplaced`. Cheap when nothing changed (a `readdir` per folder, a `stat` per
    /// image).
    public func refresh(now: ContinuousClock.Instant = .now) {
        scanFolders(now: now)
        let live = definitions
        for definition in live {
            let current = state.withLockedValue { $0.versions[definition.name]?.current?.image }
            guard let file = FileVersion(path: definition.path) else {
                retire(definition.name, because: "its file is gone", now: now)
                warnUnavailable(definition, NBDImageError(path: definition.path, problem: "the file is gone"))
                continue
            }
            if let current, current.path == definition.path, file.isSameFile(as: current.version),
                file.size == current.version.size
            {
                continue
            }
            do throws(NBDImageError) {
                _ = try open(definition)
                state.withLockedValue { _ = $0.unavailable.remove(definition.name) }
            } catch {
                warnUnavailable(definition, error)
            }
        }
        let names = Set(live.map(\.name))
        let gone = state.withLockedValue { state in state.versions.keys.filter { !names.contains($0) } }
        for name in gone { retire(name, because: "it is no longer exported", now: now) }
        expire(now: now)
    }

    /// Every export with its current size, or the reason it cannot be opened (for `thinboot check`).
    public func inventory() -> [(definition: NBDExportDefinition, size: Result<UInt64, NBDImageError>)] {
        definitions.map { definition in
            do throws(NBDImageError) {
                return (definition, .success(try open(definition).image.size))
            } catch {
                return (definition, .failure(error))
            }
        }
    }

    // MARK: - Versions

    private func publish(_ image: MappedImage, as definition: NBDExportDefinition) {
        let now = ContinuousClock.now
        let (previous, dropped) = state.withLockedValue { state in
            var versions = state.versions[definition.name] ?? ExportVersions()
            let previous = versions.current
            let dropped = versions.publish(
                KeptImage(definition: definition, image: image), keeping: keepReplaced, now: now,
                limit: Self.maximumReplacedVersions)
            state.versions[definition.name] = versions
            return (previous, dropped)
        }
        if previous?.image.contentVersion == image.contentVersion { return }
        var metadata: Logger.Metadata = [
            "nbd.export": "\(definition.name)", "nbd.version": "\(image.contentVersion)", "nbd.file": "\(image.path)",
            "nbd.size": "\(image.size)",
        ]
        if let previous { metadata["nbd.replaces"] = "\(previous.image.contentVersion)" }
        logger.notice("nbd image version published", metadata: metadata)
        for kept in dropped { logDropped(kept, reason: "more than \(Self.maximumReplacedVersions) replaced versions") }
    }

    private func retire(_ name: String, because reason: String, now: ContinuousClock.Instant) {
        let retired = state.withLockedValue { state -> KeptImage? in
            guard var versions = state.versions[name], let current = versions.current else { return nil }
            versions.retireCurrent(keeping: keepReplaced, now: now)
            state.versions[name] = versions
            return current
        }
        guard let retired else { return }
        logger.notice(
            "nbd image withdrawn; its version stays servable by name@version",
            metadata: [
                "nbd.export": "\(name)", "nbd.version": "\(retired.image.contentVersion)", "nbd.reason": "\(reason)",
                "nbd.keep_seconds": "\(keepReplaced.components.seconds)",
            ])
    }

    private func expire(now: ContinuousClock.Instant) {
        let dropped = state.withLockedValue { state in
            var dropped: [KeptImage] = []
            for name in Array(state.versions.keys) {
                dropped += state.versions[name]!.expire(at: now)
                if state.versions[name]!.isEmpty { state.versions[name] = nil }
            }
            return dropped
        }
        for kept in dropped { logDropped(kept, reason: "replaced more than keep_replaced ago") }
    }

    private func logDropped(_ kept: KeptImage, reason: String) {
        logger.notice(
            "nbd image version dropped",
            metadata: [
                "nbd.export": "\(kept.definition.name)", "nbd.version": "\(kept.image.contentVersion)",
                "nbd.reason": "\(reason)",
            ])
    }

    // MARK: - Folders

    private static func definitions(of state: State) -> [NBDExportDefinition] {
        var names = Set(state.configured.map(\.name))
        var all = state.configured
        for definition in state.discovered.values.sorted(by: { $0.name < $1.name })
        where names.insert(definition.name).inserted {
            all.append(definition)
        }
        return all
    }

    /// Reads every folder and applies the settle rule: a new or changed file is taken once it has not changed
    /// for `folderSettle` (a file still being written keeps changing), or at once when it was last written
    /// longer ago than `writtenLongAgo`.
    private func scanFolders(now: ContinuousClock.Instant) {
        let folders = state.withLockedValue { $0.folders }
        var found: [String: (name: String, version: FileVersion)] = [:]
        var seenNames: [String: String] = [:]
        for folder in folders {
            for file in Self.files(in: folder.folder).sorted() {
                guard let name = folder.exportName(forFile: file) else { continue }
                let path = folder.folder + "/" + file
                guard let version = FileVersion(path: path), version.isRegularFile else { continue }
                if let earlier = seenNames[name] {
                    warnShadowed(name, path: path, by: earlier)
                    continue
                }
                seenNames[name] = path
                found[path] = (name, version)
            }
        }
        let shadowedByConfig = state.withLockedValue { state in
            let configured = Dictionary(
                state.configured.map { ($0.name, $0.path) }, uniquingKeysWith: { first, _ in first })
            var discovered: [String: NBDExportDefinition] = [:]
            var shadowed: [(String, String)] = []
            for (path, entry) in found {
                if let configuredPath = configured[entry.name] {
                    // An entry for this very file only gives it settings (a legacy port): nothing is hidden.
                    if configuredPath != path { shadowed.append((entry.name, path)) }
                    continue
                }
                let known = state.discovered[path]
                let sighting = state.sightings[path]
                let settled: Bool
                if let known, let current = state.versions[known.name]?.current?.image,
                    entry.version.isSameFile(as: current.version), entry.version.size == current.version.size
                {
                    settled = true
                } else if FileVersion.now() - entry.version.modified >= Self.writtenLongAgo {
                    // Renamed into place after it was written (rsync, `mv x.img.tmp x.img`): the rename moved
                    // the change time, not the modification time.
                    settled = true
                } else if let sighting, sighting.version == entry.version {
                    settled = now - sighting.since >= Self.folderSettle
                } else {
                    state.sightings[path] = (entry.version, now)
                    settled = false
                }
                if settled {
                    state.sightings[path] = nil
                    discovered[path] = NBDExportDefinition(
                        name: entry.name, path: path, description: "", isDefault: false, access: .readOnly)
                } else if let known {
                    // A changing file keeps serving its last settled version until it settles again.
                    discovered[path] = known
                }
            }
            state.sightings = state.sightings.filter { found[$0.key] != nil }
            state.discovered = discovered
            return shadowed
        }
        for (name, path) in shadowedByConfig { warnShadowed(name, path: path, by: "an [[nbd.export]] entry") }
    }

    /// Once per outage: the store looks every second, and an admin needs one line, not one a second.
    private func warnUnavailable(_ definition: NBDExportDefinition, _ error: NBDImageError) {
        guard state.withLockedValue({ $0.unavailable.insert(definition.name).inserted }) else { return }
        logger.warning(
            "nbd export unavailable until its image can be opened",
            metadata: ["nbd.export": "\(definition.name)", "nbd.error": "\(error)"])
    }

    private func warnShadowed(_ name: String, path: String, by owner: String) {
        let first = state.withLockedValue { $0.shadowed.insert(name + "\u{0}" + path).inserted }
        guard first else { return }
        logger.warning(
            "nbd image ignored: its name is taken",
            metadata: ["nbd.export": "\(name)", "nbd.file": "\(path)", "nbd.taken_by": "\(owner)"])
    }

    /// The names in `folder`, or none when it cannot be read (it may appear later).
    private static func files(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// One version of an export: the definition it was served under and its mapped image.
struct KeptImage: Sendable {
    let definition: NBDExportDefinition
    let image: MappedImage
}

/// One export's versions: the newest, and the replaced ones still servable by `NAME@VERSION` until their time.
struct ExportVersions: Sendable {
    private(set) var current: KeptImage?
    private(set) var replaced: [(kept: KeptImage, until: ContinuousClock.Instant)] = []

    var isEmpty: Bool { current == nil && replaced.isEmpty }

    /// Makes `kept` the newest; the version before is kept until `now + keeping` unless it has the same content.
    /// Returns what the `limit` pushed out.
    mutating func publish(
        _ kept: KeptImage, keeping: Duration, now: ContinuousClock.Instant, limit: Int
    ) -> [KeptImage] {
        if let current, current.image.contentVersion != kept.image.contentVersion, !current.image.isStale {
            replaced.insert((current, now + keeping), at: 0)
        }
        replaced.removeAll { $0.kept.image.contentVersion == kept.image.contentVersion }
        current = kept
        guard replaced.count > limit else { return [] }
        defer { replaced.removeLast(replaced.count - limit) }
        return replaced[limit...].map(\.kept)
    }

    /// The newest is withdrawn (its file is gone or no longer exported) but stays servable by version.
    mutating func retireCurrent(keeping: Duration, now: ContinuousClock.Instant) {
        guard let current else { return }
        replaced.insert((current, now + keeping), at: 0)
        self.current = nil
    }

    /// Drops the versions whose time is up, returning them.
    mutating func expire(at now: ContinuousClock.Instant) -> [KeptImage] {
        let expired = replaced.filter { $0.until <= now }.map(\.kept)
        replaced.removeAll { $0.until <= now }
        return expired
    }

    /// Every version a client can pin at `now`, newest first.
    func servable(at now: ContinuousClock.Instant) -> [KeptImage] {
        (current.map { [$0] } ?? []) + replaced.filter { $0.until > now }.map(\.kept)
    }

    func image(_ version: ImageVersion, at now: ContinuousClock.Instant) -> KeptImage? {
        servable(at: now).first { $0.image.contentVersion == version }
    }
}
