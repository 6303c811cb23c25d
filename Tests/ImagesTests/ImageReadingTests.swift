import Files
import Foundation
import Images
import TestSupport
import Testing

/// Files read from images made by the real tools: every kind of file, in every format, equal to the original.
@Suite("Reading files inside images", .serialized)
struct ImageReadingTests {
    /// squashfs with each compressor, ext4, and both partition tables.
    static let kinds = ["gzip", "xz", "zstd", "ext4", "gpt", "dos"]

    /// The image of `tree` as `kind`, in `folder`.
    static func image(_ kind: String, of tree: TestImageTree, in folder: TemporaryDirectory) async throws -> String {
        let output = folder.file("\(kind).img")
        switch kind {
        case "ext4": try await tree.ext4(at: output)
        case "gpt", "dos":
            let inner = folder.file("\(kind)-inner.img")
            try await tree.squashfs("xz", at: inner)
            try await TestImageTree.disk(kind, holding: inner, at: output)
        default: try await tree.squashfs(kind, at: output)
        }
        return output
    }

    @Test(arguments: kinds)
    func everyFileReadsAsTheOriginal(kind: String) async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-read")
        defer { folder.remove() }
        let image = try FileSystemImage(file: try OpenedFile(path: try await Self.image(kind, of: tree, in: folder)))
        #expect(image.format == (kind == "ext4" ? .ext4 : kind == "gpt" || kind == "dos" ? .raw : .squashfs))
        for (path, bytes) in tree.files {
            let read = try image.read(path, limit: 64 << 20)
            #expect(read.count == bytes.count, "\(kind) \(path)")
            #expect(read == bytes, "\(kind) \(path)")
        }
        #expect(try image.read("sparse", limit: 64 << 20) == tree.files["sparse"])
        // Symlinks: relative, absolute (from the image's root), in a folder, and a chain of exactly 40.
        let kernel = tree.files[TestImageTree.kernel]
        #expect(try image.read("vmlinuz", limit: 64 << 20) == kernel)
        #expect(try image.read("boot/current", limit: 64 << 20) == kernel)
        #expect(try image.read("chain-40", limit: 64 << 20) == kernel)
        #expect(try image.read("initrd.img", limit: 64 << 20) == tree.files[TestImageTree.initrd])
        #expect(try image.list("boot") == ["current", "initrd.img-6.1.0-21-amd64", "vmlinuz-6.1.0-21-amd64"])
        #expect(try image.list("").contains("vmlinuz"))
    }

    /// The image is the root: nothing above it, absolute symlinks land inside it, loops end.
    @Test(arguments: ["xz", "ext4"])
    func pathsNeverLeaveTheImage(kind: String) async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-paths")
        defer { folder.remove() }
        let image = try FileSystemImage(file: try OpenedFile(path: try await Self.image(kind, of: tree, in: folder)))
        let initrd = tree.files[TestImageTree.initrd]
        // `..` at the root stays at the root, whether in the path or in a symlink.
        #expect(try image.read("../../../" + TestImageTree.initrd, limit: 64 << 20) == initrd)
        #expect(try image.read("dir/../../" + TestImageTree.initrd, limit: 64 << 20) == initrd)
        #expect(try image.read("up", limit: 64 << 20) == initrd)
        // An absolute symlink with `..` names the image's own /etc/passwd, never the server's.
        #expect(try image.read("escape", limit: 4096) == tree.files["etc/passwd"])
        #expect(throws: ImageError(image: image.file.path, path: "loop-a", kind: .tooManySymlinks)) {
            try image.read("loop-a", limit: 4096)
        }
        #expect(throws: ImageError(image: image.file.path, path: "chain-41", kind: .tooManySymlinks)) {
            try image.read("chain-41", limit: 64 << 20)
        }
        #expect(throws: ImageError(image: image.file.path, path: "missing", kind: .notFound)) {
            try image.read("missing", limit: 4096)
        }
        #expect(throws: ImageError(image: image.file.path, path: "one/below", kind: .notFound)) {
            try image.read("one/below", limit: 4096)
        }
        #expect(throws: ImageError(image: image.file.path, path: "boot", kind: .isDirectory)) {
            try image.read("boot", limit: 4096)
        }
        #expect(throws: ImageError(image: image.file.path, path: "vmlinuz", kind: .tooLarge(size: 3 << 20, limit: 100)))
        {
            try image.read("vmlinuz", limit: 100)
        }
    }

    /// A squashfs file of more than 4 Mi blocks, 16 GiB and 8 KiB of holes at 4 KiB blocks: libsquashfs reads its
    /// 16 MiB block list whole, which the image holds in a few compressed metadata blocks. It opens as any file (a
    /// fixed bound of 4 Mi blocks refused it as corrupt). The fixture, 68 KiB stored as 432 bytes of xz, was made by
    /// `truncate -s 17179877376 tree/disk.raw`, `echo "beside the big file" >tree/small.txt` and
    /// `mksquashfs tree sparse.squashfs -b 4096 -all-root -mkfs-time 0 -all-time 0`.
    @Test func aSparseFileOfMillionsOfBlocksOpens() async throws {
        let folder = try TemporaryDirectory("image-sparse")
        defer { folder.remove() }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sparse-16GiB-4KiB-blocks.squashfs.xz")
        let unpacked = try await runTool("xz", ["-dc", fixture.path])
        #expect(unpacked.status == 0, "\(unpacked.stderr)")
        let path = folder.file("sparse.squashfs")
        try unpacked.stdout.write(to: URL(fileURLWithPath: path))
        let image = try FileSystemImage(file: try OpenedFile(path: path))
        #expect(try image.list("") == ["disk.raw", "small.txt"])
        #expect(try image.size(of: "disk.raw") == 17_179_877_376)
        #expect(
            throws: ImageError(image: path, path: "disk.raw", kind: .tooLarge(size: 17_179_877_376, limit: 1 << 20))
        ) {
            try image.read("disk.raw", limit: 1 << 20)
        }
        #expect(try image.read("small.txt", limit: 64) == Array("beside the big file\n".utf8))
    }

    /// A raw disk reads its first Linux partition, or the one named.
    @Test func aDiskReadsItsFirstLinuxPartitionOrTheOneNamed() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-disk")
        defer { folder.remove() }
        let disk = try await Self.image("gpt", of: tree, in: folder)
        #expect(try FileSystemImage(file: try OpenedFile(path: disk), partition: 2).read("one", limit: 1) == [0x2A])
        #expect {
            try FileSystemImage(file: try OpenedFile(path: disk), partition: 1)
        } throws: { ($0 as? ImageError)?.reason == "partition 1 holds neither squashfs nor ext2/3/4" }
        #expect {
            try FileSystemImage(file: try OpenedFile(path: disk), partition: 7)
        } throws: { ($0 as? ImageError)?.reason == "the disk has no partition 7 inside the file" }
    }
}
