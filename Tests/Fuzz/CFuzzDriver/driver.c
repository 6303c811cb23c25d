#include "CFuzzDriver.h"

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver for programs with their own main (compiler-rt FuzzerInterface.h) and the target's callback.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int thinboot_fuzz_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }
