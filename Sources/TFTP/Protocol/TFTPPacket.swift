import NIOCore

/// One TFTP datagram (RFC 1350, RFC 2347), decoded or ready to encode.
///
/// `DATA` carries its payload as a `ByteBuffer` slice so decoding never copies file bytes; servers that stream
/// files write the header with ``writeDataHeader(block:at:)`` and read the payload straight into the same buffer.
public enum TFTPPacket: Sendable, Hashable {
    /// RRQ: a read request.
    case readRequest(TFTPRequest)
    /// WRQ: a write request (Thinboot's server refuses these, the codec still understands them).
    case writeRequest(TFTPRequest)
    /// DATA: block number (wrapping past 65535) and 0...blksize payload bytes.
    case data(block: UInt16, payload: ByteBuffer)
    /// ACK: the block number acknowledged (0 acknowledges an OACK).
    case ack(block: UInt16)
    /// ERROR: a code and a human-readable message.
    case error(code: TFTPErrorCode, message: String)
    /// OACK (RFC 2347): the options the server accepted, in the order the client sent them.
    case optionAck([TFTPOption])

    /// The largest RRQ/WRQ a server must accept (RFC 2347 §Packet Formats: "may not exceed 512 octets").
    public static let maximumRequestSize = 512
    /// Opcode (2 bytes) + block number (2 bytes).
    public static let dataHeaderSize = 4

    /// The opcode on the wire.
    public var opcode: TFTPOpcode {
        switch self {
        case .readRequest: .readRequest
        case .writeRequest: .writeRequest
        case .data: .data
        case .ack: .ack
        case .error: .error
        case .optionAck: .optionAck
        }
    }

    /// Appends the datagram's bytes to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(opcode.rawValue)
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            buffer.writeBytes(request.filename)
            buffer.writeInteger(UInt8(0))
            buffer.writeTFTPString(request.mode.rawValue)
            for option in request.options {
                buffer.writeTFTPString(option.name)
                buffer.writeTFTPString(option.value)
            }
        case .data(let block, let payload):
            buffer.writeInteger(block)
            buffer.writeImmutableBuffer(payload)
        case .ack(let block):
            buffer.writeInteger(block)
        case .error(let code, let message):
            buffer.writeInteger(code.rawValue)
            buffer.writeTFTPString(message)
        case .optionAck(let options):
            for option in options {
                buffer.writeTFTPString(option.name)
                buffer.writeTFTPString(option.value)
            }
        }
    }

    /// The datagram as a fresh buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }

    /// Writes a DATA header (opcode 3 and `block`, ``dataHeaderSize`` bytes) at `destination`, where the caller
    /// lays out the payload after it: the one place a server writes DATA headers.
    public static func writeDataHeader(block: UInt16, at destination: UnsafeMutableRawPointer) {
        let header: (UInt8, UInt8, UInt8, UInt8) = (
            0, UInt8(TFTPOpcode.data.rawValue), UInt8(truncatingIfNeeded: block >> 8), UInt8(truncatingIfNeeded: block)
        )
        withUnsafeBytes(of: header) { destination.copyMemory(from: $0.baseAddress!, byteCount: dataHeaderSize) }
    }
}

/// The opcodes of RFC 1350 and RFC 2347.
public enum TFTPOpcode: UInt16, Sendable, Hashable {
    case readRequest = 1
    case writeRequest = 2
    case data = 3
    case ack = 4
    case error = 5
    case optionAck = 6
}

extension ByteBuffer {
    /// Writes `string` as a NUL-terminated TFTP string; an embedded NUL would end the field early, so the string is
    /// cut there.
    fileprivate mutating func writeTFTPString(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            // A NUL inside would end the field early on the wire: cut there.
            let length = bytes.firstIndex(of: 0) ?? bytes.count
            writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[..<length]))
        }
        writeInteger(UInt8(0))
    }
}
