import Foundation
import TestSupport
import Testing
import Thinboot

/// Lease files written by the real servers — dnsmasq, kea-dhcp4 (memfile) and ISC dhcpd — as busybox udhcpc
/// takes leases from each in namespaces this suite makes (prefix `tbd`), read by ``LeaseFiles`` and listed by
/// `thinboot check`.
@Suite(.serialized) struct LeaseFileInteropTests {
    typealias Lab = ProxyDHCPInteropTests.Lab

    /// The site server under test, in `namespace` on `interface` (10.61.0.1/24), writing its leases to `file`.
    enum Server: String, CaseIterable {
        case dnsmasq, kea, isc
    }

    /// Starts `server`, leasing for `lifetime` seconds (Kea then reclaims expired leases every second); returns how
    /// to stop it.
    static func start(
        _ server: Server, in namespace: String, interface: String, file: String, directory: TemporaryDirectory,
        lifetime: Int = 3600
    ) async throws -> () -> Void {
        switch server {
        case .dnsmasq:
            let pidFile = directory.file("dnsmasq.pid")
            let result = try await runTool(
                "ip",
                [
                    "netns", "exec", namespace, try which("dnsmasq"), "--conf-file=/dev/null", "--port=0",
                    "--interface=\(interface)", "--bind-interfaces", "--dhcp-leasefile=\(file)",
                    "--pid-file=\(pidFile)", "--dhcp-range=10.61.0.100,10.61.0.150,255.255.255.0,1h",
                ], timeout: .seconds(10))
            guard result.status == 0 else { throw NamespaceSetupFailed(command: "dnsmasq", stderr: result.stderr) }
            return { ProxyDHCPInteropTests.Daemon(pidFile: pidFile).stop() }
        case .kea:
            let config = try directory.write(
                "kea.json",
                """
                {"Dhcp4": {"interfaces-config": {"interfaces": ["\(interface)"], "dhcp-socket-type": "raw",
                                       "service-sockets-max-retries": 40, "service-sockets-retry-wait-time": 250},
                 "lease-database": {"type": "memfile", "persist": true, "name": "\(file)", "lfc-interval": 0},
                 "valid-lifetime": \(lifetime), "min-valid-lifetime": 1,
                 "expired-leases-processing": {"reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600},
                 "subnet4": [{"id": 1, "subnet": "10.61.0.0/24", "pools": [{"pool": "10.61.0.100 - 10.61.0.150"}]}],
                 "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "\(directory.file("kea.log"))"}],
                              "severity": "WARN"}]}}
                """)
            // Kea puts its PID and lock files where these say, not in /run. A link that is not running yet when it
            // starts gets no socket unless it retries (the service-sockets keys above).
            let process = try BackgroundProcess(
                "env",
                [
                    "KEA_PIDFILE_DIR=\(directory.path)", "KEA_LOCKFILE_DIR=\(directory.path)", try which("ip"),
                    "netns", "exec", namespace, try which("kea-dhcp4"), "-c", config,
                ])
            return { process.stop() }
        case .isc:
            let config = try directory.write(
                "dhcpd.conf",
                """
                default-lease-time \(lifetime); max-lease-time \(lifetime); min-lease-time 1; authoritative;
                subnet 10.61.0.0 netmask 255.255.255.0 { range 10.61.0.100 10.61.0.150; }
                """)
            // dhcpd refuses to start without its lease file.
            try Data().write(to: URL(fileURLWithPath: file))
            let process = try BackgroundProcess(
                "ip",
                [
                    "netns", "exec", namespace, try which("dhcpd"), "-4", "-f", "-q", "-cf", config, "-lf", file,
                    "-pf", directory.file("dhcpd.pid"), interface,
                ])
            return { process.stop() }
        }
    }

    /// One lease taken by udhcpc as `mac`: the address it was given, or nil. Retried while the server starts.
    static func takeLease(
        in namespace: String, interface: String, mac: String, script: String
    ) async throws -> String? {
        try await ProxyDHCPInteropTests.Lab.setMAC(mac, of: interface, in: namespace)
        for _ in 0..<5 {
            let result = try await runTool(
                "ip",
                [
                    "netns", "exec", namespace, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i",
                    interface, "-s", script,
                ], timeout: .seconds(30))
            if let line = result.stdoutText.split(separator: "\n").first(where: { $0.hasPrefix("bound ") }) {
                return String(line.dropFirst("bound ".count))
            }
        }
        return nil
    }

    /// The udhcpc hook that prints the address bound, and the file `server` writes its leases to, in `directory`.
    static func files(for server: Server, in directory: TemporaryDirectory) throws -> (script: String, leases: String) {
        let script = try directory.write("udhcpc.sh", "#!/bin/sh\n[ \"$1\" = bound ] && echo \"bound $ip\"\nexit 0\n")
        chmod(script, 0o755)
        return (script, directory.file(server == .kea ? "kea-leases4.csv" : "\(server.rawValue).leases"))
    }

