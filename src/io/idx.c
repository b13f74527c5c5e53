/* idx.c -- IDX (MNIST format) reader through zlib, and the image dataset folder.
 *
 * gzread reads gzip and plain files alike, and checks the gzip CRC and length
 * at the end of the stream, so a damaged download shows up here as an error
 * instead of as strange pixels.  The whole body is read into one buffer whose
 * size comes from the header, after the header has been checked against a cap
 * (SG_IDX_MAX_BYTES), so a corrupt header cannot make us allocate terabytes.
 * zlib allocates its own small state with malloc: that is outside sg_malloc's
 * accounting.  See LICENSE for copyright. */
#include "stratagem/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stratagem/mem.h"

#define IDX_TYPE_U8 0x08
#define NAME_MAX_LEN 63
#define MAX_CLASSES 256

/* ---------------------------------------------------------------------------
 * IDX files */

/* Read exactly n bytes; SG_EIO for a zlib error, SG_EPARSE for a short read. */
static int read_exact(gzFile f, const char *path, void *buf, size_t n, const char *what,
                      sg_error *err)
{
    size_t got = 0;
    while (got < n) {
        size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
        int k = gzread(f, (unsigned char *)buf + got, (unsigned)chunk);
        if (k < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            return sg_error_set(err, SG_EIO, "%s: cannot read %s: %s", path, what,
                                zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (k == 0) break;
        got += (size_t)k;
    }
    if (got < n) {
        int zerr;
        const char *msg = gzerror(f, &zerr);
        if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
            return sg_error_set(err, SG_EIO, "%s: cannot read %s: %s", path, what, msg);
        }
        return sg_error_set(err, SG_EPARSE, "%s: truncated file: %s needs %zu bytes, only %zu "
                            "present", path, what, n, got);
    }
    return SG_OK;
}

int sg_idx_read_u8(const char *path, int ndim, int64_t *dims, uint8_t **data, sg_error *err)
{
    if (ndim < 1 || ndim > SG_IDX_MAX_DIMS) {
        return sg_error_set(err, SG_EINVAL, "%s: cannot read IDX with %d dimensions", path,
                            ndim);
    }
    gzFile f = gzopen(path, "rb");
    if (!f) {
        return sg_error_set(err, errno == ENOMEM ? SG_ENOMEM : SG_EIO, "%s: cannot open: %s",
                            path, errno ? strerror(errno) : "out of memory");
    }
    uint8_t *buf = NULL;
    int rc;
    unsigned char hdr[4 + 4 * SG_IDX_MAX_DIMS];
    if ((rc = read_exact(f, path, hdr, 4, "the IDX magic number", err))) goto fail;
    if (hdr[0] != 0 || hdr[1] != 0) {
        rc = sg_error_set(err, SG_EPARSE, "%s: not an IDX file (magic 0x%02x%02x%02x%02x; "
                          "expected 0x0000%02x%02x)", path, hdr[0], hdr[1], hdr[2], hdr[3],
                          IDX_TYPE_U8, ndim);
        goto fail;
    }
    if (hdr[2] != IDX_TYPE_U8) {
        rc = sg_error_set(err, SG_EPARSE, "%s: IDX element type 0x%02x, only unsigned bytes "
                          "(0x08) are supported", path, hdr[2]);
        goto fail;
    }
    if (hdr[3] != ndim) {
        rc = sg_error_set(err, SG_EPARSE, "%s: IDX file has %d dimensions, expected %d (%s)",
                          path, hdr[3], ndim, ndim == 1 ? "a label file" : "an image file");
        goto fail;
    }
    if ((rc = read_exact(f, path, hdr + 4, 4 * (size_t)ndim, "the IDX dimensions", err)))
        goto fail;
    int64_t tmp[SG_IDX_MAX_DIMS], total = 1;
    for (int d = 0; d < ndim; d++) {
        const unsigned char *p = hdr + 4 + 4 * d;
        tmp[d] = ((int64_t)p[0] << 24) | ((int64_t)p[1] << 16) | ((int64_t)p[2] << 8) | p[3];
        if (tmp[d] == 0) {
            rc = sg_error_set(err, SG_EPARSE, "%s: IDX dimension %d is 0", path, d);
            goto fail;
        }
        if (total > SG_IDX_MAX_BYTES / tmp[d]) {
            rc = sg_error_set(err, SG_EPARSE, "%s: IDX sizes too large (corrupt header?)", path);
            goto fail;
        }
        total *= tmp[d];
    }
    buf = sg_malloc((size_t)total);
    if (!buf) {
        rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory for %lld bytes", path,
                          (long long)total);
        goto fail;
    }
    if ((rc = read_exact(f, path, buf, (size_t)total, "the IDX body", err))) goto fail;
    unsigned char extra;
    int k = gzread(f, &extra, 1);
    if (k != 0) {
        if (k > 0) {
            rc = sg_error_set(err, SG_EPARSE, "%s: trailing bytes after %lld elements", path,
                              (long long)total);
        } else {
            int zerr;
            rc = sg_error_set(err, SG_EIO, "%s: cannot read: %s", path, gzerror(f, &zerr));
        }
        goto fail;
    }
    gzclose(f);
    for (int d = 0; d < ndim; d++) dims[d] = tmp[d];
    *data = buf;
    return SG_OK;
fail:
    sg_free(buf);
    gzclose(f);
    return rc;
}

