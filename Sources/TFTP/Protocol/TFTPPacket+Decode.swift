import NIOCore

extension TFTPPacket {
    /// Decodes one datagram. Every malformed form throws a ``TFTPPacketError``; `DATA` payloads are slices of
    /// `datagram`, not copies.
    public init(decoding datagram: ByteBuffer) throws(TFTPPacketError) {
        var buffer = datagram
        guard let rawOpcode = buffer.readInteger(as: UInt16.self) else { throw TFTPPacketError(.truncated) }
        guard let opcode = TFTPOpcode(rawValue: rawOpcode) else {
            throw TFTPPacketError(.unknownOpcode(rawOpcode))
        }
        switch opcode {
        case .readRequest:
            self = .readRequest(try Self.decodeRequest(&buffer, size: datagram.readableBytes))
        case .writeRequest:
            self = .writeRequest(try Self.decodeRequest(&buffer, size: datagram.readableBytes))
        case .data:
            guard let block = buffer.readInteger(as: UInt16.self) else { throw TFTPPacketError(.truncated) }
            self = .data(block: block, payload: buffer)
        case .ack:
            guard let block = buffer.readInteger(as: UInt16.self) else { throw TFTPPacketError(.truncated) }
            guard buffer.readableBytes == 0 else { throw TFTPPacketError(.trailingBytes) }
            self = .ack(block: block)
        case .error:
            guard let rawCode = buffer.readInteger(as: UInt16.self) else { throw TFTPPacketError(.truncated) }
            let message = try Self.readString(&buffer)
            guard buffer.readableBytes == 0 else { throw TFTPPacketError(.trailingBytes) }
            // A code from a later RFC is still an error: keep the message, file it under "not defined".
            self = .error(code: TFTPErrorCode(rawValue: rawCode) ?? .notDefined, message: message)
        case .optionAck:
            let options = try Self.readOptions(&buffer)
            guard !options.isEmpty else { throw TFTPPacketError(.emptyOptionAck) }
            self = .optionAck(options)
        }
    }

    private static func decodeRequest(_ buffer: inout ByteBuffer, size: Int) throws(TFTPPacketError) -> TFTPRequest {
        guard size <= maximumRequestSize else { throw TFTPPacketError(.requestTooLarge(size)) }
        let filename = try readBytes(&buffer)
        guard !filename.isEmpty else { throw TFTPPacketError(.emptyFilename) }
        let modeName = try readString(&buffer).lowercased()
        guard let mode = TFTPMode(rawValue: modeName) else { throw TFTPPacketError(.unsupportedMode(modeName)) }
        return TFTPRequest(filename: filename, mode: mode, options: try readOptions(&buffer))
    }

    /// Name/value pairs up to the end of the datagram; names lowercased, a repeated name keeps its first value.
    private static func readOptions(_ buffer: inout ByteBuffer) throws(TFTPPacketError) -> [TFTPOption] {
        var options: [TFTPOption] = []
        while buffer.readableBytes > 0 {
            let name = try readString(&buffer).lowercased()
            guard !name.isEmpty, buffer.readableBytes > 0 else { throw TFTPPacketError(.malformedOption) }
            let value = try readString(&buffer)
            if !options.contains(where: { $0.name == name }) {
                options.append(TFTPOption(name, value))
            }
        }
        return options
    }

    private static func readBytes(_ buffer: inout ByteBuffer) throws(TFTPPacketError) -> [UInt8] {
        guard let end = buffer.readableBytesView.firstIndex(of: 0) else {
            throw TFTPPacketError(.unterminatedString)
        }
        let bytes = buffer.readBytes(length: end - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        return bytes
    }

    private static func readString(_ buffer: inout ByteBuffer) throws(TFTPPacketError) -> String {
        String(decoding: try readBytes(&buffer), as: UTF8.self)
    }
}
