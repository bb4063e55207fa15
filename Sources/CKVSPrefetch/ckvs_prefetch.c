// The module is header-only (a static inline function); SwiftPM needs one source file.
#include "ckvs_prefetch.h"
