import Foundation
import TFTP
import TestSupport
import Testing

/// The server against datagrams no well-behaved client sends, and the option rules a PXE ROM depends on, checked
/// on the wire with ``RawTFTPClient``.
@Suite("TFTP server, crafted datagrams", .serialized)
struct RawPacketTests {
    private static let file = patternBytes(count: 1500, seed: 11)

    private func withServer(
        configure: (inout TFTPServerConfiguration) -> Void = { _ in }, _ body: (TFTPTestServer) async throws -> Void
    ) async throws {
        try await TFTPTestServer.with(configure: configure) { root in
            try root.write("file.bin", Self.file)
            try root.write("big.bin", patternBytes(count: 70_000, seed: 12))
        } _: { server in
            try await body(server)
        }
    }

    /// An unrequested `tsize` (or anything else) in the OACK breaks PXE ROMs.
    @Test(arguments: [
        [("blksize", "1024")],
        [("tsize", "0")],
        [("timeout", "3")],
        [("windowsize", "4")],
    ])
    func answersOnlyTheRequestedOption(options: [(String, String)]) async throws {
        try await withServer { server in
            let fetch = try await RawTFTPClient.fetch(
                "file.bin", options: options, host: server.host, port: server.port)
            #expect(fetch.first.op == "OACK")
            #expect(fetch.first.options.map { Array($0.keys) } == [options[0].0])
            #expect(fetch.bytes == Self.file.count)
        }
    }

    @Test func answersTransferSizeWithTheExactSize() async throws {
        try await withServer { server in
            let fetch = try await RawTFTPClient.fetch(
                "file.bin", options: [("tsize", "0"), ("blksize", "1024")], host: server.host, port: server.port)
            #expect(fetch.first.options == ["tsize": "\(Self.file.count)", "blksize": "1024"])
        }
    }

    /// Unknown options are ignored; option names are case-insensitive.
    @Test func ignoresUnknownOptions() async throws {
        try await withServer { server in
            let unknownOnly = try await RawTFTPClient.fetch(
                "file.bin", options: [("multicast", ""), ("x-vendor", "7")], host: server.host, port: server.port)
            #expect(unknownOnly.first.op == "DATA" && unknownOnly.first.block == 1)
            #expect(unknownOnly.bytes == Self.file.count)
            let mixed = try await RawTFTPClient.fetch(
                "file.bin", options: [("x-vendor", "7"), ("BlkSize", "700")], host: server.host, port: server.port)
            #expect(mixed.first.options == ["blksize": "700"])
            #expect(mixed.bytes == Self.file.count)
        }
    }

    /// With `windowsize 1` the server sends the next block only after the ACK of the previous one: a block left
    /// unacknowledged comes again (after the timeout), never its successor.
    @Test func windowOfOneIsLockstep() async throws {
        try await withServer { server in
            let fetch = try await RawTFTPClient.fetch(
                "big.bin", options: [("windowsize", "1")], host: server.host, port: server.port, holdBlock: 1)
            #expect(fetch.first.options == ["windowsize": "1"])
            #expect(fetch.afterHold?.op == "DATA" && fetch.afterHold?.block == 1)
            #expect(fetch.bytes == 70_000)
        }
    }

    /// The contrast: with a window of 4 the blocks after the held one arrive without waiting.
    @Test func windowOfFourSendsAhead() async throws {
        try await withServer { server in
            let fetch = try await RawTFTPClient.fetch(
                "big.bin", options: [("windowsize", "4")], host: server.host, port: server.port, holdBlock: 1)
            #expect(fetch.afterHold?.op == "DATA" && fetch.afterHold?.block == 2)
            #expect(fetch.bytes == 70_000)
        }
    }

    /// A datagram and what the ERROR 4 message must name.
    struct Malformed: Sendable, CustomTestStringConvertible {
        var datagram: [UInt8]
        var reason: String
        var testDescription: String { reason }

        init(_ datagram: [UInt8], _ reason: String) {
            self.datagram = datagram
            self.reason = reason
        }
    }

    static let malformed: [Malformed] = {
        let name: [UInt8] = Array("file.bin".utf8)
        let octet: [UInt8] = Array("octet".utf8)
        let blksize: [UInt8] = Array("blksize".utf8)
        return [
            Malformed([0], "truncated"),
            Malformed([0, 1] + name + [0] + octet + [0] + blksize + [0], "option without a name or a value"),
            Malformed([0, 3, 0, 1, 65, 66], "expected a read request"),
            Malformed([0, 6] + blksize + [0] + Array("512".utf8) + [0], "expected a read request"),
        ]
    }()

    @Test(arguments: malformed)
    func refusesMalformedDatagramsWithErrorFour(_ malformed: Malformed) async throws {
        try await withServer { server in
            let answer = try await RawTFTPClient.send(malformed.datagram, host: server.host, port: server.port)
            #expect(answer.op == "ERROR" && answer.code == 4)
            #expect(answer.message?.contains(malformed.reason) == true, "\(answer.message ?? "")")
            // Like a transfer, a refusal answers from a new port of the address the datagram was sent to.
            #expect(answer.fromListener == false)
            // Nothing else is disturbed: the next request is served.
            let fetch = try await RawTFTPClient.fetch("file.bin", host: server.host, port: server.port)
            #expect(fetch.bytes == Self.file.count)
        }
    }

