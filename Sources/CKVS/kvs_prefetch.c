// CKVS is header-only (static inline functions that Swift inlines); SwiftPM wants one
// source file per C target.
#include "kvs_prefetch.h"
