/* serial.h -- little-endian binary writer and bounds-checked reader.
 *
 * Models serialise themselves into an sg_wbuf and parse from an sg_rbuf.  The
 * reader never reads past its end: every get returns SG_EPARSE with a message
 * naming what was being read when the data runs out or is implausible, so a
 * truncated or corrupt model file gives a clear error, not a crash. */
#ifndef SG_SERIAL_H
#define SG_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include "../internal.h"
#include "stratagem/error.h"

typedef struct sg_wbuf {
    unsigned char *data;  /* (cap) bytes, owned */
    size_t len, cap;
    int failed;           /* set once an allocation failed; later puts are no-ops */
} sg_wbuf;

typedef struct sg_rbuf {
    const unsigned char *data;  /* borrowed */
    size_t len, pos;
} sg_rbuf;

SG_INTERNAL void sg_wbuf_init(sg_wbuf *w);
SG_INTERNAL void sg_wbuf_deinit(sg_wbuf *w);
SG_INTERNAL void sg_wbuf_put(sg_wbuf *w, const void *p, size_t n);
SG_INTERNAL void sg_wbuf_u32(sg_wbuf *w, uint32_t v);
SG_INTERNAL void sg_wbuf_i32(sg_wbuf *w, int32_t v);
SG_INTERNAL void sg_wbuf_u64(sg_wbuf *w, uint64_t v);
SG_INTERNAL void sg_wbuf_i64(sg_wbuf *w, int64_t v);
SG_INTERNAL void sg_wbuf_f32(sg_wbuf *w, float v);
SG_INTERNAL void sg_wbuf_f64(sg_wbuf *w, double v);
SG_INTERNAL void sg_wbuf_f32s(sg_wbuf *w, const float *v, size_t n);
SG_INTERNAL void sg_wbuf_f64s(sg_wbuf *w, const double *v, size_t n);
SG_INTERNAL void sg_wbuf_str(sg_wbuf *w, const char *s);   /* u32 length + bytes; NULL as length 0xFFFFFFFF */
/* SG_OK, or SG_ENOMEM if any put failed. */
SG_INTERNAL int sg_wbuf_status(const sg_wbuf *w, sg_error *err);

SG_INTERNAL void sg_rbuf_init(sg_rbuf *r, const void *data, size_t len);
SG_INTERNAL int sg_rbuf_get(sg_rbuf *r, void *p, size_t n, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_u32(sg_rbuf *r, uint32_t *v, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_i32(sg_rbuf *r, int32_t *v, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_u64(sg_rbuf *r, uint64_t *v, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_i64(sg_rbuf *r, int64_t *v, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_f32(sg_rbuf *r, float *v, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_f64(sg_rbuf *r, double *v, const char *what, sg_error *err);
/* Read n floats into a caller buffer. */
SG_INTERNAL int sg_rbuf_f32s(sg_rbuf *r, float *v, size_t n, const char *what, sg_error *err);
SG_INTERNAL int sg_rbuf_f64s(sg_rbuf *r, double *v, size_t n, const char *what, sg_error *err);
/* Read a string; *out is owned by the caller (sg_free), NULL if NULL was written.
 * Strings longer than 'max_len' are refused as corrupt. */
SG_INTERNAL int sg_rbuf_str(sg_rbuf *r, char **out, size_t max_len, const char *what, sg_error *err);
/* Read a count and check it against 'max' (corrupt files must not make us allocate 2^60 bytes). */
SG_INTERNAL int sg_rbuf_count(sg_rbuf *r, int64_t *n, int64_t max, const char *what, sg_error *err);

/* CRC-32 (IEEE) of a byte range, for whole-file checksums. */
SG_INTERNAL uint32_t sg_crc32(uint32_t crc, const void *data, size_t n);

#endif
