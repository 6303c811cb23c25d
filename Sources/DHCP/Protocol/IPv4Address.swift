/// An IPv4 address as it travels in a DHCP message: four bytes in network order.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// 0.0.0.0: "none" in every address field of a DHCP message.
    public static let zero = IPv4Address(unchecked: [0, 0, 0, 0])
    public static let broadcast = IPv4Address(unchecked: [255, 255, 255, 255])

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.bytes = Array(bytes)
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Dotted quad: `10.0.0.5`.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let byte = UInt8(part) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    public var isZero: Bool { bytes == [0, 0, 0, 0] }

    public var description: String { bytes.map(String.init).joined(separator: ".") }
}
