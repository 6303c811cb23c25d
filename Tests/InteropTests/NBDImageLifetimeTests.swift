import Foundation
import NBD
import TestSupport
import Testing

/// An image replaced by rename (the documented way to update one) while a client still has many READ replies
/// queued: the client that half-closes after its last request gets every reply, with the old image's bytes.
@Suite(.serialized) struct NBDImageLifetimeTests {
    @Test func repliesQueuedBeforeARenameAndAHalfCloseCarryTheOldBytes() async throws {
        let harness = try await NBDServerHarness { [NBDExportDefinition(name: "disk", path: $0.file("disk.img"))] }
        let replacement = harness.directory.file("new.img")
        let result: ToolResult
        do {
            try NBDServerHarness.makeImage(at: replacement, seed: 99)
            result = try await runTool(
                "python3",
                [
                    "-c", NBDBadInputTests.prelude + Self.script, "\(harness.port)",
                    harness.directory.file("disk.img"), replacement,
                ], timeout: .seconds(120))
        } catch {
            await harness.stop()
            throw error
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.split(separator: "\n") == ["replies 256 ok 256"])
        await harness.stop()
    }

    /// 256 MiB of READ replies, far more than the socket buffers and the write-buffer water mark hold, so most
    /// are still queued in the server when it sees the half-close.
    static let script = """
        path, replacement = sys.argv[2], sys.argv[3]
        old = open(path, "rb").read()
        count, length = 256, 1 << 20
        s = connect(); transmission(s)
        for cookie in range(count):
            request(s, 0, cookie, (cookie % 4) * length, length)
        os = __import__("os")
        os.rename(replacement, path)
        # A second client maps the new file, so the store lets go of the old mapping.
        other = connect(); transmission(other)
        s.shutdown(socket.SHUT_WR)
        replies = ok = 0
        for _ in range(count):
            header = recvall(s, 16)
            if len(header) < 16:
                break
            magic, error, cookie = struct.unpack(">IIQ", header)
            data = recvall(s, length)
            replies += 1
            offset = (cookie % 4) * length
            if magic == 0x67446698 and error == 0 and data == old[offset:offset + length]:
                ok += 1
        print("replies", replies, "ok", ok)
        """
}
