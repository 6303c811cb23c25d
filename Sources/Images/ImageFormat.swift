/// What an image file holds, as `thinboot.exports()` and `thinboot check` name it.
public enum ImageFormat: String, Sendable, Hashable {
    /// A squashfs file system (what `ltsp-update-image` and `ltsp image` write).
    case squashfs
    /// An ext2, ext3 or ext4 file system.
    case ext4
    /// A disk with an MBR or GPT partition table; files are read from one of its partitions.
    case raw
}

/// The library that reads a file system.
enum FileSystemKind: Sendable {
    case squashfs
    case ext

    /// What the bytes at the start of a file system say it is, or nil.
    init?(sniffing start: [UInt8]) {
        if start.count >= 4, start[0..<4] == [0x68, 0x73, 0x71, 0x73] {  // "hsqs"
            self = .squashfs
        } else if start.count >= 1082, start[1080] == 0x53, start[1081] == 0xEF {  // 0xEF53 at 1024 + 56
            self = .ext
        } else {
            return nil
        }
    }
}
