// A counting malloc for the kvs-server executable: it defines the functions of glibc's
// "Replacing malloc" list, forwards each to glibc's own implementation (the exported
// `__libc_*` entry points) and counts `malloc_usable_size` of every block in and out.
// An executable's definitions interpose on libc's for the whole process (libswiftCore,
// Foundation, libc's internal calls), so the sum is every heap byte the process holds:
// Redis's `used_memory`. docs/design/memory-accounting.md has the design.
//
// The count lives in per-thread slots so that the hot path takes no lock prefix: a thread
// takes a slot on its first allocation and then updates it with a relaxed load and store
// (plain moves), as it is the slot's only writer. Threads beyond the slot count share a few
// slots with atomic adds. A block freed by another thread than the one that allocated it
// makes the freeing thread's slot go down; only the sum means anything.
#define _GNU_SOURCE  // strdup and malloc_usable_size under a strict -std=c11 too
#include "ckvs_allocator.h"
#include <stdlib.h>  // defines __GLIBC__ where glibc is the C library

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define CKVS_ALLOCATOR_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CKVS_ALLOCATOR_SANITIZED 1
#endif

// Only glibc exports `__libc_malloc` and its kin; a sanitizer defines malloc itself and
// must keep doing so. Everywhere else, and with CKVS_ALLOCATOR_DISABLED defined (the
// benchmark's baseline, scripts/bench-allocator.sh), this file compiles to the two
// queries' stubs.
#if defined(__linux__) && defined(__GLIBC__) && !defined(CKVS_ALLOCATOR_SANITIZED) && !defined(CKVS_ALLOCATOR_DISABLED)
#define CKVS_ALLOCATOR_COUNTS 1
#endif

#if CKVS_ALLOCATOR_COUNTS

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *block);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/// The slots one thread owns each; a thread past them counts in a shared slot.
#define CKVS_OWNED_SLOTS 128
#define CKVS_SHARED_SLOTS 8

/// One counter on its own cache line, so that threads' updates do not contend.
typedef struct {
    _Alignas(64) _Atomic(int64_t) bytes;
    char padding[64 - sizeof(int64_t)];
} ckvs_slot;

static ckvs_slot ckvs_owned[CKVS_OWNED_SLOTS];
static ckvs_slot ckvs_shared[CKVS_SHARED_SLOTS];
/// How many threads have taken a slot (may run past CKVS_OWNED_SLOTS).
static _Atomic(unsigned) ckvs_next_slot;

/// This thread's slot (NULL until its first allocation) and whether it owns it. Static TLS
/// of the executable: an access is one %fs-relative load.
static __thread ckvs_slot *ckvs_my_slot __attribute__((tls_model("initial-exec")));
static __thread int ckvs_my_slot_shared __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) static void ckvs_take_slot(void) {
    unsigned index = atomic_fetch_add_explicit(&ckvs_next_slot, 1, memory_order_relaxed);
    if (index < CKVS_OWNED_SLOTS) {
        ckvs_my_slot = &ckvs_owned[index];
        ckvs_my_slot_shared = 0;
    } else {
        ckvs_my_slot = &ckvs_shared[index % CKVS_SHARED_SLOTS];
        ckvs_my_slot_shared = 1;
    }
}

/// Adds `delta` to this thread's slot: a relaxed load and store on an owned slot (no
/// other thread writes it), an atomic add on a shared one.
static inline void ckvs_count(int64_t delta) {
    if (__builtin_expect(ckvs_my_slot == NULL, 0)) ckvs_take_slot();
    ckvs_slot *slot = ckvs_my_slot;
    if (__builtin_expect(ckvs_my_slot_shared, 0)) {
        atomic_fetch_add_explicit(&slot->bytes, delta, memory_order_relaxed);
    } else {
        int64_t now = atomic_load_explicit(&slot->bytes, memory_order_relaxed);
        atomic_store_explicit(&slot->bytes, now + delta, memory_order_relaxed);
    }
}

// The public functions' default visibility keeps them in the dynamic symbol table (GNU ld
// exports an executable's symbol that a shared library references).
#define CKVS_EXPORT __attribute__((visibility("default")))

CKVS_EXPORT void *malloc(size_t size) {
    void *block = __libc_malloc(size);
    if (block != NULL) ckvs_count((int64_t)malloc_usable_size(block));
    return block;
}

