import Files
import Foundation
import Images
import TestSupport
import Testing

/// The cache of extracted files: one extraction however many ask at once, small files in memory and large ones
/// on disk, within the budgets, and a replaced image read in its new version.
@Suite("The image file cache", .serialized)
struct ImageCacheTests {
    @Test func concurrentFirstRequestsShareOneExtraction() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-cache")
        defer { folder.remove() }
        let path = folder.file("root.img")
        try await tree.squashfs("xz", at: path)
        let library = ImageLibrary(settings: ImageCacheSettings(folder: folder.path, memoryFileBytes: 1 << 20))
        let source = ImageSource(path: path)
        let contents = try await withThrowingTaskGroup(of: BootContent.self) { group in
            for _ in 0..<32 { group.addTask { try await library.content(of: "vmlinuz", in: source) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let files = contents.compactMap { content -> OpenedFile? in
            if case .file(let file) = content { return file }
            return nil
        }
        #expect(files.count == 32)
        #expect(files.allSatisfy { $0 === files[0] }, "one extracted copy for every request")
        #expect(try files[0].readWhole() == tree.files[TestImageTree.kernel])
        #expect(library.cacheUsage.files == 1)
        #expect(library.cacheUsage.disk == 3 << 20)
        // Nothing is left in the folder: the copy is unlinked.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["root.img"])

        guard case .bytes(let small) = try await library.content(of: "etc/fragment", in: source) else {
            Issue.record("a small file is kept in memory")
            return
        }
        #expect(Array(small.readableBytesView) == tree.files["etc/fragment"])
        await #expect(throws: ImageError(image: path, path: "missing", kind: .notFound)) {
            try await library.content(of: "missing", in: source)
        }
    }

    @Test func theBudgetsHoldAndTooLargeFilesAreRefused() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-budget")
        defer { folder.remove() }
        let path = folder.file("root.img")
        try await tree.squashfs("gzip", at: path)
        let settings = ImageCacheSettings(
            folder: folder.path, memoryFileBytes: 1000, memoryBytes: 6000, diskBytes: (3 << 20) + 500_000)
        let library = ImageLibrary(settings: settings)
        let source = ImageSource(path: path)
        let first = try await library.content(of: "vmlinuz", in: source)
        _ = try await library.content(of: TestImageTree.initrd, in: source)
        #expect(library.cacheUsage.disk <= settings.diskBytes)
        // The kernel was evicted for the initrd: asked again, it is extracted again.
        let again = try await library.content(of: "vmlinuz", in: source)
        if case .file(let a) = first, case .file(let b) = again { #expect(a !== b) } else { Issue.record("on disk") }
        _ = try await library.content(of: "etc/passwd", in: source)
        _ = try await library.content(of: "one", in: source)
        #expect(library.cacheUsage.memory <= settings.memoryBytes)

        let tiny = ImageLibrary(
            settings: ImageCacheSettings(folder: folder.path, memoryFileBytes: 1000, diskBytes: 2000))
        await #expect(throws: ImageError(image: path, path: "vmlinuz", kind: .tooLarge(size: 3 << 20, limit: 2000))) {
            try await tiny.content(of: "vmlinuz", in: source)
        }
    }

    @Test func anImageReplacedByRenameIsReadInItsNewVersion() async throws {
        let tree = try TestImageTree()
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-replace")
        defer { folder.remove() }
        let path = folder.file("root.img")
        try await tree.squashfs("gzip", at: path)
        let library = ImageLibrary(settings: ImageCacheSettings(folder: folder.path))
        let source = ImageSource(path: path)
        let oldVersion = try library.image(source).file.version
        guard case .bytes(let before) = try await library.content(of: "one", in: source) else { return }
        #expect(Array(before.readableBytesView) == [0x2A])
        try tree.folder.write("one", [0x2B])
        try await tree.squashfs("gzip", at: folder.file("root.img.tmp"))
        #expect(rename(folder.file("root.img.tmp"), path) == 0)
        guard case .bytes(let after) = try await library.content(of: "one", in: source) else { return }
        #expect(Array(after.readableBytesView) == [0x2B])
        #expect(try library.image(source).file.version.shortID != oldVersion.shortID)
    }

    /// A large file is copied out on several threads, each decoding whole blocks of its own range: every large
    /// file (a size that is no multiple of the block, holes, a fragment tail) equals the original with each
    /// compressor, and through libext2fs.
    @Test(arguments: ["gzip", "xz", "zstd", "ext4"])
    func largeFilesAreCopiedWhole(kind: String) async throws {
        let tree = try TestImageTree(large: (5 << 20) + 12345)
        defer { tree.remove() }
        let folder = try TemporaryDirectory("image-cache-large")
        defer { folder.remove() }
        let path = folder.file("root.img")
        if kind == "ext4" { try await tree.ext4(at: path) } else { try await tree.squashfs(kind, at: path) }
        let library = ImageLibrary(settings: ImageCacheSettings(folder: folder.path, memoryFileBytes: 1 << 20))
        let large = tree.files.filter { $0.value.count > 1 << 20 }
        #expect(large.count >= 3, "\(large.keys.sorted())")
        for (name, original) in large {
            guard case .file(let copy) = try await library.content(of: name, in: ImageSource(path: path)) else {
                Issue.record("\(name) is copied to the folder")
                continue
            }
            #expect(try copy.readWhole() == original, "\(name)")
        }
    }

    /// A folder the serving account cannot write fails every large file read from an image: `serve` names it at
    /// start, with what to do.
    @Test func aCacheFolderThatCannotHoldCopiesSaysWhatToDo() throws {
        let folder = try TemporaryDirectory("image-cache-folder")
        defer { folder.remove() }
        #expect(ImageCacheSettings(folder: folder.path).folderProblem == nil)
        let problem = try #require(ImageCacheSettings(folder: folder.file("missing")).folderProblem)
        #expect(problem.hasPrefix(folder.file("missing") + ": No such file or directory"), "\(problem)")
        #expect(problem.contains("set [nbd] image_cache"), "\(problem)")
    }
}
