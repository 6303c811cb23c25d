#if canImport(Glibc)
    import Glibc
#endif

/// A short id for one image's content, so `NAME@VERSION` names exactly the bytes a boot started with. It is a
/// fingerprint of the size and of the first and last 64 KiB, where every image format keeps what changes with each
/// build (superblocks, inode and directory tables, the partition tables of a raw disk). It depends on nothing but
/// the bytes, so the TFTP host and the NBD host of a split deployment, each with its own `rsync`ed copy, agree on
/// the version they hand out.
public struct ImageVersion: Sendable, Hashable, CustomStringConvertible {
    /// Eight lowercase hex digits.
    public let id: String

    /// How many bytes at each end go into the fingerprint.
    static let sampledBytes = 64 << 10

    public init?(id: String) {
        guard id.utf8.count == 8, id.utf8.allSatisfy({ Self.hexDigits.contains($0) }) else { return nil }
        self.id = id
    }

    /// The version of the file open as `descriptor`, `size` bytes long; nil when it cannot be read.
    init?(descriptor: CInt, size: UInt64) {
        var hash = Fingerprint()
        withUnsafeBytes(of: size.littleEndian) { hash.add($0) }
        var buffer = [UInt8](repeating: 0, count: Self.sampledBytes)
        let head = min(UInt64(Self.sampledBytes), size)
        let tailStart = size > UInt64(Self.sampledBytes) ? size - UInt64(Self.sampledBytes) : 0
        for (offset, length) in [(UInt64(0), head), (max(tailStart, head), size - max(tailStart, head))] {
            guard length > 0 else { continue }
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, Int(length), off_t(offset)) }
            guard read == Int(length) else { return nil }
            buffer.withUnsafeBytes { hash.add(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
        }
        let folded = UInt32(truncatingIfNeeded: hash.value ^ (hash.value >> 32))
        let digits = String(folded, radix: 16)
        id = String(repeating: "0", count: 8 - digits.count) + digits
    }

    public var description: String { id }

    private static let hexDigits = Set("0123456789abcdef".utf8)

    /// FNV-1a, 64 bits: not a defence against a forger (the admin publishes the images), only a stable id.
    private struct Fingerprint {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
    }
}
