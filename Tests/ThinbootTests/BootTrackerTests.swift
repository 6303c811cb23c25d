import BootEvents
import Foundation
import Testing

@testable import Thinboot

/// The boot status made of events: one row per client across protocols, stages in order, failures kept, bounds.
@Suite struct BootTrackerTests {
    /// A clock the test moves by hand.
    final class ManualClock: @unchecked Sendable {
        var now: Double = 1_800_000_000
    }

    func tracker(
        capacity: Int = 16, tags: [StageClassifier.Tag] = [], routes: [String] = ["pxelinux.cfg/*"],
        clock: ManualClock = ManualClock()
    ) throws -> BootTracker {
        let patterns = try routes.map { try RoutePattern($0) }
        return BootTracker(
            classifier: StageClassifier(tags: tags, routes: patterns), capacity: capacity, clock: { clock.now })
    }

    func tftp(_ path: String, from ip: String, outcome: String = "ok", message: String? = nil) -> BootEvent {
        BootEvent(
            source: .tftp, phase: .finished, clientIP: ip, peer: "\(ip):2070", path: path, outcome: outcome,
            message: message, bytes: 1000, duration: .milliseconds(20))
    }

    @Test func oneClientAcrossDHCPTFTPAndNBDHasEveryStageInOrder() throws {
        let clock = ManualClock()
        let tracker = try tracker(clock: clock)
        tracker.record(
            BootEvent(
                source: .dhcp, clientIP: nil, mac: "52:54:00:12:34:56", arch: "x86-bios", path: "pxelinux.0",
                outcome: "offered"))
        clock.now += 1
        // No MAC in these paths: the client is known by IP until the config path names its MAC.
        tracker.record(tftp("pxelinux.0", from: "10.0.0.23"))
        clock.now += 1
        tracker.record(tftp("pxelinux.cfg/01-52-54-00-12-34-56", from: "10.0.0.23"))
        clock.now += 1
        tracker.record(tftp("vmlinuz-4.4.0", from: "10.0.0.23"))
        tracker.record(tftp("initrd.img-4.4.0", from: "10.0.0.23"))
        clock.now += 10
        tracker.record(
            BootEvent(
                source: .nbd, phase: .started, clientIP: "10.0.0.23", peer: "10.0.0.23:40000", path: "trusty-amd64",
                outcome: "connected", version: "2"))
        clock.now += 2
        tracker.record(tftp("ltsp/amd64/lts.conf", from: "10.0.0.23"))

        let status = tracker.status()
        #expect(status.clients.count == 1)
        let client = try #require(status.clients.first)
        #expect(client.mac == "52:54:00:12:34:56")
        #expect(client.macSource == "dhcp")
        #expect(client.ip == "10.0.0.23")
        #expect(client.arch == "x86-bios")
        #expect(client.archSource == "dhcp")
        #expect(client.image == "trusty-amd64")
        #expect(client.imageVersion == "2")
        #expect(client.stages.map(\.stage) == ["dhcp", "loader", "config", "kernel", "initrd", "root", "lts.conf"])
        #expect(client.stages.first { $0.stage == "config" }?.route == "pxelinux.cfg/*")
        #expect(client.bootSeconds == 13)
        #expect(!client.booting)
        #expect(client.lastFailure == nil)
    }

    @Test func clientsSeenByIPFirstAreMergedWhenTheirMACIsLearned() throws {
        let tracker = try tracker()
        tracker.record(
            BootEvent(source: .dhcp, clientIP: nil, mac: "52:54:00:00:00:01", path: "pxelinux.0", outcome: "offered"))
        tracker.record(tftp("pxelinux.0", from: "10.0.0.5"))
        #expect(tracker.status().clients.count == 2)
        tracker.record(tftp("pxelinux.cfg/01-52-54-00-00-00-01", from: "10.0.0.5"))
        let status = tracker.status()
        #expect(status.clients.count == 1)
        #expect(status.clients[0].stages.map(\.stage) == ["dhcp", "loader", "config"])
        #expect(status.clients[0].macSource == "dhcp")
    }

