/* png.c -- grayscale PNG writer and reader on libpng's simplified API.
 *
 * libpng's simplified API (png_image, libpng 1.6) reports errors through the
 * struct's 'message' instead of longjmp, so this file needs no setjmp.  The
 * grid is composed in one sg_malloc'd buffer and written in one call; libpng
 * allocates its own working memory with malloc, outside sg_malloc's
 * accounting.  See LICENSE for copyright. */
#include "stratagem/png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stratagem/mem.h"

#define MAX_SIDE 65535

int sg_png_write_gray(const char *path, const uint8_t *pixels, int rows, int cols,
                      sg_error *err)
{
    if (rows < 1 || cols < 1 || rows > MAX_SIDE || cols > MAX_SIDE) {
        return sg_error_set(err, SG_EINVAL, "%s: cannot write a %dx%d image", path, rows, cols);
    }
    struct stat st;   /* renaming over a device (/dev/null) would replace it with a file */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return sg_error_set(err, SG_EINVAL, "%s: cannot write a PNG there: not a regular file",
                            path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sg_error_set(err, SG_EINVAL, "PNG path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return sg_error_set(err, SG_EIO, "%s: cannot write: %s", path, strerror(errno));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)cols;
    img.height = (png_uint_32)rows;
    img.format = PNG_FORMAT_GRAY;
    int ok = png_image_write_to_stdio(&img, f, 0, pixels, cols, NULL);
    char msg[sizeof img.message + 1];
    snprintf(msg, sizeof msg, "%s", img.message);
    png_image_free(&img);
    int saved = errno;
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        ok = 0;
        saved = errno;
        snprintf(msg, sizeof msg, "%s", strerror(saved));
    }
    if (fclose(f) != 0 && ok) {
        ok = 0;
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    }
    if (!ok) {
        unlink(tmp);
        return sg_error_set(err, SG_EIO, "%s: cannot write PNG: %s", path,
                            msg[0] ? msg : "libpng error");
    }
    return SG_OK;
}

int sg_png_write_grid(const char *path, const uint8_t *images, int n, int rows, int cols,
                      int n_cols, int pad, uint8_t background, sg_error *err)
{
    if (n < 1 || rows < 1 || cols < 1 || n_cols < 1 || pad < 0 || rows > MAX_SIDE ||
        cols > MAX_SIDE || pad > MAX_SIDE) {
        return sg_error_set(err, SG_EINVAL, "%s: bad grid (%d images of %dx%d, %d per row, "
                            "pad %d)", path, n, rows, cols, n_cols, pad);
    }
    if (n_cols > n) n_cols = n;
    int g_rows = (n + n_cols - 1) / n_cols;
    int64_t H = (int64_t)g_rows * (rows + pad) + pad, W = (int64_t)n_cols * (cols + pad) + pad;
    if (H > MAX_SIDE || W > MAX_SIDE) {
        return sg_error_set(err, SG_EINVAL, "%s: grid of %lldx%lld pixels is too large for "
                            "PNG writing here (at most %d a side)", path, (long long)H,
                            (long long)W, MAX_SIDE);
    }
    uint8_t *buf = sg_malloc((size_t)H * (size_t)W);
    if (!buf) return sg_error_set(err, SG_ENOMEM, "%s: out of memory for the grid", path);
    memset(buf, background, (size_t)H * (size_t)W);
    for (int k = 0; k < n; k++) {
        int gr = k / n_cols, gc = k % n_cols;
        const uint8_t *src = images + (size_t)k * rows * cols;
        for (int r = 0; r < rows; r++) {
            size_t y = (size_t)gr * (rows + pad) + pad + r, x = (size_t)gc * (cols + pad) + pad;
            memcpy(buf + y * (size_t)W + x, src + (size_t)r * cols, (size_t)cols);
        }
    }
    int rc = sg_png_write_gray(path, buf, (int)H, (int)W, err);
    sg_free(buf);
    return rc;
}

int sg_png_read_gray(const char *path, uint8_t **pixels, int *rows, int *cols, sg_error *err)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        int rc = sg_error_set(err, SG_EIO, "%s: cannot read PNG: %s", path, img.message);
        png_image_free(&img);
        return rc;
    }
    img.format = PNG_FORMAT_GRAY;
    size_t n = PNG_IMAGE_SIZE(img);
    uint8_t *buf = sg_malloc(n > 0 ? n : 1);
    if (!buf) {
        png_image_free(&img);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory reading PNG", path);
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&img, &black, buf, 0, NULL)) {
        int rc = sg_error_set(err, SG_EIO, "%s: cannot decode PNG: %s", path, img.message);
        sg_free(buf);
        png_image_free(&img);
        return rc;
    }
    *pixels = buf;
    *rows = (int)img.height;
    *cols = (int)img.width;
    png_image_free(&img);
    return SG_OK;
}
