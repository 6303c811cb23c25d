import NIOCore

extension SocketAddress {
    /// The IP as text, like `ipAddress`: an IPv4 address is written digit by digit into a small string (at most 15
    /// bytes, so no allocation), where `ipAddress` calls `inet_ntop` and copies its C string; every request makes
    /// one. Other families go through `ipAddress`.
    var ipText: String? {
        guard case .v4(let v4) = self else { return ipAddress }
        let address = UInt32(bigEndian: v4.address.sin_addr.s_addr)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { buffer in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = Int((address >> UInt32(shift)) & 0xFF)
                if octet >= 100 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(octet / 100)
                    count += 1
                }
                if octet >= 10 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(octet / 10 % 10)
                    count += 1
                }
                buffer[count] = UInt8(ascii: "0") + UInt8(octet % 10)
                count += 1
                if shift > 0 {
                    buffer[count] = UInt8(ascii: ".")
                    count += 1
                }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }
}