    @Test func failuresAreKeptButPxelinuxSearchMissesAreNot() throws {
        let tracker = try tracker()
        tracker.record(tftp("pxelinux.cfg/01-52-54-00-00-00-02", from: "10.0.0.6", outcome: "not found"))
        tracker.record(tftp("pxelinux.cfg/C0A8", from: "10.0.0.6", outcome: "not found"))
        #expect(tracker.status().clients[0].lastFailure == nil)
        tracker.record(tftp("vmlinuz", from: "10.0.0.6", outcome: "timed out", message: "no ACK after 5 tries"))
        let failure = try #require(tracker.status().clients[0].lastFailure)
        #expect(failure.outcome == "timed out")
        #expect(failure.path == "vmlinuz")
        #expect(failure.message == "no ACK after 5 tries")
        #expect(tracker.status().clients[0].stages.isEmpty)
    }

    @Test func aStageTagInTheConfigBeatsTheFileName() throws {
        let tag = StageClassifier.Tag(pattern: try RoutePattern("boot/linux*"), stage: .kernel, route: nil)
        let tracker = try tracker(tags: [tag])
        tracker.record(tftp("boot/linux-6.1", from: "10.0.0.7"))
        #expect(tracker.status().clients[0].stages.map(\.stage) == ["kernel"])
    }

    @Test func aNewDHCPOfferAfterARootStartsANewBoot() throws {
        let tracker = try tracker()
        tracker.record(BootEvent(source: .dhcp, clientIP: nil, mac: "52:54:00:00:00:03", path: "a", outcome: "offered"))
        tracker.record(tftp("pxelinux.cfg/01-52-54-00-00-00-03", from: "10.0.0.8"))
        tracker.record(
            BootEvent(source: .nbd, phase: .started, clientIP: "10.0.0.8", path: "img", outcome: "connected"))
        tracker.record(BootEvent(source: .dhcp, clientIP: nil, mac: "52:54:00:00:00:03", path: "a", outcome: "offered"))
        let client = tracker.status().clients[0]
        #expect(client.stages.map(\.stage) == ["dhcp"])
        #expect(client.booting)
        #expect(client.bootSeconds == nil)
    }

    /// UEFI firmware fetches iPXE, and iPXE asks DHCP again: one boot, its loader kept.
    @Test func aChainLoadedLoadersDHCPOfferIsTheSameBoot() throws {
        let tracker = try tracker()
        let mac = "52:54:00:00:00:04"
        tracker.record(BootEvent(source: .dhcp, clientIP: nil, mac: mac, path: "ipxe.efi", outcome: "offered"))
        tracker.record(tftp("ipxe.efi", from: "10.0.0.9"))
        tracker.record(BootEvent(source: .dhcp, clientIP: "10.0.0.9", mac: mac, path: "boot.ipxe", outcome: "offered"))
        tracker.record(tftp("boot.ipxe", from: "10.0.0.9"))
        #expect(tracker.status().clients[0].stages.map(\.stage) == ["dhcp", "loader", "config"])
        tracker.record(BootEvent(source: .dhcp, clientIP: "10.0.0.9", mac: mac, path: "ipxe.efi", outcome: "offered"))
        #expect(tracker.status().clients[0].stages.map(\.stage) == ["dhcp"])
    }

    @Test func theTableIsBoundedAndForgetsTheClientSeenLongestAgo() throws {
        let clock = ManualClock()
        let tracker = try tracker(capacity: 3, clock: clock)
        for index in 1...5 {
            clock.now += 1
            tracker.record(tftp("pxelinux.0", from: "10.0.0.\(index)"))
        }
        #expect(tracker.status().clients.map(\.ip) == ["10.0.0.5", "10.0.0.4", "10.0.0.3"])
        // Past the history, nobody is left.
        clock.now += Double(AdminSection.defaultHistoryHours * 3600 + 10)
        #expect(tracker.status().clients.isEmpty)
    }

