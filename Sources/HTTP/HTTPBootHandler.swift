import BootEvents
import Logging
import NIOCore
import NIOHTTP1

/// Answers one connection's requests, one at a time (NIO's `HTTPServerPipelineHandler` in front holds pipelined
/// requests back until the response before them has gone out, so they are answered in order).
///
/// GET and HEAD only (405 with `Allow` otherwise); a request with a body is refused (413, or 400 for a chunked one)
/// and the connection closed, as its body is never read. The provider answers; static files go out as a
/// `FileRegion` (sendfile), generated content from memory. One log line per request.
final class HTTPBootHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler answers on this connection.
    enum Mode {
        /// Requests go to the provider.
        case serve(any HTTPBootProvider)
        /// The connection is past a limit: every request gets 503 and the connection closes.
        case refuse
    }

    /// The request being answered.
    private struct Current {
        var head: HTTPRequestHead
        var started: NIODeadline
        /// Refused at its head (a body, a bad method); the rest of it is dropped.
        var answered: Bool
        /// The decoded target, once parsed: its path and `mac=` go in the boot event.
        var target: HTTPRequestTarget?
    }

    /// The connection's addresses as text, made at its first request: a keep-alive connection keeps them, and
    /// formatting them (`inet_ntop`) for every request and its log line was a measurable share of a small one.
    private struct Addresses {
        var client: SocketAddress
        var local: SocketAddress
        var clientIP: String
        var localIP: String?
        /// `ip:port`, for the log line.
        var peer: String
    }

    private let mode: Mode
    private let logger: Logger
    private let events: any BootEventSink
    private var current: Current?
    private var addresses: Addresses?

    init(mode: Mode, logger: Logger, events: any BootEventSink) {
        self.mode = mode
        self.logger = logger
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            current = Current(head: head, started: .now(), answered: false)
            if let refusal = earlyRefusal(head) {
                current?.answered = true
                let keepAlive = refusal.keepAlive && head.isKeepAlive
                respond(
                    context: context, plan: HTTPResponsePlan(refusal: refusal.refusal, method: head.method),
                    refusal: refusal.refusal, extraHeaders: refusal.headers, keepAlive: keepAlive, answer: nil)
            }
        case .body:
            break
        case .end:
            guard let current, !current.answered else { return }
            answer(context: context, head: current.head)
        }
    }

    /// A refusal decided from the head alone: past the connection limit, a method other than GET and HEAD, a body.
    private func earlyRefusal(_ head: HTTPRequestHead) -> (
        refusal: HTTPRefusal, headers: [(String, String)], keepAlive: Bool
    )? {
        if case .refuse = mode { return (.unavailable, [], false) }
        let hasBody =
            head.headers.contains(name: "transfer-encoding")
            || head.headers["content-length"].contains { Int($0.filter { $0 != " " && $0 != "\t" }) != 0 }
        guard head.method == .GET || head.method == .HEAD else {
            return (
                HTTPRefusal(status: 405, message: "Method not allowed: use GET or HEAD", outcome: "refused"),
                [("Allow", "GET, HEAD")], !hasBody
            )
        }
        if head.headers.contains(name: "transfer-encoding") {
            return (HTTPRefusal(status: 400, message: "A GET or HEAD has no body", outcome: "refused"), [], false)
        }
        if hasBody {
            return (HTTPRefusal(status: 413, message: "A GET or HEAD has no body", outcome: "refused"), [], false)
        }
        return nil
    }

    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead) {
        guard case .serve(let provider) = mode else { return }
        let path: String
        let answer: HTTPBootAnswer?
        do throws(HTTPRefusal) {
            let target = try HTTPRequestTarget(parsing: head.uri)
            current?.target = target
            guard let addresses = addresses(of: context.channel) else { throw HTTPRefusal.serverError }
            let request = HTTPBootRequest(
                method: head.method.rawValue, path: target.path, query: target.query, headers: head.headers,
                client: addresses.client, local: addresses.local, clientIP: addresses.clientIP,
                localIP: addresses.localIP)
            path = request.path
            // A later answer is carried back to this loop; the handler is only touched there.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            answer = try provider.answer(for: request) { result in
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.send(context: context, head: head, path: path, result: result)
                }
            }
        } catch {
            send(context: context, head: head, path: nil, result: .failure(error))
            return
        }
        if let answer { send(context: context, head: head, path: path, result: .success(answer)) }
    }

    private func addresses(of channel: any Channel) -> Addresses? {
        if let addresses { return addresses }
        guard let client = channel.remoteAddress, let local = channel.localAddress else { return nil }
        let clientIP = client.ipAddress ?? "?"
        let made = Addresses(
            client: client, local: local, clientIP: clientIP, localIP: local.ipAddress,
            peer: Self.describe(client, ip: clientIP))
        addresses = made
        return made
    }

    private func send(
        context: ChannelHandlerContext, head: HTTPRequestHead, path: String?,
        result: Result<HTTPBootAnswer, HTTPRefusal>
    ) {
        switch result {
        case .failure(let refusal):
            respond(
                context: context, plan: HTTPResponsePlan(refusal: refusal, method: head.method), refusal: refusal,
                extraHeaders: [], keepAlive: head.isKeepAlive, answer: nil)
        case .success(let answer):
            let plan: HTTPResponsePlan
            switch answer {
            case .bytes(let bytes, let contentType, _):
                plan = HTTPResponsePlan(
                    method: head.method, requestHeaders: head.headers, path: path ?? "", length: bytes.readableBytes,
                    contentType: contentType, validators: nil, isFile: false)
            case .file(let file, _, let contentType):
                plan = HTTPResponsePlan(
                    method: head.method, requestHeaders: head.headers, path: path ?? "", length: file.size,
                    contentType: contentType, validators: (file.version.entityTag, file.version.modifiedSeconds),
                    isFile: true)
            }
            respond(
                context: context, plan: plan, refusal: nil, extraHeaders: [], keepAlive: head.isKeepAlive,
                answer: answer)
        }
    }

    /// Writes the planned response, then logs it, tells ``HTTPHeadGuard`` it is done and closes unless kept alive.
    private func respond(
        context: ChannelHandlerContext, plan: HTTPResponsePlan, refusal: HTTPRefusal?,
        extraHeaders: [(String, String)], keepAlive: Bool, answer: HTTPBootAnswer?
    ) {
        guard let current else { return }
        var headers = plan.headers
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if current.head.version.major == 1, current.head.version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let version: HTTPVersion = current.head.version.minor == 0 ? .http1_0 : .http1_1
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: plan.status, headers: headers))),
            promise: nil)
        var fileHandle: NIOFileHandle?
        var sent = 0
        switch plan.body {
        case .none:
            break
        case .bytes(let range):
            let buffer: ByteBuffer
            if let refusal {
                buffer = ByteBuffer(string: refusal.message + "\n")
            } else if case .bytes(let bytes, _, _) = answer {
                // A view of the shared bytes, not a copy.
                buffer = bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
            } else {
                buffer = ByteBuffer()
            }
            sent = buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .file(let range):
            if case .file(let file, _, _) = answer {
                // The descriptor stays the provider's: the handle gives it back once the region is written.
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: file.descriptor)
                fileHandle = handle
                sent = range.count
                let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound)
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            }
        }
        let request = current
        self.current = nil
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] result in
            // Keeps the file (and its descriptor) alive until the region is written.
            if let fileHandle { _ = try? fileHandle.takeDescriptorOwnership() }
            withExtendedLifetime(answer) {}
            let context = loopBound.value
            var outcome = refusal?.outcome ?? (plan.status == .notModified ? "not modified" : "ok")
            if case .failure = result { outcome = "client gone" }
            log(request: request, channel: context.channel, plan: plan, bytes: sent, outcome: outcome, answer: answer)
            context.triggerUserOutboundEvent(HTTPHeadGuard.ResponseFinished(), promise: nil)
            if !keepAlive { context.close(promise: nil) }
        }
    }

    private func log(
        request: Current, channel: any Channel, plan: HTTPResponsePlan, bytes: Int, outcome: String,
        answer: HTTPBootAnswer?
    ) {
        let elapsed = NIODeadline.now() - request.started
        let kind: BootEvent.ContentKind? =
            switch answer {
            case .bytes(_, _, let kind), .file(_, let kind, _): kind
            case nil: nil
            }
        let addresses = addresses(of: channel)
        if events.isRecording {
            events.record(
                BootEvent(
                    source: .http, clientIP: addresses?.clientIP, peer: addresses?.peer ?? "?",
                    path: request.target?.path ?? Self.undecoded(request.head.uri),
                    queryMAC: request.target?.query["mac"], outcome: outcome, status: Int(plan.status.code),
                    bytes: bytes,
                    kind: kind,
                    duration: .nanoseconds(elapsed.nanoseconds)))
        }
        // The fields cost more than the check: build them only for a line that is written.
        guard logger.logLevel <= .info else { return }
        let tenths = (elapsed.nanoseconds + 50_000) / 100_000
        var metadata: Logger.Metadata = [:]
        metadata.reserveCapacity(10)
        metadata["http.peer"] = .string(addresses?.peer ?? "?")
        metadata["http.local"] = .string(addresses?.localIP ?? "?")
        metadata["http.method"] = .string(request.head.method.rawValue)
        metadata["http.path"] = .string(request.head.uri)
        metadata["http.status"] = .string(String(plan.status.code))
        metadata["http.bytes"] = .string(String(bytes))
        metadata["http.range"] = .string(plan.range ?? "-")
        metadata["http.duration_ms"] = .string("\(tenths / 10).\(tenths % 10)")
        metadata["http.user_agent"] = .string(request.head.headers.first(name: "user-agent") ?? "-")
        metadata["http.outcome"] = .string(outcome)
        logger.info("http request", metadata: metadata)
    }

    /// A target refused before it could be decoded, shown as its path without query and leading `/`.
    private static func undecoded(_ uri: String) -> String {
        String(uri.prefix { $0 != "?" }.drop { $0 == "/" })
    }

    /// `ip:port`, `[ip]:port` for IPv6; `ip` when the caller has the address as text already.
    static func describe(_ address: SocketAddress?, ip known: String? = nil) -> String {
        guard let address, let ip = known ?? address.ipAddress else { return "?" }
        guard let port = address.port else { return ip }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
