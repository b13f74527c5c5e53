/* interactions_private.h -- model-file serialisation of sg_interactions (never installed).
 *
 * A recommender stores its training interactions (item dictionary, users and
 * their histories) inside its model file, so that 'recommend --user ID' needs
 * no data file.  Layout (little-endian, io/serial.h): u32 magic "SGIA", u32
 * version, user/item/rating column names (str; rating may be NULL), f64
 * min_rating, then for users and for items: i64 count, i64 text bytes, the
 * NUL-terminated labels back to back; then i64 nnz, row_ptr (n_users+1 i64),
 * col_idx (nnz i32).  Reading checks every count against the bytes left and
 * every index against its range before allocating or using it. */
#ifndef SG_INTERACTIONS_PRIVATE_H
#define SG_INTERACTIONS_PRIVATE_H

#include "internal.h"
#include "io/serial.h"
#include "stratagem/interactions.h"

/* Append 'x' to 'w' (errors are recorded in 'w'). */
SG_INTERNAL void sg_interactions_write(const sg_interactions *x, sg_wbuf *w);
/* Read an object written by sg_interactions_write; *out owned by the caller.
 * SG_EPARSE naming what is corrupt or truncated, SG_ENOMEM. */
SG_INTERNAL int sg_interactions_read(sg_interactions **out, sg_rbuf *r, sg_error *err);

#endif
