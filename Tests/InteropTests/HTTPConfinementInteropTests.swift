import Foundation
import TestSupport
import Testing

/// The traversal corpus over HTTP, raw and percent-encoded, against the symlink fixtures of the TFTP confinement
/// tests (``ConfinementFixture``): what stays inside the root is served, escapes get 403, missing names 404. Sent
/// byte for byte by Python's http.client, which (unlike curl) never normalises a path.
@Suite("HTTP confinement, real clients", .serialized)
struct HTTPConfinementInteropTests {
    static let corpus: [(path: String, status: Int)] = [
        // Served: the same file under every spelling that stays inside.
        ("/served.bin", 200), ("//served.bin", 200), ("/./served.bin", 200), ("/inlink", 200), ("/sub/inner.bin", 200),
        ("/sub/./inner.bin", 200), ("/sub//inner.bin", 200), ("/sub\\inner.bin", 200), ("/%73erved.bin", 200),
        ("/sub%2finner.bin", 200), ("/sub%5Cinner.bin", 200), ("/served.bin?path=../../etc/passwd", 200),
        ("/served.bin#../../etc", 200),
        // Missing: absolute names are read inside the root.
        ("/missing.bin", 404), ("/etc/hostname", 404), ("/%2fetc%2fhostname", 404), ("//etc/hostname", 404),
        ("/sub/missing", 404),
        // Escapes and what is not a readable regular file.
        ("/../served.bin", 403), ("/sub/../../served.bin", 403), ("/%2e%2e/served.bin", 403),
        ("/%2E%2E%2Fserved.bin", 403), ("/sub/%2e%2e/%2e%2e/served.bin", 403), ("/sub%2f..%2f..%2fserved.bin", 403),
        ("/..%5cserved.bin", 403), ("/sub\\..\\..\\served.bin", 403), ("/sub%5c..%5c..%5cserved.bin", 403),
        ("/..", 403), ("/sub/..", 403), ("/%2e%2e", 403), ("/.%2e/served.bin", 403),
        ("/sub", 403), ("/outlink", 403), ("/uplink", 403), ("/sub/uplink", 403), ("/fifo", 403),
        ("/served.bin%00.txt", 403), ("/%00", 403), ("/served%0a.bin", 403), ("/served%7f.bin", 403),
        ("/%c0%ae%c0%ae/served.bin", 403), ("/%c0%afetc%c0%afhostname", 403), ("/%e0%80%ae%e0%80%ae/served.bin", 403),
        ("/%ff%fe", 403),
        // A broken escape is a bad request.
        ("/served.bin%zz", 400),
    ]

    @Test func traversalCorpus() async throws {
        #expect(Self.corpus.count >= 30)
        try await HTTPServeHarness.with(populate: ConfinementFixture.populate) { server in
            let paths = Self.corpus.map(\.path)
            let script = """
                import http.client, hashlib, json, sys
                out = []
                for path in json.loads(sys.stdin.read()):
                    c = http.client.HTTPConnection("127.0.0.1", \(server.httpPort), timeout=10)
                    c.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
                    c.putheader("Host", "x")
                    c.endheaders()
                    r = c.getresponse()
                    body = r.read()
                    out.append([r.status, hashlib.sha256(body).hexdigest()])
                    c.close()
                print(json.dumps(out))
                """
            let input = try JSONSerialization.data(withJSONObject: paths)
            let result = try await runTool("python3", ["-c", script], stdin: input)
            try #require(result.status == 0, "\(result.stderr)")
            let answers = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[Any]])
            let served = try await sha256(Data(ConfinementFixture.served))
            for (index, entry) in Self.corpus.enumerated() {
                let status = answers[index][0] as? Int
                #expect(status == entry.status, "\(entry.path)")
                if entry.status == 200 { #expect(answers[index][1] as? String == served, "\(entry.path)") }
                if entry.status != 200 { #expect(answers[index][1] as? String != served, "\(entry.path)") }
            }
        }
    }
}
