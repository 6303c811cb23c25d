import DHCP
import Testing

@Suite struct ProxyOfferTests {
    static let me = IPv4Address(parsing: "10.0.0.1")!
    static let other = IPv4Address(parsing: "10.0.0.2")!

    static func request(
        vendorClass: String? = "PXEClient:Arch:00007:UNDI:003000", type: DHCPMessageType = .discover,
        userClass: String? = nil
    ) -> DHCPMessage {
        var message = CodecTests.discover()
        message.options.messageType = type
        message.options.vendorClass = vendorClass
        if let userClass { message.options[.userClass] = Array(userClass.utf8) }
        return message
    }

    static func answer(_ message: DHCPMessage, _ choice: BootChoice, port: PXEClientRequest.Port = .dhcp)
        -> DHCPMessage?
    {
        guard let client = PXEClientRequest(message: message, interface: "eth0", port: port) else { return nil }
        return ProxyOffer.answer(to: message, request: client, choice: choice, serverIdentifier: me, nextServer: me)
    }

    @Test(arguments: [nil, "MSFT 5.0", "udhcp 1.36.1", "pxeclient", "HTTPclient"] as [String?])
    func nonPXEClientsAreNotOurs(vendorClass: String?) {
        let message = Self.request(vendorClass: vendorClass)
        #expect(PXEClientRequest(message: message, interface: "eth0", port: .dhcp) == nil)
    }

    @Test(arguments: [DHCPMessageType.inform, .release, .decline, .offer, .ack])
    func onlyDiscoverAndRequest(type: DHCPMessageType) {
        #expect(PXEClientRequest(message: Self.request(type: type), interface: "eth0", port: .dhcp) == nil)
    }

    @Test func repliesAreNotRequests() {
        var message = Self.request()
        message.operation = .reply
        #expect(PXEClientRequest(message: message, interface: "eth0", port: .dhcp) == nil)
    }

    @Test func offerNeverOffersAnAddress() throws {
        var message = Self.request()
        message.clientAddress = IPv4Address(parsing: "10.0.0.77")!
        let offer = try #require(Self.answer(message, .file("ipxe.efi", server: nil)))
        #expect(offer.yourAddress == .zero)
        #expect(offer.options.messageType == .offer)
        #expect(offer.serverAddress == Self.me)
        #expect(offer.bootFileName == "ipxe.efi")
        #expect(offer.options.serverIdentifier == Self.me)
        #expect(offer.options.vendorClass == "PXEClient")
        #expect(offer.options[.clientMachineIdentifier] == message.options[.clientMachineIdentifier])
        #expect(offer.options[.vendorSpecific] == PXEVendorOptions.bootFileFromOffer())
        #expect(offer.options[.leaseTime] == nil)
    }

    @Test func scriptsServerBecomesSiaddr() throws {
        let offer = try #require(Self.answer(Self.request(), .file("ipxe.efi", server: Self.other)))
        #expect(offer.serverAddress == Self.other)
        #expect(offer.options.serverIdentifier == Self.me)
    }

    @Test func noOption97WhenTheClientSentNone() throws {
        var message = Self.request()
        message.options[.clientMachineIdentifier] = nil
        let offer = try #require(Self.answer(message, .file("ipxe.efi", server: nil)))
        #expect(offer.options[.clientMachineIdentifier] == nil)
    }

    @Test func httpBootGetsHTTPClientAndTheURL() throws {
        var message = Self.request(vendorClass: "HTTPClient:Arch:00016:UNDI:003001")
        message.options[.clientArchitecture] = [0, 16]
        let offer = try #require(Self.answer(message, .url("http://10.0.0.1/boot/ipxe.efi")))
        #expect(offer.options.vendorClass == "HTTPClient")
        #expect(offer.bootFileName == "http://10.0.0.1/boot/ipxe.efi")
        #expect(offer.options[.vendorSpecific] == nil)
    }

    @Test func iPXEGetsItsURLAsThePXEFile() throws {
        let offer = try #require(Self.answer(Self.request(userClass: "iPXE"), .url("http://10.0.0.1/boot.ipxe")))
        #expect(offer.options.vendorClass == "PXEClient")
        #expect(offer.bootFileName == "http://10.0.0.1/boot.ipxe")
    }

    @Test func silenceAndUnfitFileNames() {
        #expect(Self.answer(Self.request(), .silent) == nil)
        #expect(Self.answer(Self.request(), .file("", server: nil)) == nil)
        #expect(Self.answer(Self.request(), .file(String(repeating: "a", count: 128), server: nil)) == nil)
        #expect(Self.answer(Self.request(), .file(String(repeating: "a", count: 127), server: nil)) != nil)
        #expect(Self.answer(Self.request(), .file("a\u{0}b", server: nil)) == nil)
    }

    @Test func requestForAnotherServerIsIgnored() throws {
        var message = Self.request(type: .request)
        message.options.serverIdentifier = Self.other
        #expect(Self.answer(message, .file("ipxe.efi", server: nil)) == nil)
        message.options.serverIdentifier = Self.me
        #expect(Self.answer(message, .file("ipxe.efi", server: nil))?.options.messageType == .ack)
    }

    @Test func bootServerRequestGetsAnAckWithTheSameFile() throws {
        var message = Self.request(type: .request)
        message.clientAddress = IPv4Address(parsing: "10.0.0.77")!
        message.options[.vendorSpecific] = [71, 4, 0x80, 0x01, 0, 0, 255]
        let ack = try #require(Self.answer(message, .file("ipxe.efi", server: nil), port: .bootServer))
        #expect(ack.options.messageType == .ack)
        #expect(ack.bootFileName == "ipxe.efi")
        #expect(ack.options[.vendorSpecific] == [71, 4, 0x80, 0x01, 0, 0, 255])
    }

    @Test func destinations() throws {
        var message = Self.request()
        var client = try #require(PXEClientRequest(message: message, interface: "br0", port: .dhcp))
        #expect(
            ReplyDestination.of(request: client, broadcastFlag: true, sourcePort: 68) == .broadcast(interface: "br0"))
        message.relayAddress = IPv4Address(parsing: "192.168.7.1")!
        client = try #require(PXEClientRequest(message: message, interface: "br0", port: .dhcp))
        #expect(
            ReplyDestination.of(request: client, broadcastFlag: true, sourcePort: 67)
                == .unicast(IPv4Address(parsing: "192.168.7.1")!, port: 67))
        message.relayAddress = .zero
        message.clientAddress = IPv4Address(parsing: "10.0.0.77")!
        client = try #require(PXEClientRequest(message: message, interface: "br0", port: .bootServer))
        #expect(
            ReplyDestination.of(request: client, broadcastFlag: false, sourcePort: 4011)
                == .unicast(IPv4Address(parsing: "10.0.0.77")!, port: 4011))
    }
}
