import Foundation
import TestSupport
import Testing

@testable import TFTP

@Suite("Static root confinement")
struct StaticRootTests {
    private func withRoot(_ body: (TemporaryDirectory, StaticRoot) throws -> Void) throws {
        let folder = try TemporaryDirectory("static-root")
        defer { folder.remove() }
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
        // Outside the root, named with a combining mark first: `parent/\u{301}x` must not reach it.
        try folder.write("\u{301}x", "outside")
        #expect(mkfifo(folder.file("root/fifo"), 0o644) == 0)
        try body(folder, try StaticRoot(path: folder.file("root")))
    }

    @Test func opensFilesAndSymlinksThatStayInside() throws {
        try withRoot { _, root in
            for path in ["boot/pxelinux.0", "inside", "boot/up", "bootdir/pxelinux.0"] {
                let file = try root.open(relativePath: path)
                #expect(file.size == 1234, "\(path)")
            }
        }
    }

    @Test(arguments: [
        ("missing", TFTPErrorCode.fileNotFound),
        ("boot/missing", .fileNotFound),
        ("boot/pxelinux.0/x", .fileNotFound),
        ("boot", .accessViolation),
        ("bootdir", .accessViolation),
        ("fifo", .accessViolation),
        ("absolute", .accessViolation),
        ("climb", .accessViolation),
        ("loop", .accessViolation),
        ("../secret", .accessViolation),
        ("parent/secret", .accessViolation),
        ("parent/\u{301}x", .accessViolation),
    ])
    func refusesWithTheRightCode(_ path: String, _ code: TFTPErrorCode) throws {
        try withRoot { _, root in
            #expect(refusal { try root.open(relativePath: path) }?.code == code, "\(path)")
        }
    }

    @Test func missingRootIsAnErrorThatNamesIt() {
        #expect(throws: StaticRootError.self) { try StaticRoot(path: "/nonexistent/thinboot-root") }
        do {
            _ = try StaticRoot(path: "/nonexistent/thinboot-root")
        } catch {
            #expect(error.description.contains("/nonexistent/thinboot-root"))
        }
    }
}
