import BootEvents
import Files
import HTTP

/// HTTP's view of the same static root and route table as TFTP, through the one ``Router`` decision: a
/// ``BootRequest`` of protocol `http` with its method, headers and query. A static file (no `http` route matches,
/// or a script names one) is opened from the root and sent with sendfile and its ETag; a generated answer still
/// cached for this client is answered on the event loop; only a script run leaves it, straight to the pool. A
/// `mac=` query parameter stands in for the MAC and `arch=` (or iPXE's `buildarch=`/`platform=`) for the
/// architecture when the path and route do not tell.
struct HTTPRouteProvider: HTTPBootProvider {
    /// The root and router, replaced whole by a reload; each request reads it once.
    let live: LiveRouting

    func answer(
        for request: HTTPBootRequest,
        completion: @escaping @Sendable (Result<HTTPBootAnswer, HTTPRefusal>) -> Void
    ) throws(HTTPRefusal) -> HTTPBootAnswer? {
        let snapshot = live.snapshot
        guard let router = snapshot.router else { return try staticFile(request.path, root: snapshot.root) }
        // No headers yet: only a script looks at them (`req.headers`), so they are added once one is to run.
        let boot = BootRequest(
            path: request.path, ip: request.clientIP, port: request.client.port ?? 0, localIP: request.localIP,
            fields: .http(method: request.method, headers: [:], query: request.query))
        let decision: Router.Decision
        do throws(BootRefusal) {
            decision = try router.decide(boot)
        } catch {
            throw error.http
        }
        switch decision {
        case .content(let content, let kind, let contentType):
            return Self.answer(content, kind: kind, contentType: contentType)
        case .script(let matched):
            var script = matched.request
            script.fields = .http(method: request.method, headers: request.headers, query: request.query)
            let job = Router.RouteJob(route: matched.route, request: script)
            router.run(
                job, knownMAC: request.query["mac"].flatMap { MACAddress(parsing: $0) },
                knownArch: Self.arch(fromQuery: request.query)
            ) { result, kind, contentType in
                completion(result.mapError(\.http).map { Self.answer($0, kind: kind, contentType: contentType) })
            }
            return nil
        }
    }

    /// The static file at `path`, confined exactly as for TFTP (no routes: nothing to decide).
    private func staticFile(_ path: String, root: StaticRoot) throws(HTTPRefusal) -> HTTPBootAnswer {
        do throws(ConfinedDirectoryError) {
            return .file(try root.directory.open(path))
        } catch {
            throw BootRefusal(error).http
        }
    }

    /// `content` as HTTP sends it: with the Content-Type the script set, else (nil) the type by extension.
    private static func answer(_ content: BootContent, kind: BootEvent.ContentKind, contentType: String?)
        -> HTTPBootAnswer
    {
        switch content {
        case .bytes(let bytes): .bytes(bytes, contentType: contentType, kind: kind)
        case .file(let file): .file(file, kind: kind, contentType: contentType)
        }
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
