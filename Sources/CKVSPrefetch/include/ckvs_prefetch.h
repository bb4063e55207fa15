#ifndef CKVS_PREFETCH_H
#define CKVS_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for reading, and returns at
/// once. A hint only: it never faults, whatever `address` is (even freed or unmapped
/// memory), and changes no program state, so it needs no synchronization. Swift has no
/// prefetch of its own; this compiles to one `prefetcht0` (x86) or `prfm pldl1keep` (Arm).
static inline void ckvs_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
