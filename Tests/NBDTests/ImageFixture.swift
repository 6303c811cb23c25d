import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A small sparse image for tests: pattern data at [0, 64 KiB) and [192 KiB, 256 KiB), a hole between.
struct ImageFixture {
    static let size = 256 * 1024
    static let dataRuns = [0..<65536, 196608..<262144]

    let directory: TemporaryDirectory
    let path: String
    /// What every byte of the image reads as.
    let bytes: [UInt8]

    init(name: String = "image.img", seed: UInt64 = 7) throws {
        directory = try TemporaryDirectory("nbd-image")
        path = directory.file(name)
        let pattern = patternBytes(count: Self.size, seed: seed)
        var bytes = [UInt8](repeating: 0, count: Self.size)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        defer { close(fd) }
        ftruncate(fd, off_t(Self.size))
        for run in Self.dataRuns {
            bytes.replaceSubrange(run, with: pattern[run])
            _ = pattern[run].withUnsafeBytes { pwrite(fd, $0.baseAddress, run.count, off_t(run.lowerBound)) }
        }
        self.bytes = bytes
    }

    func truncate(to size: Int) {
        Glibc.truncate(path, off_t(size))
    }

    func remove() { directory.remove() }
}
