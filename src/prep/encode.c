/* encode.c -- fit and apply the column -> feature mapping (see encode.h).
 *
 * The schema keeps, per source column, its training type and statistics and,
 * for categories, the kept labels sorted by frequency (code = position) plus a
 * strcmp-sorted index so a new table's labels are mapped by binary search,
 * once per distinct label, not once per cell.  A derived column (sg_schema_add_sums)
 * is an enc_col with n_src > 0: a number computed per row as the sum of its
 * source columns, fitted and encoded like any number.  See LICENSE. */
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
    int n_src;           /* > 0: a derived column, the sum of these source columns */
    char **src;          /* (n_src) */
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
    for (int k = 0; k < c->n_src; k++) sg_free(c->src[k]);
    sg_free(c->src);
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

/* Mean, sd and missingness of the values x[rows[r]] (rows NULL: x[r]), r < n. */
static void fit_values(enc_col *c, const double *x, const int64_t *rows, int64_t n)
{
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

static void fit_number(enc_col *c, const sg_table *t, int j, const int64_t *rows, int64_t n)
{
    fit_values(c, sg_table_num(t, j), rows, n);
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

/* Encode the number x[rows[r]] (rows NULL: x[r]) of column c into X's rows. */
static void encode_values(const sg_schema *s, const enc_col *c, const double *x,
                          const int64_t *rows, int64_t n, float *X)
{
    const int D = s->n_features;
    float *col = X + c->feat_start;
    for (int64_t r = 0; r < n; r++) {
        double v = x[rows ? rows[r] : r];
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

/* *j = the table column of source column 'name' of derived column 'what',
 * which must be a number column. */
static int sum_source(const sg_table *t, const char *what, const char *name, int *j,
                      sg_error *err)
{
    *j = sg_table_find(t, name);
    if (*j < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: column '%s', summed into '%s', is missing",
                            sg_table_name(t), name, what);
    if (sg_table_col_type(t, *j) != SG_COL_NUMBER) {
        return sg_error_set(err, SG_EPARSE, "%s: column '%s', summed into '%s', holds %s "
                            "(e.g. \"%s\"); a sum needs numbers", sg_table_name(t), name, what,
                            sg_table_col_type(t, *j) == SG_COL_DATE ? "dates" : "text",
                            sg_table_n_labels(t, *j) > 0 ? sg_table_label(t, *j, 0) : "");
    }
    return SG_OK;
}

/* The sums of derived column c over rows[0..n) of t into out (n); a row with a
 * missing source value gets NaN. */
static int sum_rows(const enc_col *c, const sg_table *t, const int64_t *rows, int64_t n,
                    double *out, sg_error *err)
{
    for (int64_t r = 0; r < n; r++) out[r] = 0.0;
    for (int k = 0; k < c->n_src; k++) {
        int j, rc = sum_source(t, c->name, c->src[k], &j, err);
        if (rc) return rc;
        const double *x = sg_table_num(t, j);
        for (int64_t r = 0; r < n; r++) out[r] += x[rows ? rows[r] : r];
    }
    return SG_OK;
}

static int encode_sum(const sg_schema *s, const enc_col *c, const sg_table *t,
                      const int64_t *rows, int64_t n, float *X, sg_error *err)
{
    double *v = sg_malloc_array((size_t)(n ? n : 1), sizeof *v);
    if (!v) return sg_error_set(err, SG_ENOMEM, "out of memory encoding '%s'", c->name);
    int rc = sum_rows(c, t, rows, n, v, err);
    if (!rc) encode_values(s, c, v, NULL, n, X);
    sg_free(v);
    return rc;
}

int sg_schema_transform(const sg_schema *s, const sg_table *t, const int64_t *rows, int64_t n,
                        float *X, int64_t *n_unseen, sg_error *err)
{
    if (!rows) n = sg_table_n_rows(t);
    const int D = s->n_features;
    int64_t unseen = 0;
    for (int ci = 0; ci < s->n_cols; ci++) {
        const enc_col *c = &s->cols[ci];
        if (c->n_src > 0) {
            int rc = encode_sum(s, c, t, rows, n, X, err);
            if (rc) return rc;
            continue;
        }
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
            encode_values(s, c, sg_table_num(t, j), rows, n, X);
        }
    }
    if (n_unseen) *n_unseen = unseen;
    return SG_OK;
}

/* ---------------------------------------------------------------- derived sums */

static char *trim_dup(const char *a, const char *b)   /* [a, b) without outer blanks */
{
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    return sg_strndup(a, (size_t)(b - a));
}

/* Parse one "NAME=A..B" or "NAME=A+B+..." item [p, end) against t into c
 * (name and sources). */
static int parse_sum(enc_col *c, const sg_schema *s, const sg_table *t, const char *p,
                     const char *end, const char *const *exclude, sg_error *err)
{
    char *item = trim_dup(p, end);
    if (!item) return sg_error_set(err, SG_ENOMEM, "out of memory parsing --sum");
    int rc = SG_OK;
    char *eq = strchr(item, '=');
    if (!eq || eq == item || !eq[1]) {
        rc = sg_error_set(err, SG_EINVAL, "--sum: '%s' is not NAME=FIRST..LAST or "
                          "NAME=COL+COL+...", item);
        goto done;
    }
    if (!(c->name = trim_dup(item, eq))) goto oom;   /* not empty: item is trimmed */
    if (sg_table_find(t, c->name) >= 0) {
        rc = sg_error_set(err, SG_EINVAL, "--sum: '%s' is already a column of %s; name the sum "
                          "differently", c->name, sg_table_name(t));
        goto done;
    }
    for (int ci = 0; ci < s->n_cols; ci++)
        if (!strcmp(s->cols[ci].name, c->name)) {
            rc = sg_error_set(err, SG_EINVAL, "--sum: '%s' is defined twice", c->name);
            goto done;
        }
    const char *expr = eq + 1, *dots = strstr(expr, "..");
    if (dots) {   /* a range of columns in the file's order */
        char *first = trim_dup(expr, dots), *last = trim_dup(dots + 2, expr + strlen(expr));
        int ja = first ? sg_table_find(t, first) : -1, jb = last ? sg_table_find(t, last) : -1;
        if (!first || !last) rc = SG_ENOMEM;
        else if (ja < 0 || jb < 0)
            rc = sg_error_set(err, SG_ENOTFOUND, "--sum %s: no column '%s' in %s", c->name,
                              ja < 0 ? first : last, sg_table_name(t));
        else if (jb < ja)
            rc = sg_error_set(err, SG_EINVAL, "--sum %s: '%s' comes after '%s' in %s; a range "
                              "is FIRST..LAST in the file's column order", c->name, first, last,
                              sg_table_name(t));
        sg_free(first);
        sg_free(last);
        if (rc == SG_ENOMEM) goto oom;
        if (rc) goto done;
        if (!(c->src = sg_calloc((size_t)(jb - ja + 1), sizeof *c->src))) goto oom;
        for (int j = ja; j <= jb; j++)
            if (!(c->src[c->n_src++] = sg_strdup(sg_table_col_name(t, j)))) goto oom;
    } else {      /* COL+COL+... */
        int n = 1;
        for (const char *q = expr; *q; q++) n += *q == '+';
        if (!(c->src = sg_calloc((size_t)n, sizeof *c->src))) goto oom;
        for (const char *a = expr;;) {
            const char *b = strchr(a, '+');
            if (!b) b = a + strlen(a);
            if (!(c->src[c->n_src] = trim_dup(a, b))) goto oom;
            if (!c->src[c->n_src++][0]) {
                rc = sg_error_set(err, SG_EINVAL, "--sum %s: an empty column name in '%s'",
                                  c->name, expr);
                goto done;
            }
            if (!*b) break;
            a = b + 1;
        }
    }
    for (int k = 0; k < c->n_src && !rc; k++) {
        int j;
        if (in_list(c->src[k], exclude))
            rc = sg_error_set(err, SG_EINVAL, "--sum %s: column '%s' is not a feature (an "
                              "outcome, the treatment, the id or an ignored column); a sum may "
                              "use feature columns only", c->name, c->src[k]);
        else
            rc = sum_source(t, c->name, c->src[k], &j, err);
    }
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory parsing --sum");
done:
    sg_free(item);
    return rc;
}

int sg_schema_add_sums(sg_schema *s, const sg_table *t, const int64_t *rows, int64_t n,
                       const char *spec, const char *const *exclude, sg_error *err)
{
    if (!spec || !*spec) return SG_OK;
    if (!rows) n = sg_table_n_rows(t);
    int rc = SG_OK;
    double *v = sg_malloc_array((size_t)(n ? n : 1), sizeof *v);
    if (!v) return sg_error_set(err, SG_ENOMEM, "out of memory adding sums");
    for (const char *p = spec; *p && !rc;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        enc_col *grown = sg_realloc(s->cols, (size_t)(s->n_cols + 1) * sizeof *s->cols);
        int nf = s->n_features + (s->encoding == SG_ENC_TREE ? 1 : 2);
        char **names = grown ? sg_realloc(s->feat_names, (size_t)nf * sizeof *names) : NULL;
        if (grown) s->cols = grown;
        if (names) s->feat_names = names;
        uint8_t *cat = names ? sg_realloc(s->is_cat, (size_t)nf) : NULL;
        if (!cat) {
            rc = sg_error_set(err, SG_ENOMEM, "out of memory adding sums");
            break;
        }
        s->is_cat = cat;
        enc_col *c = &s->cols[s->n_cols];
        memset(c, 0, sizeof *c);
        c->sd = 1.0;
        if ((rc = parse_sum(c, s, t, p, end, exclude, err)) ||
            (rc = sum_rows(c, t, rows, n, v, err))) {
            col_deinit(c);
            break;
        }
        fit_values(c, v, NULL, n);
        c->n_feat = s->encoding == SG_ENC_TREE ? 1 : 1 + c->has_missing;
        c->feat_start = s->n_features;
        s->n_cols++;
        for (int k = 0; k < c->n_feat; k++) s->feat_names[s->n_features + k] = NULL;
        s->n_features += c->n_feat;
        if (add_feature(s, c->feat_start, "%s%s", c->name, "", 0) ||
            (c->n_feat > 1 && add_feature(s, c->feat_start + 1, "%s%s", c->name, ":missing", 0)))
            rc = sg_error_set(err, SG_ENOMEM, "out of memory adding sums");
        p = *end ? end + 1 : end;
    }
    sg_free(v);
    return rc;
}

/* ---------------------------------------------------------------- save / load */

#define SCHEMA_MAGIC 0x53434831u    /* "SCH1" */
#define SCHEMA_MAGIC_2 0x53434832u  /* "SCH2": each column also lists its summed sources;
                                     * written only when there are derived sums */
#define MAX_SUM_SOURCES 1000000     /* as many as a schema may have columns */

int sg_schema_save(const sg_schema *s, unsigned char **buf, size_t *len, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    int v2 = 0;
    for (int ci = 0; ci < s->n_cols; ci++) v2 |= s->cols[ci].n_src > 0;
    sg_wbuf_u32(&w, v2 ? SCHEMA_MAGIC_2 : SCHEMA_MAGIC);
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
        if (!v2) continue;
        sg_wbuf_i32(&w, c->n_src);
        for (int k = 0; k < c->n_src; k++) sg_wbuf_str(&w, c->src[k]);
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
    if (magic != SCHEMA_MAGIC && magic != SCHEMA_MAGIC_2)
        return sg_error_set(err, SG_EPARSE, "corrupt schema (bad magic)");
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
        if (magic == SCHEMA_MAGIC_2) {
            int32_t ns;
            if ((rc = sg_rbuf_i32(&r, &ns, "sum source count", err))) goto fail;
            if (ns < 0 || ns > MAX_SUM_SOURCES || (ns > 0 && c->is_cat)) {
                rc = sg_error_set(err, SG_EPARSE, "corrupt schema (sum '%s')", c->name);
                goto fail;
            }
            if (ns > 0 && !(c->src = sg_calloc((size_t)ns, sizeof *c->src))) {
                rc = sg_error_set(err, SG_ENOMEM, "out of memory loading schema");
                goto fail;
            }
            for (int k = 0; k < ns; k++) {
                if ((rc = sg_rbuf_str(&r, &c->src[k], 1 << 16, "sum source", err))) goto fail;
                c->n_src = k + 1;
                if (!c->src[k]) {
                    rc = sg_error_set(err, SG_EPARSE, "corrupt schema (sum '%s')", c->name);
                    goto fail;
                }
            }
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
