import Foundation
import NBD
import TestSupport
import Testing

/// Thinboot's NBD server against libnbd's `nbdinfo`, `nbdcopy` and `nbdsh`, and `qemu-img`.
@Suite(.serialized) struct NBDInteropTests {
    /// Two read-only exports (the first the default, with a description) and a copy-on-write one.
    static func standardExports(_ directory: TemporaryDirectory) -> [NBDExportDefinition] {
        [
            NBDExportDefinition(
                name: "trusty-amd64", path: directory.file("amd64.img"), description: "Ubuntu 14.04 amd64",
                isDefault: true),
            NBDExportDefinition(name: "trusty-i386", path: directory.file("i386.img")),
            NBDExportDefinition(
                name: "lab", path: directory.file("lab.img"), access: .copyOnWrite(limit: 1 << 20)),
        ]
    }

    func withServer(
        _ make: (TemporaryDirectory) throws -> [NBDExportDefinition] = standardExports,
        _ body: (NBDServerHarness) async throws -> Void
    ) async throws {
        let harness = try await NBDServerHarness(make)
        try await harness.serving(body)
    }

    @Test func nbdinfoListsNamesSizesFlagsAndBlockSizes() async throws {
        try await withServer { server in
            let result = try await runTool("nbdinfo", ["--list", "--json", server.uri()])
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            #expect(json["protocol"] as? String == "newstyle-fixed")
            #expect(json["structured"] as? Bool == true)
            let exports = try #require(json["exports"] as? [[String: Any]])
            #expect(exports.map { $0["export-name"] as? String } == ["trusty-amd64", "trusty-i386", "lab"])
            #expect(exports.allSatisfy { $0["export-size"] as? Int == NBDServerHarness.imageSize })
            #expect(exports[0]["description"] as? String == "Ubuntu 14.04 amd64")
            #expect(exports[0]["is_read_only"] as? Bool == true)
            #expect(exports[0]["can_multi_conn"] as? Bool == true)
            #expect(exports[0]["can_trim"] as? Bool == false)
            #expect(exports[2]["is_read_only"] as? Bool == false)
            #expect(exports[2]["can_multi_conn"] as? Bool == false)
            #expect(exports.allSatisfy { $0["block_size_minimum"] as? Int == 1 })
            #expect(exports.allSatisfy { $0["block_size_preferred"] as? Int == 4096 })
            #expect(exports.allSatisfy { $0["block_size_maximum"] as? Int == 32 << 20 })
            #expect(exports.allSatisfy { ($0["contexts"] as? [String]) == ["base:allocation"] })

            let text = try await runTool("nbdinfo", ["--list", server.uri()])
            #expect(text.stdoutText.contains("export=\"trusty-i386\""))
        }
    }

