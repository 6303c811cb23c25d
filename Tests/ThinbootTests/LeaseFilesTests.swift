import Foundation
import TestSupport
import Testing

@testable import Thinboot

#if canImport(Glibc)
    import Glibc
#endif

/// `[clients] leases`: MACs from the site DHCP servers' lease files, re-read as the servers change them.
@Suite struct LeaseFilesTests {
    static let keaHeader =
        "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
    /// 2026-12-01 23:30 UTC, while every lease below runs.
    static let now: Int64 = 1_796_167_800

    static func keaRow(_ ip: String, _ mac: String, state: Int = 0) -> String {
        "\(ip),\(mac),,3600,1796169664,1,0,0,,\(state),\n"
    }

    static func append(_ text: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    static func mac(_ text: String) -> MACAddress? { MACAddress(parsing: text) }

    @Test func eachFormatGivesTheMACOfAnAddressInConfigOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dnsmasq = try directory.write(
            "dnsmasq.leases",
            "1796169661 52:54:00:61:00:01 10.61.0.1 a *\n1796169661 52:54:00:61:00:05 10.61.0.5 e *\n")
        let kea = try directory.write(
            "kea.csv",
            Self.keaHeader + Self.keaRow("10.61.0.2", "52:54:00:62:00:02")
                + Self.keaRow("10.61.0.5", "52:54:00:62:00:05"))
        let isc = try directory.write(
            "dhcpd.leases", "lease 10.61.0.3 {\n  ends never;\n  hardware ethernet 52:54:00:63:00:03;\n}\n")
        let leases = LeaseFiles(paths: [dnsmasq, kea, isc], logger: LogRecord().logger, now: { Self.now })
        #expect(leases.mac(for: "10.61.0.1") == Self.mac("52:54:00:61:00:01"))
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:62:00:02"))
        #expect(leases.mac(for: "10.61.0.3") == Self.mac("52:54:00:63:00:03"))
        #expect(leases.mac(for: "::ffff:10.61.0.3") == Self.mac("52:54:00:63:00:03"))
        #expect(leases.mac(for: "10.61.0.5") == Self.mac("52:54:00:61:00:05"), "the first file listed wins")
        #expect(leases.mac(for: "10.61.0.9") == nil)
        #expect(leases.mac(for: "fd00::9") == nil)
        #expect(
            leases.summaries().map { "\($0.format?.rawValue ?? "-") \($0.live)" } == ["dnsmasq 2", "kea 2", "isc 1"])
    }

    @Test func anAppendOnlyFileIsReadOnFromWhereTheLastReadStopped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let kea = try directory.write("kea.csv", Self.keaHeader + Self.keaRow("10.61.0.2", "52:54:00:62:00:02"))
        let leases = LeaseFiles(paths: [kea], logger: LogRecord().logger, now: { Self.now })
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:62:00:02"))
        // Bytes already read are not read again: rewriting them in place (Kea never does) goes unseen, while the
        // row appended after them is read, and the latest row wins.
        let handle = try #require(FileHandle(forUpdatingAtPath: kea))
        handle.seek(toFileOffset: UInt64(Self.keaHeader.utf8.count))
        handle.write(Data(Self.keaRow("10.61.0.7", "52:54:00:62:00:07").utf8))
        handle.closeFile()
        try Self.append(Self.keaRow("10.61.0.3", "52:54:00:62:00:03"), to: kea)
        #expect(leases.mac(for: "10.61.0.3") == Self.mac("52:54:00:62:00:03"))
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:62:00:02"))
        #expect(leases.mac(for: "10.61.0.7") == nil)
        try Self.append(Self.keaRow("10.61.0.3", "52:54:00:62:00:03", state: 2), to: kea)
        #expect(leases.mac(for: "10.61.0.3") == nil, "a reclaimed lease names no client")
        // A row cut off at the end waits for its newline.
        try Self.append("10.61.0.4,52:54:00:62:00:04,,3600,1796169664,1,0,0", to: kea)
        #expect(leases.mac(for: "10.61.0.4") == nil)
        try Self.append(",,0,\n", to: kea)
        #expect(leases.mac(for: "10.61.0.4") == Self.mac("52:54:00:62:00:04"))
    }

    @Test func aReplacedOrRewrittenFileIsReadWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let isc = try directory.write(
            "dhcpd.leases", "lease 10.61.0.3 {\n  ends never;\n  hardware ethernet 52:54:00:63:00:03;\n}\n")
        let dnsmasq = try directory.write("dnsmasq.leases", "1796169661 52:54:00:61:00:01 10.61.0.1 a *\n")
        let leases = LeaseFiles(paths: [isc, dnsmasq], logger: LogRecord().logger, now: { Self.now })
        #expect(leases.mac(for: "10.61.0.3") == Self.mac("52:54:00:63:00:03"))
        #expect(leases.mac(for: "10.61.0.1") == Self.mac("52:54:00:61:00:01"))
        // dhcpd writes a new file and renames it over the old one; dnsmasq rewrites its file in place.
        let fresh = try directory.write(
            "dhcpd.leases.new", "lease 10.61.0.4 {\n  ends never;\n  hardware ethernet 52:54:00:63:00:04;\n}\n")
        #expect(rename(fresh, isc) == 0)
        try Data("1796169661 52:54:00:61:00:02 10.61.0.2 b *\n".utf8).write(to: URL(fileURLWithPath: dnsmasq))
        #expect(leases.mac(for: "10.61.0.3") == nil)
        #expect(leases.mac(for: "10.61.0.4") == Self.mac("52:54:00:63:00:04"))
        #expect(leases.mac(for: "10.61.0.1") == nil)
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:61:00:02"))
    }

    @Test func expiredLeasesAndMissingFilesGiveNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dnsmasq = try directory.write("dnsmasq.leases", "1796169661 52:54:00:61:00:01 10.61.0.1 a *\n")
        let log = LogRecord()
        let later = LeaseFiles(
            paths: [dnsmasq, directory.file("absent.leases")], logger: log.logger, now: { 1_796_169_661 })
        #expect(later.mac(for: "10.61.0.1") == nil)
        let summaries = later.summaries()
        #expect(summaries.map(\.live) == [0, 0])
        #expect(summaries[1].problem?.hasPrefix("missing") == true)
        #expect(log.matching("lease file unreadable").count == 1, "one warning, not one per lookup: \(log.lines)")
    }

    @Test func aMalformedLineIsSkippedWithOneWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let kea = try directory.write(
            "kea.csv",
            Self.keaHeader + "10.61.0.x,52:54:00:62:00:01,,3600,1796169664,1,0,0,,0,\n"
                + Self.keaRow("10.61.0.2", "52:54:00:62:00:02"))
        let log = LogRecord()
        let leases = LeaseFiles(paths: [kea], logger: log.logger, now: { Self.now })
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:62:00:02"))
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:62:00:02"))
        let warnings = log.matching("lease file line skipped")
        #expect(warnings.count == 1, "\(log.lines)")
        #expect(warnings.first?.contains("leases.line=2") == true, "\(warnings)")
    }

    @Test func aBadLineInAFileReadWholeAgainIsWarnedAboutOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dnsmasq = try directory.write("dnsmasq.leases", "garbage\n1796169661 52:54:00:61:00:01 10.61.0.1 a *\n")
        let log = LogRecord()
        let leases = LeaseFiles(paths: [dnsmasq], logger: log.logger, now: { Self.now })
        #expect(leases.mac(for: "10.61.0.1") == Self.mac("52:54:00:61:00:01"))
        // dnsmasq rewrites its file on every change: the bad line stays, a lease is added.
        try Data(
            "garbage\n1796169661 52:54:00:61:00:01 10.61.0.1 a *\n1796169661 52:54:00:61:00:02 10.61.0.2 b *\n".utf8
        )
        .write(to: URL(fileURLWithPath: dnsmasq))
        #expect(leases.mac(for: "10.61.0.2") == Self.mac("52:54:00:61:00:02"))
        #expect(log.matching("lease file line skipped").count == 1, "\(log.lines)")
    }

    @Test func theClientsSectionNamesTheFilesRelativeToTheConfig() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write(
            "thinboot.toml",
            "[dhcp]\nproxy = true\nboot = \"b.lua\"\n[clients]\nleases = [\"site/dnsmasq.leases\", \"/var/lib/kea/kea-leases4.csv\"]\n"
        )
        let config = try ThinbootConfig.load(path: file)
        #expect(
            config.clients?.leases == [
                URL(fileURLWithPath: directory.file("site/dnsmasq.leases")).standardizedFileURL.path,
                "/var/lib/kea/kea-leases4.csv",
            ])
        let unknown = try directory.write("u.toml", "[dhcp]\nproxy = true\nboot = \"b.lua\"\n[clients]\nlease = []\n")
        #expect(throws: ConfigError.self) { try ThinbootConfig.load(path: unknown) }
    }

    @Test func offLinkAddressesAreNotLookedUpInTheNeighbourTable() {
        #expect(LocalSubnets.contains("127.0.0.1"))
        #expect(LocalSubnets.contains("::1"))
        // TEST-NET-3 and a documentation prefix: on no interface of a test machine.
        #expect(!LocalSubnets.contains("203.0.113.9"))
        #expect(!LocalSubnets.contains("2001:db8::9"))
        #expect(!LocalSubnets.contains("not an address"))
    }

    @Test func dhcpTiesWhatItLearnedToTheClientsIP() throws {
        let learned = DHCPLearnedClients(capacity: 4)
        let first = try #require(Self.mac("52:54:00:00:00:01"))
        let second = try #require(Self.mac("52:54:00:00:00:02"))
        learned.learn(mac: first, arch: "x86_64-efi", archCode: 7, uuid: nil, userClass: nil, ip: nil)
        #expect(learned.mac(forIP: "10.0.0.1") == nil)
        learned.learn(mac: first, arch: nil, archCode: nil, uuid: nil, userClass: nil, ip: "10.0.0.1")
        #expect(learned.mac(forIP: "10.0.0.1") == first)
        #expect(learned.arch(for: first) == "x86_64-efi", "a later request without option 93 keeps the arch")
        // The address moves to another client: the first no longer holds it.
        learned.learn(mac: second, arch: "x86-bios", archCode: 0, uuid: nil, userClass: nil, ip: "10.0.0.1")
        #expect(learned.mac(forIP: "10.0.0.1") == second)
        learned.learn(mac: first, arch: nil, archCode: nil, uuid: nil, userClass: nil, ip: "10.0.0.9")
        #expect(learned.mac(forIP: "10.0.0.9") == first)
        // Bounded: IPs go with the MACs they belong to.
        for index in 0..<300 {
            let mac = try #require(MACAddress(bytes: [2, 0, 0, 0, UInt8(index >> 8), UInt8(index & 0xFF)]))
            learned.learn(
                mac: mac, arch: nil, archCode: nil, uuid: nil, userClass: nil, ip: "10.1.\(index >> 8).\(index & 0xFF)")
        }
        #expect(learned.count <= 4)
        #expect(learned.tiedIPs <= 4)
        #expect(learned.mac(forIP: "10.0.0.9") == nil)
        #expect(learned.mac(forIP: "10.1.1.43") == MACAddress(bytes: [2, 0, 0, 0, 1, 43]))
        let brief = DHCPLearnedClients(lifetime: .milliseconds(1))
        brief.learn(mac: first, arch: nil, archCode: nil, uuid: nil, userClass: nil, ip: "10.0.0.1")
        usleep(5_000)
        #expect(brief.mac(forIP: "10.0.0.1") == nil, "learned state ages out")
    }

    @Test func theRouterLooksForAMACInTheDocumentedOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tftpboot/x", "x")
        try directory.write(
            "echo.lua", "return function(req) return tostring(req.mac) .. ' ' .. tostring(req.arch) end\n")
        try directory.write(
            "site.leases", "0 52:54:00:93:00:10 10.93.0.10 a *\n0 52:54:00:93:00:11 10.93.0.11 b *\n")
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            root = "tftpboot"
            [[tftp.route]]
            path = "cfg/*"
            script = "echo.lua"
            [clients]
            leases = ["site.leases"]
            """)
        let learned = DHCPLearnedClients()
        let taught = try #require(Self.mac("52:54:00:93:00:aa"))
        learned.learn(mac: taught, arch: "arm64-efi", archCode: 11, uuid: nil, userClass: nil, ip: "10.93.0.11")
        learned.learn(
            mac: try #require(Self.mac("52:54:00:93:00:10")), arch: "x86_64-efi", archCode: 7, uuid: nil,
            userClass: nil, ip: nil)
        // The fake neighbour table knows one MAC for every address, as a router's entry would be.
        let router = try makeRouter(
            configFile: config, neighbours: { _ in Self.mac("52:54:00:00:00:01") }, learned: learned)
        func answer(_ path: String, _ ip: String) async throws -> String {
            text(of: try await router.content(for: readRequest(path, from: ip)))
        }
        #expect(try await answer("cfg/01-52-54-00-00-00-99", "10.93.0.10") == "52:54:00:00:00:99 nil", "the path first")
        #expect(
            try await answer("cfg/a", "10.93.0.11") == "52:54:00:93:00:aa arm64-efi", "then what DHCP tied to the IP")
        #expect(
            try await answer("cfg/b", "10.93.0.10") == "52:54:00:93:00:10 x86_64-efi",
            "then the leases, with the arch DHCP taught for that MAC")
        #expect(try await answer("cfg/c", "10.93.0.12") == "52:54:00:00:00:01 nil", "then the neighbour table")
    }
}
