import Foundation
import TestSupport
import Testing

/// Every config under `examples/` passes `thinboot check` as a user would run it: the config parses, every script
/// compiles, and check lists what the config declares. A config is a TOML file with a server section; the
/// inventories beside them are data.
@Suite struct ExampleConfigTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").path

    static func configs() throws -> [String] {
        let files = FileManager.default.enumerator(atPath: examples)?.compactMap { $0 as? String } ?? []
        return try files.filter { $0.hasSuffix(".toml") }.sorted().filter { file in
            let text = try String(contentsOfFile: examples + "/" + file, encoding: .utf8)
            return text.split(separator: "\n").contains { ["[tftp]", "[http]", "[nbd]", "[dhcp]"].contains($0) }
        }
    }

    @Test func theExamplesHaveConfigs() throws {
        // The ones the README and the examples' own READMEs walk through, at least.
        let configs = try Self.configs()
        for expected in [
            "quickstart/thinboot.toml", "ipxe/thinboot.toml", "ltsp-split/thinboot.toml", "ltsp-split/dhcp.toml",
        ] {
            #expect(configs.contains(expected), "\(configs)")
        }
    }

    @Test(arguments: try configs())
    func passesCheck(config: String) async throws {
        let result = try await runTool(try thinbootExecutable(), ["check", "--config", Self.examples + "/" + config])
        #expect(result.status == 0, "\(config): \(result.stderr)\(result.stdoutText)")
    }
}
