#ifndef THINBOOT_CFUZZ_DRIVER_H
#define THINBOOT_CFUZZ_DRIVER_H
// Each fuzz target's main.swift ends in this call: SwiftPM renames a Swift executable's `main` (so tests can link
// it) unless it is told about the fuzzer with --sanitize=fuzzer, and scripts/fuzz passes the sanitizers through
// -Xswiftc instead, so libFuzzer's own `main` never runs. libFuzzer's driver entry point works under either.

/// Runs libFuzzer over the target's LLVMFuzzerTestOneInput with the program's arguments; its exit status.
int thinboot_fuzz_main(int argc, char **argv);

#endif
