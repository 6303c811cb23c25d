import Logging
import NIOCore
import NIOHTTP1

/// Answers a request NIO's decoder could not parse, or whose head passed a limit of ``HTTPHeadGuard``, and closes
/// the connection: 414 for a request line too long, 431 for a head too large, 400 for anything else broken. The
/// shape of NIO's `HTTPServerProtocolErrorHandler`, with those statuses and a log line.
final class HTTPErrorResponder: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let logger: Logger
    private var hasUnterminatedResponse = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let violation = try? context.pipeline.syncOperations.handler(type: HTTPHeadGuard.self).violation
        let (status, outcome): (HTTPResponseStatus, String) =
            switch violation {
            case .requestLineTooLong: (.uriTooLong, "request line too long")
            case .headTooLarge: (.requestHeaderFieldsTooLarge, "headers too large")
            case nil: (.badRequest, "bad request")
            }
        logger.info(
            "http request",
            metadata: [
                "http.peer": "\(HTTPBootHandler.describe(context.channel.remoteAddress))",
                "http.local": "\(context.channel.localAddress?.ipAddress ?? "?")",
                "http.status": "\(status.code)", "http.outcome": "\(outcome)", "http.bytes": "0",
            ])
        guard !hasUnterminatedResponse else {
            context.close(promise: nil)
            return
        }
        let body = "\(status.reasonPhrase)\n"
        let headers = HTTPHeaders([
            ("Connection", "close"), ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", String(body.utf8.count)),
        ])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200: break
        case .head: hasUnterminatedResponse = true
        case .body: break
        case .end: hasUnterminatedResponse = false
        }
        context.write(data, promise: promise)
    }
}
