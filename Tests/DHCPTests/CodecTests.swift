import DHCP
import Testing

@Suite struct CodecTests {
    /// A PXE DISCOVER as OVMF sends it, with every field and option set.
    static func discover() -> DHCPMessage {
        var message = DHCPMessage(operation: .request, transactionID: 0xDEAD_BEEF)
        message.seconds = 4
        message.flags = DHCPMessage.broadcastFlag
        message.clientHardwareAddress = [0x52, 0x54, 0, 0xC0, 0xFF, 0xEE] + Array(repeating: 0, count: 10)
        message.options.messageType = .discover
        message.options[.parameterRequestList] = [1, 3, 43, 60, 67]
        message.options[.clientArchitecture] = [0, 7]
        message.options[.clientMachineIdentifier] = [0] + Array(0x10...0x1F)
        message.options.vendorClass = "PXEClient:Arch:00007:UNDI:003000"
        return message
    }

    @Test func roundTripKeepsEveryFieldAndTheOptionOrder() throws {
        var message = Self.discover()
        message.relayAddress = IPv4Address(parsing: "10.1.2.3")!
        message.serverName = Array("boot".utf8)
        message.bootFile = Array("ipxe.efi".utf8)
        let bytes = message.encoded()
        #expect(bytes.count == 308)
        let decoded = try DHCPMessage(decoding: bytes)
        #expect(decoded == message)
        #expect(
            decoded.options.codes == [
                .messageType, .parameterRequestList, .clientArchitecture,
                .clientMachineIdentifier, .vendorClass,
            ])
        #expect(decoded.encoded() == bytes)
    }

    @Test func longOptionsAreSplitAndJoined() throws {
        var message = Self.discover()
        message.options[.hostName] = Array(repeating: 0x61, count: 600)
        let bytes = message.encoded()
        let decoded = try DHCPMessage(decoding: bytes)
        #expect(decoded.options[.hostName]?.count == 600)
        #expect(decoded == message)
    }

    @Test func typedViews() throws {
        let options = Self.discover().options
        #expect(options.messageType == .discover)
        #expect(options.clientArchitectures == [7])
        #expect(options.clientUUID == "10111213-1415-1617-1819-1a1b1c1d1e1f")
        var withClass = options
        withClass[.userClass] = Array("iPXE".utf8)
        #expect(withClass.userClass == "iPXE")
        withClass[.userClass] = [4] + Array("iPXE".utf8)
        #expect(withClass.userClass == "iPXE")
    }

    @Test func decodesDnsmasqsCaptures() throws {
        for name in ["dnsmasq-bios-discover", "dnsmasq-efi-discover", "dnsmasq-efi-request4011"] {
            let request = try DHCPMessage(decoding: try Fixture.bytes("\(name)-request"))
            #expect(request.operation == .request)
            #expect(request.options.vendorClass?.hasPrefix("PXEClient") == true)
            let answer = try DHCPMessage(decoding: try Fixture.bytes("\(name)-answer"))
            #expect(answer.operation == .reply)
            #expect(answer.transactionID == request.transactionID)
            #expect(answer.options.vendorClass == "PXEClient")
            #expect(answer.yourAddress == request.clientAddress)
        }
    }

    // MARK: Malformed input: every form refused with its own error

    static func refusal(_ bytes: [UInt8]) -> DHCPPacketError.Kind? {
        do {
            _ = try DHCPMessage(decoding: bytes)
            return nil
        } catch {
            return error.kind
        }
    }

    /// The encoded DISCOVER with its end option (and padding) cut, so tests can append what they want.
    static func openOptions() -> [UInt8] {
        let bytes = discover().encoded()
        let end = bytes.lastIndex(of: 0xFF)!
        return Array(bytes[..<end])
    }

    @Test(arguments: [0, 1, 100, 235, 239])
    func truncatedHeader(size: Int) {
        #expect(Self.refusal(Array(Self.discover().encoded().prefix(size))) == .truncated(size))
    }

    @Test func tooLarge() {
        let bytes = Self.openOptions() + Array(repeating: 0, count: 5000)
        #expect(Self.refusal(bytes) == .tooLarge(bytes.count))
    }

    @Test func badHeaderFields() {
        var bytes = Self.discover().encoded()
        bytes[0] = 3
        #expect(Self.refusal(bytes) == .badOperation(3))
        bytes = Self.discover().encoded()
        bytes[2] = 17
        #expect(Self.refusal(bytes) == .badHardwareLength(17))
        bytes = Self.discover().encoded()
        bytes[239] = 0
        #expect(Self.refusal(bytes) == .badMagicCookie)
    }

    @Test func optionLengthThatLies() {
        // Option 60 claims 200 bytes; the datagram ends after 5.
        #expect(Self.refusal(Self.openOptions() + [60, 200, 1, 2, 3, 4, 5]) == .optionOverrun(.vendorClass))
        // A code with no length byte at all.
        #expect(Self.refusal(Self.openOptions() + [12]) == .optionOverrun(.hostName))
    }

    @Test func missingEndOption() {
        #expect(Self.refusal(Self.openOptions()) == .missingEnd)
        #expect(Self.refusal(Self.openOptions() + [0, 0, 0]) == .missingEnd)
    }

    @Test func optionOverload() {
        #expect(Self.refusal(Self.openOptions() + [52, 1, 3, 255]) == .optionOverload)
    }

    @Test func hugeOption43() {
        // One instance fits; repeats joined past 255 bytes do not.
        let one: [UInt8] = [43, 255] + Array(repeating: 1, count: 255)
        #expect(Self.refusal(Self.openOptions() + one + [255]) == nil)
        #expect(Self.refusal(Self.openOptions() + one + [43, 2, 1, 1, 255]) == .optionTooLong(.vendorSpecific, 257))
    }

    @Test func hugeRepeatedOption() {
        var bytes = Self.openOptions()
        for _ in 0..<5 { bytes += [12, 255] + Array(repeating: 0x61, count: 255) }
        #expect(Self.refusal(bytes + [255]) == .optionTooLong(.hostName, 1275))
    }

    @Test func bytesAfterTheEndOptionAreIgnored() throws {
        let message = try DHCPMessage(decoding: Self.openOptions() + [255, 1, 2, 3])
        #expect(message == Self.discover())
    }
}
