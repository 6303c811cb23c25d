import Foundation
import TestSupport
import Testing

/// Thinboot's ProxyDHCP beside a real site DHCP server, in namespaces this suite makes (prefix `tbd`) and removes:
/// a LAN bridge with dnsmasq handing out addresses only (no boot options), Thinboot on another host of the LAN,
/// clients that are `thinboot dhcp probe` and busybox `udhcpc`; a second LAN on a second Thinboot interface; a
/// routed LAN behind isc-dhcp-relay.
@Suite(.serialized) struct ProxyDHCPInteropTests {
    static let bootScript = """
        return function(req)
          if req.user_class == "iPXE" then return "http://" .. "10.97.0.2/boot.ipxe" end
          if req.arch == "x86_64-efi-http" then return "http://10.97.0.2/ipxe.efi" end
          if req.arch == "x86_64-efi" then return "ipxe.efi" end
          if req.arch == "x86-bios" then return "undionly.kpxe" end
          return nil
        end
        """

    /// The namespaces and links of one test, removed whatever the test does.
    final class Lab {
        let tag: String
        private(set) var namespaces: [String] = []

        init() { tag = "\(getpid() % 10_000)" }

        func name(_ role: String) -> String { "tbd\(role)\(tag)" }

        func ip(_ arguments: [String]) async throws {
            let result = try await runTool("ip", arguments, timeout: .seconds(10))
            guard result.status == 0 else {
                throw NamespaceSetupFailed(command: "ip " + arguments.joined(separator: " "), stderr: result.stderr)
            }
        }

        func namespace(_ role: String) async throws -> String {
            let namespace = name(role)
            try await ip(["netns", "add", namespace])
            namespaces.append(namespace)
            try await ip(["-n", namespace, "link", "set", "lo", "up"])
            return namespace
        }

        /// A bridge in its own namespace: one LAN.
        func lan(_ role: String) async throws -> String {
            let namespace = try await self.namespace(role)
            try await ip(["-n", namespace, "link", "add", "lanbr", "type", "bridge"])
            try await ip(["-n", namespace, "link", "set", "lanbr", "up"])
            return namespace
        }

        /// Plugs `host` into `lan` with an interface called `interface`, with an address and MAC when given.
        func plug(_ host: String, into lan: String, interface: String, address: String?, mac: String? = nil)
            async throws
        {
            let peer = "p\(interface)"
            try await ip(["link", "add", interface, "netns", host, "type", "veth", "peer", "name", peer, "netns", lan])
            try await ip(["-n", lan, "link", "set", peer, "master", "lanbr"])
            try await ip(["-n", lan, "link", "set", peer, "up"])
            if let mac { try await ip(["-n", host, "link", "set", interface, "address", mac]) }
            if let address { try await ip(["-n", host, "addr", "add", address, "dev", interface]) }
            try await ip(["-n", host, "link", "set", interface, "up"])
        }

        func remove() async {
            for namespace in namespaces.reversed() {
                _ = try? await runTool("ip", ["netns", "del", namespace], timeout: .seconds(10))
            }
        }
    }

    static func withLab(_ body: (Lab) async throws -> Void) async throws {
        let lab = Lab()
        do {
            try await body(lab)
        } catch {
            await lab.remove()
            throw error
        }
        await lab.remove()
    }

    /// A daemon a test started (dnsmasq, dhcrelay), stopped by the PID it wrote. Daemons are not children of the
    /// test process: Foundation's child reaper blocks in wait4 on a running dnsmasq child, which would hang every
    /// later tool the test runs.
    struct Daemon {
        let pidFile: String

