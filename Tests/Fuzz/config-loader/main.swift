import CFuzzDriver
import Glibc
import Thinboot

// Arbitrary text as a config file, through the loader `thinboot serve` and `thinboot check` use: TOML parsing
// (toml++ through CTOMLReader), then every section's checks. Every input ends in a config or a ConfigError, never a crash.
// Beyond that: a config that loads names only absolute paths (relative ones resolve against the file's folder).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    guard let config = try? ThinbootConfig.parse(text, file: "/nonexistent/thinboot-fuzz/thinboot.toml") else {
        return 0
    }
    if let root = config.tftp?.root { precondition(root.hasPrefix("/"), "root \(root) is not absolute") }
    return 0
}

exit(thinboot_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