CKVS_EXPORT void free(void *block) {
    if (block == NULL) return;
    ckvs_count(-(int64_t)malloc_usable_size(block));
    __libc_free(block);
}

CKVS_EXPORT void *calloc(size_t count, size_t size) {
    void *block = __libc_calloc(count, size);
    if (block != NULL) ckvs_count((int64_t)malloc_usable_size(block));
    return block;
}

CKVS_EXPORT void *realloc(void *block, size_t size) {
    if (block == NULL) return malloc(size);
    size_t before = malloc_usable_size(block);
    void *moved = __libc_realloc(block, size);
    if (moved != NULL) {
        ckvs_count((int64_t)malloc_usable_size(moved) - (int64_t)before);
    } else if (size == 0) {
        // glibc's realloc(p, 0) frees p and answers NULL; any other NULL is a failure that
        // left p as it was.
        ckvs_count(-(int64_t)before);
    }
    return moved;
}

CKVS_EXPORT void *memalign(size_t alignment, size_t size) {
    void *block = __libc_memalign(alignment, size);
    if (block != NULL) ckvs_count((int64_t)malloc_usable_size(block));
    return block;
}

/// glibc's checks: the alignment a power of two and a multiple of a pointer's size, else
/// EINVAL (returned, errno untouched); ENOMEM when no block.
CKVS_EXPORT int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment == 0 || alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *block = memalign(alignment, size);
    if (block == NULL) return ENOMEM;
    *result = block;
    return 0;
}

/// C11's aligned_alloc as glibc 2.38 checks it: a power-of-two alignment, else NULL with
/// errno EINVAL.
CKVS_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return memalign(alignment, size);
}

CKVS_EXPORT void *valloc(size_t size) {
    void *block = __libc_valloc(size);
    if (block != NULL) ckvs_count((int64_t)malloc_usable_size(block));
    return block;
}

CKVS_EXPORT void *pvalloc(size_t size) {
    void *block = __libc_pvalloc(size);
    if (block != NULL) ckvs_count((int64_t)malloc_usable_size(block));
    return block;
}

size_t ckvs_allocator_used_bytes(void) {
    // Only the slots taken so far: a process has a few dozen threads, not 128.
    unsigned taken = atomic_load_explicit(&ckvs_next_slot, memory_order_relaxed);
    unsigned owned = taken < CKVS_OWNED_SLOTS ? taken : CKVS_OWNED_SLOTS;
    int64_t sum = 0;
    for (unsigned i = 0; i < owned; i++) sum += atomic_load_explicit(&ckvs_owned[i].bytes, memory_order_relaxed);
    if (taken > CKVS_OWNED_SLOTS) {
        for (unsigned i = 0; i < CKVS_SHARED_SLOTS; i++) {
            sum += atomic_load_explicit(&ckvs_shared[i].bytes, memory_order_relaxed);
        }
    }
    // A block allocated before the first count (the dynamic loader's own early ones) and
    // freed later could take the sum below zero.
    return sum > 0 ? (size_t)sum : 0;
}

/// -1 until the first query, then 0 or 1.
static _Atomic(int) ckvs_counting = -1;

int ckvs_allocator_is_counting(void) {
    int known = atomic_load_explicit(&ckvs_counting, memory_order_acquire);
    if (known >= 0) return known;
    // libc's strdup allocates through the interposable malloc: if this thread's slot moves
    // by the block's size, every library's allocations reach this file's malloc. Called
    // through a volatile pointer so that the compiler cannot turn it into malloc + memcpy.
    static const char probe[] = "ckvs-allocator-probe";
    char *(*volatile duplicate)(const char *) = strdup;
    if (ckvs_my_slot == NULL) ckvs_take_slot();
    int64_t before = atomic_load_explicit(&ckvs_my_slot->bytes, memory_order_relaxed);
    char *copy = duplicate(probe);
    int64_t after = atomic_load_explicit(&ckvs_my_slot->bytes, memory_order_relaxed);
    int counting = copy != NULL && !ckvs_my_slot_shared && after - before == (int64_t)malloc_usable_size(copy);
    free(copy);
    atomic_store_explicit(&ckvs_counting, counting, memory_order_release);
    return counting;
}

#else

size_t ckvs_allocator_used_bytes(void) { return 0; }

int ckvs_allocator_is_counting(void) { return 0; }

#endif
