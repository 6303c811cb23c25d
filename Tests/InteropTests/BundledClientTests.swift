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

    /// `-o` naming a device (here a copy of `/dev/null`'s node in a temporary folder) or a symlink is written to,
    /// and left in place when the fetch fails; a regular file that failed is removed, so no partial download looks
    /// complete.
    @Test func outputThatIsNotARegularFileIsNeverReplacedOrRemoved() async throws {
        let content = patternBytes(count: 3000, seed: 4)
        try await TFTPTestServer.with { root in
            try root.write("file.bin", content)
        } _: { server in
            let out = try TemporaryDirectory("bundled-out")
            defer { out.remove() }
            let device = out.file("null")
            // Major 1, minor 3: the node of /dev/null.
            try #require(mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0, "mknod needs root")
            for name in ["file.bin", "missing.bin"] {
                _ = try await runTool(
                    try thinbootExecutable(),
                    ["tftp", "get", "--port", "\(server.port)", "-o", device, "127.0.0.1", name])
                var info = stat()
                #expect(stat(device, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "\(name) replaced the device")
            }
            // Through a symlink: the link and the file it names both stay.
            try out.write("real", "keep")
            #expect(symlink(out.file("real"), out.file("link")) == 0)
            _ = try await runTool(
                try thinbootExecutable(),
                ["tftp", "get", "--port", "\(server.port)", "-o", out.file("link"), "127.0.0.1", "missing.bin"])
            var link = stat()
            #expect(lstat(out.file("link"), &link) == 0 && link.st_mode & S_IFMT == S_IFLNK)
            #expect(FileManager.default.fileExists(atPath: out.file("real")))
            let failed = try await runTool(
                try thinbootExecutable(),
                ["tftp", "get", "--port", "\(server.port)", "-o", out.file("partial"), "127.0.0.1", "missing.bin"])
            #expect(failed.status != 0 && failed.stderr.contains("not found"), "\(failed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.file("partial")))
        }
    }
}
