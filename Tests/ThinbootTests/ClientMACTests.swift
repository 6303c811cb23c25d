import Testing

@testable import Thinboot

/// A MAC no client can have is never a client's MAC.
@Suite struct ClientMACTests {
    @Test func loopbackHasNoClientMAC() {
        // lo's neighbour entries carry 00:00:00:00:00:00; IPv4 loopback already gave nil, IPv6 did not.
        #expect(NeighbourTable().mac(for: "127.0.0.1") == nil)
        #expect(NeighbourTable().mac(for: "::1") == nil)
    }

    @Test(arguments: [
        ("00:00:00:00:00:00", false), ("ff:ff:ff:ff:ff:ff", false), ("01:00:5e:00:00:01", false),
        ("33:33:00:00:00:01", false), ("52:54:00:12:34:56", true), ("02:42:ac:11:00:02", true),
    ])
    func onlyUnicastAddressesAreClients(text: String, client: Bool) throws {
        let mac = try #require(MACAddress(parsing: text))
        #expect(mac.isClientAddress == client)
    }
}
