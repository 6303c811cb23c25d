import Testing

@testable import TFTP

@Suite("TFTP option negotiation")
struct OptionNegotiationTests {
    private let limits = TFTPOptionNegotiation.Limits(maxBlockSize: 65464, maxWindowSize: 64, defaultTimeout: 3)

    private func negotiate(
        _ options: [(String, String)], limits: TFTPOptionNegotiation.Limits? = nil, path: Int? = nil, size: Int = 1000
    ) throws(TFTPOptionError) -> TFTPOptionNegotiation {
        try TFTPOptionNegotiation(
            requested: options.map { TFTPOption($0.0, $0.1) }, limits: limits ?? self.limits,
            pathBlockSizeLimit: path, transferSize: size)
    }

    /// Requested options → OACK, block size, window size, timeout.
    static let table: [([(String, String)], [(String, String)], Int, Int, Int)] = [
        ([], [], 512, 1, 3),
        ([("blksize", "1408")], [("blksize", "1408")], 1408, 1, 3),
        ([("blksize", "8")], [("blksize", "8")], 8, 1, 3),
        ([("blksize", "65464")], [("blksize", "65464")], 65464, 1, 3),
        ([("blksize", "70000")], [("blksize", "65464")], 65464, 1, 3),
        ([("timeout", "1")], [("timeout", "1")], 512, 1, 1),
        ([("timeout", "255")], [("timeout", "255")], 512, 1, 255),
        ([("tsize", "0")], [("tsize", "1000")], 512, 1, 3),
        ([("tsize", "77")], [("tsize", "1000")], 512, 1, 3),
        ([("windowsize", "16")], [("windowsize", "16")], 512, 16, 3),
        ([("windowsize", "1")], [("windowsize", "1")], 512, 1, 3),
        ([("windowsize", "65535")], [("windowsize", "64")], 512, 64, 3),
        ([("windowsize", "99999")], [("windowsize", "64")], 512, 64, 3),
        ([("multicast", ""), ("rollover", "0")], [], 512, 1, 3),
        (
            [("tsize", "0"), ("x", "y"), ("blksize", "1432"), ("windowsize", "8"), ("timeout", "5")],
            [("tsize", "1000"), ("blksize", "1432"), ("windowsize", "8"), ("timeout", "5")], 1432, 8, 5
        ),
    ]

    @Test(arguments: table)
    func negotiation(
        _ requested: [(String, String)], _ oack: [(String, String)], _ blockSize: Int, _ windowSize: Int,
        _ timeout: Int
    ) throws {
        let result = try negotiate(requested)
        #expect(result.acknowledged == oack.map { TFTPOption($0.0, $0.1) })
        #expect(result.blockSize == blockSize)
        #expect(result.windowSize == windowSize)
        #expect(result.timeout == timeout)
    }

    /// A `timeout` above `max_timeout` is left out of the OACK (an echo must be exact) and the server's own applies;
    /// one at the cap is echoed.
    @Test func aTimeoutAboveTheCapIsDeclined() throws {
        let capped = TFTPOptionNegotiation.Limits(defaultTimeout: 1, maxTimeout: 5)
        let declined = try negotiate([("blksize", "1408"), ("timeout", "255")], limits: capped)
        #expect(declined.acknowledged == [TFTPOption("blksize", "1408")])
        #expect(declined.timeout == 1)
        let alone = try negotiate([("timeout", "6")], limits: capped)
        #expect(alone.acknowledged.isEmpty)
        #expect(alone.timeout == 1)
        let atCap = try negotiate([("timeout", "5")], limits: capped)
        #expect(atCap.acknowledged == [TFTPOption("timeout", "5")])
        #expect(atCap.timeout == 5)
    }

    @Test func configuredCapsApply() throws {
        let capped = TFTPOptionNegotiation.Limits(maxBlockSize: 1468, maxWindowSize: 4, defaultTimeout: 1)
        let result = try negotiate([("blksize", "8192"), ("windowsize", "16")], limits: capped)
        #expect(result.acknowledged == [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "4")])
    }

    @Test func pathMTUCapsBlockSize() throws {
        #expect(TFTPOptionNegotiation.blockSizeLimit(mtu: 1500, ipv6: false) == 1468)
        #expect(TFTPOptionNegotiation.blockSizeLimit(mtu: 1500, ipv6: true) == 1448)
        let result = try negotiate([("blksize", "8192")], path: 1468)
        #expect(result.blockSize == 1468)
        #expect(try negotiate([("blksize", "1408")], path: 1468).blockSize == 1408)
    }

    @Test func transferSizeIsAnsweredOnlyWhenAsked() throws {
        #expect(try negotiate([("blksize", "1024")]).answersTransferSize == false)
        // Empty content: tsize is declined (curl refuses an OACK with "tsize 0"), so no OACK at all.
        #expect(try negotiate([("tsize", "0")], size: 0).acknowledged == [])
        #expect(
            try negotiate([("tsize", "0"), ("blksize", "1024")], size: 0).acknowledged == [
                TFTPOption("blksize", "1024")
            ])
        #expect(try negotiate([("tsize", "0")]).answersTransferSize)
    }

    static let refused: [(String, String)] = [
        ("blksize", "7"), ("blksize", "0"), ("blksize", "-1"), ("blksize", "abc"), ("blksize", ""),
        ("blksize", "1e3"), ("blksize", " 512"), ("blksize", "99999999999999999999999"),
        ("timeout", "0"), ("timeout", "256"), ("timeout", "x"),
        ("windowsize", "0"), ("windowsize", "-3"),
        ("tsize", "abc"), ("tsize", "-1"),
    ]

    @Test(arguments: refused)
    func malformedOrOutOfRangeIsRefusedWithError8(_ name: String, _ value: String) {
        #expect(throws: TFTPOptionError.self) { try negotiate([(name, value)]) }
        do {
            _ = try negotiate([(name, value)])
        } catch {
            #expect(error.refusal.code == .optionNegotiationFailed)
            #expect(error.description.contains(name))
        }
    }
}
