/* encode.c -- fit and apply the column -> feature mapping (see encode.h).
 *
 * The schema keeps, per source column, its training type and statistics and,
 * for categories, the kept labels sorted by frequency (code = position) plus a
 * strcmp-sorted index so a new table's labels are mapped by binary search,
 * once per distinct label, not once per cell. See LICENSE. */
#include "stratagem/encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/serial.h"
#include "stratagem/mem.h"

#define MAX_TREE_LABELS 254   /* keeps codes < 255 with one "other" code */
#define MAX_LINEAR_LABELS 254
#define LINEAR_MIN_COUNT 5    /* one-hot only labels seen this often in training */

typedef struct enc_col {
    char *name;
    int is_cat;          /* category (else number/date) */
    int has_missing;     /* linear: an "is missing" indicator follows */
    int has_other;       /* tree: labels beyond the kept ones share code n_labels */
    double mean, sd;     /* linear numbers */
    int n_labels;
    char **labels;       /* (n_labels) kept labels; code = index */
    int *sorted;         /* (n_labels) label indices in strcmp order */
    int feat_start, n_feat;
} enc_col;

struct sg_schema {
    int encoding;
    int n_cols;
    enc_col *cols;       /* (n_cols) */
    int n_features;
    char **feat_names;   /* (n_features) */
    uint8_t *is_cat;     /* (n_features) */
};

/* ---------------------------------------------------------------- helpers */

static void col_deinit(enc_col *c)
{
    sg_free(c->name);
    for (int k = 0; k < c->n_labels; k++) sg_free(c->labels[k]);
    sg_free(c->labels);
    sg_free(c->sorted);
}

void sg_schema_free(sg_schema *s)
{
    if (!s) return;
    for (int c = 0; c < s->n_cols; c++) col_deinit(&s->cols[c]);
    sg_free(s->cols);
    for (int k = 0; k < s->n_features; k++) sg_free(s->feat_names[k]);
    sg_free(s->feat_names);
    sg_free(s->is_cat);
    sg_free(s);
}

static const char *const *label_base;   /* qsort context; set only inside build_sorted */

static int cmp_label_idx(const void *a, const void *b)
{
    return strcmp(label_base[*(const int *)a], label_base[*(const int *)b]);
}

static int build_sorted(enc_col *c)
{
    c->sorted = sg_malloc_array((size_t)(c->n_labels ? c->n_labels : 1), sizeof *c->sorted);
    if (!c->sorted) return SG_ENOMEM;
    for (int k = 0; k < c->n_labels; k++) c->sorted[k] = k;
    /* qsort with a file-static context: schemas are built on one thread at a time per
     * process in practice, but guard anyway by doing an insertion sort for tiny sets */
    label_base = (const char *const *)c->labels;
    qsort(c->sorted, (size_t)c->n_labels, sizeof *c->sorted, cmp_label_idx);
    label_base = NULL;
    return SG_OK;
}

/* Code of 'label' among the kept labels of c, or -1. */
static int find_label(const enc_col *c, const char *label)
{
    int lo = 0, hi = c->n_labels - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int r = strcmp(label, c->labels[c->sorted[mid]]);
        if (r == 0) return c->sorted[mid];
        if (r < 0) hi = mid - 1; else lo = mid + 1;
    }
    return -1;
}

typedef struct { int64_t count; int32_t code; } label_count;

static int cmp_count(const void *a, const void *b)
{
    const label_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->code > y->code) - (x->code < y->code);
}

static int in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(name, *list) == 0) return 1;
    return 0;
}

/* ---------------------------------------------------------------- fit */

