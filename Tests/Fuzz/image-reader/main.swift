import CFuzzDriver
import CImageReaders
import Files
import Glibc
import Images

// A mutated image file through the reader the routes use: FileSystemImage opens it (squashfs, ext2/3/4 or a
// partitioned disk), lists the root, walks the folders, follows the symlinks and reads every file. The seeds are
// small images made by mksquashfs (gzip, xz, zstd), mkfs.ext4 -d and sfdisk, stored without their trailing zeros:
// the image is the input followed by zeros up to `paddedSize`, as a file system's unused end would be.
// The seed tree: boot/{vmlinuz-6.1, initrd.img-6.1, current -> vmlinuz-6.1}, etc/passwd, dir/sub/deep.txt, empty,
// one, a sparse file, and symlinks relative, absolute, climbing (`up`, `escape -> /../../../etc/passwd`), a loop and a
// 70-byte target (not a fast symlink). The seeds were made with
//   mksquashfs tree squashfs-C.img -comp C -b 4096 -nopad -all-root   (C = gzip, xz, zstd)
//   mkfs.ext4 -b 1024 -N 32 -O ^has_journal,^resize_inode[,inline_data] -d tree ext4.img (64 KiB), and -t ext2 -I 128
//   sfdisk: gpt.img (4-entry GPT, the gzip squashfs at LBA 3), dos.img (an EFI slot, then type 83 at sector 3)
// and what the target found: squashfs-huge-symlink.img (a symlink inode claiming a 236 MB target) and
// squashfs-huge-folder-index-name.img (a folder index entry claiming a 4 GiB name).
// Beyond "no crash, no leak":
// - nothing leaves the image: `..` at the root stays there, so "../../" + a path and "/" + a path answer exactly
//   what the path answers;
// - a file reads as exactly its size, and refused reads say why with an ImageError;
// - no descriptor outlives the image (the lowest free descriptor is the same after each input).

/// Enough for the seeds' file systems (64 one-KiB blocks) and their partitions.
let paddedSize = 64 << 10
/// Bounds per input, so a corrupt folder of many names or a deep tree costs little time.
let maximumPaths = 48
let maximumDepth = 6
let readLimit = 256 << 10

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageReader(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let freeDescriptor = lowestFreeDescriptor()
    if let image = open(UnsafeBufferPointer(start: start, count: count)) {
        var walk = Walk(image: image)
        walk.folder("", depth: 0)
    }
    precondition(lowestFreeDescriptor() == freeDescriptor, "a descriptor was left open")
    return 0
}

/// The image of `bytes` padded with zeros, opened as a whole file or a disk's first Linux partition; nil when the
/// reader refuses it (which it must say with an ImageError).
func open(_ bytes: UnsafeBufferPointer<UInt8>) -> FileSystemImage? {
    let descriptor = thinboot_memory_file(bytes.baseAddress, bytes.count)
    precondition(descriptor >= 0, "memfd: errno \(errno)")
    precondition(ftruncate(descriptor, off_t(max(bytes.count, paddedSize))) == 0, "ftruncate: errno \(errno)")
    do {
        return try FileSystemImage(file: try OpenedFile(adopting: descriptor, path: "(fuzz)"))
    } catch let error as ImageError {
        precondition(error.path.isEmpty, "opening failed for a path: \(error)")
        return nil
    } catch {
        preconditionFailure("opening failed with \(error), not an ImageError")
    }
}

func lowestFreeDescriptor() -> CInt {
    let probe = dup(0)
    close(probe)
    return probe
}

/// What reading a path answered: its bytes or the kind of error.
enum Outcome: Equatable {
    case bytes([UInt8])
    case failed(ImageError.Kind)
}

struct Walk {
    let image: FileSystemImage
    var visited = 0

    init(image: FileSystemImage) { self.image = image }

    /// Lists the folder at `path` and visits each name in it, within the bounds.
    mutating func folder(_ path: String, depth: Int) {
        guard depth <= maximumDepth, let names = try? image.list(path) else { return }
        for name in names {
            precondition(!name.isEmpty && name != "." && name != "..", "the listing of /\(path) holds \"\(name)\"")
            guard visited < maximumPaths else { return }
            visited += 1
            let child = path.isEmpty ? name : path + "/" + name
            if case .failed(.isDirectory) = read(child) { folder(child, depth: depth + 1) }
        }
    }

    /// Reads `path` (following its symlinks), checks the answer, and that the other spellings answer the same.
    func read(_ path: String) -> Outcome {
        let outcome = Self.outcome { () throws(ImageError) in try image.read(path, limit: readLimit) }
        if case .bytes(let bytes) = outcome {
            let size = try? image.size(of: path)
            precondition(
                size == bytes.count, "/\(path) read \(bytes.count) bytes, its size is \(String(describing: size))")
        }
        for spelling in ["../../" + path, "/" + path] {
            let other = Self.outcome { () throws(ImageError) in try image.read(spelling, limit: readLimit) }
            precondition(other == outcome, "\(spelling) answered \(other), /\(path) answered \(outcome)")
        }
        return outcome
    }

    static func outcome(_ body: () throws(ImageError) -> [UInt8]) -> Outcome {
        do throws(ImageError) { return .bytes(try body()) } catch { return .failed(error.kind) }
    }
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
