import Files
import Images
import Logging
import NBD
import Scripting
import TFTP

/// The `thinboot` table behind route scripts: the NBD exports of the same config, files under the TFTP root,
/// inventories under the config folder, and logging. Nothing else on the machine is reachable.
public final class ThinbootScriptHost: ScriptHost {
    /// `thinboot.file` and `thinboot.read` paths are relative to this (the TFTP root, confined as TFTP requests are).
    let root: ConfinedDirectory
    /// `thinboot.data` paths are relative to this (the config file's folder).
    let dataRoot: ConfinedDirectory
    let nbd: NBDSection?
    /// The exports and their versions, shared with the NBD server when both run in one process.
    let exportStore: NBDExportStore?
    /// `thinboot.url` builds URLs on this server's listener (or `advertise`).
    let http: HTTPSection?
    let logger: Logger
    /// `thinboot.image_*` read inside the images of `nbd`'s exports.
    let images: ImageExports
    /// Largest file `thinboot.image_read` returns (`max_result_kib`).
    let imageReadLimit: Int
    private let dataFiles = DataFileCache()

    /// Largest file `thinboot.read` returns; bigger files should be streamed with `thinboot.file`.
    static let maximumReadBytes = 16 << 20

    public init(
        root: ConfinedDirectory, dataRoot: ConfinedDirectory, nbd: NBDSection?, exportStore: NBDExportStore? = nil,
        http: HTTPSection? = nil, images: ImageExports? = nil, imageReadLimit: Int = ScriptLimits().maxResultBytes,
        logger: Logger
    ) {
        self.root = root
        self.dataRoot = dataRoot
        self.nbd = nbd
        self.exportStore = exportStore ?? nbd?.makeExportStore(logger: logger)
        self.http = http
        self.images = images ?? ImageExports(nbd: nbd, store: self.exportStore)
        self.imageReadLimit = imageReadLimit
        self.logger = logger
    }

