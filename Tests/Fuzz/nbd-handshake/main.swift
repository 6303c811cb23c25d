import CFuzzDriver
import Glibc
import NBD
import NIOCore

// The client's side of a newstyle handshake, framed by the server's decoder and answered by the handshake state
// machine over an in-memory directory, exactly as a connection feeds them. Beyond "no crash": every reply to an
// option is framed as option replies (magic, the option asked, type, length, data), and the loop ends: each
// message consumes bytes, and the machine closes or starts transmission at most once.

/// Two exports and a default, as a small server has.
struct Directory: NBDExportDirectory {
    let exports = [
        NBDExportInfo(name: "trusty-amd64", description: "Ubuntu 14.04", size: 1 << 20, flags: [.hasFlags, .readOnly]),
        NBDExportInfo(name: "i386", description: "", size: 4096, flags: [.hasFlags, .readOnly, .sendFlush]),
    ]
    func export(named name: String) -> NBDExportInfo? {
        exports.first { $0.name == name } ?? (name.isEmpty ? exports.first : nil)
    }
    func info(for export: NBDExportInfo) -> NBDExportInfo { export }
    func listing() -> [NBDExportInfo] { exports }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNBDHandshake(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: start, count: count))
    var decoder = NBDHandshakeDecoder()
    var machine = NBDHandshakeStateMachine(directory: Directory())
    _ = machine.start(style: .newstyle)
    while true {
        let before = buffer.readableBytes
        guard let message = try? decoder.decode(buffer: &buffer) else { return 0 }
        precondition(buffer.readableBytes < before, "a message was framed from no bytes")
        switch machine.receive(message) {
        case .send(let reply):
            if case .option(let option, _) = message { checkFraming(reply, answering: option) }
        case .sendAndClose, .startTransmission:
            return 0
        }
    }
}

/// `reply` is a sequence of whole option replies to `option`.
func checkFraming(_ reply: ByteBuffer, answering option: NBDOption) {
    var reply = reply
    precondition(reply.readableBytes > 0, "no reply to \(option)")
    while reply.readableBytes > 0 {
        guard let magic = reply.readInteger(as: UInt64.self), magic == NBDMagic.optionReply,
            let answered = reply.readInteger(as: UInt32.self), reply.readInteger(as: UInt32.self) != nil,
            let length = reply.readInteger(as: UInt32.self), reply.readSlice(length: Int(length)) != nil
        else { fatalError("a reply to \(option) is not framed as option replies") }
        precondition(answered == option.rawValue, "a reply to \(option) names option \(answered)")
    }
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