    @Test func transfersInFlightAreListedUntilTheyEnd() throws {
        let tracker = try tracker()
        let progress = TransferProgress()
        tracker.record(
            BootEvent(
                source: .tftp, phase: .started, clientIP: "10.0.0.9", peer: "10.0.0.9:3000", path: "initrd.img",
                outcome: "ok", size: 40_000_000, progress: progress))
        progress.update(bytes: 10_000_000, retransmits: 2)
        let transfer = try #require(tracker.status().transfers.first)
        #expect(transfer.path == "initrd.img")
        #expect(transfer.size == 40_000_000)
        #expect(transfer.bytes == 10_000_000)
        #expect(transfer.retransmits == 2)
        #expect(StatusPage.progress(transfer) == "9.5 MiB of 38.1 MiB (25%)")
        tracker.record(tftp("initrd.img", from: "10.0.0.9"))
        // Same peer as the start (tftp() uses port 2070): a different peer's end leaves it listed.
        #expect(tracker.status().transfers.count == 1)
        var end = tftp("initrd.img", from: "10.0.0.9")
        end.peer = "10.0.0.9:3000"
        tracker.record(end)
        #expect(tracker.status().transfers.isEmpty)
    }

    @Test func anHTTPMacQueryNamesTheClient() throws {
        let tracker = try tracker()
        tracker.record(
            BootEvent(
                source: .http, clientIP: "10.0.0.10", path: "boot.ipxe", queryMAC: "52-54-00-00-00-0a", outcome: "ok",
                status: 200))
        let client = tracker.status().clients[0]
        #expect(client.mac == "52:54:00:00:00:0a")
        #expect(client.macSource == "query")
        #expect(client.stages.map(\.path) == ["boot.ipxe"])
    }

    /// The HTTP server reports the path as routed (``BootEventsTests`` in HTTPTests): the stage shows the file the
    /// route served, and the route that served it.
    @Test func anHTTPStageShowsItsRoute() throws {
        let tracker = try tracker(routes: ["images/{image}/**"])
        tracker.record(
            BootEvent(
                source: .http, clientIP: "10.0.0.13", path: "images/trusty-amd64@01234567/vmlinuz", outcome: "ok",
                status: 200))
        let stage = try #require(tracker.status().clients.first?.stages.first)
        #expect(stage.stage == "kernel")
        #expect(stage.path == "images/trusty-amd64@01234567/vmlinuz")
        #expect(stage.route == "images/{image}/**")
    }

    /// The lts.conf host of a split setup sees a client only after its root is up: it is not booting there.
    @Test func aClientPastItsRootIsNotBooting() throws {
        let tracker = try tracker()
        tracker.record(tftp("ltsp/amd64/lts.conf", from: "10.0.0.14"))
        let client = try #require(tracker.status().clients.first)
        #expect(client.stages.map(\.stage) == ["lts.conf"])
        #expect(!client.booting)
        tracker.record(tftp("pxelinux.0", from: "10.0.0.15"))
        #expect(tracker.status().clients.first { $0.ip == "10.0.0.15" }?.booting == true)
    }

    @Test func statusJSONRoundTrips() throws {
        let tracker = try tracker()
        tracker.record(tftp("pxelinux.0", from: "10.0.0.11"))
        let status = tracker.status()
        #expect(try BootStatus.decode(Data(status.json())) == status)
    }

    @Test func thePageAndTheTableEscapeAndListEveryClient() throws {
        let tracker = try tracker()
        tracker.record(tftp("pxelinux.cfg/01-52-54-00-00-00-0c", from: "10.0.0.12"))
        tracker.record(tftp("<script>.efi", from: "10.0.0.12", outcome: "not found"))
        let page = String(decoding: StatusPage.render(tracker.status()), as: UTF8.self)
        #expect(page.contains("52:54:00:00:00:0c"))
        #expect(page.contains("&lt;script&gt;.efi"))
        #expect(!page.contains("<script>.efi"))
        #expect(page.contains("<svg"))
        let table = StatusTable.render(tracker.status())
        #expect(table.contains("52:54:00:00:00:0c"))
        #expect(table.contains("tftp not found <script>.efi"))
        #expect(!table.contains("\u{1B}"))
    }
}