static int fit_category(enc_col *c, const sg_table *t, int j, const int64_t *rows, int64_t n,
                        int encoding)
{
    int32_t L = sg_table_n_labels(t, j);
    const int32_t *codes = sg_table_codes(t, j);
    label_count *lc = sg_calloc((size_t)(L ? L : 1), sizeof *lc);
    if (!lc) return SG_ENOMEM;
    for (int32_t k = 0; k < L; k++) lc[k].code = k;
    for (int64_t r = 0; r < n; r++) {
        int32_t v = codes[rows ? rows[r] : r];
        if (v >= 0) lc[v].count++;
    }
    qsort(lc, (size_t)L, sizeof *lc, cmp_count);
    int keep = 0, seen = 0;
    int cap = encoding == SG_ENC_TREE ? MAX_TREE_LABELS : MAX_LINEAR_LABELS;
    int64_t min_count = encoding == SG_ENC_TREE ? 1 : LINEAR_MIN_COUNT;
    for (int32_t k = 0; k < L; k++) {
        if (lc[k].count == 0) break;
        seen++;
        if (keep < cap && lc[k].count >= min_count) keep++;
    }
    c->has_other = seen > keep;
    c->labels = sg_calloc((size_t)(keep ? keep : 1), sizeof *c->labels);
    if (!c->labels) {
        sg_free(lc);
        return SG_ENOMEM;
    }
    for (int k = 0; k < keep; k++) {
        c->labels[k] = sg_strdup(sg_table_label(t, j, lc[k].code));
        if (!c->labels[k]) {
            c->n_labels = k;
            sg_free(lc);
            return SG_ENOMEM;
        }
    }
    c->n_labels = keep;
    sg_free(lc);
    return build_sorted(c);
}

static void fit_number(enc_col *c, const sg_table *t, int j, const int64_t *rows, int64_t n)
{
    const double *x = sg_table_num(t, j);
    double s = 0, s2 = 0;
    int64_t m = 0, miss = 0;
    for (int64_t r = 0; r < n; r++) {
        double v = x[rows ? rows[r] : r];
        if (isnan(v)) {
            miss++;
            continue;
        }
        s += v;
        m++;
    }
    double mean = m ? s / (double)m : 0;
    for (int64_t r = 0; r < n; r++) {
        double v = x[rows ? rows[r] : r];
        if (!isnan(v)) s2 += (v - mean) * (v - mean);
    }
    double sd = m > 1 ? sqrt(s2 / (double)(m - 1)) : 0;
    c->mean = mean;
    c->sd = sd > 1e-12 ? sd : 1.0;   /* a constant column is left centred, not blown up */
    c->has_missing = miss > 0;
}

static int add_feature(sg_schema *s, int k, const char *fmt, const char *a, const char *b,
                       int is_cat)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b);
    s->feat_names[k] = sg_strdup(buf);
    s->is_cat[k] = (uint8_t)is_cat;
    return s->feat_names[k] ? SG_OK : SG_ENOMEM;
}

