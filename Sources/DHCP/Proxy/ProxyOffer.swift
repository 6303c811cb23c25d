/// The pure decision of a ProxyDHCP server: a client's request and the script's choice in, the answer out
/// (or nothing). No sockets, no clock; the responder carries the answer to ``ReplyDestination``.
///
/// Rules (PXE 2.1, RFC 2131, UEFI 2.x HTTP boot), laid out as dnsmasq 2.90 lays out its proxy answers:
/// - `yiaddr` stays zero: the site's DHCP server hands out addresses. (The port-4011 ACK echoes the address
///   the client already holds, as dnsmasq does.)
/// - `siaddr` and `file` carry the boot file; options 53, 54, 60, 97 (echoed when sent), then 43, in that
///   order, padded to 300 bytes.
/// - Option 60 is `PXEClient`, or `HTTPClient` with the URL as the file for HTTP boot clients.
/// - Option 43 on port 67 sets discovery control "use the boot file in this offer"; on port 4011 it echoes
///   the client's boot item. HTTP boot clients get no option 43 (they have no PXE discovery).
/// - A REQUEST on port 67 naming another server (option 54) is that server's business: silence.
public enum ProxyOffer {
    /// False for a port-67 REQUEST that names another server in option 54: the client chose the site's offer
    /// and is talking to it. The responder skips those before running the script.
    public static func isAddressed(_ message: DHCPMessage, request: PXEClientRequest, serverIdentifier: IPv4Address)
        -> Bool
    {
        guard request.port == .dhcp, request.message == .request, let named = message.options.serverIdentifier
        else { return true }
        return named == serverIdentifier
    }

    /// The answer to `message`, or nil for silence.
    /// - Parameters:
    ///   - serverIdentifier: this server's address on the interface the request came in on (option 54).
    ///   - nextServer: where TFTP files are fetched when the choice names no server (`siaddr`).
    public static func answer(
        to message: DHCPMessage, request: PXEClientRequest, choice: BootChoice, serverIdentifier: IPv4Address,
        nextServer: IPv4Address
    ) -> DHCPMessage? {
        guard isAddressed(message, request: request, serverIdentifier: serverIdentifier) else { return nil }
        let file: String
        let server: IPv4Address
        let http: Bool
        switch choice {
        case .silent:
            return nil
        case .file(let name, let chosen):
            file = name
            server = chosen ?? nextServer
            http = false
        case .url(let url):
            file = url
            server = nextServer
            http = request.isHTTPClient
        }
        guard !file.isEmpty, file.utf8.count <= BootChoice.maxFileLength, !file.utf8.contains(0) else { return nil }

        var reply = DHCPMessage(operation: .reply, transactionID: message.transactionID)
        reply.hardwareType = message.hardwareType
        reply.hardwareLength = message.hardwareLength
        reply.seconds = message.seconds
        reply.flags = message.flags
        reply.relayAddress = message.relayAddress
        reply.clientHardwareAddress = message.clientHardwareAddress
        reply.serverAddress = server
        reply.bootFile = Array(file.utf8)
        if request.port == .bootServer { reply.yourAddress = message.clientAddress }

        reply.options.messageType = request.message == .discover ? .offer : .ack
        reply.options.serverIdentifier = serverIdentifier
        reply.options.vendorClass = http ? "HTTPClient" : "PXEClient"
        if let machine = message.options[.clientMachineIdentifier] { reply.options[.clientMachineIdentifier] = machine }
        if !request.isHTTPClient {
            if request.port == .bootServer,
                let item = message.options[.vendorSpecific].flatMap(PXEVendorOptions.bootItem)
            {
                reply.options[.vendorSpecific] = [PXEVendorOptions.bootItem, 4] + item + [PXEVendorOptions.end]
            } else {
                reply.options[.vendorSpecific] = PXEVendorOptions.bootFileFromOffer()
            }
        }
        return reply
    }
}