    @Test func nbdcopyOfEachExportMatchesTheImage() async throws {
        try await withServer { server in
            let out = try TemporaryDirectory("nbd-copy")
            defer { out.remove() }
            for (name, file) in [("trusty-amd64", "amd64.img"), ("trusty-i386", "i386.img"), ("", "amd64.img")] {
                let target = out.file("copy-\(file)")
                let result = try await runTool("nbdcopy", [server.uri(name), target])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(try await sha256(file: target) == sha256(file: server.directory.file(file)))
            }
            // Four connections with multi-conn, many requests in flight on each.
            let target = out.file("multi.img")
            let result = try await runTool(
                "nbdcopy", ["--connections=4", "--requests=64", server.uri("trusty-i386"), target])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await sha256(file: target) == sha256(file: server.directory.file("i386.img")))
        }
    }

    @Test func qemuImgCompareFindsTheImagesIdentical() async throws {
        try await withServer { server in
            let result = try await runTool(
                "qemu-img",
                ["compare", "-f", "raw", "-F", "raw", server.uri("trusty-amd64"), server.directory.file("amd64.img")])
            #expect(result.status == 0, "\(result.stdoutText) \(result.stderr)")
            #expect(result.stdoutText.contains("Images are identical"))
        }
    }

    @Test func writesAndTrimsOnReadOnlyExportsAreEPERMAndOutOfRangeReadsEINVAL() async throws {
        try await withServer { server in
            let lines = try await server.nbdsh(
                """
                h.set_strict_mode(0)  # let the requests reach the server instead of libnbd refusing them
                h.connect_uri("\(server.uri("trusty-amd64"))")
                """ + pythonErrno("write", "h.pwrite(b'x' * 4096, 0)")
                    + pythonErrno("trim", "h.trim(4096, 0)")
                    + pythonErrno("zero", "h.zero(4096, 0)")
                    + pythonErrno("read-past-end", "h.pread(4096, h.get_size() - 100)")
                    + pythonErrno("read", "h.pread(4096, 0)")
                    + "print('same', h.pread(16, 0) == open('\(server.directory.file("amd64.img"))', 'rb').read(16))\n")
            #expect(
                lines == [
                    "write EPERM", "trim EPERM", "zero EPERM", "read-past-end EINVAL", "read ok", "same True",
                ])
        }
    }

    @Test func structuredRepliesAndBlockStatusReportTheHoles() async throws {
        try await withServer { server in
            let lines = try await server.nbdsh(
                """
                h.add_meta_context("base:allocation")
                h.connect_uri("\(server.uri("trusty-amd64"))")
                print("structured", h.get_structured_replies_negotiated())
                print("context", h.can_meta_context("base:allocation"))
                extents = []
                def collect(context, offset, entries, err):
                    extents.extend(entries)
                    return 0
                h.block_status(h.get_size(), 0, collect)
                print("extents", extents)
                """)
            let mib = 1 << 20
            #expect(
                lines == [
                    "structured True", "context True", "extents [\(mib), 0, \(2 * mib), 3, \(mib), 0]",
                ])
        }
    }

    @Test func simpleRepliesWithManyRequestsInFlight() async throws {
        try await withServer { server in
            let lines = try await server.nbdsh(
                """
                h.set_request_structured_replies(False)  # what the kernel's nbd-client negotiates
                h.connect_uri("\(server.uri("trusty-amd64"))")
                print("structured", h.get_structured_replies_negotiated())
                image = open("\(server.directory.file("amd64.img"))", "rb").read()
                buffers = []
                for i in range(64):
                    buf = nbd.Buffer(65536)
                    offset = (i * 65536 * 7) % (len(image) - 65536)
                    h.aio_pread(buf, offset)
                    buffers.append((buf, offset))
                print("in flight", h.aio_in_flight())
                for round in range(10000):
                    if h.aio_in_flight() == 0:
                        break
                    h.poll(-1)
                print("all match", all(buf.to_bytearray() == image[offset:offset + 65536] for buf, offset in buffers))
                """)
            #expect(lines == ["structured False", "in flight 64", "all match True"])
        }
    }

    @Test func copyOnWriteWritesStayWithTheirConnection() async throws {
        try await withServer { server in
            let uri = server.uri("lab")
            let lines = try await server.nbdsh(
                """
                h.connect_uri("\(uri)")
                other = nbd.NBD()
                other.connect_uri("\(uri)")
                original = open("\(server.directory.file("lab.img"))", "rb").read(8192)
                h.pwrite(b"\\xab" * 5000, 1000)
                print("writer", h.pread(8192, 0) == original[:1000] + b"\\xab" * 5000 + original[6000:])
                print("other", other.pread(8192, 0) == original)
                print("file", open("\(server.directory.file("lab.img"))", "rb").read(8192) == original)
                """ + pythonErrno("beyond-cow-max", "h.pwrite(b'y' * (2 << 20), 0)")
                    + """
                    third = nbd.NBD()
                    third.connect_uri("\(uri)")
                    print("fresh", third.pread(8192, 0) == original)

                    """)
            #expect(lines == ["writer True", "other True", "file True", "beyond-cow-max ENOSPC", "fresh True"])
        }
    }

    @Test func legacyPortsServeTheirExportForAnyNameNewstyleAndOldstyle() async throws {
        try await withServer({ directory in
            [
                NBDExportDefinition(name: "trusty-amd64", path: directory.file("amd64.img"), legacyPort: 0),
                NBDExportDefinition(
                    name: "ancient", path: directory.file("ancient.img"), legacyPort: 0, legacyStyle: .oldstyle),
            ]
        }) { server in
            let newstylePort = try #require(server.server.legacyPort(of: "trusty-amd64"))
            let oldstylePort = try #require(server.server.legacyPort(of: "ancient"))
            for name in ["", "whatever", "trusty-amd64"] {
                let result = try await runTool("nbdinfo", ["--json", server.uri(name, port: newstylePort)])
                #expect(result.status == 0, "\(result.stderr)")
                let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
                #expect(json["protocol"] as? String == "newstyle-fixed")
                let export = try #require((json["exports"] as? [[String: Any]])?.first)
                #expect(export["export-size"] as? Int == NBDServerHarness.imageSize)
            }
            let info = try await runTool("nbdinfo", [server.uri(port: oldstylePort)])
            #expect(info.status == 0, "\(info.stderr)")
            #expect(info.stdoutText.contains("protocol: oldstyle"))
            let out = try TemporaryDirectory("nbd-copy")
            defer { out.remove() }
            for port in [newstylePort, oldstylePort] {
                let result = try await runTool("nbdcopy", [server.uri(port: port), out.file("\(port).img")])
                #expect(result.status == 0, "\(result.stderr)")
            }
            #expect(
                try await sha256(file: out.file("\(newstylePort).img"))
                    == sha256(file: server.directory.file("amd64.img")))
            #expect(
                try await sha256(file: out.file("\(oldstylePort).img"))
                    == sha256(file: server.directory.file("ancient.img")))
        }
    }

    @Test func renameReplaceKeepsOpenConnectionsOnTheOldImage() async throws {
        try await withServer { server in
            let path = server.directory.file("amd64.img")
            let replacement = server.directory.file("amd64.img.new")
            try NBDServerHarness.makeImage(at: replacement, seed: 42, size: 2 << 20)
            let lines = try await server.nbdsh(
                """
                old = open("\(path)", "rb").read()
                new = open("\(replacement)", "rb").read()
                h.connect_uri("\(server.uri("trusty-amd64"))")
                first = h.pread(1 << 20, 0)
                os.rename("\(replacement)", "\(path)")
                later = nbd.NBD()
                later.connect_uri("\(server.uri("trusty-amd64"))")
                print("open connection", first + h.pread(len(old) - (1 << 20), 1 << 20) == old)
                print("new connection", later.get_size() == len(new), later.pread(len(new), 0) == new)
                """)
            #expect(lines == ["open connection True", "new connection True True"])
        }
    }

    @Test func truncatedImageGivesEIOAndTheServerGoesOn() async throws {
        try await withServer { server in
            let path = server.directory.file("i386.img")
            let lines = try await server.nbdsh(
                """
                h.connect_uri("\(server.uri("trusty-i386"))")
                h.pread(4096, 0)
                os.truncate("\(path)", 1 << 20)
                """ + pythonErrno("past-new-end", "h.pread(4096, 3 << 20)")
                    + pythonErrno("before-new-end", "h.pread(4096, 0)")
                        + """
                        later = nbd.NBD()
                        later.connect_uri("\(server.uri("trusty-i386"))")
                        print("new size", later.get_size())

                        """)
            #expect(lines == ["past-new-end EIO", "before-new-end ok", "new size \(1 << 20)"])
            let other = try await runTool("nbdinfo", ["--size", server.uri("trusty-amd64")])
            #expect(other.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(NBDServerHarness.imageSize)")
        }
    }

    @Test func servesIPv6ListenersAndTheirLegacyPorts() async throws {
        let harness = try await NBDServerHarness(
            { [NBDExportDefinition(name: "disk", path: $0.file("disk.img"), legacyPort: 0)] },
            hosts: ["::1", "127.0.0.1"])
        defer { harness.directory.remove() }
        let ports = harness.server.listeningAddresses.compactMap(\.port)
        let legacy = try #require(harness.server.legacyPort(of: "disk"))
        for uri in ["nbd://[::1]:\(ports[0])/disk", "nbd://127.0.0.1:\(ports[1])/disk", "nbd://[::1]:\(legacy)/"] {
            let result = try await runTool("nbdinfo", ["--size", uri])
            #expect(
                result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(NBDServerHarness.imageSize)",
                "\(uri): \(result.stderr)")
        }
        await harness.server.shutdown()
    }

    @Test func inetdModeServesOneExportOnStandardIO() async throws {
        try await withServer { server in
            let thinboot = try thinbootExecutable()
            let image = server.directory.file("amd64.img")
            let config = try server.directory.write(
                "thinboot.toml", "[nbd]\n[[nbd.export]]\nname = \"amd64\"\nfile = \"amd64.img\"\n")
            let lines = try await server.nbdsh(
                """
                h.connect_command(["\(thinboot)", "nbd", "inetd", "--log-level", "error", "\(image)"])
                print("size", h.get_size())
                print("same", hashlib.sha256(h.pread(h.get_size(), 0)).hexdigest())
                """ + pythonErrno("write", "h.set_strict_mode(0); h.pwrite(b'x', 0)")
                    + """
                    named = nbd.NBD()
                    named.connect_command(["\(thinboot)", "nbd", "inetd", "--config", "\(config)", "--export", "amd64"])
                    print("from config", named.get_size(), named.is_read_only())
                    old = nbd.NBD()
                    old.connect_command(["\(thinboot)", "nbd", "inetd", "--oldstyle", "\(image)"])
                    print("oldstyle", old.get_protocol(), old.get_size())

                    """)
            let digest = try await sha256(file: image)
            #expect(
                lines == [
                    "size \(NBDServerHarness.imageSize)", "same \(digest)", "write EPERM",
                    "from config \(NBDServerHarness.imageSize) True",
                    "oldstyle oldstyle \(NBDServerHarness.imageSize)",
                ])
        }
    }
}