int sg_schema_fit(sg_schema **out, const sg_table *t, const int64_t *rows, int64_t n, int encoding,
                  const char *const *exclude, sg_error *err)
{
    if (encoding != SG_ENC_TREE && encoding != SG_ENC_LINEAR)
        return sg_error_set(err, SG_EINVAL, "unknown encoding %d", encoding);
    if (!rows) n = sg_table_n_rows(t);
    sg_schema *s = sg_calloc(1, sizeof *s);
    int rc = SG_ENOMEM;
    if (!s) goto fail;
    s->encoding = encoding;
    int nc = sg_table_n_cols(t);
    s->cols = sg_calloc((size_t)(nc ? nc : 1), sizeof *s->cols);
    if (!s->cols) goto fail;
    int width = 0;
    for (int j = 0; j < nc; j++) {
        const char *name = sg_table_col_name(t, j);
        sg_coltype ty = sg_table_col_type(t, j);
        if (ty == SG_COL_ID || in_list(name, exclude)) continue;
        enc_col *c = &s->cols[s->n_cols++];
        c->name = sg_strdup(name);
        c->sd = 1.0;
        if (!c->name) goto fail;
        if (ty == SG_COL_CATEGORY) {
            c->is_cat = 1;
            if ((rc = fit_category(c, t, j, rows, n, encoding)) != SG_OK) goto fail;
            rc = SG_ENOMEM;
            c->n_feat = encoding == SG_ENC_TREE ? 1 : c->n_labels;
        } else {
            fit_number(c, t, j, rows, n);
            c->n_feat = encoding == SG_ENC_TREE ? 1 : 1 + c->has_missing;
        }
        c->feat_start = width;
        width += c->n_feat;
    }
    s->feat_names = sg_calloc((size_t)(width ? width : 1), sizeof *s->feat_names);
    s->is_cat = sg_calloc((size_t)(width ? width : 1), 1);
    if (!s->feat_names || !s->is_cat) goto fail;
    s->n_features = width;
    for (int ci = 0; ci < s->n_cols; ci++) {
        enc_col *c = &s->cols[ci];
        int k = c->feat_start;
        if (encoding == SG_ENC_TREE) {
            if (add_feature(s, k, "%s%s", c->name, "", c->is_cat)) goto fail;
        } else if (c->is_cat) {
            for (int l = 0; l < c->n_labels; l++)
                if (add_feature(s, k + l, "%s=%s", c->name, c->labels[l], 0)) goto fail;
        } else {
            if (add_feature(s, k, "%s%s", c->name, "", 0)) goto fail;
            if (c->has_missing && add_feature(s, k + 1, "%s%s", c->name, ":missing", 0)) goto fail;
        }
    }
    *out = s;
    return SG_OK;
fail:
    sg_schema_free(s);
    return sg_error_set(err, rc, "%s while fitting the feature encoding", sg_strerror(rc));
}

/* ---------------------------------------------------------------- accessors */

int sg_schema_encoding(const sg_schema *s) { return s->encoding; }
int sg_schema_n_features(const sg_schema *s) { return s->n_features; }
const char *sg_schema_feature_name(const sg_schema *s, int k)
{
    return k >= 0 && k < s->n_features ? s->feat_names[k] : NULL;
}
int sg_schema_n_columns(const sg_schema *s) { return s->n_cols; }
const char *sg_schema_column_name(const sg_schema *s, int c)
{
    return c >= 0 && c < s->n_cols ? s->cols[c].name : NULL;
}
const uint8_t *sg_schema_is_cat(const sg_schema *s) { return s->is_cat; }

/* ---------------------------------------------------------------- transform */

/* Map each label of table column j to the schema code (-1 = not kept). */
static int32_t *map_labels(const enc_col *c, const sg_table *t, int j)
{
    int32_t L = sg_table_n_labels(t, j);
    int32_t *map = sg_malloc_array((size_t)(L ? L : 1), sizeof *map);
    if (!map) return NULL;
    for (int32_t k = 0; k < L; k++) map[k] = find_label(c, sg_table_label(t, j, k));
    return map;
}

