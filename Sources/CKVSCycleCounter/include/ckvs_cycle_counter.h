#ifndef CKVS_CYCLE_COUNTER_H
#define CKVS_CYCLE_COUNTER_H

#include <stdint.h>

/// Whether `ckvs_cycle_counter` reads a hardware counter on this architecture: 1 on x86
/// (the time-stamp counter), 0 elsewhere.
static inline int ckvs_cycle_counter_exists(void) {
#if defined(__x86_64__) || defined(__i386__)
    return 1;
#else
    return 0;
#endif
}

/// The time-stamp counter (`rdtsc`), or 0 where `ckvs_cycle_counter_exists` is 0. Not
/// serializing: it may be read a few instructions early or late, which is below what a
/// command's duration needs. It counts at a constant rate only where the CPU says so
/// (`constant_tsc`) and agrees across cores only where the kernel checked it (Linux's `tsc`
/// clock source); its callers check both. Swift has no intrinsic for it, hence this shim.
static inline uint64_t ckvs_cycle_counter(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

#endif
