import Files
import Foundation
import Images
import TestSupport
import Testing

/// What the image-reader fuzz target found, each as the image an admin (or an attacker) could publish and what
/// reading it must answer.
@Suite("Image reader fuzz findings", .serialized)
struct FuzzFindingTests {
    /// A disk whose protective MBR leads to a GPT of one Linux entry from sector `first` to sector `last`.
    static func gptDisk(first: UInt64, last: UInt64) -> [UInt8] {
        var disk = [UInt8](repeating: 0, count: 8 << 10)
        func put(_ value: UInt64, bytes: Int, at offset: Int) {
            for index in 0..<bytes { disk[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        disk[446 + 4] = 0xEE
        disk[510] = 0x55
        disk[511] = 0xAA
        disk.replaceSubrange(512..<520, with: Array("EFI PART".utf8))
        put(2, bytes: 8, at: 512 + 72)  // the entries' first sector
        put(1, bytes: 4, at: 512 + 80)  // one entry
        put(128, bytes: 4, at: 512 + 84)  // of 128 bytes
        // Linux file system data, 0FC63DAF-8483-4772-8E79-3D69D8477DE4 as stored.
        let linux: [UInt8] = [
            0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4,
        ]
        disk.replaceSubrange(1024..<1040, with: linux)
        put(first, bytes: 8, at: 1024 + 32)
        put(last, bytes: 8, at: 1024 + 40)
        return disk
    }

    /// An entry from sector 0 to the last sector there could be has more bytes than 64 bits count: it lies in no
    /// file, so the disk has no partition to read (the length overflowed and trapped, the whole server down; then it
    /// wrapped, and such an entry could land on bytes of the disk it does not name).
    @Test(arguments: [UInt64.max, UInt64.max / 512, 1 << 55])
    func aGPTEntryPastEveryFileIsNoPartition(last: UInt64) {
        #expect(throws: ImageError(image: "(memory)", path: "", kind: .unknownFormat)) {
            try FileSystemImage(bytes: Self.gptDisk(first: 0, last: last))
        }
    }

    /// libext2fs keeps the last inodes read in a cache of four slots, and reads the next inode into the oldest
    /// slot before checking its checksum; on a mismatch that slot keeps the old inode's number with the corrupt
    /// inode's bytes. With the root in that slot, one bad file made every later path read the bad inode as the
    /// root ("the root is not a folder"). Every other file must still read after a corrupt one failed.
    @Test func aCorruptExtInodeFailsOnlyItsOwnPath() async throws {
        let folder = try TemporaryDirectory("image-icache")
        defer { folder.remove() }
        let names = ["a", "b", "c", "x"]
        for name in names { try folder.write("tree/\(name)", "file \(name)\n") }
        let image = folder.file("ext4.img")
        let made = try await runTool(
            "mkfs.ext4", ["-q", "-F", "-O", "metadata_csum", "-d", folder.file("tree"), image, "4M"])
        #expect(made.status == 0, "\(made.stderr)")
        try await Self.damageInode(of: "/x", in: image, blockSize: try await Self.blockSize(of: image))

        let opened = try FileSystemImage(file: try OpenedFile(path: image))
        for name in ["a", "b", "c"] { #expect(try opened.read(name, limit: 64) == Array("file \(name)\n".utf8)) }
        #expect {
            try opened.read("x", limit: 64)
        } throws: { error in
            guard case .corrupt = (error as? ImageError)?.kind else { return false }
            return true
        }
        for name in ["a", "b", "c"] { #expect(try opened.read(name, limit: 64) == Array("file \(name)\n".utf8)) }
        #expect(try opened.list("") == ["a", "b", "c", "lost+found", "x"])
    }

    /// An ext folder entry whose name length is 0 (its inode still set) was listed as "": a name no path reaches.
    /// Listings hold only names a lookup finds.
    @Test func aFolderEntryWithAnEmptyNameIsNotListed() async throws {
        let folder = try TemporaryDirectory("image-empty-name")
        defer { folder.remove() }
        for name in ["a", "x"] { try folder.write("tree/\(name)", "file \(name)\n") }
        let image = folder.file("ext4.img")
        // No metadata_csum: the folder block must stay valid once its entry is changed.
        let made = try await runTool(
            "mkfs.ext4", ["-q", "-F", "-O", "^metadata_csum,^dir_index", "-d", folder.file("tree"), image, "4M"])
        #expect(made.status == 0, "\(made.stderr)")
        let blockSize = try await Self.blockSize(of: image)
        let blocks = try await runTool("debugfs", ["-R", "blocks /", image])
        let block = try #require(blocks.stdoutText.split(separator: " ").first.flatMap { UInt64($0) })
        let handle = try #require(FileHandle(forUpdatingAtPath: image))
        try handle.seek(toOffset: block * blockSize)
        let entries = [UInt8](try #require(try handle.read(upToCount: Int(blockSize))))
        // Entries: inode (4 bytes), record length (2), name length (1), type (1), the name.
        var offset = 0
        var patched = false
        while offset + 8 < entries.count, !patched {
            let length = Int(entries[offset + 4]) | Int(entries[offset + 5]) << 8
            if entries[offset + 6] == 1, entries[offset + 8] == UInt8(ascii: "x") {
                try handle.seek(toOffset: block * blockSize + UInt64(offset) + 6)
                try handle.write(contentsOf: Data([0]))
                patched = true
            }
            guard length >= 8 else { break }
            offset += length
        }
        try handle.close()
        #expect(patched, "no entry x in the root folder's block \(block)")

        let opened = try FileSystemImage(file: try OpenedFile(path: image))
        #expect(try opened.list("") == ["a", "lost+found"])
        #expect(try opened.read("a", limit: 64) == Array("file a\n".utf8))
    }

    /// libsquashfs allocates what an inode claims when it reads it: a symlink's target size (32 bits) and a file's
    /// block list (4 bytes a block of its 64-bit size). The fuzz target died of a 3.98 GB malloc, and under a 64 MiB
    /// malloc limit it found such a symlink within minutes. Each claim is refused before the library reads the inode, with a reason that names it, and the
    /// process never reserves the gigabytes (its peak virtual size stays within 1 GiB of what it was). The CI fuzz
    /// smoke found the third claim: the name sizes in an extended folder inode's index (a 4 GiB realloc).
    @Test(arguments: ["symlink", "file", "folder index"])
    func aSquashfsInodeClaimingGigabytesIsRefusedUnallocated(claim: String) async throws {
        let folder = try TemporaryDirectory("image-huge-inode")
        defer { folder.remove() }
        let target = "target-0123456789abcdef"
        try folder.write("tree/\(target)", "the target\n")
        try FileManager.default.createSymbolicLink(atPath: folder.file("tree/link"), withDestinationPath: target)
        // A hard link makes mksquashfs write an extended file inode, the one with a 64-bit size.
        let data = try folder.write("tree/data", patternBytes(count: 12345))
        try FileManager.default.linkItem(atPath: data, toPath: folder.file("tree/data2"))
        // A listing past one 8 KiB metadata block gives the folder an extended inode with an index.
        for number in 0..<400 { try folder.write("tree/many/entry-with-a-longish-name-\(number)", "\(number)\n") }
        let image = folder.file("squashfs.img")
        // -noI: the inode table stays uncompressed, so the inodes can be patched in place.
        let made = try await runTool(
            "mksquashfs", [folder.file("tree"), image, "-noI", "-all-root", "-noappend", "-no-progress"])
        #expect(made.status == 0, "\(made.stderr)")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        func value(at offset: Int, bytes count: Int) -> UInt64 {
            (0..<count).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
        }
        func put(_ value: UInt64, bytes count: Int, at offset: Int) {
            for index in 0..<count { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        let path: String
        if claim == "symlink" {
            // The symlink inode: ..., target_size (4 bytes), then the target itself.
            let at = try #require(
                Self.offset(
                    of: Array(target.utf8), in: bytes,
                    where: { value(at: $0 - 4, bytes: 4) == UInt64(target.utf8.count) }))
            put(0xF000_0000, bytes: 4, at: at - 4)
            path = "link"
        } else if claim == "file" {
            // The extended file inode: type 9 (2 bytes), 14 more bytes of header, blocks_start (8), file_size (8).
            let at = try #require(
                (0..<(bytes.count - 48)).first { value(at: $0, bytes: 2) == 9 && value(at: $0 + 24, bytes: 8) == 12345 }
            )
            put(1 << 47, bytes: 8, at: at + 24)  // 128 TiB: 2^30 blocks of 128 KiB, a 4 GiB list
            path = "data"
        } else {
            // The extended folder inode: type 8, 38 more bytes of header and folder, then the first index entry:
            // start_block (4), index (4), size (4: the name's length - 1), the name.
            let name = Array("entry-with".utf8)
            let at = try #require(
                (0..<(bytes.count - 64)).first {
                    value(at: $0, bytes: 2) == 8 && value(at: $0 + 32, bytes: 2) >= 1
                        && Array(bytes[($0 + 52)..<($0 + 52 + name.count)]) == name
                })
            path = "many/entry-with-a-longish-name-7"
            // Unpatched, the index passes the check and the folder reads.
            #expect(try FileSystemImage(file: try OpenedFile(path: image)).read(path, limit: 64) == Array("7\n".utf8))
            put(0xFFFF_FFF0, bytes: 4, at: at + 48)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: image))

        let opened = try FileSystemImage(file: try OpenedFile(path: image))
        let before = try Self.peakVirtualBytes()
        #expect {
            try opened.read(path, limit: 1 << 20)
        } throws: { error in
            guard case .corrupt(let reason) = (error as? ImageError)?.kind else { return false }
            return reason.contains("squashfs \(claim) claims")
        }
        #expect(try Self.peakVirtualBytes() - before < 1 << 30)
        #expect(try opened.read(target, limit: 64) == Array("the target\n".utf8))
    }

