import NIOCore

@testable import NBD

/// An in-memory export directory: the handshake tests need names, sizes and flags, not files.
struct TestDirectory: NBDExportDirectory {
    var exports: [NBDExportInfo] = [
        NBDExportInfo(
            name: "trusty-amd64", description: "Ubuntu 14.04 amd64", size: 1 << 20, flags: [.hasFlags, .readOnly]),
        NBDExportInfo(name: "trusty-i386", description: "", size: 4096, flags: [.hasFlags, .readOnly]),
    ]
    var defaultName: String? = "trusty-amd64"

    func export(named name: String) -> NBDExportInfo? {
        exports.first { $0.name == name } ?? (name.isEmpty ? exports.first { $0.name == defaultName } : nil)
    }
    func info(for export: NBDExportInfo) -> NBDExportInfo { export }
    func listing() -> [NBDExportInfo] { exports }
}

/// One option reply as a client reads it.
struct OptionReply: Equatable {
    var option: UInt32
    var type: UInt32
    var data: [UInt8]
}

/// Splits server bytes into option replies; fails the test through a nil on bad framing.
func optionReplies(_ buffer: ByteBuffer) -> [OptionReply]? {
    var buffer = buffer
    var replies: [OptionReply] = []
    while buffer.readableBytes > 0 {
        guard let magic = buffer.readInteger(as: UInt64.self), magic == NBDMagic.optionReply,
            let option = buffer.readInteger(as: UInt32.self), let type = buffer.readInteger(as: UInt32.self),
            let length = buffer.readInteger(as: UInt32.self), let data = buffer.readBytes(length: Int(length))
        else { return nil }
        replies.append(OptionReply(option: option, type: type, data: data))
    }
    return replies
}

/// The data of an option with a 32-bit-length-prefixed name and trailing 16-bit info requests (INFO/GO).
func exportRequest(_ name: String, infos: [NBDInfoType] = [], lyingNameLength: UInt32? = nil) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(lyingNameLength ?? UInt32(name.utf8.count))
    buffer.writeString(name)
    buffer.writeInteger(UInt16(infos.count))
    for info in infos { buffer.writeInteger(info.rawValue) }
    return buffer
}

/// The data of LIST_META_CONTEXT/SET_META_CONTEXT.
func metaContextRequest(_ name: String, queries: [String]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(name.utf8.count))
    buffer.writeString(name)
    buffer.writeInteger(UInt32(queries.count))
    for query in queries {
        buffer.writeInteger(UInt32(query.utf8.count))
        buffer.writeString(query)
    }
    return buffer
}

extension NBDHandshakeStateMachine.Action {
    /// The bytes the action sends, whatever the action.
    var bytes: ByteBuffer {
        switch self {
        case .send(let bytes), .sendAndClose(let bytes, _), .startTransmission(let bytes, _, _): bytes
        }
    }
    var closes: Bool {
        if case .sendAndClose = self { return true }
        return false
    }
    var transmission: (export: Directory.Export, negotiation: NBDNegotiation)? {
        if case .startTransmission(_, let export, let negotiation) = self { return (export, negotiation) }
        return nil
    }
}

/// A state machine past the greeting and the client flags.
func negotiatingMachine(
    _ directory: TestDirectory = TestDirectory(), flags: NBDClientFlags = [.fixedNewstyle, .noZeroes]
) -> NBDHandshakeStateMachine<TestDirectory> {
    var machine = NBDHandshakeStateMachine(directory: directory)
    _ = machine.start(style: .newstyle)
    _ = machine.receive(.clientFlags(flags))
    return machine
}
