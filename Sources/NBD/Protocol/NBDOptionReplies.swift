import NIOCore

/// Encodes the server's side of the handshake: greetings, option replies, and the export-name answer.
enum NBDOptionReplies {
    /// The name of the one meta context Thinboot offers.
    static let allocationContext = "base:allocation"
    /// The id the client uses for `base:allocation` in BLOCK_STATUS replies.
    static let allocationContextID: UInt32 = 1

    static func newstyleGreeting(into buffer: inout ByteBuffer) {
        buffer.writeInteger(NBDMagic.server)
        buffer.writeInteger(NBDMagic.option)
        buffer.writeInteger(NBDHandshakeFlags([.fixedNewstyle, .noZeroes]).rawValue)
    }

    /// The oldstyle greeting: size and flags up front, then straight into transmission.
    static func oldstyleGreeting(_ info: NBDExportInfo, into buffer: inout ByteBuffer) {
        buffer.writeInteger(NBDMagic.server)
        buffer.writeInteger(NBDMagic.oldstyle)
        buffer.writeInteger(info.size)
        buffer.writeInteger(UInt32(info.flags.rawValue))
        buffer.writeRepeatingByte(0, count: 124)
    }

    /// The answer to `NBD_OPT_EXPORT_NAME`: size, flags, and 124 zero bytes unless the client said `NO_ZEROES`.
    static func exportNameReply(_ info: NBDExportInfo, zeroes: Bool, into buffer: inout ByteBuffer) {
        buffer.writeInteger(info.size)
        buffer.writeInteger(info.flags.rawValue)
        if zeroes { buffer.writeRepeatingByte(0, count: 124) }
    }

    static func reply(
        _ option: NBDOption, _ type: NBDOptionReplyType, into buffer: inout ByteBuffer,
        data: (inout ByteBuffer) -> Void = { _ in }
    ) {
        buffer.writeInteger(NBDMagic.optionReply)
        buffer.writeInteger(option.rawValue)
        buffer.writeInteger(type.rawValue)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        data(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// An error reply with a message for the client's log.
    static func error(
        _ option: NBDOption, _ type: NBDOptionReplyType, message: String, into buffer: inout ByteBuffer
    ) {
        reply(option, type, into: &buffer) { $0.writeString(message) }
    }

    /// `NBD_REP_SERVER`: one export in a LIST answer; the description follows the name.
    static func server(_ info: NBDExportInfo, into buffer: inout ByteBuffer) {
        reply(.list, .server, into: &buffer) { data in
            data.writeInteger(UInt32(info.name.utf8.count))
            data.writeString(info.name)
            data.writeString(info.description)
        }
    }

    /// The `NBD_REP_INFO` replies for INFO/GO: always `INFO_EXPORT` and `INFO_BLOCK_SIZE` (the spec lets a
    /// server send block sizes unasked), name and description when asked for.
    static func infos(
        _ option: NBDOption, _ info: NBDExportInfo, requested: [NBDInfoType], into buffer: inout ByteBuffer
    ) {
        reply(option, .info, into: &buffer) { data in
            data.writeInteger(NBDInfoType.export.rawValue)
            data.writeInteger(info.size)
            data.writeInteger(info.flags.rawValue)
        }
        if requested.contains(.name) {
            reply(option, .info, into: &buffer) { data in
                data.writeInteger(NBDInfoType.name.rawValue)
                data.writeString(info.name)
            }
        }
        if requested.contains(.description), !info.description.isEmpty {
            reply(option, .info, into: &buffer) { data in
                data.writeInteger(NBDInfoType.description.rawValue)
                data.writeString(info.description)
            }
        }
        reply(option, .info, into: &buffer) { data in
            data.writeInteger(NBDInfoType.blockSize.rawValue)
            data.writeInteger(UInt32(1))
            data.writeInteger(NBDLimits.advertisedPreferredBlockSize)
            data.writeInteger(NBDLimits.advertisedMaximumBlockSize)
        }
    }

    static func metaContext(_ option: NBDOption, into buffer: inout ByteBuffer) {
        reply(option, .metaContext, into: &buffer) { data in
            data.writeInteger(allocationContextID)
            data.writeString(allocationContext)
        }
    }
}
