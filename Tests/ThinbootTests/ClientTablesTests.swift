import Foundation
import NIOCore
import Testing

@testable import Thinboot

/// The structures keyed by client: bounded, and as cheap per insert when full as when empty.
@Suite("Client tables")
struct ClientTablesTests {
    /// A distinct IPv4 address for each `n` below 2^24.
    private static func address(_ n: Int) -> String { "10.\(n >> 16 & 0xFF).\(n >> 8 & 0xFF).\(n & 0xFF)" }

    /// 1 M distinct addresses through the client table (a boot-loader fetch from each, as `remember(arch:)` runs
    /// it): the per-insert cost at 0, 64 Ki and 1 M entries inserted is printed (figures, not assertions); the
    /// table holds exactly its capacity, the newest addresses, and forgets the oldest.
    @Test func millionDistinctAddressesStayBoundedAtAFlatCost() {
        let capacity = 65_536
        let memory = ClientMemory(capacity: capacity)
        let batch = 4096
        var inserted = 0
        var costs: [String] = []
        let clock = ContinuousClock()
        for mark in [0, 64 << 10, 1 << 20] {
            while inserted < mark {
                memory.remember(arch: "x86-bios", for: Self.address(inserted))
                inserted += 1
            }
            let elapsed = clock.measure {
                for n in inserted..<inserted + batch { memory.remember(arch: "x86_64-efi", for: Self.address(n)) }
            }
            inserted += batch
            let (seconds, attoseconds) = elapsed.components
            let nanoseconds = (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(batch)
            costs.append("\(mark): \(Int(nanoseconds)) ns")
        }
        print("client table, per insert of a new address after N inserted: \(costs.joined(separator: ", "))")
        #expect(memory.count == capacity)
        #expect(memory.arch(for: Self.address(inserted - 1)) == "x86_64-efi")
        #expect(memory.arch(for: Self.address(inserted - capacity)) != nil)
        #expect(memory.arch(for: Self.address(inserted - capacity - 1)) == nil)
        #expect(memory.arch(for: Self.address(0)) == nil)
    }

    /// An update moves a client to the new end: it outlives clients that were inserted after it but not since.
    @Test func updatedClientIsKeptOverOlderOnes() throws {
        let memory = ClientMemory(capacity: 3)
        let mac = try #require(MACAddress(parsing: "52:54:00:12:34:56"))
        memory.remember(arch: "x86-bios", for: "10.0.0.1")
        memory.remember(arch: "x86-bios", for: "10.0.0.2")
        memory.remember(arch: "x86-bios", for: "10.0.0.3")
        memory.remember(mac: mac, from: .path, for: "10.0.0.1")
        memory.remember(arch: "arm64-efi", for: "10.0.0.4")
        #expect(memory.count == 3)
        #expect(memory.arch(for: "10.0.0.2") == nil)
        #expect(memory.mac(for: "10.0.0.1") == mac)
        #expect(memory.arch(for: "10.0.0.1") == "x86-bios")
        #expect(memory.arch(for: "10.0.0.4") == "arm64-efi")
    }

    /// Expired clients are forgotten, and a new update of one starts afresh.
    @Test func expiredClientsAreForgotten() throws {
        let memory = ClientMemory(lifetime: .milliseconds(1), capacity: 8)
        memory.remember(arch: "x86-bios", for: "10.0.0.1")
        usleep(5_000)
        #expect(memory.arch(for: "10.0.0.1") == nil)
        let mac = try #require(MACAddress(parsing: "52:54:00:12:34:56"))
        memory.remember(mac: mac, from: .path, for: "10.0.0.1")
        #expect(memory.arch(for: "10.0.0.1") == nil)
    }

    /// Generated answers are bounded in bytes as well as entries: big answers from many clients push out the
    /// oldest, never grow past the bound, and a fresh one is always there to serve the transfer after its probe.
    @Test func generatedCacheIsBoundedInBytesAndEntries() {
        let cache = GeneratedContentCache(capacity: 100, byteCapacity: 1 << 20)
        let answer = [UInt8](repeating: 7, count: 300 << 10)
        for n in 0..<50 {
            cache.store(answer, ip: Self.address(n), path: "pxelinux.cfg/default")
            #expect(cache.usage.bytes <= 1 << 20)
            #expect(cache.bytes(ip: Self.address(n), path: "pxelinux.cfg/default") == answer)
        }
        #expect(cache.usage.entries == 3)
        #expect(cache.bytes(ip: Self.address(0), path: "pxelinux.cfg/default") == nil)
        for n in 0..<1000 { cache.store([1, 2, 3], ip: Self.address(n), path: "small") }
        #expect(cache.usage.entries == 100)
        #expect(cache.usage.bytes <= 1 << 20)
        // Expired answers go at the next lookup, with their bytes.
        let brief = GeneratedContentCache(lifetime: .milliseconds(1), capacity: 100, byteCapacity: 1 << 20)
        brief.store(answer, ip: "10.8.8.8", path: "a")
        usleep(5_000)
        #expect(brief.bytes(ip: "10.8.8.9", path: "b") == nil)
        #expect(brief.usage.entries == 0 && brief.usage.bytes == 0)
        // Larger than the whole cache: served, never kept.
        cache.store([UInt8](repeating: 0, count: 2 << 20), ip: "10.9.9.9", path: "huge")
        #expect(cache.bytes(ip: "10.9.9.9", path: "huge") == nil)
    }

    /// A cached answer keeps the Content-Type its script set, so HEAD after GET (or a second GET) sends the same.
    @Test func generatedCacheKeepsTheContentType() {
        let cache = GeneratedContentCache()
        let request = BootRequest(
            path: "boot.json", ip: "10.0.0.1", port: 80, fields: .http(method: "GET", headers: [:], query: [:]))
        cache.store(.bytes([1]), contentType: "application/json", for: request)
        #expect(cache.content(for: request)?.contentType == "application/json")
        cache.store(.bytes([2]), for: request)
        #expect(cache.content(for: request)?.contentType == nil)
    }
}

extension GeneratedContentCache {
    /// A TFTP answer of `bytes` for `path` from `ip`, as the router stores it.
    fileprivate func store(_ bytes: [UInt8], ip: String, path: String) {
        store(.bytes(bytes), for: BootRequest(path: path, ip: ip, port: 2070))
    }

    /// The bytes kept for `path` from `ip`, if any.
    fileprivate func bytes(ip: String, path: String) -> [UInt8]? {
        guard case .bytes(let buffer) = content(for: BootRequest(path: path, ip: ip, port: 2070))?.content else {
            return nil
        }
        return Array(buffer.readableBytesView)
    }
}
