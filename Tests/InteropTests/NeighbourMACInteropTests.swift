import Foundation
import TestSupport
import Testing

/// The MAC a script sees for a request that names none comes from the kernel's neighbour table: a real client in
/// its own network namespace, over a veth pair, fetches from Thinboot running in another.
@Suite(.serialized) struct NeighbourMACInteropTests {
    /// Two namespaces joined by a veth pair: the server side 10.77.0.1 / fd00:77::1, the client side
    /// 10.77.0.2 / fd00:77::2 with a MAC of our choosing, and an MTU when given. Always torn down, whatever
    /// `body` does.
    static func withNamespacePair(
        clientMAC: String, mtu: Int? = nil, serverLinkRate: String? = nil, _ body: (String, String) async throws -> Void
    ) async throws {
        // Unique per process and per caller (the MAC's last byte), so suites running side by side never collide.
        let tag = "\(getpid() % 100_000)\(clientMAC.suffix(2))"
        let server = "tb-lua-s-\(tag)"
        let client = "tb-lua-c-\(tag)"
        var commands: [[String]] = [
            ["netns", "add", server], ["netns", "add", client],
            ["link", "add", "tbs\(tag)", "type", "veth", "peer", "name", "tbc\(tag)"],
            ["link", "set", "tbs\(tag)", "netns", server], ["link", "set", "tbc\(tag)", "netns", client],
            ["-n", client, "link", "set", "tbc\(tag)", "address", clientMAC],
            ["-n", server, "addr", "add", "10.77.0.1/24", "dev", "tbs\(tag)"],
            ["-n", client, "addr", "add", "10.77.0.2/24", "dev", "tbc\(tag)"],
            ["-n", server, "addr", "add", "fd00:77::1/64", "dev", "tbs\(tag)", "nodad"],
            ["-n", client, "addr", "add", "fd00:77::2/64", "dev", "tbc\(tag)", "nodad"],
            ["-n", server, "link", "set", "tbs\(tag)", "up"], ["-n", client, "link", "set", "tbc\(tag)", "up"],
            ["-n", server, "link", "set", "lo", "up"], ["-n", client, "link", "set", "lo", "up"],
        ]
        if let mtu {
            commands.append(["-n", server, "link", "set", "tbs\(tag)", "mtu", "\(mtu)"])
            commands.append(["-n", client, "link", "set", "tbc\(tag)", "mtu", "\(mtu)"])
        }
        do {
            for arguments in commands {
                let result = try await runTool("ip", arguments, timeout: .seconds(10))
                guard result.status == 0 else {
                    throw NamespaceSetupFailed(command: "ip " + arguments.joined(separator: " "), stderr: result.stderr)
                }
            }
            if let serverLinkRate {
                // A token bucket on the server's side: packets wait in it, so the server's send buffer fills.
                let arguments = [
                    "-n", server, "qdisc", "add", "dev", "tbs\(tag)", "root", "tbf", "rate", serverLinkRate, "burst",
                    "64kb", "latency", "2s",
                ]
                let result = try await runTool("tc", arguments, timeout: .seconds(10))
                guard result.status == 0 else {
                    throw NamespaceSetupFailed(command: "tc " + arguments.joined(separator: " "), stderr: result.stderr)
                }
            }
            try await body(server, client)
        } catch {
            await removeNamespaces(server, client)
            throw error
        }
        await removeNamespaces(server, client)
    }

    static func removeNamespaces(_ names: String...) async {
        for name in names { _ = try? await runTool("ip", ["netns", "del", name], timeout: .seconds(10)) }
    }

    @Test func theScriptSeesTheClientsMACOverIPv4AndIPv6() async throws {
        let directory = try TemporaryDirectory("neighbour-mac")
        defer { directory.remove() }
        try directory.write("tftpboot/.keep", "")
        try directory.write("who.lua", "return function(req) return tostring(req.mac) .. ' ' .. req.ip end\n")
        let config = try directory.write(
            "thinboot.toml",
            """
            [tftp]
            listen = ["10.77.0.1:6969", "[fd00:77::1]:6969"]
            root = "tftpboot"
            [[tftp.route]]
            path = "ltsp/{arch}/lts.conf"
            script = "who.lua"
            """)
        try await Self.withNamespacePair(clientMAC: "52:54:00:77:00:02") { serverNamespace, clientNamespace in
            let server = try BackgroundProcess(
                "ip", ["netns", "exec", serverNamespace, try thinbootExecutable(), "serve", "--config", config])
            defer { server.stop() }

            // Bounded retries: the server may still be binding when the first request goes out.
            var answer: ToolResult?
            for _ in 0..<50 {
                let result = try await runTool(
                    "ip",
                    [
                        "netns", "exec", clientNamespace, "busybox", "tftp", "-g", "-r", "ltsp/i386/lts.conf", "-l",
                        directory.file("v4"), "10.77.0.1", "6969",
                    ], timeout: .seconds(20))
                answer = result
                if result.status == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(answer?.status == 0, "\(answer?.stderr ?? "")")
            #expect(try String(contentsOfFile: directory.file("v4"), encoding: .utf8) == "52:54:00:77:00:02 10.77.0.2")

            let v6 = try await runTool(
                "ip",
                [
                    "netns", "exec", clientNamespace, try thinbootExecutable(), "tftp", "get", "--port", "6969", "-o",
                    directory.file("v6"), "fd00:77::1", "ltsp/amd64/lts.conf",
                ], timeout: .seconds(30))
            #expect(v6.status == 0, "\(v6.stderr)")
            #expect(
                try String(contentsOfFile: directory.file("v6"), encoding: .utf8) == "52:54:00:77:00:02 fd00:77::2")
        }
    }
}

struct NamespaceSetupFailed: Error, CustomStringConvertible {
    let command: String
    let stderr: String
    var description: String { "\(command) failed (run the tests as root): \(stderr)" }
}
