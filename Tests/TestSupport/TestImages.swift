import Foundation

/// A client root tree and images made of it by the real tools an admin uses: `mksquashfs` (gzip, xz, zstd),
/// `mkfs.ext4 -d`, and disks partitioned with `sfdisk` holding one of those. Every file's bytes are known, so a
/// test compares what it fetched against them.
public struct TestImageTree: Sendable {
    /// The tree's folder.
    public let folder: TemporaryDirectory
    /// Regular files by path inside the tree, with their bytes.
    public let files: [String: [UInt8]]

    /// The kernel name the symlinks point at.
    public static let kernel = "boot/vmlinuz-6.1.0-21-amd64"
    public static let initrd = "boot/initrd.img-6.1.0-21-amd64"

    /// Writes the tree: a kernel (larger than the memory cache's file limit in tests), an initrd, the empty file,
    /// one byte, a fragment-sized file, a sparse file, symlinks relative and absolute, a chain of 40 and of 41, a
    /// loop, a symlink climbing past the root, the image's own `etc/passwd`; `large` adds a file of that size.
    public init(large: Int? = nil) throws {
        folder = try TemporaryDirectory("image-tree")
        var files: [String: [UInt8]] = [
            Self.kernel: patternBytes(count: 3 << 20, seed: 11),
            Self.initrd: patternBytes(count: 700_001, seed: 12),
            "empty": [],
            "one": [0x2A],
            "etc/fragment": patternBytes(count: 5_000, seed: 13),
            "etc/passwd": Array("root:x:0:0:image root:/root:/bin/sh\n".utf8),
            "dir/sub/deep.txt": Array("deep\n".utf8),
        ]
        if let large { files["large"] = patternBytes(count: large, seed: 14) }
        for (path, bytes) in files { try folder.write(path, bytes) }
        // Sparse: a hole of 8 MiB, then 4 KiB of data.
        let tail = patternBytes(count: 4096, seed: 15)
        let sparse = FileHandle(forWritingAtPath: try folder.write("sparse", []))!
        try sparse.seek(toOffset: 8 << 20)
        try sparse.write(contentsOf: tail)
        try sparse.close()
        files["sparse"] = [UInt8](repeating: 0, count: 8 << 20) + tail
        let manager = FileManager.default
        let links: [(String, String)] = [
            ("vmlinuz", Self.kernel),
            ("initrd.img", "/" + Self.initrd),
            ("boot/current", "vmlinuz-6.1.0-21-amd64"),
            ("up", "../../../../" + Self.initrd),
            ("escape", "/../../../etc/passwd"),
            ("loop-a", "loop-b"),
            ("loop-b", "loop-a"),
        ]
        for (link, target) in links {
            try manager.createSymbolicLink(atPath: folder.file(link), withDestinationPath: target)
        }
        // chain-40 -> chain-39 -> ... -> chain-1 -> the kernel: 40 hops. chain-41 needs one more.
        try manager.createSymbolicLink(atPath: folder.file("chain-1"), withDestinationPath: Self.kernel)
        for index in 2...41 {
            try manager.createSymbolicLink(
                atPath: folder.file("chain-\(index)"), withDestinationPath: "chain-\(index - 1)")
        }
        self.files = files
    }

    public func remove() { folder.remove() }

    /// A squashfs of the tree with `compression` (gzip, xz, zstd) at `output`.
    public func squashfs(_ compression: String, at output: String) async throws {
        try await run("mksquashfs", [folder.path, output, "-comp", compression, "-noappend", "-no-progress"])
    }

    /// An ext4 file system of the tree at `output`, sized for it.
    public func ext4(at output: String) async throws {
        let bytes = files.values.reduce(0) { $0 + $1.count }
        let megabytes = max(32, bytes / (1 << 20) * 2 + 16)
        try await run("mkfs.ext4", ["-q", "-F", "-d", folder.path, output, "\(megabytes)M"])
    }

    /// A GPT (`label` "gpt") or MBR ("dos") disk at `output`: partition 1 is a small non-Linux one (an EFI system
    /// partition, holding zeros), partition 2 is Linux and holds `filesystem` (an image file made above).
    public static func disk(_ label: String, holding filesystem: String, at output: String) async throws {
        let size = (try FileManager.default.attributesOfItem(atPath: filesystem)[.size] as! NSNumber).intValue
        let sectors = (size + 511) / 512 + 2048
        let first = 2048
        let second = first + 2048
        let total = (second + sectors + 2048) * 512
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = FileHandle(forWritingAtPath: output)!
        try handle.truncate(atOffset: UInt64(total))
        try handle.close()
        let layout = """
            label: \(label)
            start=\(first), size=2048, type=\(label == "gpt" ? "U" : "ef")
            start=\(second), size=\(sectors), type=\(label == "gpt" ? "L" : "83")

            """
        let sfdisk = try await runTool(
            "sfdisk", ["--no-reread", "--no-tell-kernel", "-q", output], stdin: Data(layout.utf8))
        guard sfdisk.status == 0 else { throw ImageBuildFailure(tool: "sfdisk", output: sfdisk.stderr) }
        try await run(
            "dd", ["if=\(filesystem)", "of=\(output)", "bs=512", "seek=\(second)", "conv=notrunc", "status=none"])
    }

    private func run(_ tool: String, _ arguments: [String]) async throws { try await Self.run(tool, arguments) }

    private static func run(_ tool: String, _ arguments: [String]) async throws {
        let result = try await runTool(tool, arguments, timeout: .seconds(300))
        guard result.status == 0 else { throw ImageBuildFailure(tool: tool, output: result.stderr + result.stdoutText) }
    }
}

/// A tool building a test image failed.
public struct ImageBuildFailure: Error, CustomStringConvertible {
    public let tool: String
    public let output: String
    public var description: String { "\(tool) failed: \(output)" }
}
