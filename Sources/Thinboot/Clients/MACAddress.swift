/// An Ethernet address, printed the one way scripts see it: lowercase `aa:bb:cc:dd:ee:ff`.
public struct MACAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, pxelinux's `01-aa-bb-cc-dd-ee-ff` (ARP type 1 first) and,
    /// only when `allowBare` (a route captured it as `{mac}`), `aabbccddeeff`. Case-insensitive.
    public init?(parsing text: some StringProtocol, allowBare: Bool = true) {
        var text = Substring(text)
        if text.count == 20, text.hasPrefix("01-") { text = text.dropFirst(3) }
        let groups: [Substring]
        if text.count == 17, text.contains(":") || text.contains("-") {
            let separator: Character = text.contains(":") ? ":" : "-"
            groups = text.split(separator: separator, omittingEmptySubsequences: false)
            guard groups.count == 6, groups.allSatisfy({ $0.count == 2 }) else { return nil }
        } else if allowBare, text.count == 12 {
            groups = stride(from: 0, to: 12, by: 2).map { offset in
                let start = text.index(text.startIndex, offsetBy: offset)
                return text[start..<text.index(start, offsetBy: 2)]
            }
        } else {
            return nil
        }
        var bytes: [UInt8] = []
        for group in groups {
            guard let byte = UInt8(group, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// The MAC a request path names, in one of the separated forms (`01-…`, `aa-bb-…`, `aa:bb:…`), looking at
    /// the last segment first. Bare hex is not guessed here: it is too easily an IP in hex or a UUID.
    public init?(inPath path: String) {
        for segment in path.split(separator: "/").reversed() {
            if let mac = MACAddress(parsing: segment, allowBare: false) {
                self = mac
                return
            }
        }
        return nil
    }

    /// Whether a client can have this address: not all zeros (lo, tun and point-to-point links report that), not
    /// broadcast, not multicast (the group bit of the first byte).
    public var isClientAddress: Bool {
        bytes[0] & 0x01 == 0 && bytes != [0, 0, 0, 0, 0, 0]
    }

    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// pxelinux's file name for this MAC: `01-aa-bb-cc-dd-ee-ff`.
    public var pxelinuxName: String {
        "01-" + description.replacingOccurrences(of: ":", with: "-")
    }
}
