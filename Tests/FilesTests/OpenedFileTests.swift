import Files
import Foundation
import TestSupport
import Testing

/// Reading files into memory: whole or from an offset, never half a file that changed under the reader.
@Suite("Reading opened files")
struct OpenedFileTests {
    @Test func readsTheWholeFileAndRangesOfIt() throws {
        let folder = try TemporaryDirectory("opened-file")
        defer { folder.remove() }
        let expected = patternBytes(count: 300_000, seed: 4)
        let path = try folder.write("image", expected)
        let file = try OpenedFile(path: path)
        #expect(file.size == expected.count)
        #expect(try file.readWhole() == expected)

        // From an offset, and past the end only what is there.
        var tail = [UInt8](repeating: 0, count: 1000)
        let count = try tail.withUnsafeMutableBytes { try file.read(into: $0, at: expected.count - 400) }
        #expect(count == 400)
        #expect(Array(tail[0..<400]) == Array(expected.suffix(400)))
    }

    @Test func aFileOverTheLimitIsRefused() throws {
        let folder = try TemporaryDirectory("opened-file")
        defer { folder.remove() }
        let file = try OpenedFile(path: try folder.write("big", patternBytes(count: 2000)))
        #expect(throws: FileReadError(path: file.path, kind: .tooLarge(size: 2000, limit: 1999))) {
            try file.readWhole(limit: 1999)
        }
    }

    /// Truncated after it was opened: an error, never the bytes that are left.
    @Test func aFileThatShrankSinceItWasOpenedIsNotReadHalf() throws {
        let folder = try TemporaryDirectory("opened-file")
        defer { folder.remove() }
        let path = try folder.write("config", patternBytes(count: 5000))
        let file = try OpenedFile(path: path)
        #expect(truncate(path, 100) == 0)
        #expect(throws: FileReadError(path: path, kind: .endedEarly)) { try file.readWhole() }
    }

    @Test func onlyRegularFilesOpenByPath() throws {
        let folder = try TemporaryDirectory("opened-file")
        defer { folder.remove() }
        #expect(mkfifo(folder.file("fifo"), 0o644) == 0)
        #expect(throws: FileReadError(path: folder.file("fifo"), kind: .notRegularFile)) {
            try OpenedFile(path: folder.file("fifo"))
        }
        #expect(throws: FileReadError(path: folder.path, kind: .notRegularFile)) { try OpenedFile(path: folder.path) }
        #expect(throws: FileReadError(path: folder.file("absent"), kind: .cannotOpen(errno: ENOENT))) {
            try OpenedFile(path: folder.file("absent"))
        }
    }
}
