#ifndef KVS_PREFETCH_H
#define KVS_PREFETCH_H

/// Asks the CPU to bring the cache line at `address` into its caches, for writing: a
/// hint that never faults (any address will do) and that Swift has no spelling for.
/// The expiry sweep uses it to overlap the cache misses of the entries it removes.
static inline __attribute__((always_inline)) void kvs_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
