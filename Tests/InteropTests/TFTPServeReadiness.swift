import TestSupport
import Testing

/// Fetches `ready.txt` from a just-started `thinboot serve` on 127.0.0.1:`port` with the bundled client, which
/// resends (30 times, a second apart) until the server answers.
func waitUntilTFTPServes(port: Int) async throws {
    let result = try await runTool(
        try thinbootExecutable(),
        [
            "tftp", "get", "--port", "\(port)", "--timeout", "1", "--retries", "30", "-o", "-", "127.0.0.1",
            "ready.txt",
        ],
        timeout: .seconds(60))
    #expect(result.stdoutText == "ready\n", "\(result.stderr)")
}
