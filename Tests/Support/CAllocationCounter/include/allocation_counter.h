#ifndef LATENTD_ALLOCATION_COUNTER_H
#define LATENTD_ALLOCATION_COUNTER_H
#include <stdint.h>
/// Heap allocations (malloc, calloc, realloc) made by the calling thread so far.
/// Thread-local, so tests running in parallel do not see each other's allocations.
uint64_t latentd_thread_allocations(void);
#endif
