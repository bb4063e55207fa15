#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt's `FuzzerDriver`): parses libFuzzer's command line in
/// `argc`/`argv` and runs `callback` on each input. Defined by the runtime that
/// `-sanitize=fuzzer` links; a target's own `main` calls it, because SwiftPM gives every
/// executable a `main` of its own.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
