import Files

extension FileVersion {
    /// A short id for this version of an image (`thinboot.exports()`'s `version`): eight hex digits of an FNV-1a
    /// hash of device, inode, size and modification time, so a file replaced by rename, or rewritten, gets a new
    /// one.
    public var shortID: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in [device, inode, UInt64(bitPattern: Int64(size)), UInt64(bitPattern: Int64(modified))] {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= (value >> UInt64(shift)) & 0xFF
                hash = hash &* 0x100_0000_01b3
            }
        }
        let text = String(hash & 0xFFFF_FFFF, radix: 16)
        return String(repeating: "0", count: 8 - text.count) + text
    }
}