int sg_schema_transform(const sg_schema *s, const sg_table *t, const int64_t *rows, int64_t n,
                        float *X, int64_t *n_unseen, sg_error *err)
{
    if (!rows) n = sg_table_n_rows(t);
    const int D = s->n_features;
    int64_t unseen = 0;
    for (int ci = 0; ci < s->n_cols; ci++) {
        const enc_col *c = &s->cols[ci];
        int j = sg_table_find(t, c->name);
        if (j < 0)
            return sg_error_set(err, SG_ENOTFOUND,
                                "%s: column '%s', used by the model, is missing",
                                sg_table_name(t), c->name);
        sg_coltype ty = sg_table_col_type(t, j);
        float *col = X + c->feat_start;
        if (c->is_cat) {
            const double *num = sg_table_num(t, j);
            const int32_t *codes = sg_table_codes(t, j);
            int32_t *map = NULL;
            if (codes && !(map = map_labels(c, t, j)))
                return sg_error_set(err, SG_ENOMEM, "out of memory encoding '%s'", c->name);
            for (int64_t r = 0; r < n; r++) {
                int64_t i = rows ? rows[r] : r;
                int32_t code = -1;
                int missing;
                if (codes) {
                    missing = codes[i] < 0;
                    if (!missing) code = map[codes[i]];
                } else {
                    /* a category of numeric labels read as numbers this time */
                    missing = isnan(num[i]);
                    if (!missing) {
                        char buf[64];
                        snprintf(buf, sizeof buf, "%.15g", num[i]);
                        code = find_label(c, buf);
                    }
                }
                if (!missing && code < 0) unseen++;
                float *xr = col + r * D;
                if (s->encoding == SG_ENC_TREE) {
                    if (missing) xr[0] = (float)NAN;
                    else if (code >= 0) xr[0] = (float)code;
                    else xr[0] = c->has_other ? (float)c->n_labels : (float)NAN;
                } else {
                    for (int l = 0; l < c->n_feat; l++) xr[l] = 0.0f;
                    if (code >= 0) xr[code] = 1.0f;
                }
            }
            sg_free(map);
        } else {
            if (ty != SG_COL_NUMBER && ty != SG_COL_DATE)
                return sg_error_set(err, SG_EPARSE,
                                    "%s: column '%s' was numeric in training but holds text "
                                    "here (e.g. \"%s\")",
                                    sg_table_name(t), c->name, sg_table_label(t, j, 0));
            const double *num = sg_table_num(t, j);
            for (int64_t r = 0; r < n; r++) {
                int64_t i = rows ? rows[r] : r;
                double v = num[i];
                float *xr = col + r * D;
                if (s->encoding == SG_ENC_TREE) {
                    xr[0] = (float)v;
                } else if (isnan(v)) {
                    xr[0] = 0.0f;
                    if (c->has_missing) xr[1] = 1.0f;
                } else {
                    xr[0] = (float)((v - c->mean) / c->sd);
                    if (c->has_missing) xr[1] = 0.0f;
                }
            }
        }
    }
    if (n_unseen) *n_unseen = unseen;
    return SG_OK;
}

/* ---------------------------------------------------------------- save / load */

#define SCHEMA_MAGIC 0x53434831u   /* "SCH1" */

int sg_schema_save(const sg_schema *s, unsigned char **buf, size_t *len, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, SCHEMA_MAGIC);
    sg_wbuf_i32(&w, s->encoding);
    sg_wbuf_i32(&w, s->n_cols);
    for (int ci = 0; ci < s->n_cols; ci++) {
        const enc_col *c = &s->cols[ci];
        sg_wbuf_str(&w, c->name);
        sg_wbuf_i32(&w, c->is_cat);
        sg_wbuf_i32(&w, c->has_missing);
        sg_wbuf_i32(&w, c->has_other);
        sg_wbuf_f64(&w, c->mean);
        sg_wbuf_f64(&w, c->sd);
        sg_wbuf_i32(&w, c->n_labels);
        for (int k = 0; k < c->n_labels; k++) sg_wbuf_str(&w, c->labels[k]);
    }
    int rc = sg_wbuf_status(&w, err);
    if (rc) {
        sg_wbuf_deinit(&w);
        return rc;
    }
    *buf = w.data;
    *len = w.len;
    return SG_OK;
}

