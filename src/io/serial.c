/* serial.c -- little-endian binary writer and bounds-checked reader. See serial.h. */
#include "serial.h"

#include <string.h>

#include "stratagem/mem.h"

/* ---------------------------------------------------------------- writer */

void sg_wbuf_init(sg_wbuf *w) { memset(w, 0, sizeof *w); }

void sg_wbuf_deinit(sg_wbuf *w)
{
    if (!w) return;
    sg_free(w->data);
    memset(w, 0, sizeof *w);
}

void sg_wbuf_put(sg_wbuf *w, const void *p, size_t n)
{
    if (w->failed || n == 0) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        unsigned char *d = sg_realloc(w->data, cap);
        if (!d) {
            w->failed = 1;
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

/* The library assumes a little-endian host (x86-64, arm64); the file format is
 * little-endian, so values are copied as they are. */
void sg_wbuf_u32(sg_wbuf *w, uint32_t v) { sg_wbuf_put(w, &v, 4); }
void sg_wbuf_i32(sg_wbuf *w, int32_t v) { sg_wbuf_put(w, &v, 4); }
void sg_wbuf_u64(sg_wbuf *w, uint64_t v) { sg_wbuf_put(w, &v, 8); }
void sg_wbuf_i64(sg_wbuf *w, int64_t v) { sg_wbuf_put(w, &v, 8); }
void sg_wbuf_f32(sg_wbuf *w, float v) { sg_wbuf_put(w, &v, 4); }
void sg_wbuf_f64(sg_wbuf *w, double v) { sg_wbuf_put(w, &v, 8); }
void sg_wbuf_f32s(sg_wbuf *w, const float *v, size_t n) { sg_wbuf_put(w, v, n * sizeof *v); }
void sg_wbuf_f64s(sg_wbuf *w, const double *v, size_t n) { sg_wbuf_put(w, v, n * sizeof *v); }

void sg_wbuf_str(sg_wbuf *w, const char *s)
{
    if (!s) {
        sg_wbuf_u32(w, 0xFFFFFFFFu);
        return;
    }
    size_t n = strlen(s);
    sg_wbuf_u32(w, (uint32_t)n);
    sg_wbuf_put(w, s, n);
}

int sg_wbuf_status(const sg_wbuf *w, sg_error *err)
{
    if (w->failed) return sg_error_set(err, SG_ENOMEM, "out of memory while serialising");
    return SG_OK;
}

/* ---------------------------------------------------------------- reader */

void sg_rbuf_init(sg_rbuf *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

int sg_rbuf_get(sg_rbuf *r, void *p, size_t n, const char *what, sg_error *err)
{
    if (n > r->len - r->pos)
        return sg_error_set(err, SG_EPARSE,
                            "truncated data: needed %zu bytes for %s at offset %zu, %zu left",
                            n, what, r->pos, r->len - r->pos);
    if (n) memcpy(p, r->data + r->pos, n);
    r->pos += n;
    return SG_OK;
}

int sg_rbuf_u32(sg_rbuf *r, uint32_t *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 4, what, err); }
int sg_rbuf_i32(sg_rbuf *r, int32_t *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 4, what, err); }
int sg_rbuf_u64(sg_rbuf *r, uint64_t *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 8, what, err); }
int sg_rbuf_i64(sg_rbuf *r, int64_t *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 8, what, err); }
int sg_rbuf_f32(sg_rbuf *r, float *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 4, what, err); }
int sg_rbuf_f64(sg_rbuf *r, double *v, const char *what, sg_error *err) { return sg_rbuf_get(r, v, 8, what, err); }

int sg_rbuf_f32s(sg_rbuf *r, float *v, size_t n, const char *what, sg_error *err)
{
    if (n > (r->len - r->pos) / sizeof *v)
        return sg_error_set(err, SG_EPARSE, "truncated data: %zu floats for %s do not fit", n, what);
    return sg_rbuf_get(r, v, n * sizeof *v, what, err);
}

int sg_rbuf_f64s(sg_rbuf *r, double *v, size_t n, const char *what, sg_error *err)
{
    if (n > (r->len - r->pos) / sizeof *v)
        return sg_error_set(err, SG_EPARSE, "truncated data: %zu doubles for %s do not fit", n, what);
    return sg_rbuf_get(r, v, n * sizeof *v, what, err);
}

int sg_rbuf_str(sg_rbuf *r, char **out, size_t max_len, const char *what, sg_error *err)
{
    uint32_t n = 0;
    int rc = sg_rbuf_u32(r, &n, what, err);
    if (rc) return rc;
    if (n == 0xFFFFFFFFu) {
        *out = NULL;
        return SG_OK;
    }
    if (n > max_len || n > r->len - r->pos)
        return sg_error_set(err, SG_EPARSE, "corrupt data: %s has implausible length %u", what, n);
    char *s = sg_strndup((const char *)r->data + r->pos, n);
    if (!s) return sg_error_set(err, SG_ENOMEM, "out of memory reading %s", what);
    r->pos += n;
    *out = s;
    return SG_OK;
}

int sg_rbuf_count(sg_rbuf *r, int64_t *n, int64_t max, const char *what, sg_error *err)
{
    int64_t v = 0;
    int rc = sg_rbuf_i64(r, &v, what, err);
    if (rc) return rc;
    if (v < 0 || v > max)
        return sg_error_set(err, SG_EPARSE, "corrupt data: %s = %lld is out of range [0, %lld]",
                            what, (long long)v, (long long)max);
    *n = v;
    return SG_OK;
}

/* ---------------------------------------------------------------- crc32 */

uint32_t sg_crc32(uint32_t crc, const void *data, size_t n)
{
    static uint32_t table[256];
    static int ready;   /* benign race: every thread computes the same table */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
