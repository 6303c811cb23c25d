import NIOCore

/// Writes reply headers. Data is never copied here: a READ's bytes follow the header as their own buffer.
public enum NBDReplyEncoder {
    /// The length of a simple reply header.
    public static let simpleHeaderLength = 16
    /// The length of a structured reply chunk header.
    public static let structuredHeaderLength = 20
    /// `NBD_REPLY_FLAG_DONE`: the last chunk of a reply.
    public static let doneFlag: UInt16 = 1 << 0

    /// A simple reply header; for a successful READ the data follows it.
    public static func simpleReply(cookie: UInt64, error: NBDErrorCode, into buffer: inout ByteBuffer) {
        buffer.writeInteger(NBDMagic.simpleReply)
        buffer.writeInteger(error.rawValue)
        buffer.writeInteger(cookie)
    }

    /// A structured chunk header announcing `length` bytes of chunk payload.
    public static func chunkHeader(
        cookie: UInt64, type: NBDStructuredReplyType, done: Bool, length: Int, into buffer: inout ByteBuffer
    ) {
        buffer.writeInteger(NBDMagic.structuredReply)
        buffer.writeInteger(done ? doneFlag : 0)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(cookie)
        buffer.writeInteger(UInt32(length))
    }

    /// The header of a final `OFFSET_DATA` chunk; `dataLength` bytes of data follow it.
    public static func offsetDataHeader(cookie: UInt64, offset: UInt64, dataLength: Int, into buffer: inout ByteBuffer)
    {
        chunkHeader(cookie: cookie, type: .offsetData, done: true, length: 8 + dataLength, into: &buffer)
        buffer.writeInteger(offset)
    }

    /// A final `NONE` chunk: success without data (structured replies to FLUSH, TRIM, ...).
    public static func structuredDone(cookie: UInt64, into buffer: inout ByteBuffer) {
        chunkHeader(cookie: cookie, type: .none, done: true, length: 0, into: &buffer)
    }

    /// A final `ERROR` chunk carrying `error` and a short message for the client's log.
    public static func structuredError(
        cookie: UInt64, error: NBDErrorCode, message: String, into buffer: inout ByteBuffer
    ) {
        let text = Array(message.utf8.prefix(NBDLimits.maximumStringLength))
        chunkHeader(cookie: cookie, type: .error, done: true, length: 6 + text.count, into: &buffer)
        buffer.writeInteger(error.rawValue)
        buffer.writeInteger(UInt16(text.count))
        buffer.writeBytes(text)
    }

    /// A final `BLOCK_STATUS` chunk for one meta context.
    public static func blockStatus(
        cookie: UInt64, contextID: UInt32, extents: [NBDExtent], into buffer: inout ByteBuffer
    ) {
        chunkHeader(cookie: cookie, type: .blockStatus, done: true, length: 4 + 8 * extents.count, into: &buffer)
        buffer.writeInteger(contextID)
        for extent in extents {
            buffer.writeInteger(extent.length)
            buffer.writeInteger(extent.flags)
        }
    }
}
