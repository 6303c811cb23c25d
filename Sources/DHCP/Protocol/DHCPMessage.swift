/// One DHCPv4 message (RFC 2131 2): the BOOTP header and the options. Sans-IO: ``init(decoding:)`` and
/// ``encoded()`` are the whole wire format; sockets live in the responder.
public struct DHCPMessage: Sendable, Hashable {
    public enum Operation: UInt8, Sendable, Hashable {
        case request = 1
        case reply = 2
    }

    /// The magic cookie that starts the options (RFC 2131 3).
    public static let magicCookie: [UInt8] = [99, 130, 83, 99]
    /// The broadcast bit of `flags`: the client cannot receive unicast before it has an address.
    public static let broadcastFlag: UInt16 = 0x8000

    public var operation: Operation
    /// ARP hardware type; 1 is Ethernet.
    public var hardwareType: UInt8 = 1
    public var hardwareLength: UInt8 = 6
    public var hops: UInt8 = 0
    public var transactionID: UInt32
    public var seconds: UInt16 = 0
    public var flags: UInt16 = 0
    public var clientAddress: IPv4Address = .zero
    /// `yiaddr`: the address offered. A ProxyDHCP answer leaves it zero.
    public var yourAddress: IPv4Address = .zero
    /// `siaddr`: the next server, where the boot file is fetched from.
    public var serverAddress: IPv4Address = .zero
    /// `giaddr`: the relay agent that forwarded the request, zero when the client is on-link.
    public var relayAddress: IPv4Address = .zero
    /// `chaddr`, all 16 bytes (the first `hardwareLength` are the address).
    public var clientHardwareAddress: [UInt8] = Array(repeating: 0, count: 16)
    /// `sname`, 64 bytes on the wire; shorter values are padded with NUL.
    public var serverName: [UInt8] = []
    /// `file`, 128 bytes on the wire; shorter values are padded with NUL.
    public var bootFile: [UInt8] = []
    public var options = DHCPOptions()

    public init(operation: Operation, transactionID: UInt32) {
        self.operation = operation
        self.transactionID = transactionID
    }

    /// The client's hardware address: the first `hardwareLength` bytes of `chaddr`.
    public var hardwareAddress: [UInt8] { Array(clientHardwareAddress.prefix(Int(hardwareLength))) }

    /// `file` as text, up to its first NUL.
    public var bootFileName: String {
        String(decoding: bootFile.prefix { $0 != 0 }, as: UTF8.self)
    }

    public var isBroadcast: Bool { flags & Self.broadcastFlag != 0 }
}
