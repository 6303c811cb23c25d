import Foundation

/// The dnsmasq 2.90 proxy captures in `Fixtures/` (made by `Fixtures/capture-dnsmasq-proxy.sh`): each
/// request Thinboot's tests replay and dnsmasq's answer to it, as hex.
enum Fixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(name).hex")
        let text = try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { throw FixtureError(name: name) }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

struct FixtureError: Error {
    let name: String
}
