import CFuzzDriver
import DHCP
import Glibc

// One datagram as the ProxyDHCP socket hands it over: decoded, then read as a PXE client request for both ports,
// as the responder does. Beyond "no crash": what decodes re-encodes to bytes that decode to the same message
// (decode, encode, decode), and encoding that message again gives the same bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCPCodec(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let datagram = UnsafeBufferPointer(start: start, count: count)
    guard let message = try? DHCPMessage(decoding: datagram) else { return 0 }
    for port in [PXEClientRequest.Port.dhcp, .bootServer] {
        _ = PXEClientRequest(message: message, interface: "eth0", port: port)?.macText
    }
    let encoded = message.encoded()
    let again: DHCPMessage
    do {
        again = try DHCPMessage(decoding: encoded)
    } catch {
        fatalError("\(message) encodes to bytes that do not decode: \(error)")
    }
    precondition(again == message, "\(message) round-trips to \(again)")
    precondition(again.encoded() == encoded, "a decoded message encodes to other bytes than it came from")
    return 0
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
