import CNBDShims
import Foundation
import Testing

@testable import NBD

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ImageStoreTests {
    @Test func renameReplaceKeepsOldMappingForOpenConnections() throws {
        let fixture = try ImageFixture()
        defer { fixture.remove() }
        let definition = NBDExportDefinition(name: "image", path: fixture.path)
        let store = NBDExportStore(exports: [definition])
        let before = try store.open(definition)
        #expect(try store.open(definition).image === before.image)  // mapped once, shared
        let replacement = try ImageFixture(seed: 99)
        defer { replacement.remove() }
        #expect(rename(replacement.path, fixture.path) == 0)
        let after = try store.open(definition)
        #expect(after.image !== before.image)
        var old = [UInt8](repeating: 0, count: 100)
        var new = old
        #expect(before.image.copy(offset: 0, length: 100, into: &old))
        #expect(after.image.copy(offset: 0, length: 100, into: &new))
        #expect(old == Array(fixture.bytes[0..<100]))
        #expect(new == Array(replacement.bytes[0..<100]))
    }

    @Test func resizedInPlaceImageIsMappedAgainForNewConnections() throws {
        let fixture = try ImageFixture()
        defer { fixture.remove() }
        let definition = NBDExportDefinition(name: "image", path: fixture.path)
        let store = NBDExportStore(exports: [definition])
        let before = try store.open(definition)
        fixture.truncate(to: 65536)
        #expect(try store.open(definition).image.size == 65536)
        #expect(before.image.size == UInt64(ImageFixture.size))
    }

    @Test func guardTurnsSIGBUSIntoAnError() throws {
        let fixture = try ImageFixture()
        defer { fixture.remove() }
        let fd = open(fixture.path, O_RDONLY)
        defer { close(fd) }
        let mapping = try #require(mmap(nil, ImageFixture.size, PROT_READ, MAP_SHARED, fd, 0))
        defer { munmap(mapping, ImageFixture.size) }
        cnbd_install_sigbus_guard()
        #expect(cnbd_guarded_touch(mapping, ImageFixture.size) == 0)
        fixture.truncate(to: 4096)
        let faults = cnbd_sigbus_count()
        #expect(cnbd_guarded_touch(mapping + 8192, 4096) == -1)
        var sink = [UInt8](repeating: 0, count: 4096)
        #expect(cnbd_guarded_copy(&sink, mapping + 65536, 4096) == -1)
        #expect(cnbd_sigbus_count() == faults + 2)
        #expect(cnbd_guarded_touch(mapping, 4096) == 0)
    }

    @Test func unknownFileIsAClearError() {
        #expect(throws: NBDImageError.self) {
            try MappedImage(path: "/nonexistent/image.img", writable: false)
        }
    }
}
