import HTTP
import TFTP

/// HTTP's view of the same static root and route table as TFTP: a path no `http` route matches is opened from the
/// root on the event loop (and sent with sendfile, with its ETag); a route runs through the ``Router`` with
/// `req.protocol = "http"`, `req.method`, `req.headers` and `req.query`. A `mac=` query parameter stands in for the
/// MAC and `arch=` (or iPXE's `buildarch=`/`platform=`) for the architecture when the path and route do not tell.
struct HTTPRouteProvider: HTTPBootProvider {
    let root: StaticRoot
    /// Nil when the config has no routes.
    let router: Router?

    func immediateAnswer(for request: HTTPBootRequest) throws(HTTPRefusal) -> HTTPBootAnswer? {
        guard let router, router.firstRoute(for: request.path, protocol: "http") != nil else {
            noteBootLoader(request)
            return try staticFile(request.path)
        }
        return nil
    }

    func answer(for request: HTTPBootRequest) async throws(HTTPRefusal) -> HTTPBootAnswer {
        guard let router else { return try staticFile(request.path) }
        var boot = BootRequest(
            path: request.path, ip: request.client.ipAddress ?? "?", port: request.client.port ?? 0,
            localIP: request.local.ipAddress)
        boot.protocol = "http"
        boot.method = request.method
        boot.headers = request.headers
        boot.query = request.query
        let content: TFTPContent
        do throws(TFTPRefusal) {
            content = try await router.answer(
                boot, knownMAC: request.query["mac"].flatMap { MACAddress(parsing: $0) },
                knownArch: Self.arch(fromQuery: request.query))
        } catch {
            throw Self.refusal(error)
        }
        switch content {
        case .bytes(let bytes):
            return .bytes(bytes, contentType: nil)
        case .file(let file):
            guard let described = HTTPBootFile(descriptor: file.descriptor, owner: file) else { throw .serverError }
            return .file(described)
        }
    }

    /// The static file at `path`, confined exactly as for TFTP.
    private func staticFile(_ path: String) throws(HTTPRefusal) -> HTTPBootAnswer {
        let file: OpenedFile
        do throws(TFTPRefusal) {
            file = try root.open(relativePath: path)
        } catch {
            throw Self.refusal(error)
        }
        guard let described = HTTPBootFile(descriptor: file.descriptor, owner: file) else { throw .serverError }
        return .file(described)
    }

    /// A boot loader fetched over HTTP teaches the client's architecture, as over TFTP.
    private func noteBootLoader(_ request: HTTPBootRequest) {
        guard let router, let ip = request.client.ipAddress, let arch = router.arch.arch(forLoaderPath: request.path)
        else { return }
        router.clients.remember(arch: arch, for: ip)
    }

    /// `arch=` as given; else iPXE's `${buildarch}` (`i386`, `x86_64`, `arm64`) with `${platform}` (`pcbios`,
    /// `efi`) in Thinboot's names.
    static func arch(fromQuery query: [String: String]) -> String? {
        if let arch = query["arch"], !arch.isEmpty { return arch }
        switch (query["buildarch"], query["platform"]) {
        case (_, "pcbios"): return "x86-bios"
        case ("x86_64", "efi"), ("x86_64", nil): return "x86_64-efi"
        case ("arm64", _): return "arm64-efi"
        case ("i386", "efi"): return "i386-efi"
        case ("i386", nil): return "x86-bios"
        default: return nil
        }
    }

    /// What an HTTP client gets for a TFTP refusal: 404 for a missing file, 403 for what TFTP calls an access
    /// violation, 500 for a script error, 503 when busy.
    static func refusal(_ refusal: TFTPRefusal) -> HTTPRefusal {
        switch (refusal.code, refusal.outcome) {
        case (.fileNotFound, _): .notFound
        case (.accessViolation, _): .forbidden("Forbidden")
        case (_, "script error"): .scriptError
        case (_, "busy"): .unavailable
        default: .serverError
        }
    }
}
