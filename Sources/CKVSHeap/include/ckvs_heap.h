#ifndef CKVS_HEAP_H
#define CKVS_HEAP_H

#include <stddef.h>

/// What glibc's malloc holds, from `mallinfo2` (summed over its arenas): `allocated` the
/// bytes in chunks handed out (mmapped ones included), `held` the bytes it holds from the
/// system. Both 0 where glibc (2.33 or later) is not the allocator, as under a sanitizer.
/// Swift's Glibc module does not export <malloc.h>, hence this shim; MEMORY STATS and the
/// default memory gauge read it.
void ckvs_heap_usage(size_t *allocated, size_t *held);

/// Returns free heap pages to the system (`malloc_trim(0)`) where glibc is the allocator;
/// MEMORY PURGE calls it. Returns whether any memory was released.
int ckvs_heap_trim(void);

#endif