@Suite struct BootMetricsTests {
    @Test func countsPerOutcomeWithNoFileMACOrIPInAnyLabel() throws {
        let metrics = BootMetrics()
        let tracker = BootTracker(classifier: StageClassifier(tags: []), metrics: metrics)
        for index in 0..<10 {
            let outcome = index < 7 ? "ok" : "not found"
            tracker.record(
                BootEvent(
                    source: .tftp, phase: outcome == "ok" ? .finished : .answered, clientIP: "10.1.0.\(index)",
                    peer: "10.1.0.\(index):2000", path: "file\(index)", outcome: outcome,
                    bytes: outcome == "ok" ? 100 : 0,
                    kind: .static,
                    duration: .milliseconds(3)))
        }
        tracker.record(
            BootEvent(
                source: .nbd, phase: .finished, clientIP: "10.1.0.1", path: "trusty", outcome: "closed",
                bytes: 4096, commands: [.init(command: "READ", count: 3, failed: 1)]))
        metrics.scriptRan(script: "scripts/pxelinux.lua", outcome: "error", duration: .milliseconds(1))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"thinboot_tftp_transfers_total{outcome="ok"} 7"#))
        #expect(text.contains(#"thinboot_tftp_transfers_total{outcome="not found"} 3"#))
        #expect(text.contains("thinboot_tftp_bytes_sent_total 700"))
        #expect(text.contains(#"thinboot_tftp_transfer_duration_seconds_count{kind="static"} 7"#))
        #expect(text.contains(#"thinboot_nbd_bytes_read_total{export="trusty"} 4096"#))
        #expect(text.contains(#"thinboot_nbd_requests_total{command="READ",export="trusty",outcome="ok"} 2"#))
        #expect(text.contains(#"thinboot_script_runs_total{outcome="error",script="scripts/pxelinux.lua"} 1"#))
        #expect(!text.contains("10.1.0"))
        #expect(!text.contains("file1"))
    }
}

@Suite struct AdminConfigTests {
    @Test func defaultsToLoopbackAndReadsStageTags() throws {
        let config = try ThinbootConfig.parse(
            """
            [tftp]
            root = "tftpboot"
            [[tftp.route]]
            path = "boot/{arch}/linux"
            script = "k.lua"
            stage = "kernel"
            [admin]
            [[admin.stage]]
            path = "images/*.squashfs"
            stage = "initrd"
            """, file: "/etc/thinboot/thinboot.toml")
        let admin = try #require(config.admin)
        #expect(admin.listen == [ListenAddress(host: "127.0.0.1", port: 9108)])
        #expect(admin.allow.map(\.description) == ["127.0.0.0/8", "::1/128"])
        #expect(admin.stages.map(\.stage) == [.initrd])
        #expect(config.tftp?.routes.first?.stage?.stage == .kernel)
    }

    @Test(arguments: [
        ("[admin]\nallow = [\"10.0.0.0/33\"]\n", "admin.allow[0]: \"10.0.0.0/33\" is not an address block"),
        ("[admin]\n[[admin.stage]]\npath = \"x\"\nstage = \"boot\"\n", "admin.stage[0].stage: \"boot\" is not a stage"),
        ("[admin]\nlisten = [\"9108\"]\n", "admin.listen[0]: \"9108\" is not host:port"),
    ])
    func errorsNameTheKey(text: String, expected: String) {
        #expect {
            try ThinbootConfig.parse("[tftp]\nroot = \"r\"\n" + text, file: "/srv/t.toml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test(arguments: [
        ("127.0.0.0/8", "127.1.2.3", true), ("127.0.0.1/32", "127.0.0.2", false), ("::1/128", "::1", true),
        ("10.0.0.0/8", "::ffff:10.2.3.4", true), ("10.0.0.0/8", "11.0.0.1", false), ("0.0.0.0/0", "8.8.8.8", true),
        ("fd00::/8", "fd12::1", true), ("fd00::/8", "10.0.0.1", false),
    ])
    func addressBlocks(block: String, address: String, inside: Bool) throws {
        #expect(try #require(AddressBlock(parsing: block)).contains(address) == inside)
    }
}
