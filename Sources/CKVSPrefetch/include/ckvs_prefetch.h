#ifndef CKVS_PREFETCH_H
#define CKVS_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for reading, and returns at
/// once. A hint only: it never faults, whatever `address` is (even freed or unmapped
/// memory), and changes no program state, so it needs no synchronization. Swift has no
/// prefetch of its own; this compiles to one `prefetcht0` (x86) or `prfm pldl1keep` (Arm).
static inline void ckvs_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// As `ckvs_prefetch`, for a line about to be written: the expiry sweep uses it to overlap
/// the cache misses of the entries it removes.
static inline void ckvs_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
