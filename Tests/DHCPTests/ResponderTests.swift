import DHCP
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The responder over loopback: real sockets, unicast answers (a client with an address, as on port 4011).
@Suite(.serialized) struct ResponderTests {
    static let loopback = IPv4Address(parsing: "127.0.0.1")!

    /// A server on free loopback ports running `decide`, for the duration of `body`.
    static func withServer(
        clientPort: UInt16 = 0, answersPerMAC: Int = 4, decide: @escaping ProxyDHCPServer.Decide,
        observe: @escaping ProxyDHCPServer.Observe = { _ in },
        _ body: (ProxyDHCPServer, LogRecord) async throws -> Void
    ) async throws {
        let record = LogRecord(level: .info)
        let server = try ProxyDHCPServer(
            configuration: ProxyDHCPConfiguration(
                bindAddress: loopback, dhcpPort: 0, bootServerPort: 0, clientPort: clientPort,
                nextServer: IPv4Address(parsing: "10.0.0.9")!, answersPerMAC: answersPerMAC),
            decide: decide, observe: observe, logger: record.logger)
        let running = Task { await server.run() }
        defer {
            server.shutdown()
        }
        try await body(server, record)
        server.shutdown()
        await running.value
    }

    /// A client socket on 127.0.0.1 (port 0 = any), receiving with a timeout.
    final class Client {
        let fd: Int32
        let port: UInt16

        init(port: UInt16 = 0) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            self.port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(fd) }

        func send(_ bytes: [UInt8], port: UInt16) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = bytes.withUnsafeBufferPointer { buffer in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }

