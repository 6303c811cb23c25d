import Files
import Foundation
import TestSupport
import Testing

/// The confined walk: whatever stays inside the folder opens, nothing else does, and each refusal says why.
@Suite("Confined directory")
struct ConfinedDirectoryTests {
    private func withDirectory(_ body: (TemporaryDirectory, ConfinedDirectory) throws -> Void) throws {
        let folder = try TemporaryDirectory("confined")
        defer { folder.remove() }
        try makeConfinementTree(in: folder)
        try body(folder, try ConfinedDirectory(path: folder.file("root")))
    }

    /// The error `open` throws for `path`, or nil when it opens.
    private func refusal(_ directory: ConfinedDirectory, _ path: String) -> ConfinedDirectoryError? {
        do throws(ConfinedDirectoryError) {
            _ = try directory.open(path)
            return nil
        } catch {
            return error
        }
    }

    @Test func opensFilesAndSymlinksThatStayInside() throws {
        try withDirectory { _, directory in
            let expected = patternBytes(count: 1234)
            for path in ["boot/pxelinux.0", "inside", "boot/up", "bootdir/pxelinux.0", "./boot//pxelinux.0"] {
                let file = try directory.open(path)
                #expect(try file.readWhole() == expected, "\(path)")
                #expect(file.path == path)
            }
        }
    }

    @Test(arguments: [
        ("missing", ConfinedDirectoryError.Kind.notFound),
        ("boot/missing", .notFound),
        ("boot/pxelinux.0/x", .notFound),
        ("boot", .isDirectory),
        ("bootdir", .isDirectory),
        ("fifo", .notRegularFile),
        ("absolute", .symlinkLeavesDirectory),
        ("climb", .leavesDirectory),
        ("loop", .tooManySymlinks),
        ("../secret", .leavesDirectory),
        ("parent/secret", .leavesDirectory),
        ("parent/\u{301}x", .leavesDirectory),
        // Found by the confined-walk fuzz target: openat would see "..", and "secret" is outside the root.
        ("bootdir/../..\u{0}\u{0}/secret", .notFound),
        ("..\u{0}/secret", .notFound),
    ])
    func refusesWithTheReason(_ path: String, _ kind: ConfinedDirectoryError.Kind) throws {
        try withDirectory { _, directory in
            let error = refusal(directory, path)
            #expect(error?.kind == kind, "\(path)")
            #expect(error?.path == path)
        }
    }

    @Test func aMissingFolderIsAnErrorThatNamesIt() {
        #expect {
            try ConfinedDirectory(path: "/nonexistent/thinboot-folder")
        } throws: { error in
            let error = error as? ConfinedDirectoryError
            return error?.kind == .unavailable(errno: ENOENT)
                && error?.description.contains("/nonexistent/thinboot-folder") == true
        }
    }

    /// A cache's cheap re-check: the version of what the path names now, which changes with the file.
    @Test func theVersionOfAPathFollowsTheFile() throws {
        try withDirectory { folder, directory in
            let opened = try directory.open("boot/pxelinux.0")
            #expect(directory.version(of: "boot/pxelinux.0") == opened.version)
            try folder.write("root/boot/next", patternBytes(count: 1234, seed: 9))
            #expect(rename(folder.file("root/boot/next"), folder.file("root/boot/pxelinux.0")) == 0)
            #expect(directory.version(of: "boot/pxelinux.0") != opened.version)
            #expect(directory.version(of: "missing") == nil)
        }
    }
}
