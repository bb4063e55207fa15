// In a source file, not inline in the header, so that SwiftPM compiles it with the
// build's sanitizer flags and `__has_feature` sees them.
#include "ckvs_heap.h"

#include <stdlib.h>  // defines __GLIBC__ where glibc is the C library

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
// A sanitizer's runtime replaces malloc: glibc's arenas are never set up, and mallinfo2
// walks an uninitialized arena (it crashes under ThreadSanitizer).
#define CKVS_HEAP_SANITIZED 1
#endif
#endif

void ckvs_heap_usage(size_t *allocated, size_t *held) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)) && !defined(CKVS_HEAP_SANITIZED)
    struct mallinfo2 info = mallinfo2();
    *allocated = info.uordblks + info.hblkhd;
    *held = info.arena + info.hblkhd;
#else
    *allocated = 0;
    *held = 0;
#endif
}

int ckvs_heap_trim(void) {
#if defined(__GLIBC__) && !defined(CKVS_HEAP_SANITIZED)
    return malloc_trim(0);
#else
    return 0;
#endif
}
