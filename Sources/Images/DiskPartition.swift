import Files

/// One partition of a raw disk image, from its MBR or GPT: a byte range of the image file.
struct DiskPartition: Sendable, Hashable {
    /// 1-based, as `sfdisk` and the kernel (`sda1`) count: MBR slots 1...4, GPT entries in table order.
    let number: Int
    let offset: UInt64
    let length: UInt64
    /// MBR type 0x83, or GPT's Linux file system data type.
    let isLinux: Bool

    /// The sector size both tables are read with: what `sfdisk` and disk images use.
    static let sectorSize: UInt64 = 512
    /// GPT's Linux file system data type 0FC63DAF-8483-4772-8E79-3D69D8477DE4, as stored (mixed endian).
    static let linuxGPTType: [UInt8] = [
        0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4,
    ]
    /// At most this many GPT entries are read (the usual table has 128).
    static let maximumGPTEntries = 1024

    /// The partitions of the disk in `file`, empty when the first sector holds no partition table.
    static func partitions(in file: OpenedFile) throws(FileReadError) -> [DiskPartition] {
        let mbr = try bytes(of: file, at: 0, count: 512)
        guard mbr.count == 512, mbr[510] == 0x55, mbr[511] == 0xAA else { return [] }
        var found: [DiskPartition] = []
        for slot in 0..<4 {
            let entry = 446 + slot * 16
            let type = mbr[entry + 4]
            let start = UInt64(le32(mbr, entry + 8)) * sectorSize
            let sectors = UInt64(le32(mbr, entry + 12)) * sectorSize
            if type == 0xEE { return try gptPartitions(in: file) }
            guard type != 0, sectors > 0 else { continue }
            found.append(DiskPartition(number: slot + 1, offset: start, length: sectors, isLinux: type == 0x83))
        }
        return found
    }

    /// The partition `number`, or else the first Linux one; it must lie inside the file.
    static func choose(_ number: Int?, from partitions: [DiskPartition], fileSize: Int) -> DiskPartition? {
        let chosen = number.map { n in partitions.first { $0.number == n } } ?? partitions.first(where: \.isLinux)
        guard let chosen, chosen.offset < UInt64(fileSize), chosen.length <= UInt64(fileSize) - chosen.offset else {
            return nil
        }
        return chosen
    }

    private static func gptPartitions(in file: OpenedFile) throws(FileReadError) -> [DiskPartition] {
        let header = try bytes(of: file, at: sectorSize, count: 92)
        guard header.count == 92, header[0..<8] == Array("EFI PART".utf8)[...] else { return [] }
        let tableStart = le64(header, 72) &* sectorSize
        let count = Int(le32(header, 80))
        let entrySize = Int(le32(header, 84))
        guard (128...4096).contains(entrySize), count > 0 else { return [] }
        let table = try bytes(of: file, at: tableStart, count: min(count, maximumGPTEntries) * entrySize)
        var found: [DiskPartition] = []
        for index in 0..<(table.count / entrySize) {
            let entry = index * entrySize
            let type = Array(table[entry..<(entry + 16)])
            guard type.contains(where: { $0 != 0 }) else { continue }
            let first = le64(table, entry + 32)
            let last = le64(table, entry + 40)
            // A range whose end is past 2^64 bytes lies in no file; wrapping it could land on real bytes.
            guard last >= first, last < UInt64.max / sectorSize else { continue }
            found.append(
                DiskPartition(
                    number: index + 1, offset: first * sectorSize, length: (last - first + 1) * sectorSize,
                    isLinux: type == linuxGPTType))
        }
        return found
    }

    private static func bytes(of file: OpenedFile, at offset: UInt64, count: Int) throws(FileReadError) -> [UInt8] {
        guard offset < UInt64(Int.max - count) else { return [] }
        return try file.bytes(at: Int(offset), count: count)
    }

    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    private static func le64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
    }
}
