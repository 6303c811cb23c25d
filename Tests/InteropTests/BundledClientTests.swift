import Foundation
import TestSupport
import Testing

/// `thinboot tftp get` against Thinboot's own server, as a PXE ROM would ask.
@Suite(.serialized) struct BundledClientTests {
    /// The requests pxelinux and iPXE really send: long config names with every option, over IPv4 and IPv6.
    @Test(arguments: [
        ("127.0.0.1", ["--blksize", "1408", "--tsize"]),
        ("127.0.0.1", ["--blksize", "1432", "--tsize", "--windowsize", "16"]),
        ("::1", ["--blksize", "1468", "--tsize", "--windowsize", "4", "--timeout", "2"]),
        ("::1", []),
    ])
    func fetchesLongPathsWithEveryOption(host: String, options: [String]) async throws {
        let name = "ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56"
        let content = patternBytes(count: 70_001, seed: 3)
        try await TFTPTestServer.with(host: host) { root in
            try root.write(name, content)
        } _: { server in
            let out = try TemporaryDirectory("bundled-out")
            defer { out.remove() }
            let result = try await runTool(
                try thinbootExecutable(),
                ["tftp", "get", "--port", "\(server.port)", "-o", out.file("cfg")] + options + [host, name])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await sha256(file: out.file("cfg")) == sha256(file: server.root.file(name)))
        }
    }
}
