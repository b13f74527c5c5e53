/* mem.c -- the library's allocator wrapper: byte counting and failure injection.
 *
 * Each block carries a 16-byte header holding its size so that live bytes can
 * be counted without a table.  Counters are C11 atomics: the allocator is
 * called from worker threads. See LICENSE. */
#include "stratagem/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16

static _Atomic int64_t live_bytes;
static _Atomic int64_t n_allocs;
static _Atomic int64_t fail_at = -1;   /* allocation index that starts failing, -1 = never */

static int should_fail(void)
{
    int64_t k = atomic_fetch_add(&n_allocs, 1);
    int64_t f = atomic_load(&fail_at);
    return f >= 0 && k >= f;
}

void *sg_malloc(size_t n)
{
    if (n > SIZE_MAX - HDR || should_fail()) return NULL;
    unsigned char *p = malloc(n + HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&live_bytes, (int64_t)n);
    return p + HDR;
}

void *sg_malloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return sg_malloc(count * size);
}

void *sg_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = sg_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *sg_realloc(void *p, size_t n)
{
    if (!p) return sg_malloc(n);
    if (n > SIZE_MAX - HDR || should_fail()) return NULL;
    unsigned char *base = (unsigned char *)p - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *q = realloc(base, n + HDR);
    if (!q) return NULL;
    memcpy(q, &n, sizeof n);
    atomic_fetch_add(&live_bytes, (int64_t)n - (int64_t)old);
    return q + HDR;
}

void sg_free(void *p)
{
    if (!p) return;
    unsigned char *base = (unsigned char *)p - HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub(&live_bytes, (int64_t)n);
    free(base);
}

char *sg_strndup(const char *s, size_t n)
{
    char *d = sg_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sg_strdup(const char *s)
{
    return s ? sg_strndup(s, strlen(s)) : NULL;
}

int64_t sg_mem_live_bytes(void) { return atomic_load(&live_bytes); }
int64_t sg_mem_count(void) { return atomic_load(&n_allocs); }

void sg_mem_fail_after(int64_t n)
{
    atomic_store(&fail_at, n < 0 ? -1 : atomic_load(&n_allocs) + n);
}
