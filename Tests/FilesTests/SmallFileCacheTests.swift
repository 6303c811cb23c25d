import Foundation
import TestSupport
import Testing

@testable import Files

/// Small files come from memory only while the path still names the file they were read from: a rewrite, a
/// replacement, a removal or a symlink swapped in is seen on the very next request.
@Suite("Small static files from memory")
struct SmallFileCacheTests {
    private static let settle = Duration.milliseconds(200)

    /// What the root answers for `path`: the bytes, and whether they came from memory rather than an open file.
    private func answer(_ root: StaticRoot, _ path: String) throws(ConfinedDirectoryError) -> (
        bytes: [UInt8], fromMemory: Bool
    ) {
        switch try root.content(at: path) {
        case .bytes(let bytes):
            return (Array(bytes.readableBytesView), true)
        case .file(let file):
            var bytes = [UInt8](repeating: 0, count: file.size)
            let count = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, $0.count, 0) }
            return (Array(bytes[0..<max(0, count)]), false)
        }
    }

    private func waitToSettle() {
        Thread.sleep(forTimeInterval: 0.3)
    }

    @Test func aSettledSmallFileComesFromMemoryUntilItChanges() throws {
        let folder = try TemporaryDirectory("small-file-cache")
        defer { folder.remove() }
        let first = patternBytes(count: 300, seed: 1)
        let second = patternBytes(count: 300, seed: 2)
        try folder.write("root/menu.cfg", first)
        try folder.write("secret", "outside")
        let root = try StaticRoot(path: folder.file("root"), cache: SmallFileCache(settle: Self.settle))

        // Just written: read from the file, not kept.
        #expect(try answer(root, "menu.cfg") == (first, false))
        waitToSettle()
        #expect(try answer(root, "menu.cfg") == (first, true))
        #expect(try answer(root, "menu.cfg") == (first, true))

        // Rewritten in place, same size: the new bytes at once.
        try folder.write("root/menu.cfg", second)
        #expect(try answer(root, "menu.cfg").bytes == second)
        waitToSettle()
        #expect(try answer(root, "menu.cfg") == (second, true))

        // Replaced by rename.
        try folder.write("root/next.cfg", first)
        #expect(rename(folder.file("root/next.cfg"), folder.file("root/menu.cfg")) == 0)
        #expect(try answer(root, "menu.cfg").bytes == first)

        // Replaced by a symlink out of the root: refused, never the cached bytes.
        waitToSettle()
        #expect(try answer(root, "menu.cfg") == (first, true))
        #expect(unlink(folder.file("root/menu.cfg")) == 0)
        #expect(symlink(folder.file("secret"), folder.file("root/menu.cfg")) == 0)
        #expect(throws: ConfinedDirectoryError(path: "menu.cfg", kind: .symlinkLeavesDirectory)) {
            try root.content(at: "menu.cfg")
        }

        // Removed: not found.
        #expect(unlink(folder.file("root/menu.cfg")) == 0)
        #expect(throws: ConfinedDirectoryError(path: "menu.cfg", kind: .notFound)) { try root.content(at: "menu.cfg") }
    }

    /// A cached file is read into memory once: every answer shares those bytes (each transfer copies a block only
    /// into its own datagram), so a thousand clients asking for one menu cost one copy of it, not a thousand.
    @Test func everyAnswerSharesTheOneCopyInMemory() throws {
        let folder = try TemporaryDirectory("small-file-cache")
        defer { folder.remove() }
        let menu = patternBytes(count: 5000, seed: 4)
        try folder.write("root/menu.cfg", menu)
        let root = try StaticRoot(path: folder.file("root"), cache: SmallFileCache(settle: Self.settle))
        waitToSettle()
        var addresses: Set<UInt> = []
        for _ in 0..<3 {
            guard case .bytes(let buffer) = try root.content(at: "menu.cfg") else {
                Issue.record("menu.cfg did not come from memory")
                return
            }
            #expect(Array(buffer.readableBytesView) == menu)
            buffer.withUnsafeReadableBytes { addresses.insert(UInt(bitPattern: $0.baseAddress)) }
        }
        #expect(addresses.count == 1)
    }

    @Test func filesOverTheSizeLimitAreAlwaysReadFromDisk() throws {
        let folder = try TemporaryDirectory("small-file-cache")
        defer { folder.remove() }
        let big = patternBytes(count: SmallFileCache.maximumFileSize + 1, seed: 3)
        try folder.write("root/kernel", big)
        let root = try StaticRoot(path: folder.file("root"), cache: SmallFileCache(settle: Self.settle))
        waitToSettle()
        #expect(try answer(root, "kernel") == (big, false))
        #expect(try answer(root, "kernel") == (big, false))
    }

    /// However many small files are asked for (a `boot -> .` symlink alone gives one file dozens of names), the
    /// cache keeps at most its entry limit.
    @Test func theCacheHoldsAtMostItsEntryLimit() throws {
        let folder = try TemporaryDirectory("small-file-cache")
        defer { folder.remove() }
        let count = SmallFileCache.maximumEntries + 10
        for index in 0..<count { try folder.write("root/f\(index)", "tiny") }
        let cache = SmallFileCache(settle: Self.settle)
        let root = try StaticRoot(path: folder.file("root"), cache: cache)
        waitToSettle()
        for index in 0..<count {
            let answer = try answer(root, "f\(index)")
            guard answer == (Array("tiny".utf8), true) else {
                Issue.record("f\(index): \(answer)")
                return
            }
        }
        #expect(cache.entryCount == SmallFileCache.maximumEntries)
    }
}