    /// A site namespace (10.61.0.1/24) and a client namespace joined by a veth pair, both ends up.
    static func siteAndClient(in lab: Lab) async throws -> (
        site: (name: String, interface: String), client: (name: String, interface: String)
    ) {
        let site = (name: try await lab.namespace("s"), interface: "tbds\(lab.tag)")
        let client = (name: try await lab.namespace("c"), interface: "tbdc\(lab.tag)")
        try await lab.ip([
            "link", "add", site.interface, "netns", site.name, "type", "veth", "peer", "name", client.interface,
            "netns", client.name,
        ])
        try await lab.ip(["-n", site.name, "addr", "add", "10.61.0.1/24", "dev", site.interface])
        try await lab.ip(["-n", site.name, "link", "set", site.interface, "up"])
        // Both ends up before the server starts (a link without carrier is not running).
        try await lab.ip(["-n", client.name, "link", "set", client.interface, "up"])
        return (site, client)
    }

    @Test(arguments: Server.allCases)
    func theFileTheServerWroteGivesEachClientsMAC(server: Server) async throws {
        let directory = try TemporaryDirectory("lease-\(server.rawValue)")
        defer { directory.remove() }
        let (script, file) = try Self.files(for: server, in: directory)
        try await ProxyDHCPInteropTests.withLab { lab in
            let (site, client) = try await Self.siteAndClient(in: lab)
            let stop = try await Self.start(
                server, in: site.name, interface: site.interface, file: file, directory: directory)
            defer { stop() }

            var taken: [String: String] = [:]
            for index in 1...3 {
                let mac = "52:54:00:61:0\(Server.allCases.firstIndex(of: server)!):0\(index)"
                let address = try await Self.takeLease(
                    in: client.name, interface: client.interface, mac: mac, script: script)
                let got = try #require(address, "\(server) gave \(mac) no lease")
                taken[got] = mac
            }
            #expect(taken.count == 3)
            // The server may write its file a moment after the ACK: bounded polls.
            let leases = LeaseFiles(paths: [file], logger: LogRecord().logger)
            var found: [String: String] = [:]
            for _ in 0..<50 {
                found = [:]
                for ip in taken.keys { found[ip] = leases.mac(for: ip)?.description }
                if found == taken { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(found == taken, "\(server): \((try? String(contentsOfFile: file, encoding: .utf8)) ?? "no file")")
            #expect(leases.summaries().first?.live == 3)
            #expect(leases.summaries().first?.format?.rawValue == server.rawValue)

            // `thinboot check` lists the file and its live leases.
            try directory.write("tftpboot/.keep", "")
            let config = try directory.write(
                "thinboot.toml", "[tftp]\nroot = \"tftpboot\"\n[clients]\nleases = [\"\(file)\"]\n")
            let check = try await runTool(
                try thinbootExecutable(), ["check", "--config", config], timeout: .seconds(30))
            #expect(check.status == 0, "\(check.stderr)")
            #expect(
                check.stdoutText.contains("  leases \(file): \(server.rawValue), 3 live leases"), "\(check.stdoutText)")
        }
    }

    /// When a lease ends, Kea appends a row deleting it and dhcpd a block with `binding state free`: read with the
    /// clock stopped at the moment the lease was taken, only that record can make the address nobody's.
    @Test(arguments: [Server.kea, .isc])
    func theServersOwnRecordOfAnEndedLeaseNamesNoClient(server: Server) async throws {
        let directory = try TemporaryDirectory("lease-end-\(server.rawValue)")
        defer { directory.remove() }
        let (script, file) = try Self.files(for: server, in: directory)
        try await ProxyDHCPInteropTests.withLab { lab in
            let (site, client) = try await Self.siteAndClient(in: lab)
            let stop = try await Self.start(
                server, in: site.name, interface: site.interface, file: file, directory: directory, lifetime: 2)
            defer { stop() }

            let mac = "52:54:00:64:00:01"
            let address = try #require(
                try await Self.takeLease(in: client.name, interface: client.interface, mac: mac, script: script),
                "\(server) gave no lease: \((try? String(contentsOfFile: directory.file("kea.log"), encoding: .utf8)) ?? "")"
            )
            let taken = Int64(time(nil))
            let leases = LeaseFiles(paths: [file], logger: LogRecord().logger, now: { taken })
            var seen: String?
            for _ in 0..<50 where seen == nil {
                seen = leases.mac(for: address)?.description
                if seen == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(seen == mac, "the lease, live when taken")
            // dhcpd writes an ended lease when its pool timer fires or the next client comes: one more client.
            try await Task.sleep(for: .seconds(3))
            _ = try await Self.takeLease(
                in: client.name, interface: client.interface, mac: "52:54:00:64:00:02", script: script)
            // (Should the second client get the same address, the lease names it: never the first client.)
            for _ in 0..<100 where leases.mac(for: address)?.description == mac {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                leases.mac(for: address)?.description != mac,
                "\(server): \((try? String(contentsOfFile: file, encoding: .utf8)) ?? "no file")")
        }
    }
}

extension ProxyDHCPInteropTests.Lab {
    /// Gives `interface` in `namespace` the MAC `mac` (down, set, up: a client with another NIC).
    static func setMAC(_ mac: String, of interface: String, in namespace: String) async throws {
        for arguments in [
            ["-n", namespace, "link", "set", interface, "down"],
            ["-n", namespace, "link", "set", interface, "address", mac],
            ["-n", namespace, "link", "set", interface, "up"],
        ] {
            let result = try await runTool("ip", arguments, timeout: .seconds(10))
            guard result.status == 0 else {
                throw NamespaceSetupFailed(command: "ip " + arguments.joined(separator: " "), stderr: result.stderr)
            }
        }
    }
}
