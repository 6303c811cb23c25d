import HTTP
import Testing

@testable import Thinboot

/// `[http]`, route `protocols`, and what HTTP requests tell scripts.
@Suite struct HTTPConfigTests {
    @Test func defaultsComeFromTheServerConfiguration() throws {
        let config = try ThinbootConfig.parse("[tftp]\nroot = \"r\"\n[http]\n", file: "/srv/t.toml")
        let http = try #require(config.http)
        #expect(http.listen == [ListenAddress(host: "0.0.0.0", port: 8080), ListenAddress(host: "::", port: 8080)])
        #expect(http.advertise == nil)
        let server = http.serverConfiguration()
        #expect(server.maxConnections == 4096)
        #expect(server.maxConnectionsPerClient == 64)
        #expect(server.idleTimeout == .seconds(30))
        #expect(server.headerTimeout == .seconds(10))
        #expect(server.maxRequestLineBytes == 8192)
        #expect(server.maxHeadBytes == 16384)
    }

    @Test func readsEveryKey() throws {
        let config = try ThinbootConfig.parse(
            """
            [tftp]
            root = "r"
            [http]
            listen = ["127.0.0.1:8080"]
            advertise = "http://boot.example.net:8080/"
            max_connections = 10
            max_connections_per_client = 2
            idle_timeout = 5
            header_timeout = 3
            """, file: "/srv/t.toml")
        let http = try #require(config.http)
        #expect(http.advertise == "http://boot.example.net:8080")
        #expect(http.maxConnections == 10)
        #expect(http.maxConnectionsPerClient == 2)
        #expect(http.serverConfiguration().idleTimeout == .seconds(5))
        #expect(http.serverConfiguration().headerTimeout == .seconds(3))
    }

    @Test(arguments: [
        (
            "[tftp]\nroot = \"r\"\n[http]\nmax_connections = 0\n",
            "http.max_connections: 0 is out of range: use 1...1000000"
        ),
        ("[tftp]\nroot = \"r\"\n[http]\nidle_timeout = 0\n", "http.idle_timeout: 0 is out of range: use 1...3600"),
        (
            "[tftp]\nroot = \"r\"\n[http]\nadvertise = \"boot:8080\"\n",
            "http.advertise: \"boot:8080\" is not a base URL"
        ),
        ("[tftp]\nroot = \"r\"\n[http]\nport = 8080\n", "http.port: unknown key"),
        ("[nbd]\n[http]\n", "http: HTTP serves the [tftp] root and routes"),
        (
            "[tftp]\nroot = \"r\"\n[[tftp.route]]\npath = \"x\"\nscript = \"s.lua\"\nprotocols = [\"ftp\"]\n",
            "tftp.route[0].protocols[0]: \"ftp\" is not a protocol"
        ),
    ])
    func errorsNameTheKey(text: String, expected: String) {
        #expect {
            try ThinbootConfig.parse(text, file: "/srv/t.toml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func routesLimitedToAProtocol() throws {
        let config = try ThinbootConfig.parse(
            """
            [tftp]
            root = "r"
            [[tftp.route]]
            path = "boot.ipxe"
            script = "ipxe.lua"
            protocols = ["http"]
            [[tftp.route]]
            path = "*"
            script = "any.lua"
            """, file: "/srv/t.toml")
        let routes = try #require(config.tftp).routes
        #expect(routes[0].serves("http") && !routes[0].serves("tftp"))
        #expect(routes[1].serves("http") && routes[1].serves("tftp"))
    }

    @Test func httpFieldsReachTheScript() {
        let request = BootRequest(
            path: "boot.ipxe", ip: "10.0.0.5", port: 40000,
            fields: .http(method: "HEAD", headers: ["user-agent": "iPXE/1.21"], query: ["mac": "52:54:00:00:00:01"]))
        guard case .record(let fields) = request.scriptValue else {
            Issue.record("req is not a table")
            return
        }
        #expect(fields["protocol"] == .text("http"))
        #expect(fields["method"] == .text("HEAD"))
        #expect(fields["headers"] == .record(["user-agent": .text("iPXE/1.21")]))
        #expect(fields["query"] == .record(["mac": .text("52:54:00:00:00:01")]))
        guard case .record(let tftpFields) = BootRequest(path: "x", ip: "10.0.0.5", port: 1).scriptValue else {
            return
        }
        #expect(tftpFields["protocol"] == .text("tftp"))
        #expect(tftpFields["method"] == nil)
    }

    @Test(arguments: [
        (["arch": "x86_64-efi"], "x86_64-efi"), (["buildarch": "x86_64", "platform": "efi"], "x86_64-efi"),
        (["buildarch": "i386", "platform": "pcbios"], "x86-bios"),
        (["buildarch": "arm64", "platform": "efi"], "arm64-efi"),
        ([:], nil),
    ])
    func archFromIPXEQuery(query: [String: String], arch: String?) {
        #expect(HTTPRouteProvider.arch(fromQuery: query) == arch)
    }
}
