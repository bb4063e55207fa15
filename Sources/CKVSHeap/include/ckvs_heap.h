#ifndef CKVS_HEAP_H
#define CKVS_HEAP_H

#include <stddef.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// What glibc's malloc holds, from `mallinfo2` (summed over its arenas): `allocated` the
/// bytes in chunks handed out (mmapped ones included), `held` the bytes it holds from the
/// system. Both 0 where glibc (2.33 or later) is not the allocator. Swift's Glibc module
/// does not export <malloc.h>, hence this shim; MEMORY STATS reads it.
static inline void ckvs_heap_usage(size_t *allocated, size_t *held) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    *allocated = info.uordblks + info.hblkhd;
    *held = info.arena + info.hblkhd;
#else
    *allocated = 0;
    *held = 0;
#endif
}

/// Returns free heap pages to the system (`malloc_trim(0)`) where glibc is the allocator;
/// MEMORY PURGE calls it. Returns whether any memory was released.
static inline int ckvs_heap_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

#endif
