import Foundation
import TestSupport
import Testing

@testable import NBD

#if canImport(Glibc)
    import Glibc
#endif

/// Image versions: one id per content, `NAME@VERSION` serving a replaced image for `keep_replaced`, and image
/// folders found without a reload.
@Suite struct ImageVersionTests {
    @Test func theVersionFollowsTheBytesNotThePathOrInode() throws {
        let first = try ImageFixture(seed: 1)
        defer { first.remove() }
        let copy = try ImageFixture(seed: 1)
        defer { copy.remove() }
        let other = try ImageFixture(seed: 2)
        defer { other.remove() }
        let a = try MappedImage(path: first.path, writable: false).contentVersion
        #expect(a == (try MappedImage(path: copy.path, writable: false).contentVersion))
        #expect(a != (try MappedImage(path: other.path, writable: false).contentVersion))
        // One byte near the end (where squashfs keeps its tables) makes another version.
        let fd = open(copy.path, O_WRONLY)
        var byte: UInt8 = 0x5a
        #expect(pwrite(fd, &byte, 1, off_t(ImageFixture.size - 10)) == 1)
        close(fd)
        #expect(a != (try MappedImage(path: copy.path, writable: false).contentVersion))
        #expect(a.id.count == 8)
        #expect(ImageVersion(id: a.id) == a)
        #expect(ImageVersion(id: "3F9A2C01") == nil)
        #expect(ImageVersion(id: "3f9a2c") == nil)
    }

    @Test func aReplacedVersionIsServedByNameAtVersionUntilKeepReplaced() throws {
        let fixture = try ImageFixture(seed: 1)
        defer { fixture.remove() }
        let definition = NBDExportDefinition(name: "image", path: fixture.path)
        let store = NBDExportStore(exports: [definition], keepReplaced: .seconds(60))
        let first = try #require(try store.open(named: "image")).image.contentVersion
        let replacement = try ImageFixture(seed: 2)
        defer { replacement.remove() }
        #expect(rename(replacement.path, fixture.path) == 0)
        let start = ContinuousClock.now
        store.refresh(now: start)
        let second = try #require(try store.open(named: "image")).image.contentVersion
        #expect(first != second)
        #expect(store.versions(of: "image") == [second, first])

        let pinned = try #require(try store.open(named: "image@\(first.id)"))
        var bytes = [UInt8](repeating: 0, count: 100)
        #expect(pinned.image.copy(offset: 0, length: 100, into: &bytes))
        #expect(bytes == Array(fixture.bytes[0..<100]))
        #expect(pinned.info.name == "image@\(first.id)")
        #expect(try store.open(named: "image@\(second.id)")?.image.contentVersion == second)
        #expect(try store.open(named: "image@00000000") == nil)
        #expect(try store.open(named: "image@nothex!!") == nil)
        #expect(try store.open(named: "other@\(first.id)") == nil)

        store.refresh(now: start + .seconds(61))
        #expect(try store.open(named: "image@\(first.id)") == nil)
        #expect(store.versions(of: "image") == [second])
    }

    @Test func anExpiredVersionClosesItsFileOnceTheLastConnectionLetsGo() throws {
        let fixture = try ImageFixture(name: "closing.img", seed: 1)
        defer { fixture.remove() }
        let store = NBDExportStore(
            exports: [NBDExportDefinition(name: "image", path: fixture.path)], keepReplaced: .seconds(1))
        var connection = try store.open(named: "image")
        let replacement = try ImageFixture(seed: 2)
        defer { replacement.remove() }
        #expect(rename(replacement.path, fixture.path) == 0)
        let start = ContinuousClock.now
        store.refresh(now: start)
        store.refresh(now: start + .seconds(2))
        // An open connection keeps its version to the end, expired or not.
        #expect(openDeletedFiles(named: "closing.img") == 1)
        #expect(connection != nil)
        connection = nil
        #expect(openDeletedFiles(named: "closing.img") == 0)
    }

    @Test func aRemovedImageStaysPinnableButIsNoLongerListed() throws {
        let fixture = try ImageFixture(seed: 1)
        let store = NBDExportStore(
            exports: [NBDExportDefinition(name: "image", path: fixture.path)], keepReplaced: .seconds(60))
        let version = try #require(try store.open(named: "image")).image.contentVersion
        fixture.remove()
        store.refresh()
        #expect(try store.open(named: "image@\(version.id)")?.image.contentVersion == version)
        #expect(store.versions(of: "image") == [version])
        #expect(throws: NBDImageError.self) { try store.open(named: "image") }
    }

    @Test func foldersGiveExportsByFileNameAndIgnoreFilesBeingWritten() throws {
        let directory = try TemporaryDirectory("nbd-folder")
        defer { directory.remove() }
        for name in ["amd64.img", ".amd64.img.Xa81", "i386.img.tmp", "armhf.part", "odd@name.img", "notes.txt"] {
            try writeImage(directory.file(name), seed: 3, settled: true)
        }
        try FileManager.default.createDirectory(atPath: directory.file("dir.img"), withIntermediateDirectories: false)
        let store = NBDExportStore(
            exports: [], folders: [NBDImageFolder(folder: directory.path, prefix: "trusty-")])
        #expect(store.definitions.map(\.name) == ["trusty-amd64"])
        #expect(store.definitions.first?.path == directory.file("amd64.img"))

        // Written just now: taken only once it has stayed the same for a second.
        try writeImage(directory.file("i386.img"), seed: 4, settled: false)
        let start = ContinuousClock.now
        store.refresh(now: start)
        #expect(store.definitions.map(\.name) == ["trusty-amd64"])
        store.refresh(now: start + .milliseconds(1500))
        #expect(store.definitions.map(\.name) == ["trusty-amd64", "trusty-i386"])

        #expect(unlink(directory.file("amd64.img")) == 0)
        store.refresh()
        #expect(store.definitions.map(\.name) == ["trusty-i386"])
    }

    @Test func aConfiguredExportWinsItsNameOverAFolderImage() throws {
        let directory = try TemporaryDirectory("nbd-folder")
        defer { directory.remove() }
        try writeImage(directory.file("amd64.img"), seed: 5, settled: true)
        let configured = try ImageFixture(seed: 6)
        defer { configured.remove() }
        let store = NBDExportStore(
            exports: [NBDExportDefinition(name: "amd64", path: configured.path)],
            folders: [NBDImageFolder(folder: directory.path)])
        #expect(store.definitions.map(\.path) == [configured.path])
    }

    /// An image of 256 KiB; `settled` dates it a minute back, as a file copied in long after it was built.
    private func writeImage(_ path: String, seed: UInt64, settled: Bool) throws {
        try Data(patternBytes(count: 256 << 10, seed: seed)).write(to: URL(fileURLWithPath: path))
        if settled {
            let past = Date().addingTimeInterval(-60)
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: path)
        }
    }

    /// How many descriptors of this process point at a deleted file whose name ends in `name`.
    private func openDeletedFiles(named name: String) -> Int {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target.hasSuffix("\(name) (deleted)")
        }.count
    }
}