/* ---------------------------------------------------------------------------
 * dataset folder */

void sg_image_data_deinit(sg_image_data *d)
{
    if (!d) return;
    sg_free(d->pixels);
    sg_free(d->labels);
    memset(d, 0, sizeof *d);
}

int sg_image_data_load(sg_image_data *out, const char *dir, const char *split, int n_classes,
                       sg_error *err)
{
    char ipath[4096], lpath[4096];
    sg_image_data d = {0};
    memset(out, 0, sizeof *out);
    if (n_classes < 1 || n_classes > MAX_CLASSES) {
        return sg_error_set(err, SG_EINVAL, "image data: %d classes (1..%d allowed)", n_classes,
                            MAX_CLASSES);
    }
    if (snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, split) >=
            (int)sizeof ipath ||
        snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, split) >=
            (int)sizeof lpath) {
        return sg_error_set(err, SG_EINVAL, "image data: folder name too long: %s", dir);
    }
    int64_t idims[3], ldims[1];
    int rc = sg_idx_read_u8(ipath, 3, idims, &d.pixels, err);
    if (rc) goto fail;
    if ((rc = sg_idx_read_u8(lpath, 1, ldims, &d.labels, err))) goto fail;
    if (idims[0] != ldims[0]) {
        rc = sg_error_set(err, SG_EPARSE, "%s holds %lld images but %s holds %lld labels", ipath,
                          (long long)idims[0], lpath, (long long)ldims[0]);
        goto fail;
    }
    if (idims[1] > 4096 || idims[2] > 4096) {
        rc = sg_error_set(err, SG_EPARSE, "%s: images of %lldx%lld pixels are too large", ipath,
                          (long long)idims[1], (long long)idims[2]);
        goto fail;
    }
    for (int64_t i = 0; i < ldims[0]; i++) {
        if (d.labels[i] >= n_classes) {
            rc = sg_error_set(err, SG_EPARSE, "%s: label %d of item %lld is not below the %d "
                              "classes", lpath, d.labels[i], (long long)i, n_classes);
            goto fail;
        }
    }
    d.n = idims[0];
    d.rows = (int)idims[1];
    d.cols = (int)idims[2];
    *out = d;
    return SG_OK;
fail:
    sg_image_data_deinit(&d);
    return rc;
}

/* ---------------------------------------------------------------------------
 * class names */

void sg_idx_names_free(char **names, int n_classes)
{
    if (!names) return;
    for (int i = 0; i < n_classes; i++) sg_free(names[i]);
    sg_free(names);
}

/* Strip a trailing CR/LF and surrounding spaces in place; returns the start. */
static char *trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
    while (*s == ' ') s++;
    return s;
}

int sg_idx_read_class_names(const char *path, char ***names, int *n_classes, sg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return sg_error_set(err, SG_EIO, "%s: cannot open: %s", path, strerror(errno));
    char line[512];
    char **list = NULL;
    int n = 0, lineno = 0, rc = SG_OK;
    list = sg_calloc(MAX_CLASSES, sizeof *list);
    if (!list) {
        rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%d: line too long", path, lineno);
            goto fail;
        }
        char *s = trim(line);
        if (lineno == 1 || *s == '\0') continue;   /* header, blank lines */
        char *comma = strchr(s, ',');
        if (!comma) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%d: expected 'label,name', got \"%s\"", path,
                              lineno, s);
            goto fail;
        }
        *comma = '\0';
        char *end;
        long label = strtol(s, &end, 10);
        if (end == s || *trim(end) != '\0' || label != n) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%d: label \"%s\": expected %d (labels must "
                              "be 0, 1, ... in order)", path, lineno, s, n);
            goto fail;
        }
        char *name = trim(comma + 1);
        size_t len = strlen(name);
        if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
            name[len - 1] = '\0';
            name++;
            len -= 2;
        }
        if (len == 0 || len > NAME_MAX_LEN) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%d: class name must have 1..%d bytes", path,
                              lineno, NAME_MAX_LEN);
            goto fail;
        }
        if (n >= MAX_CLASSES) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%d: more than %d classes", path, lineno,
                              MAX_CLASSES);
            goto fail;
        }
        list[n] = sg_strdup(name);
        if (!list[n]) {
            rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory", path);
            goto fail;
        }
        n++;
    }
    if (ferror(f)) {
        rc = sg_error_set(err, SG_EIO, "%s: read error", path);
        goto fail;
    }
    if (n == 0) {
        rc = sg_error_set(err, SG_EPARSE, "%s: no classes (expected a header line, then "
                          "'0,name' ...)", path);
        goto fail;
    }
    fclose(f);
    *names = list;
    *n_classes = n;
    return SG_OK;
fail:
    sg_idx_names_free(list, n);
    fclose(f);
    return rc;
}
