extension DHCPMessage {
    /// The wire form: header, cookie, options in ``DHCPOptions`` order (values over 255 bytes split into
    /// repeats, RFC 3396), the end option, then zero padding up to ``DHCPLimits/minimumReplySize``.
    /// `sname` and `file` longer than their fields are cut (the responder never builds such a message: a boot
    /// file name is checked against 127 bytes before it gets here).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(DHCPLimits.minimumReplySize + 64)
        bytes += [operation.rawValue, hardwareType, hardwareLength, hops]
        bytes += [UInt8(transactionID >> 24), UInt8(transactionID >> 16 & 0xFF), UInt8(transactionID >> 8 & 0xFF)]
        bytes.append(UInt8(transactionID & 0xFF))
        bytes += [UInt8(seconds >> 8), UInt8(seconds & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF)]
        for address in [clientAddress, yourAddress, serverAddress, relayAddress] { bytes += address.bytes }
        bytes += Self.field(clientHardwareAddress, size: 16)
        bytes += Self.field(serverName, size: 64)
        bytes += Self.field(bootFile, size: 128)
        bytes += Self.magicCookie
        for code in options.codes {
            let value = options[code] ?? []
            var offset = 0
            // One instance even for an empty value; then at most 255 bytes per instance.
            repeat {
                let chunk = value[offset..<min(value.count, offset + 255)]
                bytes += [code.rawValue, UInt8(chunk.count)]
                bytes += chunk
                offset += 255
            } while offset < value.count
        }
        bytes.append(DHCPOptionCode.end.rawValue)
        if bytes.count < DHCPLimits.minimumReplySize {
            bytes += Array(repeating: 0, count: DHCPLimits.minimumReplySize - bytes.count)
        }
        return bytes
    }

    private static func field(_ value: [UInt8], size: Int) -> [UInt8] {
        Array(value.prefix(size)) + Array(repeating: 0, count: max(0, size - value.count))
    }
}
