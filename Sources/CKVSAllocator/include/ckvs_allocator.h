#ifndef CKVS_ALLOCATOR_H
#define CKVS_ALLOCATOR_H

#include <stddef.h>

/// The bytes in the heap blocks the process holds now: the sum of `malloc_usable_size`
/// over every block malloc, calloc, realloc and the aligned allocators handed out and free
/// or realloc did not take back. Redis's `used_memory` counts the same way (zmalloc's
/// `used_memory`). 0 where the counting allocator is not compiled in (see
/// `ckvs_allocator_is_counting`).
///
/// Thread-safe; costs one relaxed load per thread that has allocated (a slot each, up to
/// 128, then 8 shared slots).
size_t ckvs_allocator_used_bytes(void);

/// 1 when this executable's malloc family counts every allocation of the process (glibc,
/// no sanitizer, and the executable's malloc interposed on libc's for every library), 0
/// otherwise. The first call checks interposition by having libc allocate a block; later
/// calls load a cached answer.
///
/// Thread-safe.
int ckvs_allocator_is_counting(void);

#endif
