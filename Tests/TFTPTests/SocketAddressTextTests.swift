import NIOCore
import Testing

@testable import TFTP

@Suite struct SocketAddressTextTests {
    /// The log line's `tftp.peer` and `req.ip` read the same as the system's own formatting.
    @Test(arguments: [
        "0.0.0.0", "1.2.3.4", "10.0.0.1", "127.0.0.1", "192.168.100.7", "255.255.255.255", "::1", "fe80::1",
    ])
    func ipTextIsTheSystemsText(ip: String) throws {
        let address = try SocketAddress(ipAddress: ip, port: 69)
        #expect(address.ipText == address.ipAddress)
        #expect(address.ipText == ip)
    }
}
