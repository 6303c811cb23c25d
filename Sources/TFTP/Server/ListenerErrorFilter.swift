import Logging
import NIOCore

/// Keeps a listening socket alive through transient errors (an ICMP error surfacing on read, a failed send):
/// NIO's async channel would end its inbound stream on any error, silencing the server. Errors that are fatal close
/// the channel, which ends the stream anyway.
final class ListenerErrorFilter: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("tftp listener error", metadata: ["error": "\(error)"])
    }
}
