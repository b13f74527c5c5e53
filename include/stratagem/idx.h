/* idx.h -- reader for IDX files (MNIST, Fashion-MNIST), gzipped or not.
 *
 * IDX is big-endian: a magic number 0x0000TTNN (TT the element type, NN the
 * number of dimensions), NN uint32 sizes, then the elements row-major.  Only
 * unsigned bytes (TT = 0x08) are read, which is what image and label files
 * hold.  Files are read through zlib, so "x.gz" and an uncompressed "x" both
 * work; a corrupt gzip stream, a bad magic, a truncated body or trailing bytes
 * are errors that name the file and what is wrong.
 *
 * An image dataset folder in the Fashion-MNIST layout holds, for a split
 * "train" or "t10k", SPLIT-images-idx3-ubyte.gz (N,rows,cols) and
 * SPLIT-labels-idx1-ubyte.gz (N), and optionally classes.csv ("label,name" with
 * labels 0..n-1 in order).  See LICENSE for copyright. */
#ifndef SG_IDX_H
#define SG_IDX_H

#include <stdint.h>

#include "error.h"

#define SG_IDX_MAX_DIMS 4
#define SG_IDX_MAX_BYTES ((int64_t)1 << 32)   /* larger bodies are refused as corrupt */

/* Read an unsigned-byte IDX file with exactly 'ndim' dimensions (1..SG_IDX_MAX_DIMS).
 * [out] dims (ndim) the sizes; [out] *data the elements (product of dims bytes),
 * owned by the caller (sg_free).  Errors: SG_EIO (cannot open or read, corrupt
 * gzip stream), SG_EPARSE (bad magic, other element type or dimension count, zero
 * size, truncated body, trailing bytes), SG_ENOMEM.  Outputs untouched on error. */
int sg_idx_read_u8(const char *path, int ndim, int64_t *dims, uint8_t **data, sg_error *err);

/* Images with their labels, owned by the struct (sg_image_data_deinit). */
typedef struct sg_image_data {
    uint8_t *pixels;   /* (n, rows, cols) grey levels, 0 = background */
    uint8_t *labels;   /* (n) class ids */
    int64_t n;
    int rows, cols;
} sg_image_data;

/* Load split 'split' ("train" or "t10k") of the dataset folder 'dir' into 'out'
 * (overwritten; deinit it).  Checks that the image and label counts agree and
 * that every label is below 'n_classes' (> 0, at most 256).  Errors as
 * sg_idx_read_u8, and SG_EPARSE for the cross-checks.  'out' is zeroed on error. */
int sg_image_data_load(sg_image_data *out, const char *dir, const char *split, int n_classes,
                       sg_error *err);
/* Free the arrays; the struct is zeroed.  NULL is a no-op. */
void sg_image_data_deinit(sg_image_data *d);

/* Read a "label,name" class list (header line first; labels 0, 1, ... in order; names
 * non-empty, optionally double-quoted, at most 63 bytes).  [out] *names (n_classes
 * strings) owned by the caller: sg_idx_names_free(*names, *n_classes).  At most 256
 * classes.  SG_EIO, SG_EPARSE (naming file:line), SG_ENOMEM. */
int sg_idx_read_class_names(const char *path, char ***names, int *n_classes, sg_error *err);
void sg_idx_names_free(char **names, int n_classes);

#endif
