import BootEvents
import Files
import Images
import Logging
import Scripting

/// Answers boot requests from any protocol with one route table: the first route whose pattern matches runs its
/// Lua script with the client's context; no match, or a script returning nil, falls through to the static root.
/// A failing script is refused as ``BootRefusal/scriptError`` and logs one line with the script, line and reason.
///
/// Threads: ``decide(_:)`` is cheap (a pattern match, maybe a file open) and runs on the caller's thread, an
/// engine's or an event loop's. Only ``run(_:knownMAC:knownArch:completion:)`` does slow work, all of it on a
/// script worker: the neighbour-table lookup (a blocking read of the kernel's table) and the script.
public final class Router: Sendable {
    /// What a request gets without running a script (a static file, or a script's answer still cached: `kind`
    /// says which, `contentType` is the type the script set for HTTP), or the script to run for it.
    public enum Decision: Sendable {
        case content(BootContent, kind: BootEvent.ContentKind, contentType: String?)
        case script(RouteJob)
    }

    /// A request matched to its route, captures filled in: matched once, carried to the worker that runs it.
    public struct RouteJob: Sendable {
        public let route: RouteConfig
        public let request: BootRequest
    }

    /// The routes in config order.
    public let routes: [RouteConfig]
    let root: StaticRoot
    let pool: ScriptPool
    let arch: ArchTable
    let clients: ClientMemory
    /// What ProxyDHCP taught per MAC: the firmware's architecture beats a guess from the boot loader.
    let learned: DHCPLearnedClients
    /// The site DHCP servers' lease files (`[clients] leases`): MACs of clients across routers.
    let leases: LeaseFiles
    let neighbours: @Sendable (String) -> MACAddress?
    /// Told every script run: the script file, whether it succeeded, and how long it took (the metrics).
    let onScriptRun: @Sendable (_ script: String, _ succeeded: Bool, _ duration: Duration) -> Void
    let logger: Logger
    /// What `thinboot.image_file` answers are read from.
    let images: ImageExports
    private let generated = GeneratedContentCache()

    /// A router over `root` running `routes` on `pool`. `neighbours` looks a client IP up in the kernel's
    /// neighbour table, on-link addresses only (replaceable in tests).
    public init(
        routes: [RouteConfig], root: StaticRoot, pool: ScriptPool, arch: ArchTable = ArchTable(),
        clients: ClientMemory = ClientMemory(), learned: DHCPLearnedClients = DHCPLearnedClients(),
        leases: LeaseFiles? = nil,
        neighbours: @escaping @Sendable (String) -> MACAddress? = { NeighbourTable().mac(for: $0) },
        images: ImageExports = ImageExports(nbd: nil, store: nil),
        onScriptRun: @escaping @Sendable (String, Bool, Duration) -> Void = { _, _, _ in },
        logger: Logger
    ) {
        self.onScriptRun = onScriptRun
        self.routes = routes
        self.root = root
        self.pool = pool
        self.arch = arch
        self.clients = clients
        self.learned = learned
        self.leases = leases ?? LeaseFiles(paths: [], logger: logger)
        self.neighbours = neighbours
        self.images = images
        self.logger = logger
    }

    /// A static file, a script's answer still cached for this client, or the script to run.
    public func decide(_ request: BootRequest) throws(BootRefusal) -> Decision {
        if let loaderArch = arch.arch(forLoaderPath: request.path) {
            clients.remember(arch: loaderArch, for: request.ip)
        }
        guard let (route, match) = firstRoute(for: request.path, protocol: request.fields.name) else {
            return .content(try staticContent(at: request.path, for: request), kind: .static, contentType: nil)
        }
        if let cached = generated.content(for: request) {
            return .content(cached.content, kind: .generated, contentType: cached.contentType)
        }
        var request = request
        request.match = match
        return .script(RouteJob(route: route, request: request))
    }

    /// Runs `job`'s script on the pool and calls `completion` once, on the worker, with the content and where its
    /// bytes come from: the script's own (`generated`), a file inside an image (`image`), or the static root (a
    /// `thinboot.file` or nil answer: `static`), and the Content-Type the script set beside it (HTTP's; nil: by
    /// extension). `knownMAC`/`knownArch` stand in for the neighbour table and the boot-loader memory (for
    /// `thinboot render`); the path and route captures still take precedence.
    public func run(
        _ job: RouteJob, knownMAC: MACAddress? = nil, knownArch: String? = nil,
        completion:
            @escaping @Sendable (
                _ content: Result<BootContent, BootRefusal>, _ kind: BootEvent.ContentKind, _ contentType: String?
            ) -> Void
    ) {
        let started = ContinuousClock.now
        pool.run(
            script: job.route.script,
            info: ScriptCallInfo(script: job.route.script, serverAddress: job.request.localIP),
            argument: {
                var request = job.request
                request.mac = self.mac(for: request) ?? knownMAC
                request.arch =
                    request.match.params["arch"] ?? knownArch ?? request.mac.flatMap(self.learned.arch(for:))
                    ?? self.clients.arch(for: request.ip)
                return request.scriptValue
            },
            completion: { result in
                let contentType = try? result.get().contentType
                if case .success(.imageFile(let export, let path)) = result.map(\.output) {
                    self.onScriptRun(job.route.script, true, started.duration(to: .now))
                    self.imageContent(path, in: export, of: job) { completion($0, .image, contentType) }
                    return
                }
                let content = self.content(from: result, of: job)
                if case .failure(.scriptError) = content {
                    self.onScriptRun(job.route.script, false, started.duration(to: .now))
                } else {
                    self.onScriptRun(job.route.script, true, started.duration(to: .now))
                }
                // A script's own bytes, or a file of the root it named (or fell through to).
                let kind: BootEvent.ContentKind
                if case .success(.bytes) = result.map(\.output) { kind = .generated } else { kind = .static }
                completion(content, kind, contentType)
            })
    }

