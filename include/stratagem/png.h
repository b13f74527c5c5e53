/* png.h -- grayscale PNG files through libpng: single images and image grids.
 *
 * Pixels are 8-bit grey levels, row-major (rows, cols), 0 = black.  Writing is
 * atomic (a temporary file renamed into place), as for model files.  See
 * LICENSE for copyright. */
#ifndef SG_PNG_H
#define SG_PNG_H

#include <stdint.h>

#include "error.h"

/* Write one grayscale image 'pixels' (rows, cols) to 'path'.  SG_EINVAL for empty
 * or oversized (> 65535) dimensions, SG_EIO naming the file and libpng's message. */
int sg_png_write_gray(const char *path, const uint8_t *pixels, int rows, int cols,
                      sg_error *err);

/* Write 'n' images (n, rows, cols) as a grid of 'n_cols' images per row (the last
 * row may be short), separated and framed by 'pad' pixels of grey level 'background'.
 * The file is (g_rows*(rows+pad)+pad) x (n_cols*(cols+pad)+pad) pixels, g_rows =
 * ceil(n/n_cols).  Errors as sg_png_write_gray, SG_ENOMEM. */
int sg_png_write_grid(const char *path, const uint8_t *images, int n, int rows, int cols,
                      int n_cols, int pad, uint8_t background, sg_error *err);

/* Read a PNG file as 8-bit grey (colour is converted by libpng, alpha dropped over
 * black).  [out] *pixels (rows, cols), owned by the caller (sg_free); *rows, *cols.
 * SG_EIO (cannot open or decode, with libpng's message), SG_ENOMEM. */
int sg_png_read_gray(const char *path, uint8_t **pixels, int *rows, int *cols, sg_error *err);

#endif
