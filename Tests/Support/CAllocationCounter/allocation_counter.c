// Counts heap allocations per thread by interposing malloc/calloc/realloc and
// forwarding to glibc's own entry points. Linked only into the test binary, to
// prove that the per-observation hot path allocates nothing.
#include <stddef.h>
#include <stdint.h>
#include "allocation_counter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static __thread uint64_t allocations;

uint64_t latentd_thread_allocations(void) { return allocations; }

void *malloc(size_t size) {
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    allocations++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    allocations++;
    return __libc_realloc(p, size);
}
