import Foundation
import Testing

@testable import DHCP

/// The lease readers on files the real servers wrote (`Fixtures/leases/`, made by `capture-leases.sh`: dnsmasq
/// 2.90, kea-dhcp4 2.2 memfile, ISC dhcpd 4.4.3 each leasing to busybox udhcpc), and on crafted bad lines.
struct LeaseReaderTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/leases/\(name)")
        return Array(try Data(contentsOf: url))
    }

    static func mac(_ text: String) -> [UInt8] {
        text.split(separator: ":").map { UInt8($0, radix: 16)! }
    }

    static func ip(_ text: String) -> IPv4Address { IPv4Address(parsing: text)! }

    /// The latest lease per address, as ``LeaseFiles`` keeps them, live at `now`: address → MAC.
    static func live(_ parse: LeaseParse, at now: Int64) -> [String: String] {
        var latest: [IPv4Address: Lease] = [:]
        for lease in parse.leases { latest[lease.address] = lease }
        var result: [String: String] = [:]
        for (address, lease) in latest where lease.isLive(at: now) {
            result[address.description] = lease.hardwareAddress!.map { String(format: "%02x", $0) }.joined(
                separator: ":")
        }
        return result
    }

    /// 2026-12-01 23:30 UTC: every captured lease (one hour, taken at 23:00) is live.
    static let duringTheLeases: Int64 = 1_796_167_800
    /// 2026-12-02 01:00 UTC: every captured lease has ended.
    static let afterTheLeases: Int64 = 1_796_173_200

    // MARK: dnsmasq

    @Test func dnsmasqsOwnFile() throws {
        let parse = DnsmasqLeaseReader.parse(try Self.fixture("dnsmasq.leases"))
        #expect(parse.warnings.isEmpty)
        #expect(
            Self.live(parse, at: Self.duringTheLeases) == [
                "10.61.0.127": "52:54:00:61:00:01", "10.61.0.128": "52:54:00:61:00:02",
                "10.61.0.129": "52:54:00:61:00:03",
            ])
        #expect(parse.leases.first?.expires == 1_796_169_661)
        #expect(Self.live(parse, at: Self.afterTheLeases).isEmpty)
        #expect(LeaseFormat.detect(try Self.fixture("dnsmasq.leases")) == .dnsmasq)
    }

    @Test func dnsmasqBadLinesAreSkippedOneWarningEach() {
        let text = """
            0 52:54:00:00:00:01 10.0.0.1 forever *
            garbage
            1796169661 52:54:00:00:00:02 10.0.0.300 h *
            1796169661 not-a-mac 10.0.0.3 h *
            1796169661 52:54:00:00:00:04

            1796169661 52:54:00:00:00:05 10.0.0.5 h 01:52:54:00:00:00:05
            duid 00:01:00:01:2c:5b:1d:4a:52:54:00:00:00:01
            1796169661 1234 fd00::5 h 00:01
            """
        let parse = DnsmasqLeaseReader.parse(Array(text.utf8))
        #expect(parse.warnings.map(\.line) == [2, 3, 4, 5])
        #expect(
            Self.live(parse, at: Self.afterTheLeases) == ["10.0.0.1": "52:54:00:00:00:01"],
            "expiry 0 never ends; IPv6 leases after the duid line are left out")
        #expect(Self.live(parse, at: Self.duringTheLeases).count == 2)
    }

    // MARK: Kea

    @Test func keasOwnFileTheLatestRowWins() throws {
        var reader = KeaLeaseReader()
        let bytes = try Self.fixture("kea-leases4.csv")
        let parse = reader.parse(bytes)
        #expect(parse.warnings.isEmpty)
        #expect(parse.consumed == bytes.count)
        #expect(parse.leases.count == 4)
        #expect(parse.leases.filter { $0.address == Self.ip("10.61.0.101") }.last?.expires == 1_796_169_665)
        #expect(
            Self.live(parse, at: Self.duringTheLeases) == [
                "10.61.0.100": "52:54:00:62:00:01", "10.61.0.101": "52:54:00:62:00:02",
                "10.61.0.102": "52:54:00:62:00:03",
            ])
        #expect(LeaseFormat.detect(bytes) == .kea)
    }

    @Test func keaReleasedDeclinedAndExpiredRowsLeaveTheAddressToNoOne() throws {
        var reader = KeaLeaseReader()
        _ = reader.parse(try Self.fixture("kea-leases4.csv"))
        // Appended as Kea appends them: a declined row (state 1) for .100, a reclaimed one (state 2) for .101,
        // a deleted one (lifetime 0, as kea-dhcp4 2.2 writes when it reclaims) for .102, an infinite one for
        // .103, and one without a MAC for .104.
        let appended = """
            10.61.0.100,52:54:00:62:00:01,,3600,1796169700,1,0,0,,1,
            10.61.0.101,52:54:00:62:00:02,,3600,1796169700,1,0,0,,2,
            10.61.0.102,52:54:00:62:00:03,,0,1796169700,1,0,0,,0,
            10.61.0.103,52:54:00:62:00:04,,4294967295,1796160000,1,0,0,,0,
            10.61.0.104,,01:02:03,3600,1796169700,1,0,0,,0,

            """
        let parse = reader.parse(Array(appended.utf8))
        #expect(parse.warnings.isEmpty)
        #expect(Self.live(parse, at: Self.duringTheLeases) == ["10.61.0.103": "52:54:00:62:00:04"])
    }

    @Test func keaReadsOnFromTheLastCompleteRow() {
        var reader = KeaLeaseReader()
        let first = Array(
            "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,state\n10.0.0.1,52:54:00:00:00:01,,3600,1796169700,1,0\n10.0.0.2,52:54"
                .utf8)
        let parse = reader.parse(first)
        #expect(parse.leases.map(\.address) == [Self.ip("10.0.0.1")])
        #expect(parse.consumed == first.count - "10.0.0.2,52:54".utf8.count, "the cut-off row waits for the rest")
        let rest = Array("10.0.0.2,52:54:00:00:00:02,,3600,1796169700,1,0\n".utf8)
        let next = reader.parse(rest)
        #expect(next.leases.map(\.address) == [Self.ip("10.0.0.2")], "the header is remembered between reads")
        #expect(next.consumed == rest.count)
    }

    @Test func keaBadRowsAreSkippedOneWarningEach() {
        var reader = KeaLeaseReader()
        let text = """
            10.0.0.9,52:54:00:00:00:09,,3600,1796169700,1,0,0,,0,
            address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context
            10.0.0.1,52:54:00:00:00:01,,3600,1796169700,1,0,0,,0,
            10.0.0.2,52:54:00:00:00:02,,3600
            10.0.0.x,52:54:00:00:00:03,,3600,1796169700,1,0,0,,0,
            10.0.0.4,52-54,,3600,1796169700,1,0,0,,0,
            10.0.0.5,52:54:00:00:00:05,,3600,soon,1,0,0,,0,
            10.0.0.6,52:54:00:00:00:06,,3600,1796169700,1,0,0,,x,
            \(String(repeating: "9", count: 5000))

            """
        let parse = reader.parse(Array(text.utf8))
        #expect(parse.warnings.map(\.line) == [1, 4, 5, 6, 7, 8, 9])
        #expect(Self.live(parse, at: Self.duringTheLeases) == ["10.0.0.1": "52:54:00:00:00:01"])
    }

    // MARK: ISC dhcpd

    @Test func iscsOwnFile() throws {
        var reader = ISCLeaseReader()
        let bytes = try Self.fixture("dhcpd.leases")
        let parse = reader.parse(bytes)
        #expect(parse.warnings.isEmpty)
        #expect(parse.consumed == bytes.count)
        #expect(
            Self.live(parse, at: Self.duringTheLeases) == [
                "10.61.0.100": "52:54:00:63:00:01", "10.61.0.101": "52:54:00:63:00:02",
                "10.61.0.102": "52:54:00:63:00:03",
            ])
        // `ends 3 2026/12/02 00:01:10` is UTC.
        #expect(parse.leases.first?.expires == 1_796_169_670)
        #expect(Self.live(parse, at: Self.afterTheLeases).isEmpty)
        #expect(LeaseFormat.detect(bytes) == .isc)
    }

    @Test func iscTheLastBlockWinsAndOnlyActiveBindingsCount() throws {
        var reader = ISCLeaseReader()
        _ = reader.parse(try Self.fixture("dhcpd.leases"))
        let appended = """
            lease 10.61.0.100 {
              starts 2 2026/12/01 23:05:00;
              ends 2 2026/12/01 23:05:00;
              binding state free;
              hardware ethernet 52:54:00:63:00:01;
            }
            lease 10.61.0.101 {
              ends epoch 1796169999; # Wed Dec 02 00:06:39 2026
              binding state released;
              hardware ethernet 52:54:00:63:00:02;
            }
            lease 10.61.0.105 {
              ends never;
              binding state active;
              hardware ethernet 52:54:00:63:00:05;
              on expiry { set gone = "}"; }
            }

            """
        let parse = reader.parse(Array(appended.utf8))
        #expect(parse.warnings.isEmpty)
        #expect(parse.leases.count == 3)
        #expect(Self.live(parse, at: Self.afterTheLeases) == ["10.61.0.105": "52:54:00:63:00:05"])
        #expect(parse.leases[1].expires == 1_796_169_999)
    }

    @Test func iscReadsOnFromTheLastCompleteBlock() {
        var reader = ISCLeaseReader()
        let whole =
            "lease 10.0.0.1 {\n  ends never;\n  hardware ethernet 52:54:00:00:00:01;\n}\nlease 10.0.0.2 {\n  ends never;\n"
        let parse = reader.parse(Array(whole.utf8))
        #expect(parse.leases.map(\.address) == [Self.ip("10.0.0.1")])
        #expect(
            parse.consumed == "lease 10.0.0.1 {\n  ends never;\n  hardware ethernet 52:54:00:00:00:01;\n}".utf8.count)
        let rest =
            "\nlease 10.0.0.2 {\n  ends never;\n  hardware ethernet 52:54:00:00:00:02;\n}\nlease 10.0.0.3 {\n  x;\n  ends soon;\n}\n"
        let next = reader.parse(Array(rest.utf8))
        #expect(next.leases.map(\.address) == [Self.ip("10.0.0.2")])
        #expect(next.warnings == [LeaseWarning(line: 9, problem: "lease 10.0.0.3: ends is not a time: ends soon")])
    }

    /// A read that ends inside a comment leaves the comment unconsumed: the rest of its line, appended later, is
    /// comment too, not the start of a statement that would swallow the next lease (lease-files fuzz target).
    @Test func iscACommentCutOffByTheEndIsReadAgainWhole() {
        var reader = ISCLeaseReader()
        let head = "# The format of this file is documented in the dhcpd.leases(5)"
        let first = reader.parse(Array(head.utf8))
        #expect(first.consumed == 0 && first.leases.isEmpty)
        let rest = " manual page.\nlease 10.0.0.1 {\n  ends never;\n  hardware ethernet 52:54:00:00:00:01;\n}\n"
        let next = reader.parse(Array((head + rest).utf8))
        #expect(next.leases.map(\.address) == [Self.ip("10.0.0.1")])
        #expect(next.warnings.isEmpty)
        #expect(next.consumed == (head + rest).utf8.count)
    }

    @Test func iscBadBlocksAreSkippedOneWarningEach() {
        var reader = ISCLeaseReader()
        let text = """
            lease 10.0.0.300 { ends never; hardware ethernet 52:54:00:00:00:01; }
            lease 10.0.0.2 { ends never; hardware ethernet 52:54:00:00; }
            }
            lease 10.0.0.4 { ends 3 2026/13/02 00:00:00; hardware ethernet 52:54:00:00:00:04; }
            host client { dynamic; hardware ethernet 52:54:00:00:00:05; fixed-address 10.0.0.5; }
            lease 10.0.0.6 { ends never; hardware ethernet 52:54:00:00:00:06; }

            """
        let parse = reader.parse(Array(text.utf8))
        #expect(parse.warnings.map(\.line) == [1, 2, 3, 4])
        #expect(Self.live(parse, at: Self.afterTheLeases) == ["10.0.0.6": "52:54:00:00:00:06"])
    }

    @Test func iscARunawayStatementIsBounded() {
        var reader = ISCLeaseReader()
        let runaway = "lease 10.0.0.1 {\n" + String(repeating: "  x y z;\n", count: 10_000)
        let parse = reader.parse(Array(runaway.utf8))
        #expect(parse.warnings.count == 1)
        #expect(parse.consumed == runaway.utf8.count)
        let next = reader.parse(Array("lease 10.0.0.2 { ends never; hardware ethernet 52:54:00:00:00:02; }\n".utf8))
        #expect(next.leases.count == 1)
    }

    @Test func theFormatIsReadFromTheContentNotFromAFirstBadLine() throws {
        #expect(LeaseFormat.detect(Array("garbage\n1796169661 52:54:00:00:00:01 10.0.0.1 a *\n".utf8)) == .dnsmasq)
        #expect(LeaseFormat.detect(Array("junk;\nlease 10.0.0.1 { ends never; }\n".utf8)) == .isc)
        #expect(LeaseFormat.detect(Array("address,hwaddr,expire\n".utf8)) == .kea)
        #expect(LeaseFormat.detect(Array("  \n\n".utf8)) == nil)
    }

    @Test func iscDatesAreUTC() {
        #expect(ISCLeaseReader.time(["4", "1970/01/01", "00:00:00"]) == 0)
        #expect(ISCLeaseReader.time(["2", "2000/02/29", "12:00:00"]) == 951_825_600)
        #expect(ISCLeaseReader.time(["3", "2026/12/02", "00:01:10"]) == 1_796_169_670)
        #expect(ISCLeaseReader.time(["3", "2026/12/02"]) == nil)
    }
}
