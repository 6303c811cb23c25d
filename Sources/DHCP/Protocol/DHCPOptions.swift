/// The options of one DHCP message, by code, in the order they appear on the wire (encoding keeps that order,
/// so an answer can be laid out as a peer lays out its own). A code appears once: the decoder joins repeated
/// instances (RFC 3396), the encoder splits values longer than 255 bytes again.
public struct DHCPOptions: Sendable, Hashable {
    private var entries: [(code: DHCPOptionCode, value: [UInt8])] = []

    public init() {}

    /// The codes present, in wire order.
    public var codes: [DHCPOptionCode] { entries.map(\.code) }

    /// The raw value of `code`; setting nil removes it, setting a new code appends it at the end.
    public subscript(code: DHCPOptionCode) -> [UInt8]? {
        get { entries.first { $0.code == code }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.code == code }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((code, newValue))
            }
        }
    }

    /// Appends `value` to `code`'s value (a repeated option on the wire).
    mutating func join(_ code: DHCPOptionCode, _ value: ArraySlice<UInt8>) {
        if let index = entries.firstIndex(where: { $0.code == code }) {
            entries[index].value.append(contentsOf: value)
        } else {
            entries.append((code, Array(value)))
        }
    }

    public static func == (lhs: DHCPOptions, rhs: DHCPOptions) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.code == $1.code && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.code)
            hasher.combine(entry.value)
        }
    }

    // MARK: Typed views

    /// Option 53.
    public var messageType: DHCPMessageType? {
        get { self[.messageType].flatMap { $0.count == 1 ? DHCPMessageType(rawValue: $0[0]) : nil } }
        set { self[.messageType] = newValue.map { [$0.rawValue] } }
    }

    /// Option 54.
    public var serverIdentifier: IPv4Address? {
        get { self[.serverIdentifier].flatMap { IPv4Address(bytes: $0) } }
        set { self[.serverIdentifier] = newValue?.bytes }
    }

    /// Option 50: the address a client asks for (in a REQUEST to the server whose offer it took).
    public var requestedAddress: IPv4Address? {
        get { self[.requestedAddress].flatMap { IPv4Address(bytes: $0) } }
        set { self[.requestedAddress] = newValue?.bytes }
    }

    /// Option 60 as text (`PXEClient:Arch:00007:UNDI:003000`).
    public var vendorClass: String? {
        get { self[.vendorClass].map { String(decoding: $0, as: UTF8.self) } }
        set { self[.vendorClass] = newValue.map { Array($0.utf8) } }
    }

    /// Option 77 as text. RFC 3004 frames each class with a length byte; iPXE and most firmware send bare
    /// text, so a value that parses as exactly one framed class is read as that class, anything else as text.
    public var userClass: String? {
        guard let value = self[.userClass], !value.isEmpty else { return nil }
        if Int(value[0]) == value.count - 1, value.count > 1, value.dropFirst().allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        {
            return String(decoding: value.dropFirst(), as: UTF8.self)
        }
        return String(decoding: value, as: UTF8.self)
    }

    /// Option 93: the architecture codes, first the one the firmware runs (RFC 4578 2.1); nil when absent or
    /// not a whole number of 16-bit codes.
    public var clientArchitectures: [UInt16]? {
        guard let value = self[.clientArchitecture], !value.isEmpty, value.count % 2 == 0 else { return nil }
        return stride(from: 0, to: value.count, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
    }

    /// Option 97 as a UUID in its text form (`8-4-4-4-12` lowercase hex, bytes in wire order), when it is type 0
    /// with 16 bytes (RFC 4578 2.3).
    public var clientUUID: String? {
        guard let value = self[.clientMachineIdentifier], value.count == 17, value[0] == 0 else { return nil }
        let hex = value.dropFirst().map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(
            separator: "-")
    }
}
