import NIOCore

/// Turns the transmission-phase byte stream into requests. A WRITE is only delivered once its whole payload
/// has arrived, so a refused write (`EPERM`) has always been drained and the stream stays framed.
public struct NBDRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = NBDRequest

    /// Magic, flags, type, cookie, offset, length: 4 + 2 + 2 + 8 + 8 + 4.
    static let headerLength = 28

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> NBDRequest? {
        guard buffer.readableBytes >= Self.headerLength else { return nil }
        let start = buffer.readerIndex
        let magic = buffer.getInteger(at: start, as: UInt32.self)!
        guard magic == NBDMagic.request else { throw NBDProtocolError.badMagic(UInt64(magic)) }
        let flags = NBDCommandFlags(rawValue: buffer.getInteger(at: start + 4, as: UInt16.self)!)
        let command = NBDCommand(rawValue: buffer.getInteger(at: start + 6, as: UInt16.self)!)
        let cookie = buffer.getInteger(at: start + 8, as: UInt64.self)!
        let offset = buffer.getInteger(at: start + 16, as: UInt64.self)!
        let length = buffer.getInteger(at: start + 24, as: UInt32.self)!
        var payload: ByteBuffer?
        if command == .write {
            guard length <= NBDLimits.maximumRequestLength else { throw NBDProtocolError.requestTooLong(length) }
            guard buffer.readableBytes >= Self.headerLength + Int(length) else { return nil }
            payload = buffer.getSlice(at: start + Self.headerLength, length: Int(length))
            buffer.moveReaderIndex(forwardBy: Self.headerLength + Int(length))
        } else {
            buffer.moveReaderIndex(forwardBy: Self.headerLength)
        }
        return NBDRequest(
            flags: flags, command: command, cookie: cookie, offset: offset, length: length, payload: payload)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NBDRequest? {
        try decode(buffer: &buffer)
    }
}
