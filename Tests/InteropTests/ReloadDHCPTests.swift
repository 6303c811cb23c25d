import Foundation
import TestSupport
import Testing

/// SIGHUP and ProxyDHCP, in namespaces this suite makes (as ``ProxyDHCPInteropTests``): a new boot script and
/// `next_server` answer the next PXE request, a script that does not compile keeps the running one, and removing
/// `[dhcp]` silences the responder until a reload adds it back.
@Suite("SIGHUP applies [dhcp]", .serialized)
struct ReloadDHCPTests {
    @Test func theBootScriptAndNextServerSwapAndTheProxyStopsAndStarts() async throws {
        let folder = try TemporaryDirectory("reload-dhcp")
        defer { folder.remove() }
        try folder.write("root/.keep", "")
        try folder.write("a.lua", "return function(req) return 'a.kpxe' end\n")
        try folder.write("b.lua", "return function(req) return 'b.kpxe' end\n")
        try folder.write("broken.lua", "return function(req) return 'never' \n")
        try await ProxyDHCPInteropTests.withLab { lab in
            let lan = try await lab.lan("l")
            let thinboot = try await lab.namespace("t")
            let client = try await lab.namespace("c")
            let (serverInterface, clientInterface) = ("tbdt\(lab.tag)", "tbdc\(lab.tag)")
            try await lab.plug(thinboot, into: lan, interface: serverInterface, address: "10.97.0.2/24")
            try await lab.plug(client, into: lan, interface: clientInterface, address: nil)
            func config(boot: String?, nextServer: String? = nil) -> String {
                // [tftp] keeps the file a config once [dhcp] is gone; `--only dhcp` never serves it.
                var text = "[tftp]\nroot = \"root\"\n"
                if let boot {
                    text += "[dhcp]\nproxy = true\ninterfaces = [\"\(serverInterface)\"]\nboot = \"\(boot)\"\n"
                    text += "answers_per_mac = 100\n"
                    if let nextServer { text += "next_server = \"\(nextServer)\"\n" }
                }
                return text
            }
            func offer(_ mac: String) async throws -> [String] {
                try await ProxyDHCPInteropTests.probe(
                    in: client, interface: clientInterface, mac: mac, arch: "x86-bios", expectLines: 1)
            }
            func line(file: String, nextServer: String) -> [String] {
                [
                    "proxy server=10.97.0.2 type=offer address=- next_server=\(nextServer) file=\(file) "
                        + "vendor_class=PXEClient"
                ]
            }
            let serve = try await ReloadingServe(
                config(boot: "a.lua"), in: folder, only: "dhcp", namespace: thinboot)
            #expect(try await offer("52:54:00:98:00:01") == line(file: "a.kpxe", nextServer: "10.97.0.2"))

            try await serve.reload(config(boot: "b.lua", nextServer: "10.97.0.9"))
            #expect(serve.log.text.contains("reload.applied=dhcp"), "\(serve.log.text)")
            #expect(try await offer("52:54:00:98:00:02") == line(file: "b.kpxe", nextServer: "10.97.0.9"))

            try await serve.reload(config(boot: "broken.lua"))
            #expect(serve.log.text.contains("dhcp reload failed"), "\(serve.log.text)")
            #expect(try await offer("52:54:00:98:00:03") == line(file: "b.kpxe", nextServer: "10.97.0.9"))

            try await serve.reload(config(boot: nil))
            #expect(serve.log.text.contains("dhcp proxy stopped"), "\(serve.log.text)")
            let silent = try await runTool(
                "ip",
                [
                    "netns", "exec", client, try thinbootExecutable(), "dhcp", "probe", "--interface", clientInterface,
                    "--mac", "52:54:00:98:00:04", "--arch", "x86-bios", "--timeout", "1.5",
                ], timeout: .seconds(20))
            #expect(!silent.stdoutText.contains("proxy "), "\(silent.stdoutText)")

            try await serve.reload(config(boot: "a.lua"))
            #expect(try await offer("52:54:00:98:00:05") == line(file: "a.kpxe", nextServer: "10.97.0.2"))
            #expect(await serve.stop() == 0, "\(serve.log.text)")
        }
    }
}
