import Foundation

/// A folder `root` inside `folder` with every shape a confined lookup must handle: `boot/pxelinux.0` (1234 pattern
/// bytes) and symlinks to it that stay inside (`inside`, `boot/up`, `bootdir/…`), symlinks that lead out (absolute,
/// by `..`, `parent -> ..`), a loop, a FIFO, and a name outside that starts with a combining mark (`parent/\u{301}x`
/// must not reach it).
public func makeConfinementTree(in folder: TemporaryDirectory) throws {
    try folder.write("root/boot/pxelinux.0", patternBytes(count: 1234))
    try folder.write("secret", "outside")
    let links = FileManager.default
    try links.createSymbolicLink(atPath: folder.file("root/inside"), withDestinationPath: "boot/pxelinux.0")
    try links.createSymbolicLink(atPath: folder.file("root/boot/up"), withDestinationPath: "../boot/pxelinux.0")
    try links.createSymbolicLink(atPath: folder.file("root/absolute"), withDestinationPath: folder.file("secret"))
    try links.createSymbolicLink(atPath: folder.file("root/climb"), withDestinationPath: "../secret")
    try links.createSymbolicLink(atPath: folder.file("root/bootdir"), withDestinationPath: "boot")
    try links.createSymbolicLink(atPath: folder.file("root/loop"), withDestinationPath: "loop")
    try links.createSymbolicLink(atPath: folder.file("root/parent"), withDestinationPath: "..")
    try folder.write("\u{301}x", "outside")
    guard mkfifo(folder.file("root/fifo"), 0o644) == 0 else { throw FixtureFailure("mkfifo root/fifo") }
}

/// Overwrites `path` through its own inode with `text`, then puts its modification time back: a rewrite that only
/// the change time reveals (`cp -p`, `rsync -t`, `touch -r`, or two writes in one coarse clock tick).
public func rewriteKeepingModificationTime(_ path: String, _ text: String) throws {
    var original = stat()
    guard stat(path, &original) == 0 else { throw FixtureFailure("stat \(path)") }
    let descriptor = open(path, O_WRONLY | O_TRUNC)
    guard descriptor >= 0 else { throw FixtureFailure("open \(path)") }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    guard written == bytes.count else { throw FixtureFailure("write \(path)") }
    var times = [original.st_atim, original.st_mtim]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw FixtureFailure("utimensat \(path)") }
}

/// A test fixture could not be made.
public struct FixtureFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String) { description = "cannot make the fixture: \(what)" }
}
