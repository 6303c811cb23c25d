import Files
import Foundation
import Images
import TestSupport
import Testing

/// Damaged images fail with an error, never a crash: truncated, random bytes, a super block claiming sizes the
/// file does not have, a destroyed inode table.
@Suite("Corrupt images", .serialized)
struct CorruptImageTests {
    /// Opens `path` and reads the kernel from it; the error that stopped it.
    static func failure(_ path: String) -> ImageError.Kind? {
        do {
            let image = try FileSystemImage(file: try OpenedFile(path: path))
            _ = try image.read(TestImageTree.kernel, limit: 64 << 20)
            _ = try image.list("boot")
            return nil
        } catch let error as ImageError {
            return error.kind
        } catch {
            return .unreadableFile("\(error)")
        }
    }

    static func isCorrupt(_ kind: ImageError.Kind?) -> Bool {
        if case .corrupt = kind { return true }
        return false
    }

    /// Overwrites `count` bytes at `offset` with noise.
    static func scribble(_ path: String, at offset: UInt64, count: Int) throws {
        let handle = FileHandle(forUpdatingAtPath: path)!
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(patternBytes(count: count, seed: 99)))
        try handle.close()
    }

    static func patch(_ path: String, at offset: UInt64, _ bytes: [UInt8]) throws {
        let handle = FileHandle(forUpdatingAtPath: path)!
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    static func le64(_ path: String, at offset: UInt64) throws -> UInt64 {
        let handle = FileHandle(forReadingAtPath: path)!
        try handle.seek(toOffset: offset)
        let bytes = [UInt8](try handle.read(upToCount: 8)!)
        try handle.close()
        return (0..<8).reduce(0) { $0 | UInt64(bytes[$1]) << (8 * $1) }
    }

    @Test(arguments: ["xz", "ext4"])
    func damagedImagesFailCleanly(kind: String) async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-corrupt")
        defer { folder.remove() }
        let good = try await ImageReadingTests.image(kind, of: tree, in: folder)
        #expect(Self.failure(good) == nil)
        let size = (try FileManager.default.attributesOfItem(atPath: good)[.size] as! NSNumber).intValue

        let truncated = folder.file("truncated.img")
        try FileManager.default.copyItem(atPath: good, toPath: truncated)
        #expect(truncate(truncated, off_t(size / 2)) == 0)
        #expect(Self.isCorrupt(Self.failure(truncated)), "\(String(describing: Self.failure(truncated)))")

        let random = try folder.write("random.img", patternBytes(count: 1 << 20, seed: 7))
        #expect(Self.failure(random) == .unknownFormat)

        let huge = folder.file("huge.img")
        try FileManager.default.copyItem(atPath: good, toPath: huge)
        if kind == "ext4" {
            // s_blocks_count_lo: four billion blocks.
            try Self.patch(huge, at: 1024 + 4, [0xFF, 0xFF, 0xFF, 0xFF])
        } else {
            // bytes_used: an exabyte.
            try Self.patch(huge, at: 40, [0, 0, 0, 0, 0, 0, 0, 0x10])
        }
        #expect(Self.isCorrupt(Self.failure(huge)), "\(String(describing: Self.failure(huge)))")

        let inodes = folder.file("inodes.img")
        try FileManager.default.copyItem(atPath: good, toPath: inodes)
        if kind == "ext4" {
            let dump = try await runTool("dumpe2fs", [inodes])
            let text = dump.stdoutText
            let blockSize = UInt64(
                text.split(separator: "\n").first { $0.hasPrefix("Block size:") }!.split(separator: " ").last!)!
            let table = text.split(separator: "\n").first { $0.contains("Inode table at") }!
            let start = UInt64(table.split(separator: " ")[3].split(separator: "-")[0])!
            try Self.scribble(inodes, at: start * blockSize, count: 16 << 10)
        } else {
            let start = try Self.le64(inodes, at: 64)  // inode_table_start
            try Self.scribble(inodes, at: start, count: 8 << 10)
        }
        #expect(Self.isCorrupt(Self.failure(inodes)), "\(String(describing: Self.failure(inodes)))")
    }
}
