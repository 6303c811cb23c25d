import Files
import Foundation
import TestSupport
import Testing

/// One version type and one freshness rule: any rewrite is a new version, and only a version that had settled when
/// its bytes were read may vouch for them.
@Suite("File versions")
struct FileVersionTests {
    /// A version with the given times (nanoseconds since the epoch), as `stat` would report it.
    private func version(size: Int = 10, modified: Int, changed: Int, inode: UInt64 = 7) -> FileVersion {
        var info = stat()
        info.st_dev = 1
        info.st_ino = __ino_t(inode)
        info.st_size = off_t(size)
        info.st_mtim = timespec(tv_sec: modified / 1_000_000_000, tv_nsec: modified % 1_000_000_000)
        info.st_ctim = timespec(tv_sec: changed / 1_000_000_000, tv_nsec: changed % 1_000_000_000)
        return FileVersion(info)
    }

    @Test func aRewriteThatKeepsSizeAndModificationTimeIsANewVersion() throws {
        let folder = try TemporaryDirectory("file-version")
        defer { folder.remove() }
        let path = try folder.write("menu.cfg", "version one\n")
        let before = try #require(FileVersion(path: path))
        try rewriteKeepingModificationTime(path, "version two\n")

        let after = try #require(FileVersion(path: path))
        #expect(after.modified == before.modified && after.size == before.size && after.isSameFile(as: before))
        #expect(after != before)
    }

    @Test func onlyTheSameInodeIsTheSameFile() {
        let first = version(modified: 1, changed: 1)
        #expect(first.isSameFile(as: version(size: 99, modified: 5, changed: 5)))
        #expect(!first.isSameFile(as: version(modified: 1, changed: 1, inode: 8)))
    }

    @Test func aVersionSettlesWhenNeitherTimeIsRecent() {
        let second = 1_000_000_000
        let version = version(modified: 100 * second, changed: 104 * second)
        #expect(!version.isSettled(for: .seconds(3), at: 106 * second))
        #expect(version.isSettled(for: .seconds(3), at: 107 * second))
        #expect(!version.isSettled(for: .milliseconds(1500), at: 105 * second + 400_000_000))
    }

    /// The racily clean file: read in the same clock tick as its last write, a later write in that tick leaves
    /// the same version. Such a sighting proves nothing; one taken once the file settled does.
    @Test func onlyASettledSightingProvesTheBytesUnchanged() {
        let second = 1_000_000_000
        let version = version(modified: 100 * second, changed: 100 * second)
        let racy = FileSighting(version, settle: .seconds(3), now: 100 * second + 1)
        #expect(!racy.settled)
        #expect(!racy.provesUnchanged(version))
        let settled = FileSighting(version, settle: .seconds(3), now: 103 * second)
        #expect(settled.provesUnchanged(version))
        #expect(!settled.provesUnchanged(nil))
        #expect(!settled.provesUnchanged(self.version(modified: 100 * second, changed: 101 * second)))
    }
}
