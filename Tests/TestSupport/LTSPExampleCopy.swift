import Foundation

/// A copy of `examples/ltsp-split` whose image folders are filled the way an admin's `rsync` fills them: one small
/// client root per image with Debian's layout (`boot/vmlinuz-VERSION`, `boot/initrd.img-VERSION`, and the `/vmlinuz`
/// and `/initrd.img` symlinks to them), made into what LTSP writes (squashfs, xz and gzip) and, for the older
/// image, ext4. The files are dated an hour back, as `rsync -a` keeps the build server's time, so the folders
/// take them at once.
public struct LTSPExampleCopy: Sendable {
    /// The copy's folder.
    public let folder: TemporaryDirectory
    /// Kernel and initrd bytes by export name.
    public let kernels: [String: [UInt8]]
    public let initrds: [String: [UInt8]]

    /// The example in the repository.
    public static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/ltsp-split").path

    /// Each export of the example, the file its folder holds, and how it is made.
    public static let images: [(export: String, file: String, format: String)] = [
        ("trusty-amd64", "images/trusty/amd64.img", "xz"),
        ("trusty-i386", "images/trusty/i386.img", "gzip"),
        ("precise-i386", "images/precise/i386.img", "ext4"),
    ]

    public var configFile: String { folder.file("thinboot.toml") }

    public init() async throws {
        folder = try TemporaryDirectory("ltsp-split")
        let manager = FileManager.default
        for item in try manager.contentsOfDirectory(atPath: Self.example) {
            try manager.copyItem(atPath: Self.example + "/" + item, toPath: folder.file(item))
        }
        var kernels: [String: [UInt8]] = [:]
        var initrds: [String: [UInt8]] = [:]
        for (index, image) in Self.images.enumerated() {
            let tree = try TemporaryDirectory("ltsp-root")
            defer { tree.remove() }
            let version = "3.13.0-\(37 + index)-generic"
            let kernel = patternBytes(count: 300_000 + index, seed: 100 + UInt64(index))
            let initrd = patternBytes(count: 200_000 + index, seed: 200 + UInt64(index))
            try tree.write("boot/vmlinuz-\(version)", kernel)
            try tree.write("boot/initrd.img-\(version)", initrd)
            try tree.write("etc/ltsp-image", "\(image.export)\n")
            try manager.createSymbolicLink(atPath: tree.file("vmlinuz"), withDestinationPath: "boot/vmlinuz-\(version)")
            try manager.createSymbolicLink(
                atPath: tree.file("initrd.img"), withDestinationPath: "boot/initrd.img-\(version)")
            let output = folder.file(image.file)
            try manager.createDirectory(
                atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let built =
                image.format == "ext4"
                ? try await runTool("mkfs.ext4", ["-q", "-F", "-d", tree.path, output, "8M"], timeout: .seconds(120))
                : try await runTool(
                    "mksquashfs", [tree.path, output, "-comp", image.format, "-noappend", "-no-progress"],
                    timeout: .seconds(120))
            guard built.status == 0 else {
                throw ImageBuildFailure(tool: image.format == "ext4" ? "mkfs.ext4" : "mksquashfs", output: built.stderr)
            }
            try manager.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: output)
            kernels[image.export] = kernel
            initrds[image.export] = initrd
        }
        self.kernels = kernels
        self.initrds = initrds
    }

    public func remove() { folder.remove() }
}
