import NIOCore

/// What a client sends during a newstyle handshake.
public enum NBDClientHandshakeMessage: Sendable, Equatable {
    /// The 32-bit client flags that answer the greeting.
    case clientFlags(NBDClientFlags)
    /// One option with its data (already bounded by `NBDLimits.maximumOptionLength`).
    case option(NBDOption, ByteBuffer)

    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.clientFlags(let a), .clientFlags(let b)): a.rawValue == b.rawValue
        case (.option(let a, let x), .option(let b, let y)): a == b && x == y
        default: false
        }
    }
}

/// Frames the client's side of the newstyle handshake: four bytes of flags, then `IHAVEOPT` options.
public struct NBDHandshakeDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = NBDClientHandshakeMessage

    private var sawClientFlags: Bool

    /// A decoder for a fresh connection, or (`expectingClientFlags: false`) one that frames options only.
    public init(expectingClientFlags: Bool = true) {
        sawClientFlags = !expectingClientFlags
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> NBDClientHandshakeMessage? {
        if !sawClientFlags {
            guard let flags = buffer.readInteger(as: UInt32.self) else { return nil }
            sawClientFlags = true
            return .clientFlags(NBDClientFlags(rawValue: flags))
        }
        // IHAVEOPT, option, length.
        guard buffer.readableBytes >= 16 else { return nil }
        let start = buffer.readerIndex
        let magic = buffer.getInteger(at: start, as: UInt64.self)!
        guard magic == NBDMagic.option else { throw NBDProtocolError.badMagic(magic) }
        let option = NBDOption(rawValue: buffer.getInteger(at: start + 8, as: UInt32.self)!)
        let length = buffer.getInteger(at: start + 12, as: UInt32.self)!
        guard length <= NBDLimits.maximumOptionLength else { throw NBDProtocolError.optionTooLong(length) }
        guard buffer.readableBytes >= 16 + Int(length) else { return nil }
        let data = buffer.getSlice(at: start + 16, length: Int(length))!
        buffer.moveReaderIndex(forwardBy: 16 + Int(length))
        return .option(option, data)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NBDClientHandshakeMessage? {
        try decode(buffer: &buffer)
    }
}
