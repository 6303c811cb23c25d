import Files
import TFTP

/// The router as the TFTP server's content provider: a TFTP read request becomes a ``BootRequest`` (protocol
/// `tftp`, its mode and options), scripts run on the router's pool, and refusals become TFTP errors.
public struct TFTPRouteProvider: TFTPContentProvider {
    public let router: Router

    public init(router: Router) {
        self.router = router
    }

    public func answer(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer {
        // No options yet: only a script looks at them (`req.options`), so they are added once one is to run.
        let boot = BootRequest(
            path: request.path, ip: request.clientIP, port: request.client.port ?? 0, localIP: request.localIP,
            fields: .tftp(mode: request.mode.rawValue, options: [:]))
        let decision: Router.Decision
        do throws(BootRefusal) {
            decision = try router.decide(boot)
        } catch {
            throw error.tftp
        }
        switch decision {
        case .content(let content, let kind, _):
            return .content(content, kind: kind)
        case .script(let matched):
            var script = matched.request
            script.fields = .tftp(mode: request.mode.rawValue, options: request.options)
            let job = Router.RouteJob(route: matched.route, request: script)
            return .compute { completion in
                router.run(job) { result, kind, _ in completion(result.mapError(\.tftp), kind) }
            }
        }
    }
}

/// TFTP's view of ``LiveRouting``: each request is answered from the snapshot current when it comes in, through
/// the router when the config has routes, from the static root otherwise.
struct LiveTFTPProvider: TFTPContentProvider {
    let live: LiveRouting

    func answer(for request: TFTPReadRequest) throws(TFTPRefusal) -> TFTPAnswer {
        let snapshot = live.snapshot
        guard let router = snapshot.router else { return try snapshot.root.answer(for: request) }
        return try TFTPRouteProvider(router: router).answer(for: request)
    }
}

extension BootRefusal {
    /// The TFTP error a client sees, and the outcome its log line records.
    public var tftp: TFTPRefusal {
        switch self {
        case .notFound: .notFound
        case .forbidden(let reason):
            TFTPRefusal(code: .accessViolation, message: "Access violation: \(reason)", outcome: .refused)
        case .scriptError: TFTPRefusal(code: .notDefined, message: "Script error", outcome: .scriptError)
        case .serverError: TFTPRefusal(code: .notDefined, message: "Server error", outcome: .serverError)
        }
    }
}
