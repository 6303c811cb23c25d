import Foundation
import TestSupport
import Testing
import Thinboot

/// The admin listener against real peers: Prometheus scraping `/metrics`, headless Chromium loading `/status`,
/// `thinboot status`, and curl from an address outside `[admin] allow`.
@Suite(.serialized) struct AdminInteropTests {
    /// A Prometheus server of the test's own (temp folder, free port) scraping the admin listener every second.
    struct Prometheus {
        let port: Int
        let process: BackgroundProcess

        init(scraping target: String, in folder: TemporaryDirectory) throws {
            port = freeLoopbackPort(udp: false)
            let config = try folder.write(
                "prometheus.yml",
                """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: thinboot
                    scrape_interval: 1s
                    static_configs:
                      - targets: ["\(target)"]
                """)
            process = try BackgroundProcess(
                "prometheus",
                [
                    "--config.file=\(config)", "--storage.tsdb.path=\(folder.file("tsdb"))",
                    "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
                ])
        }

        /// The value of `query`'s single sample, read through the query API; polled (at most 30 s) until it equals
        /// `expected`, so a scrape still to come is waited for. The last value seen, or nil if there was none.
        func value(_ query: String, waitingFor expected: Double) async throws -> Double? {
            var last: Double?
            for _ in 0..<60 {
                let result = try await runTool(
                    "curl",
                    ["-sS", "-G", "http://127.0.0.1:\(port)/api/v1/query", "--data-urlencode", "query=\(query)"],
                    timeout: .seconds(10))
                if let json = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
                    let data = json["data"] as? [String: Any], let samples = data["result"] as? [[String: Any]],
                    samples.count == 1, let pair = samples[0]["value"] as? [Any], pair.count == 2,
                    let text = pair[1] as? String
                {
                    last = Double(text)
                    if last == expected { return last }
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            return last
        }
    }

    @Test func prometheusReadsTransferOutcomesNBDBytesAndScriptErrors() async throws {
        try await AdminServeHarness.with { harness in
            let folder = try TemporaryDirectory("prometheus")
            defer { folder.remove() }
            let prometheus = try Prometheus(scraping: "127.0.0.1:\(harness.adminPort)", in: folder)
            defer { prometheus.process.stop() }
            // Ten transfers, three of them misses.
            for path in [
                "pxelinux.0", "pxelinux.cfg/01-52-54-00-aa-bb-01", "vmlinuz-4.4.0", "initrd.img-4.4.0",
                "ltsp/amd64/lts.conf", "ready.txt", "ready.txt", "missing-1", "missing-2", "missing-3",
            ] {
                try await harness.tftp(path)
            }
            #expect(try await !harness.tftp("broken/client-7"))
            _ = try await harness.readRoot()

            #expect(try await prometheus.value(#"thinboot_tftp_transfers_total{outcome="ok"}"#, waitingFor: 7) == 7)
            #expect(
                try await prometheus.value(#"thinboot_tftp_transfers_total{outcome="not found"}"#, waitingFor: 3) == 3)
            #expect(
                try await prometheus.value(#"thinboot_tftp_transfers_total{outcome="script error"}"#, waitingFor: 1)
                    == 1)
            #expect(
                try await prometheus.value(
                    #"thinboot_script_runs_total{script="scripts/broken.lua",outcome="error"}"#, waitingFor: 1) == 1)
            #expect(
                try await prometheus.value(
                    #"thinboot_script_runs_total{script="scripts/pxelinux.lua",outcome="ok"}"#, waitingFor: 1) == 1)
            let bytes = Double(AdminServeHarness.imageSize)
            #expect(
                try await prometheus.value(
                    #"thinboot_nbd_bytes_read_total{export="trusty-amd64"}"#, waitingFor: bytes) == bytes)
            #expect(
                try await prometheus.value(#"thinboot_nbd_connections_total{export="trusty-amd64"}"#, waitingFor: 1)
                    == 1)
            #expect(try await prometheus.value("thinboot_tftp_transfers_in_flight", waitingFor: 0) == 0)

            // No label value is a file name, a MAC or an IP.
            let metrics = try await runTool("curl", ["-sS", "\(harness.admin)/metrics"]).stdoutText
            #expect(metrics.contains("thinboot_tftp_transfer_duration_seconds_bucket"))
            for leak in ["127.0.0.1", "52:54:00", "52-54-00", "missing-1", "vmlinuz", "ready.txt"] {
                #expect(!metrics.contains(leak), "a label carries \(leak)")
            }
        }
    }

    static let clients = [
        (mac: "52:54:00:00:00:0a", source: "127.0.0.2"), (mac: "52:54:00:00:00:0b", source: "127.0.0.3"),
    ]
    static let stages = ["boot loader", "config", "kernel", "initrd", "NBD root", "lts.conf"]

    @Test func chromiumAndThinbootStatusShowBothClientsWithTheirStagesInOrder() async throws {
        try await AdminServeHarness.with { harness in
            for client in Self.clients {
                try await harness.boot(mac: client.mac, from: client.source)
            }
            // The second client then asks for a file whose script fails: its last failure.
            try await harness.tftp("broken/client-b", from: Self.clients[1].source)

            let profile = try TemporaryDirectory("chromium")
            defer { profile.remove() }
            let chromium = [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
            ]
            let dom = try await runTool(
                "chromium", chromium + ["--dump-dom", "\(harness.admin)/status"], timeout: .seconds(120)
            ).stdoutText
            for client in Self.clients {
                #expect(Self.stageNames(inRowOf: client.mac, dom: dom) == Self.stages, "\(client.mac) in the DOM")
            }
            #expect(dom.contains("<svg"))
            #expect(dom.contains("script error"))

            let screenshot = URL(fileURLWithPath: try thinbootExecutable()).deletingLastPathComponent()
                .appendingPathComponent("admin-status-page.png").path
            try? FileManager.default.removeItem(atPath: screenshot)
            _ = try await runTool(
                "chromium",
                chromium + ["--window-size=1400,1000", "--screenshot=\(screenshot)", "\(harness.admin)/status"],
                timeout: .seconds(120))
            #expect(FileManager.default.fileExists(atPath: screenshot))
            print("status page screenshot: \(screenshot)")

            let table = try await runTool(try thinbootExecutable(), ["status", "--admin", harness.admin])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(!table.stdoutText.contains("\u{1B}"), "colour on a pipe")
            for client in Self.clients {
                let line = try #require(table.stdoutText.split(separator: "\n").first { $0.contains(client.mac) })
                #expect(line.contains(client.source))
                #expect(line.contains(AdminServeHarness.export))
                var rest = Substring(line)
                for stage in Self.stages {
                    let found = try #require(rest.range(of: stage + " +"), "\(stage) in order in: \(line)")
                    rest = rest[found.upperBound...]
                }
            }
            let second = table.stdoutText.split(separator: "\n").first { $0.contains(Self.clients[1].mac) }
            #expect(second?.contains("tftp script error broken/client-b") == true)
        }
    }

    @Test func anAddressOutsideAllowGets403() async throws {
        try await AdminServeHarness.with { harness in
            for path in ["status", "status.json", "metrics", "healthz"] {
                let inside = try await runTool(
                    "curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "\(harness.admin)/\(path)"])
                #expect(inside.stdoutText == "200", "\(path) from 127.0.0.1")
                let outside = try await runTool(
                    "curl",
                    [
                        "-sS", "--interface", "127.0.0.2", "-o", "/dev/null", "-w", "%{http_code}",
                        "\(harness.admin)/\(path)",
                    ])
                #expect(outside.stdoutText == "403", "\(path) from 127.0.0.2")
            }
            let refused = try await runTool(try thinbootExecutable(), ["status", "--admin", "http://127.0.0.1:1"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("is `thinboot serve` running with an [admin] section?"))
        }
    }

    /// A long NBD read in four steps by libnbd: after each step `/metrics` counts exactly the bytes read so far, and
    /// `/status.json` lists the connection in flight with them, before the connection closes; the bytes read match
    /// the image.
    @Test func nbdBytesGrowOnMetricsAndStatusWhileAReadRuns() async throws {
        try await AdminServeHarness.with { harness in
            let step = AdminServeHarness.imageSize / 4
            let result = try await runTool(
                "/usr/bin/nbdsh",
                [
                    "-c",
                    """
                    import hashlib, json, re, urllib.request
                    h.set_export_name("\(AdminServeHarness.export)")
                    h.connect_tcp("127.0.0.1", "\(harness.nbdPort)")
                    digest = hashlib.sha256()
                    for i in range(4):
                        digest.update(h.pread(\(step), i * \(step)))
                        metrics = urllib.request.urlopen("\(harness.admin)/metrics").read().decode()
                        counted = re.search(r'^thinboot_nbd_bytes_read_total\\{export="\(AdminServeHarness.export)"\\} (\\d+)$',
                                            metrics, re.M)
                        status = json.load(urllib.request.urlopen("\(harness.admin)/status.json"))
                        live = [t["bytes"] for t in status["transfers"] if t["source"] == "nbd"]
                        print(counted.group(1) if counted else "-", live)
                    print(digest.hexdigest())
                    h.shutdown()
                    """,
                ], timeout: .seconds(60),
                // Debian's Python, which has libnbd's module; no proxy variables for urllib.
                environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": NSTemporaryDirectory()])
            let lines = result.stdoutText.split(separator: "\n").map(String.init)
            #expect(
                Array(lines.prefix(4)) == (1...4).map { "\($0 * step) [\($0 * step)]" }, "\(lines) \(result.stderr)")
            #expect(lines.last == (try await sha256(file: harness.folder.file("image.img"))))
        }
    }

    /// A root connected by `NAME@VERSION` and one connected by plain `NAME` both show on `/status.json` with the export
    /// and the version they read: the one `thinboot check` pins, and the bytes of the image.
    @Test func theNBDRootShowsTheVersionItReadPinnedOrNot() async throws {
        try await AdminServeHarness.with { harness in
            let check = try await runTool(
                try thinbootExecutable(), ["check", "--config", harness.folder.file("thinboot.toml")])
            let pinned = try #require(
                check.stdoutText.firstMatch(of: /,(trusty-amd64@[0-9a-f]{8}),nbd0/)?.1, "\(check.stdoutText)")
            let version = String(pinned.split(separator: "@")[1])
            let image = try await sha256(file: harness.folder.file("image.img"))
            let roots = [
                (source: "127.0.0.2", export: String(pinned)), (source: "127.0.0.3", export: AdminServeHarness.export),
            ]
            for root in roots {
                #expect(try await harness.readRoot(from: root.source, export: root.export) == image, "\(root.export)")
            }
            let body = try await runTool("curl", ["-sf", "\(harness.admin)/status.json"]).stdoutText
            let status = try BootStatus.decode(Data(body.utf8))
            for root in roots {
                let client = try #require(status.clients.first { $0.ip == root.source }, "\(root.source) in \(body)")
                #expect(client.stages.map(\.stage) == ["root"], "\(root.export)")
                #expect(client.image == AdminServeHarness.export, "\(root.export)")
                #expect(client.imageVersion == version, "\(root.export)")
            }
        }
    }

    /// The stage names listed in the table row of `mac`, in document order.
    static func stageNames(inRowOf mac: String, dom: String) -> [String] {
        guard let start = dom.range(of: "data-mac=\"\(mac)\"") else { return [] }
        let row = dom[start.upperBound...].prefix { _ in true }
        let end = row.range(of: "</tr>").map { row[..<$0.lowerBound] } ?? row
        var names: [String] = []
        var rest = end
        while let open = rest.range(of: "<span class=\"name\">"),
            let close = rest[open.upperBound...].range(of: "</span>")
        {
            names.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return names
    }
}