    /// RFC 2347: a request is at most 512 bytes; one of exactly 512 is served.
    @Test func servesARequestOfExactly512Bytes() async throws {
        try await withServer { server in
            let fits = RawTFTPClient.readRequest(
                Array("file.bin".utf8), options: [("x-pad", String(repeating: "x", count: 488))])
            #expect(fits.count == 512)
            let served = try await RawTFTPClient.send(fits, host: server.host, port: server.port)
            #expect(served.op == "DATA" && served.block == 1)
            let tooLong = RawTFTPClient.readRequest(
                Array("file.bin".utf8), options: [("x-pad", String(repeating: "x", count: 489))])
            let refused = try await RawTFTPClient.send(tooLong, host: server.host, port: server.port)
            #expect(refused.op == "ERROR" && refused.code == 4)
        }
    }

    /// A NUL ends the name: what follows is read as the mode and refused, never joined into a path. Control
    /// characters inside a name are refused with ERROR 2.
    @Test func refusesNulAndControlCharactersInNames() async throws {
        try await withServer { server in
            let nul = try await RawTFTPClient.send(
                [0, 1] + Array("file.bin".utf8) + [0] + Array("../etc/passwd".utf8) + [0] + Array("octet".utf8) + [0],
                host: server.host, port: server.port)
            #expect(nul.op == "ERROR" && nul.code == 4)
            let control = try await RawTFTPClient.send(
                RawTFTPClient.readRequest(Array("file".utf8) + [0x01] + Array(".bin".utf8)),
                host: server.host, port: server.port)
            #expect(control.op == "ERROR" && control.code == 2)
            #expect(control.fromListener == false)
        }
    }

    /// Some ROMs pad the name with 0xFF bytes; they are trimmed.
    @Test func trimsTrailingFFBytes() async throws {
        try await withServer { server in
            let answer = try await RawTFTPClient.send(
                RawTFTPClient.readRequest(Array("file.bin".utf8) + [0xFF, 0xFF]), host: server.host, port: server.port)
            #expect(answer.op == "DATA" && answer.block == 1 && answer.length == 512)
        }
    }

    /// Out-of-range option values fail negotiation with ERROR 8; values above what the server grants are capped.
    @Test func refusesOutOfRangeOptionsAndCapsLargeOnes() async throws {
        try await withServer { server in
            for (name, value) in [
                ("blksize", "7"), ("timeout", "0"), ("timeout", "256"), ("windowsize", "0"), ("tsize", "x"),
            ] {
                let answer = try await RawTFTPClient.send(
                    RawTFTPClient.readRequest(Array("file.bin".utf8), options: [(name, value)]),
                    host: server.host, port: server.port)
                #expect(answer.op == "ERROR" && answer.code == 8, "\(name) \(value)")
            }
            let capped = try await RawTFTPClient.fetch(
                "file.bin", options: [("blksize", "70000"), ("windowsize", "1000")], host: server.host,
                port: server.port)
            #expect(capped.first.options == ["blksize": "65464", "windowsize": "64"])
            #expect(capped.bytes == Self.file.count)
        }
    }

    /// Past `max_transfers` in total, no answer (boot ROMs take ERROR 0 as final, but ask again when unanswered);
    /// once the transfer ends the slot is free again. The holder's transfer is established, so the newcomer cannot
    /// displace it.
    @Test func staysSilentPastTheTotalLimit() async throws {
        try await withServer(configure: { $0.maxTransfers = 1 }) { server in
            let busy = try await RawTFTPClient.busy(
                "file.bin", host: server.host, port: server.port, holderSource: "127.0.0.1", otherSource: "127.0.0.2")
            #expect(busy.held.op == "OACK")
            #expect(busy.other.op == "none")
            #expect(busy.afterRelease.op == "DATA" && busy.afterRelease.block == 1)
        }
    }

    /// Past `max_transfers_per_client` from one IP, no answer; another IP is still served.
    @Test func staysSilentPastThePerClientLimit() async throws {
        try await withServer(configure: { $0.maxTransfersPerClient = 1 }) { server in
            let sameClient = try await RawTFTPClient.busy(
                "file.bin", host: server.host, port: server.port, holderSource: "127.0.0.1", otherSource: "127.0.0.1")
            #expect(sameClient.other.op == "none")
            #expect(sameClient.afterRelease.op == "DATA")
            let otherClient = try await RawTFTPClient.busy(
                "file.bin", host: server.host, port: server.port, holderSource: "127.0.0.4", otherSource: "127.0.0.5")
            #expect(otherClient.other.op == "DATA" && otherClient.other.block == 1)
        }
    }
}
