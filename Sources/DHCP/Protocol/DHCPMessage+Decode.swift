extension DHCPMessage {
    /// Decodes one datagram. Refuses (rather than guesses at) everything a well-behaved client never sends:
    /// see ``DHCPPacketError/Kind``. Pad options are skipped; bytes after the end option are ignored (RFC 2131
    /// allows padding there).
    public init(decoding bytes: some Collection<UInt8>) throws(DHCPPacketError) {
        let bytes = Array(bytes)
        guard bytes.count >= DHCPLimits.minimumMessageSize else { throw DHCPPacketError(.truncated(bytes.count)) }
        guard bytes.count <= DHCPLimits.maxMessageSize else { throw DHCPPacketError(.tooLarge(bytes.count)) }
        guard let operation = Operation(rawValue: bytes[0]) else { throw DHCPPacketError(.badOperation(bytes[0])) }
        guard bytes[2] <= 16 else { throw DHCPPacketError(.badHardwareLength(bytes[2])) }
        guard Array(bytes[236..<240]) == Self.magicCookie else { throw DHCPPacketError(.badMagicCookie) }

        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        func address(_ at: Int) -> IPv4Address { IPv4Address(bytes: bytes[at..<at + 4]) ?? .zero }

        self.init(operation: operation, transactionID: UInt32(u16(4)) << 16 | UInt32(u16(6)))
        hardwareType = bytes[1]
        hardwareLength = bytes[2]
        hops = bytes[3]
        seconds = u16(8)
        flags = u16(10)
        clientAddress = address(12)
        yourAddress = address(16)
        serverAddress = address(20)
        relayAddress = address(24)
        clientHardwareAddress = Array(bytes[28..<44])
        serverName = Self.trimmed(bytes[44..<108])
        bootFile = Self.trimmed(bytes[108..<236])
        options = try Self.decodeOptions(bytes[240...])
    }

    /// A fixed field without its NUL padding.
    private static func trimmed(_ field: ArraySlice<UInt8>) -> [UInt8] {
        Array(field[field.startIndex..<(field.lastIndex { $0 != 0 }.map { $0 + 1 } ?? field.startIndex)])
    }

    private static func decodeOptions(_ area: ArraySlice<UInt8>) throws(DHCPPacketError) -> DHCPOptions {
        var options = DHCPOptions()
        var index = area.startIndex
        // Each step consumes at least one byte, so the loop ends within the message's size.
        while index < area.endIndex {
            let code = DHCPOptionCode(area[index])
            if code == .end { return options }
            if code == .pad {
                index += 1
                continue
            }
            guard index + 1 < area.endIndex else { throw DHCPPacketError(.optionOverrun(code)) }
            let length = Int(area[index + 1])
            let start = index + 2
            guard start + length <= area.endIndex else { throw DHCPPacketError(.optionOverrun(code)) }
            guard code != .optionOverload else { throw DHCPPacketError(.optionOverload) }
            options.join(code, area[start..<start + length])
            let total = options[code]?.count ?? 0
            let limit = code == .vendorSpecific ? DHCPLimits.maxVendorSpecificLength : DHCPLimits.maxOptionLength
            guard total <= limit else { throw DHCPPacketError(.optionTooLong(code, total)) }
            index = start + length
        }
        throw DHCPPacketError(.missingEnd)
    }
}