    /// Every export, configured or found in an image folder, with its newest version and the `nbdroot=` forms
    /// that pin it, so a config generated now names the same bytes for kernel, initrd and root.
    public func exports(for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue {
        guard let nbd, let exportStore else { return .list([]) }
        let server = nbd.advertise ?? call.serverAddress ?? "127.0.0.1"
        let bracketed = server.contains(":") ? "[\(server)]" : server
        let mainPort = nbd.listen.first?.port ?? 10809
        return .list(
            exportStore.definitions.map { export in
                var fields: [String: ScriptValue] = [
                    "name": .text(export.name),
                    "server": .text(server),
                    "listen_port": .integer(Int64(mainPort)),
                    // Debian/Ubuntu initramfs: SERVER,PORT|EXPORTNAME,nbd0.
                    "nbdroot": .text("\(server),\(export.name),nbd0"),
                ]
                if let port = export.legacyPort {
                    fields["port"] = .integer(Int64(port))
                    fields["nbdroot_port"] = .text("\(bracketed):\(port)")
                } else {
                    // LTSP 5.5's SERVER:PORT/NAME when there is no port of its own.
                    fields["nbdroot_port"] = .text("\(bracketed):\(mainPort)/\(export.name)")
                }
                if let image = try? exportStore.open(export).image {
                    let pinned = "\(export.name)@\(image.contentVersion)"
                    fields["size"] = .integer(Int64(image.size))
                    fields["version"] = .text(image.contentVersion.id)
                    fields["pinned"] = .text(pinned)
                    fields["nbdroot_pinned"] = .text("\(server),\(pinned),nbd0")
                    // A legacy port serves one export whatever the name, so only the main port can pin.
                    fields["nbdroot_port_pinned"] = .text("\(bracketed):\(mainPort)/\(pinned)")
                }
                if let image = try? images.image(for: export.name) { fields["format"] = .text(image.format.rawValue) }
                return .record(fields)
            })
    }

    public func file(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String {
        let relative = try normalise(path)
        do throws(ConfinedDirectoryError) {
            _ = try root.open(relative)
        } catch {
            throw ScriptHostError("\(path): \(error.reason)")
        }
        return relative
    }

    public func read(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> [UInt8] {
        let relative = try normalise(path)
        let file: OpenedFile
        do throws(ConfinedDirectoryError) {
            file = try root.open(relative)
        } catch {
            throw ScriptHostError("\(path): \(error.reason)")
        }
        do throws(FileReadError) {
            return try file.readWhole(limit: Self.maximumReadBytes)
        } catch {
            throw ScriptHostError(error.description)
        }
    }

    public func imageFile(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> String
    {
        // Nothing is opened here: the file is looked up when the answer is read, so a missing one (or an unknown
        // export or version) answers like a missing static file and a corrupt image fails with its own log line,
        // outside the script's time limit.
        try normalise(path)
    }

    public func imageRead(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> [UInt8]
    {
        let relative = try normalise(path)
        return try inImage(export, relative) { image throws(ImageError) in
            try image.read(relative, limit: imageReadLimit)
        }
    }

    public func imageList(_ export: String, _ path: String, for call: ScriptCallInfo) throws(ScriptHostError)
        -> [String]
    {
        // The image's root is "" or "/"; anything else follows the request path rules.
        let relative = path.utf8.allSatisfy { $0 == UInt8(ascii: "/") } ? "" : try normalise(path)
        return try inImage(export, relative) { image throws(ImageError) in try image.list(relative) }
    }

    /// Runs `body` on the version of the image `export` names; its failures become script errors.
    private func inImage<T>(
        _ export: String, _ path: String, _ body: (FileSystemImage) throws(ImageError) -> T
    ) throws(ScriptHostError) -> T {
        let image: FileSystemImage
        do throws(ImageExportFailure) {
            image = try images.image(for: export)
        } catch {
            throw ScriptHostError(error.message)
        }
        do throws(ImageError) {
            return try body(image)
        } catch {
            throw ScriptHostError("\(export):/\(path): \(error.reason)")
        }
    }

    public func data(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> ScriptValue {
        let relative = try normalise(path)
        do throws(ScriptFileError) {
            return try dataFiles.value(relative, in: dataRoot)
        } catch {
            throw ScriptHostError(error.message)
        }
    }

    public func log(_ level: ScriptLogLevel, _ message: String, for call: ScriptCallInfo) {
        let level: Logger.Level =
            switch level {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
        logger.log(level: level, "\(message)", metadata: ["script": "\(call.script)"])
    }

    /// `advertise`, else `http://ADDRESS:PORT` with the address the client reached this server on and the first
    /// `[http] listen` port; then the normalised path, percent-encoded.
    public func url(_ path: String, for call: ScriptCallInfo) throws(ScriptHostError) -> String {
        guard let http else { throw ScriptHostError("no HTTP server: add an [http] section") }
        let relative = try normalise(path)
        let base: String
        if let advertise = http.advertise {
            base = advertise
        } else {
            let listen = http.listen.first
            var host = call.serverAddress ?? listen?.host ?? "127.0.0.1"
            if host == "0.0.0.0" || host == "::" { host = "127.0.0.1" }
            base = "http://\(host.contains(":") ? "[\(host)]" : host):\(listen?.port ?? 8080)"
        }
        return base + "/" + Self.percentEncoded(relative)
    }

    /// Every byte but unreserved characters and `/` as `%XX` (RFC 3986 §2.3).
    static func percentEncoded(_ path: String) -> String {
        var text = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return text
    }

    /// The same rules as a TFTP request path: relative, no `..`, no control characters.
    private func normalise(_ path: String) throws(ScriptHostError) -> String {
        do throws(TFTPRefusal) {
            return try TFTPPath.normalise(path)
        } catch {
            throw ScriptHostError("\(path): \(error.message)")
        }
    }
}
