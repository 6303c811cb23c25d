import NIOCore
import TFTP
import TestSupport
import Testing

/// Protocol rules checked with raw datagrams against the server on loopback.
@Suite("TFTP server rules", .serialized)
struct ServerRulesTests {
    private static func populate(_ root: TemporaryDirectory) throws {
        try root.write("two-blocks.bin", patternBytes(count: 700, seed: 2))
    }

    @Test func transferAnswersFromANewPortAndStrangersGetError5() async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                guard let first = try await Self.startTwoBlocks(&inbox, client, server: server) else { return }
                #expect(first.payload.readableBytes == 512)
                #expect(first.port != server.port)
                // Another socket sends to the transfer's port: ERROR 5, and the transfer goes on.
                try await RawPeer.with { strangerInbox, stranger in
                    try await stranger.send(.ack(block: 1), to: first.port)
                    let answer = try await strangerInbox.next()
                    #expect(answer.packet == .error(code: .unknownTransferID, message: "Unknown transfer ID"))
                }
                try await client.send(.ack(block: 1), to: first.port)
                let second = try await inbox.next()
                guard case .data(2, let last) = second.packet else {
                    Issue.record("expected DATA 2, got \(second.packet)")
                    return
                }
                #expect(last.readableBytes == 700 - 512)
                try await client.send(.ack(block: 2), to: first.port)
            }
        }
    }

    /// Ended transfers leave their sockets to later transfers: a late ACK to one is dropped, and a client asking
    /// again from the same port never gets the port it just used, so its stray duplicates cannot pass for the new
    /// transfer's.
    @Test func aClientAskingAgainFromItsPortGetsANewTransferPortAndLateACKsAreDropped() async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                var ports: [Int] = []
                for _ in 0..<3 {
                    guard let first = try await Self.startTwoBlocks(&inbox, client, server: server) else { return }
                    try await client.send(.ack(block: 1), to: first.port)
                    guard case .data(2, let last) = try await inbox.next().packet else {
                        Issue.record("expected DATA 2")
                        return
                    }
                    #expect(first.payload.readableBytes + last.readableBytes == 700)
                    try await client.send(.ack(block: 2), to: first.port)
                    // A duplicate of the last ACK after the end: no answer, no effect on what follows.
                    try await client.send(.ack(block: 2), to: first.port)
                    ports.append(first.port)
                }
                #expect(ports[0] != ports[1] && ports[1] != ports[2], "\(ports)")
            }
        }
    }

    @Test func oackAnswersOnlyWhatWasAskedAndUnknownOptionsAreIgnored() async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                let options = [TFTPOption("tsize", "0"), TFTPOption("x-vendor", "1"), TFTPOption("blksize", "1432")]
                try await client.send(
                    .readRequest(TFTPRequest(filename: "/two-blocks.bin", options: options)), to: server.port)
                let answer = try await inbox.next()
                #expect(answer.packet == .optionAck([TFTPOption("tsize", "700"), TFTPOption("blksize", "1432")]))
                try await client.send(.ack(block: 0), to: answer.port)
                guard case .data(1, let payload) = try await inbox.next().packet else {
                    Issue.record("expected DATA 1")
                    return
                }
                #expect(payload.readableBytes == 700)
                try await client.send(.ack(block: 1), to: answer.port)
            }
            // Only unknown options: no OACK, DATA 1 directly.
            try await RawPeer.with { inbox, client in
                try await client.send(
                    .readRequest(TFTPRequest(filename: "two-blocks.bin", options: [TFTPOption("multicast", "")])),
                    to: server.port)
                guard case .data(1, _) = try await inbox.next().packet else {
                    Issue.record("expected DATA 1 without OACK")
                    return
                }
            }
        }
    }

    @Test(
        arguments: [
            (
                [UInt8]([0, 1]) + Array("two-blocks.bin\0mail\0".utf8), TFTPErrorCode.illegalOperation,
                "unsupported mode"
            ),
            ([0, 1] + Array("two-blocks.bin".utf8), .illegalOperation, "without terminating NUL"),
            ([0, 9, 1, 2], .illegalOperation, "unknown opcode 9"),
            ([0, 4, 0, 1], .illegalOperation, "expected a read request"),
            ([0, 1] + Array("two-blocks.bin\0octet\0blksize\04\0".utf8), .optionNegotiationFailed, "blksize"),
            ([0, 1] + Array("two-blocks.bin\0octet\0timeout\0999\0".utf8), .optionNegotiationFailed, "timeout"),
            ([0, 1] + Array("a\u{1}b\0octet\0".utf8), .accessViolation, "control character"),
            ([0, 1] + Array("nothing-here\0octet\0".utf8), .fileNotFound, "File not found"),
            ([0, 2] + Array("upload\0octet\0".utf8), .accessViolation, "read-only"),
        ] as [([UInt8], TFTPErrorCode, String)])
    func badRequestsGetTheRightError(_ datagram: [UInt8], _ code: TFTPErrorCode, _ message: String) async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                try await client.send(datagram, to: server.port)
                let answer = try await inbox.next()
                guard case .error(let received, let text) = answer.packet else {
                    Issue.record("expected ERROR, got \(answer.packet)")
                    return
                }
                #expect(received == code)
                #expect(text.contains(message), "\(text)")
            }
        }
    }

    @Test func requestOver512BytesIsRefused() async throws {
        try await TFTPTestServer.with(populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                let name = String(repeating: "a", count: 600)
                try await client.send([0, 1] + Array("\(name)\0octet\0".utf8), to: server.port)
                #expect(
                    try await inbox.next().packet
                        == .error(
                            code: .illegalOperation, message: "Illegal TFTP operation: request of 609 bytes exceeds 512"
                        ))
            }
        }
    }

    /// Past a limit the server does not answer: boot ROMs take ERROR 0 as final, but ask again when unanswered.
    @Test func pastTheLimitRequestsGetNoAnswer() async throws {
        try await TFTPTestServer.with(configure: { $0.maxTransfersPerClient = 1 }, populate: Self.populate) { server in
            try await RawPeer.with { inbox, client in
                guard let first = try await Self.startTwoBlocks(&inbox, client, server: server) else { return }
                // The first transfer is still waiting for ACK 1: a second one from the same IP gets nothing.
                let other = try await RawTFTPClient.send(
                    RawTFTPClient.readRequest(Array("two-blocks.bin".utf8)), host: server.host, port: server.port,
                    wait: 1)
                #expect(other.op == "none")
                try await client.send(.ack(block: 1), to: first.port)
                _ = try await inbox.next()
                try await client.send(.ack(block: 2), to: first.port)
            }
        }
    }

    /// A client that stops answering gets its block again after each timeout, `retries` times, and then the
    /// server gives up and frees the client's slot for its next request.
    @Test(.timeLimit(.minutes(1))) func aSilentClientGetsItsRetriesThenItsSlotBack() async throws {
        try await TFTPTestServer.with(
            configure: {
                $0.maxTransfersPerClient = 1
                $0.retries = 2
            }, populate: Self.populate
        ) { server in
            try await RawPeer.with { inbox, client in
                guard let first = try await Self.startTwoBlocks(&inbox, client, server: server) else { return }
                for _ in 0..<2 {
                    let again = try await inbox.next()
                    #expect(again.port == first.port)
                    guard case .data(1, _) = again.packet else {
                        Issue.record("expected DATA 1 again, got \(again.packet)")
                        return
                    }
                }
            }
            // Unanswered until the last timeout runs out, then served again: bounded, asked every 300 ms.
            var answer: RawTFTPClient.Packet?
            for _ in 0..<50 {
                answer = try await RawTFTPClient.send(
                    RawTFTPClient.readRequest(Array("two-blocks.bin".utf8)), host: server.host, port: server.port,
                    wait: 0.3)
                if answer?.op != "none" { break }
            }
            #expect(
                answer?.op == "DATA" && answer?.block == 1, "the slot was never released: \(String(describing: answer))"
            )
        }
    }

    /// Asks for `two-blocks.bin` and returns DATA 1's port (the transfer's) and payload; nil, with the issue
    /// recorded, when the first answer is anything else.
    private static func startTwoBlocks(
        _ inbox: inout RawPeer.Inbox, _ client: RawPeer, server: TFTPTestServer
    ) async throws -> (port: Int, payload: ByteBuffer)? {
        try await client.send(.readRequest(TFTPRequest(filename: "two-blocks.bin")), to: server.port)
        let first = try await inbox.next()
        guard case .data(1, let payload) = first.packet else {
            Issue.record("expected DATA 1, got \(first.packet)")
            return nil
        }
        return (first.port, payload)
    }
}
