import Logging
import NIOCore
import NIOHTTP1

/// Watches the raw bytes in front of NIO's HTTP decoder for what the decoder does not limit the way boot servers
/// must: the request line's length (414 past it), the head's length (431 past it), how long a head may take to
/// arrive (a slower client is cut off) and how long a keep-alive connection may sit idle.
///
/// It only counts bytes and line ends; parsing stays NIO's. A head ends at an empty line. Requests with a body are
/// refused and their connection closed, so the bytes after a head are always the next head. A limit passed is
/// reported as `HTTPParserError.headerOverflow` so that `HTTPServerPipelineHandler` answers it in order after the
/// responses before it; ``HTTPErrorResponder`` asks ``violation`` which status to send.
final class HTTPHeadGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Which limit a head passed.
    enum Violation {
        case requestLineTooLong
        case headTooLarge
    }

    /// Sent down the pipeline by ``HTTPBootHandler`` when a response has gone out completely.
    struct ResponseFinished {}

    private let configuration: HTTPServerConfiguration
    private let logger: Logger
    /// Whether a head has begun (a byte other than CR/LF since the last head ended).
    private var inHead = false
    private var inRequestLine = false
    /// Bytes of the current line, CR not counted; 0 at a line end means the head ended.
    private var lineBytes = 0
    private var headBytes = 0
    /// Heads passed on whose responses have not gone out yet.
    private var outstanding = 0
    /// The limit passed, if any; from then on input is dropped.
    private(set) var violation: Violation?
    /// When the connection is closed unless something happens first, and what to log then (nil: idle, silent).
    private var deadline: NIODeadline?
    private var deadlineReason: String?
    /// The one scheduled check and when it fires. Deadlines move on every request; the check is rescheduled only
    /// when it would fire too late, so a keep-alive request costs no timer insertion and removal (a measurable
    /// share of a small request's CPU).
    private var timer: Scheduled<Void>?
    private var timerFires: NIODeadline?

    init(configuration: HTTPServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context: context, after: configuration.idleTimeout, reason: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard violation == nil else { return }
        let buffer = unwrapInboundIn(data)
        let passed = buffer.withUnsafeReadableBytes { bytes -> Int? in
            for (index, byte) in bytes.enumerated() {
                if !inHead {
                    // Empty lines before a request line are ignored (RFC 9112 §2.2).
                    if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
                    inHead = true
                    inRequestLine = true
                    lineBytes = 0
                    headBytes = 0
                    schedule(context: context, after: configuration.headerTimeout, reason: "header timeout")
                }
                headBytes += 1
                switch byte {
                case UInt8(ascii: "\n"):
                    if lineBytes == 0 {
                        inHead = false
                        outstanding += 1
                        deadline = nil
                    }
                    inRequestLine = false
                    lineBytes = 0
                case UInt8(ascii: "\r"):
                    break
                default:
                    lineBytes += 1
                }
                if inRequestLine, lineBytes > configuration.maxRequestLineBytes {
                    violation = .requestLineTooLong
                } else if headBytes > configuration.maxHeadBytes {
                    violation = .headTooLarge
                }
                if violation != nil { return index }
            }
            return nil
        }
        guard let passed else {
            context.fireChannelRead(data)
            return
        }
        deadline = nil
        if passed > 0 {
            context.fireChannelRead(wrapInboundOut(buffer.getSlice(at: buffer.readerIndex, length: passed)!))
        }
        context.fireErrorCaught(HTTPParserError.headerOverflow)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is ResponseFinished else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        outstanding = max(0, outstanding - 1)
        if outstanding == 0, !inHead, violation == nil {
            schedule(context: context, after: configuration.idleTimeout, reason: nil)
        }
        promise?.succeed()
    }

    /// Closes the connection after `delay` unless the deadline is moved or cleared first; `reason` is logged (idle
    /// connections close silently).
    private func schedule(context: ChannelHandlerContext, after delay: Duration, reason: String?) {
        let when = NIODeadline.now() + .init(delay)
        deadline = when
        deadlineReason = reason
        if let timerFires, timerFires <= when { return }
        arm(context: context, at: when)
    }

    private func arm(context: ChannelHandlerContext, at when: NIODeadline) {
        timer?.cancel()
        timerFires = when
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) {
            let (guardHandler, context) = loopBound.value
            guardHandler.deadlineReached(context: context)
        }
    }

    private func deadlineReached(context: ChannelHandlerContext) {
        timer = nil
        timerFires = nil
        guard let deadline else { return }
        guard deadline <= .now() else {
            arm(context: context, at: deadline)
            return
        }
        if let deadlineReason {
            logger.info(
                "http connection cut",
                metadata: [
                    "http.peer": "\(HTTPBootHandler.describe(context.channel.remoteAddress))",
                    "http.local": "\(context.channel.localAddress?.ipAddress ?? "?")",
                    "http.outcome": "\(deadlineReason)",
                ])
        }
        context.close(promise: nil)
    }
}
