import NIOCore

/// Turns the transmission-phase byte stream into requests. An accepted WRITE is delivered once its whole payload
/// has arrived (at most `NBDLimits.maximumRequestLength` bytes). On an export that refuses writes, a WRITE's
/// payload is dropped as it arrives, in whatever chunks the socket delivers, and the request is delivered
/// without it once the last byte is gone: a refused write costs no memory, and the stream stays framed.
public struct NBDRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = NBDRequest

    /// Magic, flags, type, cookie, offset, length: 4 + 2 + 2 + 8 + 8 + 4.
    static let headerLength = 28

    private let refusesWrites: Bool
    /// A refused WRITE whose payload is still arriving, with the payload bytes left to drop.
    private var draining: (request: NBDRequest, remaining: Int)?

    /// - Parameter refusesWrites: drop WRITE payloads instead of delivering them (read-only exports).
    public init(refusesWrites: Bool = false) {
        self.refusesWrites = refusesWrites
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> NBDRequest? {
        if let (request, remaining) = draining {
            let dropped = min(remaining, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: dropped)
            guard dropped == remaining else {
                draining = (request, remaining - dropped)
                return nil
            }
            draining = nil
            return request
        }
        guard buffer.readableBytes >= Self.headerLength else { return nil }
        let start = buffer.readerIndex
        let magic = buffer.getInteger(at: start, as: UInt32.self)!
        guard magic == NBDMagic.request else { throw NBDProtocolError.badMagic(UInt64(magic)) }
        let flags = NBDCommandFlags(rawValue: buffer.getInteger(at: start + 4, as: UInt16.self)!)
        let command = NBDCommand(rawValue: buffer.getInteger(at: start + 6, as: UInt16.self)!)
        let cookie = buffer.getInteger(at: start + 8, as: UInt64.self)!
        let offset = buffer.getInteger(at: start + 16, as: UInt64.self)!
        let length = buffer.getInteger(at: start + 24, as: UInt32.self)!
        var request = NBDRequest(flags: flags, command: command, cookie: cookie, offset: offset, length: length)
        guard command == .write else {
            buffer.moveReaderIndex(forwardBy: Self.headerLength)
            return request
        }
        guard length <= NBDLimits.maximumRequestLength else { throw NBDProtocolError.requestTooLong(length) }
        if refusesWrites {
            buffer.moveReaderIndex(forwardBy: Self.headerLength)
            draining = (request, Int(length))
            return try decode(buffer: &buffer)
        }
        guard buffer.readableBytes >= Self.headerLength + Int(length) else { return nil }
        request.payload = buffer.getSlice(at: start + Self.headerLength, length: Int(length))
        buffer.moveReaderIndex(forwardBy: Self.headerLength + Int(length))
        return request
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NBDRequest? {
        try decode(buffer: &buffer)
    }
}