        func stop() {
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
            else { return }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(10_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    /// dnsmasq as the site's DHCP server in `namespace`: addresses only, no boot options.
    static func siteServer(in namespace: String, interface: String, ranges: [String], directory: TemporaryDirectory)
        async throws -> Daemon
    {
        let pidFile = directory.file("dnsmasq-\(interface).pid")
        let result = try await runTool(
            "ip",
            [
                "netns", "exec", namespace, try which("dnsmasq"), "--conf-file=/dev/null", "--port=0",
                "--interface=\(interface)", "--bind-interfaces", "--dhcp-leasefile=\(directory.file("site.leases"))",
                "--pid-file=\(pidFile)", "--log-dhcp", "--log-facility=\(directory.file("dnsmasq.log"))",
            ] + ranges.map { "--dhcp-range=\($0)" }, timeout: .seconds(10))
        guard result.status == 0 else { throw NamespaceSetupFailed(command: "dnsmasq", stderr: result.stderr) }
        return Daemon(pidFile: pidFile)
    }

    /// Thinboot's ProxyDHCP alone (`serve --only dhcp`) in `namespace` on `interfaces`.
    static func proxy(in namespace: String, interfaces: [String], directory: TemporaryDirectory) throws
        -> BackgroundProcess
    {
        try directory.write("boot.lua", bootScript)
        let list = interfaces.map { "\"\($0)\"" }.joined(separator: ", ")
        let config = try directory.write(
            "thinboot.toml",
            "[dhcp]\nproxy = true\ninterfaces = [\(list)]\nboot = \"boot.lua\"\nanswers_per_mac = 100\n")
        return try BackgroundProcess(
            "ip", ["netns", "exec", namespace, try thinbootExecutable(), "serve", "--config", config, "--only", "dhcp"])
    }

    /// `thinboot dhcp probe` from `namespace`: the offers' lines, retried a few times while the servers start.
    static func probe(
        in namespace: String, interface: String, mac: String, arch: String, userClass: String? = nil,
        expectLines: Int = 2
    ) async throws -> [String] {
        var lines: [String] = []
        for _ in 0..<5 {
            let result = try await runTool(
                "ip",
                [
                    "netns", "exec", namespace, try thinbootExecutable(), "dhcp", "probe", "--interface", interface,
                    "--mac", mac, "--arch", arch, "--timeout", "1.5",
                ] + (userClass.map { ["--user-class", $0] } ?? []), timeout: .seconds(20))
            lines = result.stdoutText.split(separator: "\n").map(String.init)
            if lines.count >= expectLines { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        return lines
    }

    @Test func probeGetsTheSitesAddressAndTheScriptsFileForEachArch() async throws {
        let directory = try TemporaryDirectory("proxy-dhcp")
        defer { directory.remove() }
        try await Self.withLab { lab in
            let lan = try await lab.lan("l")
            let site = try await lab.namespace("s")
            let thinboot = try await lab.namespace("t")
            let client = try await lab.namespace("c")
            try await lab.plug(site, into: lan, interface: "tbds\(lab.tag)", address: "10.97.0.1/24")
            try await lab.plug(thinboot, into: lan, interface: "tbdt\(lab.tag)", address: "10.97.0.2/24")
            try await lab.plug(client, into: lan, interface: "tbdc\(lab.tag)", address: nil, mac: "52:54:00:97:00:05")
            let dnsmasq = try await Self.siteServer(
                in: site, interface: "tbds\(lab.tag)", ranges: ["10.97.0.100,10.97.0.150,255.255.255.0,1h"],
                directory: directory)
            defer { dnsmasq.stop() }
            let server = try Self.proxy(in: thinboot, interfaces: ["tbdt\(lab.tag)"], directory: directory)
            defer { server.stop() }

            let cases: [(arch: String, userClass: String?, file: String?, vendorClass: String)] = [
                ("x86-bios", nil, "undionly.kpxe", "PXEClient"),
                ("x86_64-efi", nil, "ipxe.efi", "PXEClient"),
                ("9", nil, "ipxe.efi", "PXEClient"),
                ("x86_64-efi", "iPXE", "http://10.97.0.2/boot.ipxe", "PXEClient"),
                ("x86_64-efi-http", nil, "http://10.97.0.2/ipxe.efi", "HTTPClient"),
                ("arm64-efi", nil, nil, ""),
            ]
            for (index, entry) in cases.enumerated() {
                let mac = String(format: "52:54:00:97:01:%02x", index)
                let lines = try await Self.probe(
                    in: client, interface: "tbdc\(lab.tag)", mac: mac, arch: entry.arch, userClass: entry.userClass,
                    expectLines: entry.file == nil ? 1 : 2)
                let site = lines.filter { $0.hasPrefix("dhcp server=10.97.0.1 ") }
                let proxy = lines.filter { $0.hasPrefix("proxy ") }
                #expect(site.count == 1, "\(entry.arch): \(lines)")
                #expect(site.first?.contains(" file=- ") == true, "the site server hands out no boot file: \(lines)")
                if let file = entry.file {
                    #expect(
                        proxy == [
                            "proxy server=10.97.0.2 type=offer address=- next_server=10.97.0.2 file=\(file) "
                                + "vendor_class=\(entry.vendorClass)"
                        ], "\(entry.arch) \(entry.userClass ?? ""): \(lines)")
                } else {
                    #expect(proxy.isEmpty, "the script returned nil for \(entry.arch): \(lines)")
                }
            }
        }
    }

    @Test func eachInterfaceAnswersItsOwnLANAndAnUnlistedOneNone() async throws {
        let directory = try TemporaryDirectory("proxy-dhcp-two")
        defer { directory.remove() }
        try await Self.withLab { lab in
            let thinboot = try await lab.namespace("t")
            // Three LANs, Thinboot on each; only the first two are in [dhcp] interfaces.
            let subnets = ["97", "95", "94"]
            var clients: [String] = []
            for (index, subnet) in subnets.enumerated() {
                let lan = try await lab.lan("l\(index)")
                let client = try await lab.namespace("c\(index)")
                try await lab.plug(
                    thinboot, into: lan, interface: "tbdt\(index)\(lab.tag)", address: "10.\(subnet).0.2/24")
                try await lab.plug(client, into: lan, interface: "tbdc\(index)\(lab.tag)", address: nil)
                clients.append(client)
            }
            let server = try Self.proxy(
                in: thinboot, interfaces: ["tbdt0\(lab.tag)", "tbdt1\(lab.tag)"], directory: directory)
            defer { server.stop() }
            for (index, subnet) in subnets.prefix(2).enumerated() {
                let lines = try await Self.probe(
                    in: clients[index], interface: "tbdc\(index)\(lab.tag)", mac: "52:54:00:95:00:0\(index)",
                    arch: "x86-bios", expectLines: 1)
                #expect(
                    lines == [
                        "proxy server=10.\(subnet).0.2 type=offer address=- next_server=10.\(subnet).0.2 "
                            + "file=undionly.kpxe vendor_class=PXEClient"
                    ], "LAN \(index)")
            }
            let unlisted = try await Self.probe(
                in: clients[2], interface: "tbdc2\(lab.tag)", mac: "52:54:00:95:00:02", arch: "x86-bios",
                expectLines: 1)
            #expect(unlisted.isEmpty, "\(unlisted)")
        }
    }

    /// Where a routed client's MAC comes from, when Thinboot's neighbour table knows only the router.
    enum RoutedMACSource: String, CaseIterable {
        /// The site server's lease file (`[clients] leases`); the client's own DHCP says nothing to Thinboot.
        case leaseFile
        /// No lease file: the client's PXE REQUEST to the site server, which the relay forwards to Thinboot too,
        /// names its address, and Thinboot ties what DHCP taught to it.
        case dhcpRequest
    }

    /// The client behind the relay gets its PXE offer through the relay, then takes its address from the site
    /// server (through the relay too) and fetches a per-MAC TFTP file from Thinboot across the router: the MAC comes
    /// from the site server's lease file, or from its own DHCP REQUEST, while Thinboot's neighbour table knows only
    /// the router; the arch is the one its DHCP taught.
    @Test(arguments: RoutedMACSource.allCases)
    func aRoutedClientGetsItsOfferThroughTheRelayAndItsPerMACFile(source: RoutedMACSource) async throws {
        let directory = try TemporaryDirectory("proxy-dhcp-relay")
        defer { directory.remove() }
        try await Self.withLab { lab in
            let lan = try await lab.lan("l")
            let routed = try await lab.lan("d")
            let site = try await lab.namespace("s")
            let thinboot = try await lab.namespace("t")
            let router = try await lab.namespace("r")
            let client = try await lab.namespace("c")
            try await lab.plug(site, into: lan, interface: "tbds\(lab.tag)", address: "10.97.0.1/24")
            try await lab.plug(thinboot, into: lan, interface: "tbdt\(lab.tag)", address: "10.97.0.2/24")
            try await lab.plug(router, into: lan, interface: "tbdru\(lab.tag)", address: "10.97.0.3/24")
            try await lab.plug(router, into: routed, interface: "tbdrd\(lab.tag)", address: "10.93.0.1/24")
            try await lab.plug(
                client, into: routed, interface: "tbdc\(lab.tag)", address: nil, mac: "52:54:00:93:00:05")
            for host in [site, thinboot] {
                try await lab.ip(["-n", host, "route", "add", "10.93.0.0/24", "via", "10.97.0.3"])
            }
            let forwarding = try await runTool(
                "ip", ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"], timeout: .seconds(10))
            #expect(forwarding.status == 0, "\(forwarding.stderr)")
            let dnsmasq = try await Self.siteServer(
                in: site, interface: "tbds\(lab.tag)",
                ranges: ["10.97.0.100,10.97.0.150,255.255.255.0,1h", "10.93.0.100,10.93.0.150,255.255.255.0,1h"],
                directory: directory)
            defer { dnsmasq.stop() }
            // Thinboot serves ProxyDHCP and TFTP, with a route that answers with the client's MAC, and reads the
            // site server's lease file.
            // A client with user class `quiet` is left to another boot server: udhcpc takes the site's offer.
            try directory.write(
                "boot.lua",
                "local choose = (function() \(Self.bootScript) end)()\n"
                    + "return function(req) if req.user_class == 'quiet' then return nil end return choose(req) end\n")
            try directory.write("tftpboot/.keep", "")
            try directory.write(
                "host.lua",
                "return function(req) return 'host ' .. tostring(req.mac) .. ' ' .. tostring(req.arch) .. '\\n' end\n")
            let tftpPort = 20000 + Int(getpid() % 20000)
            let config = try directory.write(
                "thinboot.toml",
                """
                [dhcp]
                proxy = true
                interfaces = ["tbdt\(lab.tag)"]
                boot = "boot.lua"
                answers_per_mac = 100
                [tftp]
                listen = ["10.97.0.2:\(tftpPort)"]
                root = "tftpboot"
                [[tftp.route]]
                path = "hosts/boot.cfg"
                script = "host.lua"

                """ + (source == .leaseFile ? "[clients]\nleases = [\"\(directory.file("site.leases"))\"]\n" : ""))
            let server = try BackgroundProcess(
                "ip", ["netns", "exec", thinboot, try thinbootExecutable(), "serve", "--config", config])
            // The router's relay forwards to both servers: the site's and Thinboot (a second helper address).
            let relay = try BackgroundProcess(
                "ip",
                [
                    "netns", "exec", router, try which("dhcrelay"), "-d", "-4", "-pf", directory.file("dhcrelay.pid"),
                    "-id", "tbdrd\(lab.tag)", "-iu", "tbdru\(lab.tag)", "10.97.0.1", "10.97.0.2",
                ])
            defer { relay.stop() }

            let lines = try await Self.probe(
                in: client, interface: "tbdc\(lab.tag)", mac: "52:54:00:93:00:05", arch: "x86_64-efi")
            #expect(lines.contains { $0.hasPrefix("dhcp server=10.97.0.1 ") && $0.contains(" address=10.93.0.") })
            #expect(
                lines.contains(
                    "proxy server=10.97.0.2 type=offer address=- next_server=10.97.0.2 file=ipxe.efi "
                        + "vendor_class=PXEClient"), "\(lines)")

            // The client takes a lease through the relay — with udhcpc's own vendor class (Thinboot stays silent and
            // learns nothing), or as PXE firmware that this boot script leaves alone — sets the address and a route
            // through the router, and asks Thinboot for its file.
            let bound = try directory.write(
                "bound.sh",
                """
                #!/bin/sh
                [ "$1" = bound ] || exit 0
                ip addr add "$ip/24" dev "$interface" && ip route add default via 10.93.0.1 && echo "bound $ip"
                """)
            chmod(bound, 0o755)
            var address: String?
            for _ in 0..<3 where address == nil {
                let result = try await runTool(
                    "ip",
                    [
                        "netns", "exec", client, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i",
                        "tbdc\(lab.tag)", "-s", bound,
                    ]
                        + (source == .dhcpRequest
                            ? ["-V", "PXEClient:Arch:00007:UNDI:003000", "-x", "0x5d:0007", "-x", "0x4d:7175696574"]
                            : []),
                    timeout: .seconds(30))
                address = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("bound 10.93.0.") }.map {
                    String($0.dropFirst("bound ".count))
                }
            }
            let clientAddress = try #require(address, "the routed client took no lease through the relay")
            // dnsmasq writes its lease file a moment after the ACK (bounded wait); the generated file is cached a few
            // seconds per client, so the first fetch must already see the lease.
            for _ in 0..<50 where source == .leaseFile {
                let leases = (try? String(contentsOfFile: directory.file("site.leases"), encoding: .utf8)) ?? ""
                if leases.contains("52:54:00:93:00:05 \(clientAddress) ") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // Bounded retries while the server binds.
            var fetched: ToolResult?
            var content: String?
            for _ in 0..<20 {
                fetched = try await runTool(
                    "ip",
                    [
                        "netns", "exec", client, "busybox", "tftp", "-g", "-r", "hosts/boot.cfg", "-l",
                        directory.file("boot.cfg"), "10.97.0.2", "\(tftpPort)",
                    ], timeout: .seconds(20))
                content = try? String(contentsOfFile: directory.file("boot.cfg"), encoding: .utf8)
                if fetched?.status == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(fetched?.status == 0, "\(fetched?.stderr ?? "")")
            #expect(
                content == "host 52:54:00:93:00:05 x86_64-efi\n", "the file a routed client gets names its MAC and arch"
            )
            // What Thinboot's kernel knows: the router's MAC, never the client's.
            let neighbours = try await runTool("ip", ["-n", thinboot, "neigh", "show"], timeout: .seconds(10))
            #expect(neighbours.stdoutText.contains("10.97.0.3 "), "\(neighbours.stdoutText)")
            #expect(!neighbours.stdoutText.contains(clientAddress + " "), "\(neighbours.stdoutText)")
            #expect(!neighbours.stdoutText.contains("52:54:00:93:00:05"), "\(neighbours.stdoutText)")
            let log = server.stop()
            #expect(log.contains("dhcp.relay=10.93.0.1"), "\(log)")
            if source == .leaseFile {
                #expect(log.contains("leases.file=\(directory.file("site.leases"))"), "serve lists its lease files")
            }
        }
    }

    /// busybox udhcpc as the client, with option 60 and 93 as PXE firmware sends them (`-V`, `-x 0x5d:`). It takes
    /// the first offer, so the LAN holds Thinboot alone: its script prints the boot file and next server it was
    /// given. Without `-V` (udhcpc's own vendor class) Thinboot stays silent and udhcpc gets no lease.
    @Test func udhcpcGetsTheScriptsFileAndNonPXEClientsGetNothing() async throws {
        let directory = try TemporaryDirectory("proxy-dhcp-udhcpc")
        defer { directory.remove() }
        let script = try directory.write(
            "udhcpc.sh", "#!/bin/sh\necho \"$1 siaddr=$siaddr boot_file=$boot_file serverid=$serverid\"\n")
        chmod(script, 0o755)
        try await Self.withLab { lab in
            let lan = try await lab.lan("l")
            let thinboot = try await lab.namespace("t")
            let client = try await lab.namespace("c")
            try await lab.plug(thinboot, into: lan, interface: "tbdt\(lab.tag)", address: "10.97.0.2/24")
            try await lab.plug(client, into: lan, interface: "tbdc\(lab.tag)", address: nil)
            let server = try Self.proxy(in: thinboot, interfaces: ["tbdt\(lab.tag)"], directory: directory)
            defer { server.stop() }

            func udhcpc(_ extra: [String]) async throws -> [String] {
                let result = try await runTool(
                    "ip",
                    [
                        "netns", "exec", client, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i",
                        "tbdc\(lab.tag)", "-s", script,
                    ] + extra, timeout: .seconds(30))
                return result.stdoutText.split(separator: "\n").map(String.init)
            }
            for (code, file) in [("0007", "ipxe.efi"), ("0000", "undionly.kpxe"), ("0009", "ipxe.efi")] {
                var events: [String] = []
                // Bounded retries while the server binds.
                for _ in 0..<3 {
                    events = try await udhcpc(["-V", "PXEClient:Arch:0\(code):UNDI:003016", "-x", "0x5d:\(code)"])
                    if events.contains(where: { $0.hasPrefix("bound") }) { break }
                }
                #expect(
                    events.contains("bound siaddr=10.97.0.2 boot_file=\(file) serverid=10.97.0.2"), "\(code): \(events)"
                )
            }
            let plain = try await udhcpc([])
            #expect(plain.contains { $0.hasPrefix("leasefail") }, "\(plain)")
            #expect(!plain.contains { $0.hasPrefix("bound") }, "\(plain)")
        }
    }
}
