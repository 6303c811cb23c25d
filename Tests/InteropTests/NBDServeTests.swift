import Foundation
import TestSupport
import Testing

/// `thinboot serve --only nbd` as the admin runs it: exports reloaded on SIGHUP without dropping
/// connections, and `ESHUTDOWN` for requests once SIGTERM starts the shutdown.
@Suite(.serialized) struct NBDServeTests {
    func config(port: Int, exports: [(name: String, file: String)]) -> String {
        var text = "[nbd]\nlisten = [\"127.0.0.1:\(port)\"]\n"
        for export in exports { text += "\n[[nbd.export]]\nname = \"\(export.name)\"\nfile = \"\(export.file)\"\n" }
        return text
    }

    @Test func sighupReloadsExportsAndSigtermAnswersESHUTDOWN() async throws {
        let directory = try TemporaryDirectory("nbd-serve")
        defer { directory.remove() }
        try NBDServerHarness.makeImage(at: directory.file("a.img"), seed: 1)
        try NBDServerHarness.makeImage(at: directory.file("b.img"), seed: 2, size: 1 << 20)
        let port = freeLoopbackPort(udp: false)
        let configFile = try directory.write("thinboot.toml", config(port: port, exports: [("a", "a.img")]))
        let reloaded = config(port: port, exports: [("b", "b.img")])
        let server = try BackgroundProcess(
            try thinbootExecutable(), ["serve", "--config", configFile, "--only", "nbd"])
        defer { server.stop() }
        let pid = server.processIdentifier
        let result = try await runTool(
            "/usr/bin/nbdsh",
            [
                "-c",
                """
                import errno, signal, time
                def connect(name, attempts=200):
                    # Bounded retries: the server may still be starting, or still applying the reload.
                    for attempt in range(attempts):
                        handle = nbd.NBD()
                        try:
                            handle.connect_uri("nbd://127.0.0.1:\(port)/" + name)
                            return handle
                        except nbd.Error:
                            time.sleep(0.05)
                    raise RuntimeError("cannot connect to " + name)
                a = open("\(directory.file("a.img"))", "rb").read()
                h = connect("a")
                print("a before reload", h.pread(4096, 0) == a[:4096])
                open("\(configFile)", "w").write('''\(reloaded)''')
                os.kill(\(pid), signal.SIGHUP)
                b = connect("b")
                print("b after reload", b.get_size())
                print("a connection kept", h.pread(len(a), 0) == a)
                try:
                    nbd.NBD().connect_uri("nbd://127.0.0.1:\(port)/a")
                    print("a still offered")
                except nbd.Error:
                    print("a no longer offered")
                os.kill(\(pid), signal.SIGTERM)
                outcome = "no error"
                for attempt in range(400):
                    try:
                        b.pread(512, 0)
                    except nbd.Error as e:
                        outcome = errno.errorcode.get(e.errnum, str(e.errnum))
                        break
                    time.sleep(0.005)
                print("after SIGTERM", outcome)
                """,
            ], timeout: .seconds(60), environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdoutText.split(separator: "\n") == [
                "a before reload True", "b after reload \(1 << 20)", "a connection kept True", "a no longer offered",
                "after SIGTERM ESHUTDOWN",
            ])
        let log = server.stop()
        #expect(log.contains("nbd exports reloaded"))
        #expect(log.contains("nbd.export=a"))
    }
}