    /// Where `needle` starts in `haystack` at an offset that `accept`s.
    static func offset(of needle: [UInt8], in haystack: [UInt8], where accept: (Int) -> Bool) -> Int? {
        (4...(haystack.count - needle.count)).first {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle) && accept($0)
        }
    }

    /// The process's peak virtual size, VmPeak in /proc/self/status (`VmPeak:\t  123456 kB`; under a sanitizer the
    /// number fills the column and no space follows the tab).
    static func peakVirtualBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmPeak:") })
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return try #require(fields.count == 3 ? Int(fields[1]) : nil, "\(line)") * 1024
    }

    static func blockSize(of image: String) async throws -> UInt64 {
        let dump = try await runTool("dumpe2fs", ["-h", image])
        let line = dump.stdoutText.split(separator: "\n").first { $0.hasPrefix("Block size:") }
        return try #require(line.flatMap { UInt64($0.split(separator: " ").last!) })
    }

    /// Changes the owner byte of the inode of `path` (debugfs says where it is) so its checksum no longer matches.
    static func damageInode(of path: String, in image: String, blockSize: UInt64) async throws {
        // "Inode 15 is part of block group 0\n\tlocated at block 69, offset 0x0200"
        let imap = try await runTool("debugfs", ["-R", "imap \(path)", image])
        let words = imap.stdoutText.split(whereSeparator: { " \t\n,".contains($0) })
        let block = try #require(words.lastIndex(of: "block").flatMap { UInt64(words[$0 + 1]) })
        let offset = try #require(
            words.firstIndex(of: "offset").flatMap { UInt64(words[$0 + 1].dropFirst(2), radix: 16) })
        let handle = try #require(FileHandle(forUpdatingAtPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: block * blockSize + offset + 2)
        let owner = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: block * blockSize + offset + 2)
        try handle.write(contentsOf: Data([owner ^ 0x5A]))
    }
}
