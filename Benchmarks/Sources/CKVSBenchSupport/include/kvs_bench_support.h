#ifndef KVS_BENCH_SUPPORT_H
#define KVS_BENCH_SUPPORT_H

/// glibc malloc's in-use bytes (mallinfo2: uordblks + hblkhd), as the anchors' C++ and
/// Rust programs report L_heap; -1 where mallinfo2 is not available.
long long kvs_bench_live_heap(void);

/// Returns free heap pages to the system (malloc_trim(0)); no-op elsewhere.
void kvs_bench_trim_heap(void);

#endif
