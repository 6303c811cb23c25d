import CFuzzDriver
import Files
import Glibc
import TFTP

// A request's file name through the server's path: TFTPPath.normalise, then the confined walk of a fixture tree
// full of symlinks that lead out. The property: whatever opens is one of the regular files inside the root, never
// one outside it. The raw name goes to the walk as well (without normalising), since the walk must hold on its own.

/// The fixture, made once per process in a fresh temporary folder:
/// root/{boot/pxelinux.0, boot/grub/grub.cfg, a/b/c/deep} inside; `secret`, `outside/inner` and `\u{301}x` outside;
/// symlinks inside the root that stay inside (`inside`, `boot/up`, `bootdir`, `a/b/back`) and that lead out
/// (absolute, `climb`, `parent -> ..`, `a/b/out`), a loop and a FIFO.
struct Fixture {
    let root: ConfinedDirectory
    /// (device, inode) of every regular file under the root.
    let inside: Set<[UInt64]>

    init() {
        var template = Array("/tmp/thinboot-fuzz-walk-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
        let base = String(cString: made)
        for folder in ["root", "root/boot", "root/boot/grub", "root/a", "root/a/b", "root/a/b/c", "outside"] {
            precondition(mkdir("\(base)/\(folder)", 0o755) == 0, "mkdir \(folder)")
        }
        let files = ["root/boot/pxelinux.0", "root/boot/grub/grub.cfg", "root/a/b/c/deep"]
        for file in files + ["secret", "outside/inner", "\u{301}x"] {
            let descriptor = open("\(base)/\(file)", O_WRONLY | O_CREAT | O_EXCL, 0o644)
            precondition(descriptor >= 0 && write(descriptor, file, file.utf8.count) > 0, "write \(file)")
            close(descriptor)
        }
        let links = [
            ("root/inside", "boot/pxelinux.0"), ("root/boot/up", "../boot/pxelinux.0"), ("root/bootdir", "boot"),
            ("root/a/b/back", "../../boot"), ("root/absolute", "\(base)/secret"), ("root/climb", "../secret"),
            ("root/parent", ".."), ("root/a/b/out", "../../../outside/inner"), ("root/loop", "loop"),
        ]
        for (link, target) in links { precondition(symlink(target, "\(base)/\(link)") == 0, "symlink \(link)") }
        precondition(mkfifo("\(base)/root/fifo", 0o644) == 0, "mkfifo")
        inside = Set(
            files.map { file in
                var info = stat()
                precondition(stat("\(base)/\(file)", &info) == 0)
                return [UInt64(info.st_dev), UInt64(info.st_ino)]
            })
        do { root = try ConfinedDirectory(path: "\(base)/root") } catch { fatalError("\(error)") }
    }
}

let fixture = Fixture()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfinedWalk(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let name = Array(UnsafeBufferPointer(start: start, count: count))
    if let path = try? TFTPPath.normalise(name) { checkConfined(path) }
    checkConfined(String(decoding: name, as: UTF8.self))
    return 0
}

func checkConfined(_ path: String) {
    guard let opened = try? fixture.root.open(path) else { return }
    let version = opened.version
    precondition(fixture.inside.contains([version.device, version.inode]), "\(path) opened a file outside the root")
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
