import CDHCPShims

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one PXE DISCOVER out of an interface as a given firmware would and collects every answer — the site's
/// DHCP server's and any ProxyDHCP's — until the timeout: what `thinboot dhcp probe` prints.
public struct DHCPProbe: Sendable {
    /// One answer, as an admin wants to read it.
    public struct Offer: Sendable, Hashable {
        /// Option 54, else the sender's address.
        public let server: IPv4Address
        public let type: DHCPMessageType?
        /// The address offered (zero from a ProxyDHCP).
        public let yourAddress: IPv4Address
        public let nextServer: IPv4Address
        public let bootFile: String
        public let vendorClass: String?
        public let message: DHCPMessage
    }

    public let interface: String
    public let mac: [UInt8]
    public let architecture: UInt16
    public let userClass: String?
    /// Where answers arrive and the DISCOVER goes (68 and 67; tests may pick others).
    public var clientPort: UInt16 = 68
    public var serverPort: UInt16 = 67

    public init(interface: String, mac: [UInt8], architecture: UInt16, userClass: String? = nil) {
        self.interface = interface
        self.mac = mac
        self.architecture = architecture
        self.userClass = userClass
    }

    /// The architecture code for a name (`x86_64-efi` → 7, as OVMF and iPXE send) or a number.
    public static func architectureCode(_ text: String) -> UInt16? {
        if let code = UInt16(text) { return code }
        if text == "x86_64-efi" { return 7 }
        return ClientArchitecture.names.filter { $0.value == text }.map(\.key).min()
    }

    /// The DISCOVER the firmware would send: option 60 `PXEClient:Arch:NNNNN:UNDI:003016` (`HTTPClient:Arch:NNNNN`
    /// for the HTTP boot codes), 93, 94, 97 (a UUID made from the MAC), 77 when given, the broadcast flag.
    public func discover(transactionID: UInt32) -> DHCPMessage {
        var message = DHCPMessage(operation: .request, transactionID: transactionID)
        message.flags = DHCPMessage.broadcastFlag
        message.clientHardwareAddress = mac + Array(repeating: 0, count: 16 - mac.count)
        message.hardwareLength = UInt8(mac.count)
        message.options.messageType = .discover
        message.options[.parameterRequestList] = [1, 3, 43, 54, 60, 66, 67, 97]
        message.options[.maxMessageSize] = [0x05, 0xC0]
        message.options[.clientArchitecture] = [UInt8(architecture >> 8), UInt8(architecture & 0xFF)]
        message.options[.clientNetworkInterface] = [1, 3, 16]
        message.options[.clientMachineIdentifier] = [0] + Array(repeating: 0, count: 10) + mac
        let code = String(architecture)
        let padded = String(repeating: "0", count: max(0, 5 - code.count)) + code
        let http = ClientArchitecture(code: architecture).bootsOverHTTP
        message.options.vendorClass = http ? "HTTPClient:Arch:\(padded)" : "PXEClient:Arch:\(padded):UNDI:003016"
        if let userClass { message.options[.userClass] = Array(userClass.utf8) }
        return message
    }

    /// Broadcasts the DISCOVER and returns the answers to it that arrive within `timeoutSeconds`, in order.
    public func run(timeoutSeconds: Double) throws(DHCPBindError) -> [Offer] {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DHCPBindError(address: "0.0.0.0", port: clientPort, errno: errno) }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = interface.withCString {
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(interface.utf8.count))
        }
        guard bound == 0 else { throw DHCPBindError(address: interface, port: clientPort, errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = clientPort.bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0, cdhcp_prepare_socket(fd) == 0 else {
            throw DHCPBindError(address: "0.0.0.0", port: clientPort, errno: errno)
        }
        let index = Int32(if_nametoindex(interface))
        let transactionID = UInt32.random(in: 1...UInt32.max)
        let bytes = discover(transactionID: transactionID).encoded()
        let sent = bytes.withUnsafeBufferPointer {
            cdhcp_send(fd, $0.baseAddress!, $0.count, UInt32.max, serverPort, index, 0)
        }
        guard sent == bytes.count else { throw DHCPBindError(address: interface, port: serverPort, errno: errno) }

        var offers: [Offer] = []
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(timeoutSeconds * 1000))
        var buffer = [UInt8](repeating: 0, count: DHCPLimits.maxMessageSize)
        // Bounded by the deadline and by a generous count of answers.
        while clock.now < deadline, offers.count < 64 {
            let left = deadline - clock.now
            let milliseconds = Int32(max(1, left / .milliseconds(1)))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            var peer: UInt32 = 0
            var peerPort: UInt16 = 0
            var interfaceIndex: Int32 = 0
            var local: UInt32 = 0
            let count = buffer.withUnsafeMutableBufferPointer {
                cdhcp_receive(fd, $0.baseAddress!, $0.count, &peer, &peerPort, &interfaceIndex, &local)
            }
            guard count > 0, let message = try? DHCPMessage(decoding: buffer.prefix(count)),
                message.operation == .reply, message.transactionID == transactionID
            else { continue }
            let sender = withUnsafeBytes(of: peer) { IPv4Address(bytes: $0) } ?? .zero
            offers.append(
                Offer(
                    server: message.options.serverIdentifier ?? sender, type: message.options.messageType,
                    yourAddress: message.yourAddress, nextServer: message.serverAddress,
                    bootFile: message.bootFileName, vendorClass: message.options.vendorClass, message: message))
        }
        return offers
    }
}