    /// What `request` gets, as the server would answer it, awaited (for `thinboot render` and tests).
    public func answer(_ request: BootRequest, knownMAC: MACAddress? = nil, knownArch: String? = nil)
        async throws(BootRefusal) -> BootContent
    {
        let job: RouteJob
        switch try decide(request) {
        case .content(let content, _, _): return content
        case .script(let matched): job = matched
        }
        let result = await withCheckedContinuation { continuation in
            run(job, knownMAC: knownMAC, knownArch: knownArch) { content, _, _ in
                continuation.resume(returning: content)
            }
        }
        return try result.get()
    }

    /// The first route for `protocol` (`tftp`, `http`) matching `path`, with its captures.
    public func firstRoute(for path: String, protocol: String) -> (RouteConfig, RouteMatch)? {
        for route in routes where route.serves(`protocol`) {
            if let match = route.pattern.match(path) { return (route, match) }
        }
        return nil
    }

    /// The script's output as content: generated bytes (cached for this client with their Content-Type), a file
    /// under the root, or — for nil — the static file at the request's own path.
    private func content(from result: Result<ScriptAnswer, ScriptError>, of job: RouteJob) -> Result<
        BootContent, BootRefusal
    > {
        let request = job.request
        switch result.map(\.output) {
        case .success(.bytes(let bytes)):
            let content = BootContent.bytes(bytes)
            generated.store(content, contentType: try? result.get().contentType, for: request)
            return .success(content)
        case .success(.file(let path)):
            return Result { () throws(BootRefusal) in try staticContent(at: path, for: request) }
        case .success(.nothing):
            return Result { () throws(BootRefusal) in try staticContent(at: request.path, for: request) }
        case .success(.imageFile):
            // Read asynchronously by imageContent(_:in:of:completion:) before this is reached.
            return .failure(.serverError)
        case .success(.fields):
            // Routes never ask for tables (ScriptCallInfo.acceptsFields is false): the pool refuses them.
            return .failure(.scriptError)
        case .failure(let error):
            logger.error(
                "route script failed",
                metadata: [
                    "script": "\(error.script)", "line": "\(error.line.map(String.init) ?? "-")",
                    "reason": "\(error.reason)", "kind": "\(error.kind.rawValue)",
                    "\(request.fields.name).peer":
                        "\(request.ip)", "\(request.fields.name).path": "\(request.path)",
                ])
            return .failure(.scriptError)
        }
    }

    /// A file inside an export's image, from the image cache or extracted once. A missing file is a miss like a
    /// missing static file; any other failure (a corrupt image, a file too large) logs one line and fails only this
    /// request.
    private func imageContent(
        _ path: String, in export: String, of job: RouteJob,
        completion: @escaping @Sendable (Result<BootContent, BootRefusal>) -> Void
    ) {
        let request = job.request
        let logFailure: @Sendable (String) -> Void = { reason in
            self.logger.error(
                "image file failed",
                metadata: [
                    "script": "\(job.route.script)", "export": "\(export)", "image.path": "\(path)",
                    "reason": "\(reason)", "\(request.fields.name).peer": "\(request.ip)",
                    "\(request.fields.name).path": "\(request.path)",
                ])
        }
        let image: FileSystemImage
        do throws(ImageExportFailure) {
            image = try images.image(for: export)
        } catch {
            logFailure(error.message)
            if case .unknown = error { return completion(.failure(.notFound)) }
            return completion(.failure(.serverError))
        }
        images.library.content(of: path, from: image) { result in
            switch result {
            case .success(let content):
                completion(.success(content))
            case .failure(let error):
                switch error.kind {
                case .notFound:
                    completion(.failure(.notFound))
                case .isDirectory, .notRegularFile, .tooManySymlinks:
                    completion(.failure(.forbidden(error.reason)))
                case .tooLarge, .unreadableFile, .unknownFormat, .noPartition, .corrupt, .cacheFailed:
                    logFailure(error.reason)
                    completion(.failure(.serverError))
                }
            }
        }
    }

    /// A file under the static root, or the refusal any protocol can answer when it cannot be served. HTTP gets the
    /// file opened, for sendfile and its validators (ETag, Last-Modified); TFTP gets a small file's bytes from the
    /// cache.
    private func staticContent(at path: String, for request: BootRequest) throws(BootRefusal) -> BootContent {
        do throws(ConfinedDirectoryError) {
            if case .http = request.fields { return .file(try root.directory.open(path)) }
            return try root.content(at: path)
        } catch {
            throw BootRefusal(error)
        }
    }

    /// The client's MAC, first found of: a `{mac}` capture (any form) or a MAC in the path; what DHCP tied to the
    /// IP; the site's lease files; the kernel's neighbour table (on-link addresses only: across a router it holds
    /// the router); what an earlier request from the same IP revealed. A MAC found is remembered for that IP.
    private func mac(for request: BootRequest) -> MACAddress? {
        let captured = request.match.params["mac"].flatMap { MACAddress(parsing: $0) }
        let found: (mac: MACAddress, source: MACSource)? =
            (captured ?? MACAddress(inPath: request.path)).map { ($0, .path) }
            ?? learned.mac(forIP: request.ip).map { ($0, .dhcp) } ?? leases.mac(for: request.ip).map { ($0, .leases) }
            ?? neighbours(request.ip).map { ($0, .neighbourTable) }
        if let found {
            clients.remember(mac: found.mac, from: found.source, for: request.ip)
            return found.mac
        }
        return clients.mac(for: request.ip)
    }
}
