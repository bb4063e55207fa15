#include "kvs_bench_support.h"
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>

long long kvs_bench_live_heap(void) {
    struct mallinfo2 m = mallinfo2();
    return (long long)(m.uordblks + m.hblkhd);
}

void kvs_bench_trim_heap(void) { malloc_trim(0); }
#else
long long kvs_bench_live_heap(void) { return -1; }
void kvs_bench_trim_heap(void) {}
#endif
