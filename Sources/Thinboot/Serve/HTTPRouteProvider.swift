import Files
import HTTP

/// HTTP's view of the same static root and route table as TFTP: a path no `http` route matches is opened from the
/// root on the event loop (and sent with sendfile, with its ETag); a route runs through the ``Router`` as a
/// ``BootRequest`` of protocol `http` with its method, headers and query. A `mac=` query parameter stands in for
/// the MAC and `arch=` (or iPXE's `buildarch=`/`platform=`) for the architecture when the path and route do not
/// tell.
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
        let boot = BootRequest(
            path: request.path, ip: request.client.ipAddress ?? "?", port: request.client.port ?? 0,
            localIP: request.local.ipAddress,
            fields: .http(method: request.method, headers: request.headers, query: request.query))
        let content: BootContent
        do throws(BootRefusal) {
            content = try await router.answer(
                boot, knownMAC: request.query["mac"].flatMap { MACAddress(parsing: $0) },
                knownArch: Self.arch(fromQuery: request.query))
        } catch {
            throw error.http
        }
        switch content {
        case .bytes(let bytes):
            return .bytes(Array(bytes.readableBytesView), contentType: nil)
        case .file(let file):
            return try Self.answer(file)
        }
    }

    /// The static file at `path`, confined exactly as for TFTP; opened, never from the small-file cache, so it
    /// goes out with sendfile and its ETag.
    private func staticFile(_ path: String) throws(HTTPRefusal) -> HTTPBootAnswer {
        let file: OpenedFile
        do throws(ConfinedDirectoryError) {
            file = try root.directory.open(path)
        } catch {
            throw BootRefusal(error).http
        }
        return try Self.answer(file)
    }

    private static func answer(_ file: OpenedFile) throws(HTTPRefusal) -> HTTPBootAnswer {
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
}

extension BootRefusal {
    /// What an HTTP client gets: 404 for a missing file, 403 for what may not be served, 500 otherwise.
    var http: HTTPRefusal {
        switch self {
        case .notFound: .notFound
        case .forbidden: .forbidden("Forbidden")
        case .scriptError: .scriptError
        case .serverError: .serverError
        }
    }
}
