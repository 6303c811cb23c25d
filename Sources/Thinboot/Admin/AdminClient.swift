import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches a page of the admin listener (`thinboot status` reads `/status.json`) with NIO's HTTP/1 client codec.
public enum AdminClient {
    /// What went wrong, said so the admin knows what to do.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The body of `GET path` on `base` (`http://127.0.0.1:9108`), or a failure naming the URL and the reason.
    public static func get(_ path: String, from base: String, timeout: TimeAmount = .seconds(10)) async throws(Failure)
        -> [UInt8]
    {
        guard let url = URL(string: base), url.scheme == "http", let host = url.host else {
            throw Failure(description: "\(base) is not an http:// URL: write --admin http://127.0.0.1:9108")
        }
        let port = url.port ?? 80
        let collector = BodyCollector()
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
            headers.add(name: "Connection", value: "close")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
            let scheduled = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            defer { scheduled.cancel() }
            let (status, body) = try await collector.response.get()
            guard status == .ok else {
                throw Failure(
                    description:
                        "\(base)\(path) answered \(status.code) \(status.reasonPhrase)"
                        + (status == .forbidden ? ": add this host to [admin] allow" : ""))
            }
            return body
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(
                description:
                    "cannot read \(base)\(path) (\(error)): is `thinboot serve` running with an [admin] section?")
        }
    }

    /// Collects one response's status and body.
    private final class BodyCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        private var status: HTTPResponseStatus = .ok
        private var body: [UInt8] = []
        private var promise: EventLoopPromise<(HTTPResponseStatus, [UInt8])>?
        private var pending: Result<(HTTPResponseStatus, [UInt8]), Error>?

        /// Set when the handler is added; read once the request is sent.
        var response: EventLoopFuture<(HTTPResponseStatus, [UInt8])> { promise!.futureResult }

        func handlerAdded(context: ChannelHandlerContext) {
            promise = context.eventLoop.makePromise()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = head.status
            case .body(let bytes): body.append(contentsOf: bytes.readableBytesView)
            case .end:
                promise?.succeed((status, body))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise?.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise?.fail(Failure(description: "the connection closed before the response ended"))
        }

        /// A connection that never came up is removed without going inactive: the promise still ends (a second
        /// completion of a promise is ignored).
        func handlerRemoved(context: ChannelHandlerContext) {
            promise?.fail(Failure(description: "the connection closed before the response ended"))
        }
    }
}