        /// The next answer within `milliseconds`, decoded; nil when none came.
        func receive(milliseconds: Int32 = 2000) throws -> DHCPMessage? {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            return try DHCPMessage(decoding: buffer.prefix(count))
        }
    }

    /// The log lines containing `text` once there are `count` of them (the line follows the send), waiting at
    /// most 2 s.
    static func lines(_ record: LogRecord, _ text: String, count: Int) async -> [String] {
        for _ in 0..<200 {
            let lines = record.matching(text)
            if lines.count >= count { return lines }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return record.matching(text)
    }

    static func bootServerRequest(mac: UInt8 = 0xEE, vendorClass: String = "PXEClient:Arch:00007:UNDI:003000")
        -> DHCPMessage
    {
        var message = ProxyOfferTests.request(vendorClass: vendorClass, type: .request)
        message.clientHardwareAddress[5] = mac
        message.clientAddress = loopback
        message.flags = 0
        message.options[.vendorSpecific] = [71, 4, 0x80, 0x00, 0, 0, 255]
        return message
    }

    @Test func bootServerRequestGetsTheScriptsFile() async throws {
        let seen = NIOLockedValueBox<[PXEClientRequest]>([])
        try await Self.withServer(decide: { request in
            seen.withLockedValue { $0.append(request) }
            return request.architecture?.name == "x86_64-efi" ? .file("ipxe.efi", server: nil) : .silent
        }) { server, record in
            let client = Client()
            client.send(Self.bootServerRequest().encoded(), port: server.ports.bootServer)
            let ack = try #require(try client.receive())
            #expect(ack.options.messageType == .ack)
            #expect(ack.bootFileName == "ipxe.efi")
            #expect(ack.serverAddress == IPv4Address(parsing: "10.0.0.9"))
            #expect(ack.options.serverIdentifier == Self.loopback)
            #expect(seen.withLockedValue { $0.first?.interface } == "lo")
            #expect(seen.withLockedValue { $0.first?.macText } == "52:54:00:c0:ff:ee")
            let lines = await Self.lines(record, "dhcp.outcome=offered", count: 1)
            #expect(lines.count == 1)
            #expect(lines.first?.contains("dhcp.arch=x86_64-efi") == true)
            #expect(lines.first?.contains("dhcp.file=ipxe.efi") == true)
            #expect(lines.first?.contains("dhcp.mac=52:54:00:c0:ff:ee") == true)
        }
    }

    @Test func nonPXEClientsGetNothingAndOthersAreStillServed() async throws {
        try await Self.withServer(decide: { _ in .file("ipxe.efi", server: nil) }) { server, record in
            let client = Client()
            client.send(Self.bootServerRequest(vendorClass: "MSFT 5.0").encoded(), port: server.ports.bootServer)
            client.send(Array(repeating: 0xFF, count: 100), port: server.ports.bootServer)
            var lying = Self.bootServerRequest().encoded()
            lying.removeLast(lying.count - 250)
            lying += [60, 200, 1]
            client.send(lying, port: server.ports.bootServer)
            client.send(Self.bootServerRequest().encoded(), port: server.ports.bootServer)
            let answer = try #require(try client.receive())
            #expect(answer.bootFileName == "ipxe.efi")
            let more = try client.receive(milliseconds: 300)
            #expect(more == nil)
            #expect(record.matching("dhcp.outcome=dropped").count == 2)
            #expect(await Self.lines(record, "dhcp.outcome=offered", count: 1).count == 1)
        }
    }

    @Test func scriptErrorAndSilenceSendNothing() async throws {
        struct Broken: Error {}
        try await Self.withServer(decide: { request in
            if request.hardwareAddress.last == 1 { throw Broken() }
            return .silent
        }) { server, record in
            let client = Client()
            client.send(Self.bootServerRequest(mac: 1).encoded(), port: server.ports.bootServer)
            client.send(Self.bootServerRequest(mac: 2).encoded(), port: server.ports.bootServer)
            let none = try client.receive(milliseconds: 500)
            #expect(none == nil)
            #expect(record.matching("dhcp.outcome=script error").count == 1)
            #expect(record.matching("dhcp.outcome=silent").count == 1)
        }
    }

    @Test func unicastOnTheDHCPPortGoesToTheClientPort() async throws {
        let listener = Client()
        try await Self.withServer(clientPort: listener.port, decide: { _ in .file("undionly.kpxe", server: nil) }) {
            server, _ in
            var message = ProxyOfferTests.request()
            message.clientAddress = Self.loopback
            message.flags = 0
            Client().send(message.encoded(), port: server.ports.dhcp)
            let offer = try #require(try listener.receive())
            #expect(offer.options.messageType == .offer)
            #expect(offer.yourAddress == .zero)
            #expect(offer.bootFileName == "undionly.kpxe")
        }
    }

    /// The REQUEST a PXE client sends the site's server after taking its offer names the address it gets: the
    /// responder shows it to `observe` (where the address is tied to the MAC) and runs no script for it.
    @Test func aRequestToTheSiteServerIsObservedWithTheAddressItAsksFor() async throws {
        let observed = NIOLockedValueBox<[PXEClientRequest]>([])
        let calls = NIOLockedValueBox(0)
        try await Self.withServer(
            decide: { _ in
                calls.withLockedValue { $0 += 1 }
                return .file("ipxe.efi", server: nil)
            },
            observe: { request in observed.withLockedValue { $0.append(request) } }
        ) { server, record in
            var request = ProxyOfferTests.request(type: .request)
            request.options.serverIdentifier = IPv4Address(parsing: "10.0.0.2")!
            request.options.requestedAddress = IPv4Address(parsing: "10.0.0.77")!
            var discover = ProxyOfferTests.request(type: .discover)
            discover.options.requestedAddress = IPv4Address(parsing: "10.0.0.66")!
            let client = Client()
            client.send(request.encoded(), port: server.ports.dhcp)
            client.send(discover.encoded(), port: server.ports.dhcp)
            for _ in 0..<200 where observed.withLockedValue({ $0.count }) < 2 {
                try await Task.sleep(for: .milliseconds(10))
            }
            let seen = observed.withLockedValue { $0 }
            #expect(seen.map(\.message) == [.request, .discover])
            #expect(seen.first?.boundAddress == IPv4Address(parsing: "10.0.0.77"))
            #expect(seen.last?.boundAddress == nil, "a DISCOVER's option 50 is only a wish")
            _ = await Self.lines(record, "dhcp.outcome=offered", count: 1)
            #expect(calls.withLockedValue { $0 } == 1, "only the DISCOVER runs the script")
        }
    }

    @Test func requestNamingAnotherServerRunsNoScriptAndLogsNothing() async throws {
        let calls = NIOLockedValueBox(0)
        let listener = Client()
        try await Self.withServer(
            clientPort: listener.port,
            decide: { _ in
                calls.withLockedValue { $0 += 1 }
                return .file("ipxe.efi", server: nil)
            }
        ) { server, record in
            var message = ProxyOfferTests.request(type: .request)
            message.clientAddress = Self.loopback
            message.flags = 0
            message.options.serverIdentifier = IPv4Address(parsing: "10.0.0.2")!
            Client().send(message.encoded(), port: server.ports.dhcp)
            // The same REQUEST naming this server is answered: the first one was read and skipped.
            message.options.serverIdentifier = Self.loopback
            Client().send(message.encoded(), port: server.ports.dhcp)
            let ack = try #require(try listener.receive())
            #expect(ack.options.messageType == .ack)
            #expect(calls.withLockedValue { $0 } == 1)
            #expect(await Self.lines(record, "dhcp answer", count: 1).count == 1)
        }
    }

    @Test func floodFromOneMACIsBounded() async throws {
        try await Self.withServer(answersPerMAC: 3, decide: { _ in .file("ipxe.efi", server: nil) }) {
            server, record in
            let client = Client()
            let start = ContinuousClock.now
            for _ in 0..<50 { client.send(Self.bootServerRequest().encoded(), port: server.ports.bootServer) }
            let elapsed = ContinuousClock.now - start
            var answers = 0
            while try client.receive(milliseconds: 500) != nil, answers < 100 { answers += 1 }
            // At most 3 per started second of sending; the rest dropped with one line per second.
            let seconds = Int(elapsed / .seconds(1)) + 1
            #expect(answers >= 1)
            #expect(answers <= 3 * seconds)
            #expect(record.matching("dhcp.outcome=dropped").count <= seconds)
            // Another MAC is still answered.
            client.send(Self.bootServerRequest(mac: 7).encoded(), port: server.ports.bootServer)
            #expect(try client.receive()?.bootFileName == "ipxe.efi")
        }
    }

    /// A boot storm's first requests, 1000 from 1000 clients at once, all wait for the responder: none is dropped by
    /// a full receive buffer (with the kernel's default, 437 were answered) or by the cap on answers in progress
    /// (with the buffer alone, 623 to 886).
    @Test(.timeLimit(.minutes(1))) func aBurstOfRequestsIsAnsweredWhole() async throws {
        try await Self.withServer(decide: { _ in .file("ipxe.efi", server: nil) }) { server, record in
            let clients = (0..<1000).map { _ in Client() }
            let started = ContinuousClock.now
            for (index, client) in clients.enumerated() {
                var request = Self.bootServerRequest(mac: UInt8(index & 0xFF))
                request.clientHardwareAddress[4] = UInt8(index >> 8)
                client.send(request.encoded(), port: server.ports.bootServer)
            }
            let sent = ContinuousClock.now - started
            let deadline = ContinuousClock.now + .seconds(20)
            var answered = 0
            for client in clients {
                let left = max(0, (deadline - ContinuousClock.now) / .milliseconds(1))
                if try client.receive(milliseconds: Int32(left))?.bootFileName == "ipxe.efi" { answered += 1 }
            }
            let dropped = record.matching("dhcp.outcome=dropped")
            #expect(answered == 1000, "\(dropped.count) dropped by the responder, e.g. \(dropped.first ?? "-")")
            print(
                "dhcp burst: \(answered) of 1000 answered, sent in \(sent), last after \(ContinuousClock.now - started)"
            )
        }
    }

    @Test func bindErrorSaysWhatPrivilegeIsNeeded() {
        let error = DHCPBindError(address: "0.0.0.0", port: 67, errno: EACCES)
        #expect(error.description.contains("CAP_NET_BIND_SERVICE"))
        #expect(error.description.contains("root"))
        #expect(error.description.contains("0.0.0.0:67"))
    }
}

@Suite struct AnswerLimiterTests {
    @Test func perMACPerSecondAndOneLogLine() {
        var limiter = AnswerLimiter(perMAC: 2)
        let mac: [UInt8] = [1, 2, 3, 4, 5, 6]
        #expect(limiter.admit(mac, now: 0) == .answer)
        #expect(limiter.admit(mac, now: 0.1) == .answer)
        #expect(limiter.admit(mac, now: 0.2) == .dropAndLog)
        #expect(limiter.admit(mac, now: 0.3) == .dropQuietly)
        #expect(limiter.admit([9, 9, 9, 9, 9, 9], now: 0.3) == .answer)
        #expect(limiter.admit(mac, now: 1.05) == .answer)
    }

    @Test func tableIsBounded() {
        var limiter = AnswerLimiter(perMAC: 1, capacity: 8)
        for index in 0..<1000 {
            _ = limiter.admit([0, 0, 0, 0, UInt8(index >> 8), UInt8(index & 0xFF)], now: Double(index) / 1000)
        }
        #expect(limiter.trackedCount <= 8)
    }
}
