/* mem.h -- the one allocator of the library.
 *
 * All allocation in src/ goes through these functions (as Redis routes
 * everything through zmalloc), which gives one place to count live bytes and
 * to inject failures in tests: sg_mem_fail_after(N) makes the allocation after
 * the next N succeed-ones fail, so error paths can be exercised for every N.
 * sg_free(NULL) is a harmless no-op. */
#ifndef SG_MEM_H
#define SG_MEM_H

#include <stddef.h>
#include <stdint.h>

void *sg_malloc(size_t n);                 /* NULL on failure (or injected failure) */
void *sg_calloc(size_t count, size_t size); /* zeroed; NULL on failure or overflow */
void *sg_realloc(void *p, size_t n);       /* NULL on failure, 'p' then still valid */
void *sg_malloc_array(size_t count, size_t size); /* NULL on failure or overflow */
void sg_free(void *p);
char *sg_strdup(const char *s);            /* owned by caller, sg_free it */
char *sg_strndup(const char *s, size_t n);

/* Bytes currently allocated through sg_* (all threads). */
int64_t sg_mem_live_bytes(void);
/* Number of allocations made so far (for failure injection loops). */
int64_t sg_mem_count(void);
/* Make the allocation number 'n' from now (0 = the next one) fail, and every
 * one after it; n < 0 disables injection. */
void sg_mem_fail_after(int64_t n);

#endif