int sg_schema_load(sg_schema **out, const unsigned char *buf, size_t len, sg_error *err)
{
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    uint32_t magic;
    int32_t enc, nc;
    int rc;
    sg_schema *s = NULL;
    if ((rc = sg_rbuf_u32(&r, &magic, "schema magic", err))) return rc;
    if (magic != SCHEMA_MAGIC) return sg_error_set(err, SG_EPARSE, "corrupt schema (bad magic)");
    if ((rc = sg_rbuf_i32(&r, &enc, "schema encoding", err))) return rc;
    if ((rc = sg_rbuf_i32(&r, &nc, "schema column count", err))) return rc;
    if ((enc != SG_ENC_TREE && enc != SG_ENC_LINEAR) || nc < 0 || nc > 1000000)
        return sg_error_set(err, SG_EPARSE, "corrupt schema (encoding %d, %d columns)", enc, nc);
    s = sg_calloc(1, sizeof *s);
    if (!s || !(s->cols = sg_calloc((size_t)(nc ? nc : 1), sizeof *s->cols))) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
        goto fail;
    }
    s->encoding = enc;
    int width = 0;
    for (int ci = 0; ci < nc; ci++) {
        enc_col *c = &s->cols[ci];
        s->n_cols = ci + 1;
        int32_t is_cat, has_missing, has_other, nl;
        if ((rc = sg_rbuf_str(&r, &c->name, 1 << 16, "column name", err))) goto fail;
        if (!c->name) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt schema (column without a name)");
            goto fail;
        }
        if ((rc = sg_rbuf_i32(&r, &is_cat, "column flags", err))) goto fail;
        if ((rc = sg_rbuf_i32(&r, &has_missing, "column flags", err))) goto fail;
        if ((rc = sg_rbuf_i32(&r, &has_other, "column flags", err))) goto fail;
        if ((rc = sg_rbuf_f64(&r, &c->mean, "column mean", err))) goto fail;
        if ((rc = sg_rbuf_f64(&r, &c->sd, "column sd", err))) goto fail;
        if ((rc = sg_rbuf_i32(&r, &nl, "label count", err))) goto fail;
        if (nl < 0 || nl > MAX_TREE_LABELS || (!is_cat && nl) || !isfinite(c->mean) ||
            !(c->sd > 0)) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt schema (column '%s')", c->name);
            goto fail;
        }
        c->is_cat = is_cat != 0;
        c->has_missing = has_missing != 0;
        c->has_other = has_other != 0;
        c->labels = sg_calloc((size_t)(nl ? nl : 1), sizeof *c->labels);
        if (!c->labels) {
            rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
            goto fail;
        }
        for (int k = 0; k < nl; k++) {
            if ((rc = sg_rbuf_str(&r, &c->labels[k], 1 << 16, "label", err))) goto fail;
            c->n_labels = k + 1;
            if (!c->labels[k]) {
                rc = sg_error_set(err, SG_EPARSE, "corrupt schema (null label)");
                goto fail;
            }
        }
        if (build_sorted(c)) {
            rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
            goto fail;
        }
        c->n_feat = enc == SG_ENC_TREE ? 1 : c->is_cat ? c->n_labels : 1 + c->has_missing;
        c->feat_start = width;
        width += c->n_feat;
    }
    s->feat_names = sg_calloc((size_t)(width ? width : 1), sizeof *s->feat_names);
    s->is_cat = sg_calloc((size_t)(width ? width : 1), 1);
    if (!s->feat_names || !s->is_cat) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
        goto fail;
    }
    s->n_features = width;
    for (int ci = 0; ci < s->n_cols; ci++) {
        enc_col *c = &s->cols[ci];
        int k = c->feat_start, bad = 0;
        if (enc == SG_ENC_TREE) bad = add_feature(s, k, "%s%s", c->name, "", c->is_cat);
        else if (c->is_cat)
            for (int l = 0; l < c->n_labels && !bad; l++)
                bad = add_feature(s, k + l, "%s=%s", c->name, c->labels[l], 0);
        else {
            bad = add_feature(s, k, "%s%s", c->name, "", 0);
            if (!bad && c->has_missing) bad = add_feature(s, k + 1, "%s%s", c->name, ":missing", 0);
        }
        if (bad) {
            rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
            goto fail;
        }
    }
    *out = s;
    return SG_OK;
fail:
    sg_schema_free(s);
    return rc;
}
