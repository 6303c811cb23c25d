import DHCP
import Testing

/// Thinboot's answers laid out byte for byte against dnsmasq 2.90's proxy answers to the same requests
/// (`Fixtures/`), where the two mean the same; where Thinboot says more (the boot file in a port-67 offer,
/// which dnsmasq leaves to port 4011), the test says exactly which bytes differ.
@Suite struct OfferLayoutTests {
    static let server = IPv4Address(parsing: "10.98.0.1")!

    static func answer(_ request: [UInt8], port: PXEClientRequest.Port, choice: BootChoice) throws -> [UInt8]? {
        let message = try DHCPMessage(decoding: request)
        let client = try #require(PXEClientRequest(message: message, interface: "tbdcaps", port: port))
        return ProxyOffer.answer(
            to: message, request: client, choice: choice, serverIdentifier: server, nextServer: server)?.encoded()
    }

    @Test func bootServerAckIsDnsmasqsByteForByte() throws {
        let ours = try Self.answer(
            try Fixture.bytes("dnsmasq-efi-request4011-request"), port: .bootServer,
            choice: .file("ipxe.efi", server: nil))
        #expect(ours == (try Fixture.bytes("dnsmasq-efi-request4011-answer")))
    }

    @Test func efiOfferIsDnsmasqsWithTheFileAndDiscoveryControl() throws {
        let ours = try #require(
            try Self.answer(
                try Fixture.bytes("dnsmasq-efi-discover-request"), port: .dhcp,
                choice: .file("ipxe.efi", server: nil)))
        var expected = try Fixture.bytes("dnsmasq-efi-discover-answer")
        // dnsmasq: siaddr set, no file, options 53 54 60 97 then end, padded to 300.
        expected.replaceSubrange(108..<116, with: Array("ipxe.efi".utf8))
        let end = 240 + 3 + 6 + 11 + 19
        #expect(expected[end] == 0xFF)
        expected.replaceSubrange(end..<end + 1, with: [43, 4, 6, 1, 0x0B, 0xFF, 0xFF])
        expected.removeLast(6)
        #expect(ours == expected)
    }

    @Test func biosOfferHasDnsmasqsHeaderAndOptionOrder() throws {
        // dnsmasq answers a BIOS client with a boot menu in option 43; Thinboot with the file itself. The
        // header (xid, secs, flags, chaddr) and options 53, 54, 60 and 97 are the same bytes.
        let theirs = try DHCPMessage(decoding: try Fixture.bytes("dnsmasq-bios-discover-answer"))
        let oursBytes = try #require(
            try Self.answer(
                try Fixture.bytes("dnsmasq-bios-discover-request"), port: .dhcp,
                choice: .file("undionly.kpxe", server: nil)))
        let ours = try DHCPMessage(decoding: oursBytes)
        #expect(Array(oursBytes[0..<20]) == Array((try Fixture.bytes("dnsmasq-bios-discover-answer"))[0..<20]))
        #expect(ours.options.codes == theirs.options.codes)
        for code in [DHCPOptionCode.messageType, .serverIdentifier, .vendorClass, .clientMachineIdentifier] {
            #expect(ours.options[code] == theirs.options[code])
        }
        #expect(ours.bootFileName == "undionly.kpxe")
        #expect(ours.serverAddress == Self.server)
        #expect(ours.yourAddress == .zero)
        #expect(ours.options[.vendorSpecific] == [6, 1, 0x0B, 255])
    }
}
