import NIOCore

/// One transmission request as the client sent it, with its WRITE payload when it carries one.
public struct NBDRequest: Sendable, Equatable {
    /// The command flags.
    public var flags: NBDCommandFlags
    /// The command.
    public var command: NBDCommand
    /// The client's cookie, echoed in every reply to this request.
    public var cookie: UInt64
    /// The byte offset into the export.
    public var offset: UInt64
    /// The length the request covers.
    public var length: UInt32
    /// The data that followed a WRITE, exactly `length` bytes; nil for every other command.
    public var payload: ByteBuffer?

    public init(
        flags: NBDCommandFlags = [], command: NBDCommand, cookie: UInt64, offset: UInt64, length: UInt32,
        payload: ByteBuffer? = nil
    ) {
        self.flags = flags
        self.command = command
        self.cookie = cookie
        self.offset = offset
        self.length = length
        self.payload = payload
    }

    /// The 28-byte header (and payload) as a client writes it; used by tests and by nothing on the server path.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(NBDMagic.request)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(command.rawValue)
        buffer.writeInteger(cookie)
        buffer.writeInteger(offset)
        buffer.writeInteger(length)
        if var payload { buffer.writeBuffer(&payload) }
    }
}
