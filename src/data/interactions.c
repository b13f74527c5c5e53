/* interactions.c -- user x item CSR from a table, id dictionaries, user split.
 *
 * Building reads the user and item columns once.  A cell's key is its code
 * (category and id columns) or the bits of its number (number and date
 * columns); a small hash map from key to index means each distinct value is
 * turned into text and looked up in a string dictionary only once, so a 10M-row
 * file costs 10M hash probes, not 10M snprintf calls.  Rows become (user, item)
 * pairs, a counting sort by user gives the CSR, and each row is sorted and
 * de-duplicated in place.
 *
 * Dictionaries keep their labels back to back in one text block with offsets,
 * plus an open-addressing table of indices (FNV-1a hash, linear probing, load
 * at most 1/2).  See interactions.h for the split protocol.
 * See LICENSE for copyright. */
#include "stratagem/interactions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interactions_private.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#define IA_MAGIC 0x41494753u /* "SGIA" */
#define IA_VERSION 1u
#define LABEL_MAX 4096       /* longest label kept from a cell */
#define MAX_INDEX 2147483646 /* users and items are int32 */

/* ---------------------------------------------------------------------------
 * string dictionary */

typedef struct strdict {
    int32_t n;              /* labels */
    int32_t cap;            /* room in 'off' - 1 */
    int64_t *off;           /* (cap+1) start of label k in 'text'; off[n] = text_len */
    char *text;             /* labels, each NUL-terminated */
    size_t text_len, text_cap;
    int32_t *slots;         /* (n_slots) label index or -1 */
    uint32_t n_slots;       /* power of two */
} strdict;

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void dict_deinit(strdict *d)
{
    sg_free(d->off);
    sg_free(d->text);
    sg_free(d->slots);
    memset(d, 0, sizeof *d);
}

static const char *dict_label(const strdict *d, int32_t k) { return d->text + d->off[k]; }

static int dict_rehash(strdict *d, uint32_t n_slots)
{
    int32_t *s = sg_malloc_array(n_slots, sizeof *s);
    if (!s) return SG_ENOMEM;
    memset(s, 0xff, (size_t)n_slots * sizeof *s);
    for (int32_t k = 0; k < d->n; k++) {
        const char *l = dict_label(d, k);
        uint32_t h = hash_str(l, strlen(l)) & (n_slots - 1);
        while (s[h] >= 0) h = (h + 1) & (n_slots - 1);
        s[h] = k;
    }
    sg_free(d->slots);
    d->slots = s;
    d->n_slots = n_slots;
    return SG_OK;
}

static int dict_find(const strdict *d, const char *s, size_t len)
{
    if (!d->n_slots) return -1;
    uint32_t h = hash_str(s, len) & (d->n_slots - 1);
    for (;;) {
        int32_t k = d->slots[h];
        if (k < 0) return -1;
        const char *l = dict_label(d, k);
        if ((size_t)(d->off[k + 1] - d->off[k] - 1) == len && memcmp(l, s, len) == 0) return k;
        h = (h + 1) & (d->n_slots - 1);
    }
}

/* Index of label s (added when new): >= 0, or SG_ENOMEM / SG_EINVAL (too many). */
static int dict_add(strdict *d, const char *s, size_t len)
{
    int k = dict_find(d, s, len);
    if (k >= 0) return k;
    if (d->n >= MAX_INDEX) return SG_EINVAL;
    if ((uint64_t)(d->n + 1) * 2 > d->n_slots) {
        uint32_t ns = d->n_slots ? d->n_slots * 2 : 64;
        if (dict_rehash(d, ns)) return SG_ENOMEM;
    }
    if (d->n + 1 > d->cap) {
        int32_t cap = d->cap ? (d->cap > MAX_INDEX / 2 ? MAX_INDEX : d->cap * 2) : 64;
        int64_t *off = sg_realloc(d->off, ((size_t)cap + 1) * sizeof *off);
        if (!off) return SG_ENOMEM;
        if (!d->off) off[0] = 0;
        d->off = off;
        d->cap = cap;
    }
    if (d->text_len + len + 1 > d->text_cap) {
        size_t cap = d->text_cap ? d->text_cap * 2 : 1024;
        while (cap < d->text_len + len + 1) cap *= 2;
        char *t = sg_realloc(d->text, cap);
        if (!t) return SG_ENOMEM;
        d->text = t;
        d->text_cap = cap;
    }
    memcpy(d->text + d->text_len, s, len);
    d->text[d->text_len + len] = '\0';
    d->text_len += len + 1;
    k = d->n++;
    d->off[d->n] = (int64_t)d->text_len;
    uint32_t h = hash_str(s, len) & (d->n_slots - 1);
    while (d->slots[h] >= 0) h = (h + 1) & (d->n_slots - 1);
    d->slots[h] = k;
    return k;
}

static int dict_copy(strdict *dst, const strdict *src)
{
    memset(dst, 0, sizeof *dst);
    dst->off = sg_malloc_array((size_t)src->n + 1, sizeof *dst->off);
    dst->text = sg_malloc(src->text_len ? src->text_len : 1);
    if (!dst->off || !dst->text) goto nomem;
    if (src->n) memcpy(dst->off, src->off, ((size_t)src->n + 1) * sizeof *dst->off);
    else dst->off[0] = 0;
    if (src->text_len) memcpy(dst->text, src->text, src->text_len);
    dst->n = dst->cap = src->n;
    dst->text_len = src->text_len;
    dst->text_cap = src->text_len ? src->text_len : 1;
    if (src->n_slots) {
        dst->slots = sg_malloc_array(src->n_slots, sizeof *dst->slots);
        if (!dst->slots) goto nomem;
        memcpy(dst->slots, src->slots, (size_t)src->n_slots * sizeof *dst->slots);
        dst->n_slots = src->n_slots;
    }
    return SG_OK;
nomem:
    dict_deinit(dst);
    return SG_ENOMEM;
}

/* ---------------------------------------------------------------------------
 * key -> index map (cell codes or number bits to dictionary indices) */

typedef struct keymap {
    uint64_t *keys;
    int32_t *vals;          /* INT32_MIN = empty slot */
    uint32_t n, n_slots;
} keymap;

static uint32_t hash_u64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k;
}

static void keymap_deinit(keymap *m)
{
    sg_free(m->keys);
    sg_free(m->vals);
    memset(m, 0, sizeof *m);
}

static int keymap_grow(keymap *m)
{
    uint32_t ns = m->n_slots ? m->n_slots * 2 : 256;
    uint64_t *k = sg_malloc_array(ns, sizeof *k);
    int32_t *v = sg_malloc_array(ns, sizeof *v);
    if (!k || !v) {
        sg_free(k);
        sg_free(v);
        return SG_ENOMEM;
    }
    for (uint32_t i = 0; i < ns; i++) v[i] = INT32_MIN;
    for (uint32_t i = 0; i < m->n_slots; i++) {
        if (m->vals[i] == INT32_MIN) continue;
        uint32_t h = hash_u64(m->keys[i]) & (ns - 1);
        while (v[h] != INT32_MIN) h = (h + 1) & (ns - 1);
        k[h] = m->keys[i];
        v[h] = m->vals[i];
    }
    sg_free(m->keys);
    sg_free(m->vals);
    m->keys = k;
    m->vals = v;
    m->n_slots = ns;
    return SG_OK;
}

/* Slot of 'key': found (vals != INT32_MIN) or the empty slot to fill. */
static uint32_t keymap_slot(const keymap *m, uint64_t key)
{
    uint32_t h = hash_u64(key) & (m->n_slots - 1);
    while (m->vals[h] != INT32_MIN && m->keys[h] != key) h = (h + 1) & (m->n_slots - 1);
    return h;
}

/* ---------------------------------------------------------------------------
 * the object */

struct sg_interactions {
    char *user_col, *item_col, *rating_col;   /* owned; rating_col may be NULL */
    double min_rating;
    strdict users, items;
    int64_t *row_ptr;       /* (n_users+1) */
    int32_t *col_idx;       /* (nnz) */
};

void sg_interactions_opts_default(sg_interactions_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_rating = -INFINITY;
}

void sg_interactions_free(sg_interactions *x)
{
    if (!x) return;
    sg_free(x->user_col);
    sg_free(x->item_col);
    sg_free(x->rating_col);
    dict_deinit(&x->users);
    dict_deinit(&x->items);
    sg_free(x->row_ptr);
    sg_free(x->col_idx);
    sg_free(x);
}

int sg_interactions_n_users(const sg_interactions *x) { return x->users.n; }
int sg_interactions_n_items(const sg_interactions *x) { return x->items.n; }
int64_t sg_interactions_nnz(const sg_interactions *x) { return x->row_ptr[x->users.n]; }
const int64_t *sg_interactions_row_ptr(const sg_interactions *x) { return x->row_ptr; }
const int32_t *sg_interactions_col_idx(const sg_interactions *x) { return x->col_idx; }
const char *sg_interactions_user_col(const sg_interactions *x) { return x->user_col; }
const char *sg_interactions_item_col(const sg_interactions *x) { return x->item_col; }
const char *sg_interactions_rating_col(const sg_interactions *x) { return x->rating_col; }
double sg_interactions_min_rating(const sg_interactions *x) { return x->min_rating; }

const char *sg_interactions_user_label(const sg_interactions *x, int u)
{
    return u >= 0 && u < x->users.n ? dict_label(&x->users, u) : NULL;
}

const char *sg_interactions_item_label(const sg_interactions *x, int i)
{
    return i >= 0 && i < x->items.n ? dict_label(&x->items, i) : NULL;
}

int sg_interactions_find_user(const sg_interactions *x, const char *label)
{
    return dict_find(&x->users, label, strlen(label));
}

int sg_interactions_find_item(const sg_interactions *x, const char *label)
{
    return dict_find(&x->items, label, strlen(label));
}

void sg_interactions_item_counts(const sg_interactions *x, int64_t *counts)
{
    memset(counts, 0, (size_t)x->items.n * sizeof *counts);
    int64_t nnz = x->row_ptr[x->users.n];
    for (int64_t k = 0; k < nnz; k++) counts[x->col_idx[k]]++;
}

/* A new object with copies of the column roles of 'like' (NULL: none). */
static int alloc_like(sg_interactions **out, const char *user_col, const char *item_col,
                      const char *rating_col, double min_rating)
{
    sg_interactions *x = sg_calloc(1, sizeof *x);
    if (!x) return SG_ENOMEM;
    x->user_col = sg_strdup(user_col ? user_col : "user");
    x->item_col = sg_strdup(item_col ? item_col : "item");
    x->rating_col = rating_col ? sg_strdup(rating_col) : NULL;
    x->min_rating = min_rating;
    if (!x->user_col || !x->item_col || (rating_col && !x->rating_col)) {
        sg_interactions_free(x);
        return SG_ENOMEM;
    }
    *out = x;
    return SG_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sort every row and drop repeated columns, compacting col_idx in place and
 * rewriting row_ptr.  Returns the number of duplicates removed. */
static int64_t sort_dedup_rows(int64_t *row_ptr, int32_t *col_idx, int n_rows)
{
    int64_t w = 0, dups = 0, k0 = row_ptr[0];
    row_ptr[0] = 0;
    for (int u = 0; u < n_rows; u++) {
        int64_t k1 = row_ptr[u + 1];
        if (k1 - k0 > 1) qsort(col_idx + k0, (size_t)(k1 - k0), sizeof *col_idx, cmp_i32);
        for (int64_t k = k0; k < k1; k++) {
            if (k > k0 && col_idx[k] == col_idx[k - 1]) {
                dups++;
                continue;
            }
            col_idx[w++] = col_idx[k];
        }
        row_ptr[u + 1] = w;
        k0 = k1;
    }
    return dups;
}

/* CSR from (user, item) pairs of n_users users by counting sort; *dups gets the
 * number of repeated pairs dropped. */
static int csr_from_pairs(sg_interactions *x, const int32_t *pu, const int32_t *pi, int64_t n,
                          int64_t *dups)
{
    int n_users = x->users.n;
    x->row_ptr = sg_calloc((size_t)n_users + 1, sizeof *x->row_ptr);
    x->col_idx = sg_malloc_array(n > 0 ? (size_t)n : 1, sizeof *x->col_idx);
    int64_t *fill = sg_malloc_array((size_t)n_users + 1, sizeof *fill);
    if (!x->row_ptr || !x->col_idx || !fill) {
        sg_free(fill);
        return SG_ENOMEM;
    }
    for (int64_t k = 0; k < n; k++) x->row_ptr[pu[k] + 1]++;
    for (int u = 0; u < n_users; u++) x->row_ptr[u + 1] += x->row_ptr[u];
    memcpy(fill, x->row_ptr, ((size_t)n_users + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++) x->col_idx[fill[pu[k]]++] = pi[k];
    sg_free(fill);
    *dups = sort_dedup_rows(x->row_ptr, x->col_idx, n_users);
    int64_t nnz = x->row_ptr[n_users];
    if (nnz < n && nnz > 0) {
        int32_t *c = sg_realloc(x->col_idx, (size_t)nnz * sizeof *c);
        if (c) x->col_idx = c;   /* shrinking failed: keep the larger block */
    }
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * building from a table */

/* Key of cell (i, j): its code or the bits of its number; 0 when missing. */
static int cell_key(const int32_t *codes, const double *num, int64_t i, uint64_t *key)
{
    if (codes) {
        if (codes[i] < 0) return 0;
        *key = (uint64_t)(uint32_t)codes[i];
        return 1;
    }
    double v = num[i];
    if (isnan(v)) return 0;
    if (v == 0.0) v = 0.0;   /* -0 and +0 are the same id */
    memcpy(key, &v, sizeof v);
    return 1;
}

/* *idx = index of the value of cell (row, j) in dictionary 'd' through 'map':
 * >= 0, -1 when the cell is missing, -2 when it is not in a read-only
 * dictionary.  Returns SG_OK, SG_ENOMEM or SG_EINVAL (too many labels). */
static int map_cell(keymap *map, strdict *d, int read_only, const sg_table *t, int j,
                    const int32_t *codes, const double *num, int64_t row, int *idx)
{
    uint64_t key;
    if (!cell_key(codes, num, row, &key)) {
        *idx = -1;
        return SG_OK;
    }
    if ((map->n + 1) * 2 > map->n_slots && keymap_grow(map)) return SG_ENOMEM;
    uint32_t h = keymap_slot(map, key);
    if (map->vals[h] == INT32_MIN) {
        char buf[LABEL_MAX];
        const char *s = sg_table_cell(t, row, j, buf, sizeof buf);
        size_t len = strlen(s);
        int k;
        if (read_only) {
            k = dict_find(d, s, len);
            if (k < 0) k = -2;
        } else {
            k = dict_add(d, s, len);
            if (k < 0) return k;
        }
        map->keys[h] = key;
        map->vals[h] = k;
        map->n++;
    }
    *idx = map->vals[h];
    return SG_OK;
}

static int find_column(const sg_table *t, const char *role, const char *name, sg_error *err)
{
    int j = name ? sg_table_find(t, name) : -1;
    if (j < 0) {
        return sg_error_set(err, SG_ENOTFOUND, "%s: no %s column '%s'", sg_table_name(t), role,
                            name ? name : "(none given)");
    }
    return j;
}

int sg_interactions_from_table(sg_interactions **out, const sg_table *t,
                               const sg_interactions_opts *o, sg_interactions_stats *st,
                               sg_error *err)
{
    sg_interactions_stats s = {0};
    sg_interactions *x = NULL;
    keymap um = {0}, im = {0};
    int32_t *pu = NULL, *pi = NULL;
    int rc;
    if (!out || !t || !o || !o->user_col || !o->item_col) {
        return sg_error_set(err, SG_EINVAL, "interactions: the user and item columns are "
                            "required");
    }
    int uj = find_column(t, "user", o->user_col, err);
    if (uj < 0) return uj;
    int ij = find_column(t, "item", o->item_col, err);
    if (ij < 0) return ij;
    const double *rating = NULL;
    if (o->rating_col) {
        int rj = find_column(t, "rating", o->rating_col, err);
        if (rj < 0) return rj;
        rating = sg_table_num(t, rj);
        if (!rating || sg_table_col_type(t, rj) != SG_COL_NUMBER) {
            return sg_error_set(err, SG_EINVAL, "%s: rating column '%s' is %s, not a number",
                                sg_table_name(t), o->rating_col,
                                sg_coltype_name(sg_table_col_type(t, rj)));
        }
    }
    if ((rc = alloc_like(&x, o->user_col, o->item_col, o->rating_col, o->min_rating))) goto nomem;
    if (o->user_vocab && (rc = dict_copy(&x->users, &o->user_vocab->users))) goto nomem;
    if (o->item_vocab) {
        if ((rc = dict_copy(&x->items, &o->item_vocab->items))) goto nomem;
    }
    if (keymap_grow(&um) || keymap_grow(&im)) goto nomem;
    int64_t N = sg_table_n_rows(t), n = 0;
    s.n_rows = N;
    pu = sg_malloc_array(N > 0 ? (size_t)N : 1, sizeof *pu);
    pi = sg_malloc_array(N > 0 ? (size_t)N : 1, sizeof *pi);
    if (!pu || !pi) goto nomem;
    const int32_t *ucodes = sg_table_codes(t, uj), *icodes = sg_table_codes(t, ij);
    const double *unum = sg_table_num(t, uj), *inum = sg_table_num(t, ij);
    for (int64_t r = 0; r < N; r++) {
        if (rating && !(rating[r] >= o->min_rating)) {
            s.n_below_rating++;
            continue;
        }
        int u, i;
        if ((rc = map_cell(&um, &x->users, 0, t, uj, ucodes, unum, r, &u)) ||
            (rc = map_cell(&im, &x->items, o->item_vocab != NULL, t, ij, icodes, inum, r, &i))) {
            if (rc == SG_ENOMEM) goto nomem;
            rc = sg_error_set(err, SG_EINVAL, "%s: more than %d distinct users or items",
                              sg_table_name(t), MAX_INDEX);
            goto fail;
        }
        if (u == -1 || i == -1) {
            s.n_missing_id++;
            continue;
        }
        if (i == -2) {
            s.n_unknown_item++;
            continue;
        }
        pu[n] = u;
        pi[n] = i;
        n++;
    }
    if ((rc = csr_from_pairs(x, pu, pi, n, &s.n_duplicate))) goto nomem;
    sg_free(pu);
    sg_free(pi);
    keymap_deinit(&um);
    keymap_deinit(&im);
    if (st) *st = s;
    *out = x;
    return SG_OK;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory building interactions",
                      sg_table_name(t));
fail:
    sg_free(pu);
    sg_free(pi);
    keymap_deinit(&um);
    keymap_deinit(&im);
    sg_interactions_free(x);
    return rc;
}

/* ---------------------------------------------------------------------------
 * building from CSR rows, copying */

int sg_interactions_from_csr(sg_interactions **out, const sg_interactions *item_vocab,
                             int n_items, int n_users, const int64_t *row_ptr,
                             const int32_t *col_idx, const char *const *user_labels,
                             sg_error *err)
{
    if (!out || n_users < 0 || (!item_vocab && n_items < 0) ||
        (n_users > 0 && (!row_ptr || !col_idx))) {
        return sg_error_set(err, SG_EINVAL, "interactions from CSR: bad arguments");
    }
    if (item_vocab) n_items = item_vocab->items.n;
    for (int u = 0; u < n_users; u++) {
        if (row_ptr[u + 1] < row_ptr[u]) {
            return sg_error_set(err, SG_EINVAL, "interactions from CSR: row %d: row_ptr "
                                "decreases", u);
        }
        for (int64_t k = row_ptr[u]; k < row_ptr[u + 1]; k++) {
            if (col_idx[k] < 0 || col_idx[k] >= n_items) {
                return sg_error_set(err, SG_EINVAL, "interactions from CSR: row %d: item %d "
                                    "outside [0, %d)", u, (int)col_idx[k], n_items);
            }
        }
    }
    sg_interactions *x = NULL;
    int rc = item_vocab ? alloc_like(&x, item_vocab->user_col, item_vocab->item_col,
                                     item_vocab->rating_col, item_vocab->min_rating)
                        : alloc_like(&x, "user", "item", NULL, -INFINITY);
    if (rc) goto nomem;
    if (item_vocab) {
        if ((rc = dict_copy(&x->items, &item_vocab->items))) goto nomem;
    } else {
        for (int i = 0; i < n_items; i++) {
            char buf[32];
            int len = snprintf(buf, sizeof buf, "%d", i);
            if (dict_add(&x->items, buf, (size_t)len) < 0) goto nomem;
        }
    }
    for (int u = 0; u < n_users; u++) {
        char buf[32];
        const char *l = user_labels ? user_labels[u] : buf;
        if (!user_labels) snprintf(buf, sizeof buf, "%d", u);
        int before = x->users.n;
        int k = dict_add(&x->users, l, strlen(l));
        if (k == SG_ENOMEM) goto nomem;
        if (k < before || k < 0) {
            rc = sg_error_set(err, SG_EINVAL, "interactions from CSR: user label '%s' appears "
                              "twice", l);
            goto fail;
        }
    }
    int64_t nnz = n_users > 0 ? row_ptr[n_users] - row_ptr[0] : 0;
    x->row_ptr = sg_malloc_array((size_t)n_users + 1, sizeof *x->row_ptr);
    x->col_idx = sg_malloc_array(nnz > 0 ? (size_t)nnz : 1, sizeof *x->col_idx);
    if (!x->row_ptr || !x->col_idx) goto nomem;
    x->row_ptr[0] = 0;
    for (int u = 0; u < n_users; u++) x->row_ptr[u + 1] = row_ptr[u + 1] - row_ptr[0];
    if (nnz > 0) memcpy(x->col_idx, col_idx + row_ptr[0], (size_t)nnz * sizeof *x->col_idx);
    sort_dedup_rows(x->row_ptr, x->col_idx, n_users);
    *out = x;
    return SG_OK;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "interactions from CSR: out of memory");
fail:
    sg_interactions_free(x);
    return rc;
}

int sg_interactions_copy(sg_interactions **out, const sg_interactions *x, sg_error *err)
{
    sg_interactions *y = NULL;
    int rc = alloc_like(&y, x->user_col, x->item_col, x->rating_col, x->min_rating);
    if (rc) goto nomem;
    if (dict_copy(&y->users, &x->users) || dict_copy(&y->items, &x->items)) goto nomem;
    int64_t nnz = x->row_ptr[x->users.n];
    y->row_ptr = sg_malloc_array((size_t)x->users.n + 1, sizeof *y->row_ptr);
    y->col_idx = sg_malloc_array(nnz > 0 ? (size_t)nnz : 1, sizeof *y->col_idx);
    if (!y->row_ptr || !y->col_idx) goto nomem;
    memcpy(y->row_ptr, x->row_ptr, ((size_t)x->users.n + 1) * sizeof *y->row_ptr);
    if (nnz > 0) memcpy(y->col_idx, x->col_idx, (size_t)nnz * sizeof *y->col_idx);
    *out = y;
    return SG_OK;
nomem:
    sg_interactions_free(y);
    return sg_error_set(err, SG_ENOMEM, "interactions copy: out of memory");
}

/* ---------------------------------------------------------------------------
 * strong-generalisation split */

void sg_split_opts_default(sg_split_opts *o)
{
    o->test_users = 0.1;
    o->val_users = 0.1;
    o->heldout = 0.2;
    o->min_items = 5;
    o->seed = SG_DEFAULT_SEED;
}

void sg_user_split_deinit(sg_user_split *s)
{
    if (!s) return;
    sg_interactions_free(s->train);
    sg_interactions_free(s->val_foldin);
    sg_interactions_free(s->val_heldout);
    sg_interactions_free(s->test_foldin);
    sg_interactions_free(s->test_heldout);
    memset(s, 0, sizeof *s);
}

/* An empty object over x's items and column roles, to be filled by add_row. */
static int new_part(sg_interactions **out, const sg_interactions *x, int64_t cap_rows,
                    int64_t cap_nnz)
{
    sg_interactions *y = NULL;
    if (alloc_like(&y, x->user_col, x->item_col, x->rating_col, x->min_rating)) goto nomem;
    if (dict_copy(&y->items, &x->items)) goto nomem;
    y->row_ptr = sg_malloc_array((size_t)cap_rows + 1, sizeof *y->row_ptr);
    y->col_idx = sg_malloc_array(cap_nnz > 0 ? (size_t)cap_nnz : 1, sizeof *y->col_idx);
    if (!y->row_ptr || !y->col_idx) goto nomem;
    y->row_ptr[0] = 0;
    *out = y;
    return SG_OK;
nomem:
    sg_interactions_free(y);
    return SG_ENOMEM;
}

/* Append user 'label' with items (n) to a part built by new_part. */
static int add_row(sg_interactions *y, const char *label, const int32_t *items, int64_t n)
{
    int u = dict_add(&y->users, label, strlen(label));
    if (u < 0) return u;
    if (u != y->users.n - 1) return SG_EINTERNAL;   /* labels of one input are distinct */
    int64_t k0 = y->row_ptr[u];
    if (n > 0) memcpy(y->col_idx + k0, items, (size_t)n * sizeof *items);
    y->row_ptr[u + 1] = k0 + n;
    return SG_OK;
}

int sg_interactions_split(sg_user_split *out, const sg_interactions *x, const sg_split_opts *o,
                          sg_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(o->test_users >= 0 && o->test_users < 1 && o->val_users >= 0 && o->val_users < 1 &&
          o->test_users + o->val_users < 1)) {
        return sg_error_set(err, SG_EINVAL, "split: test share %g and validation share %g must "
                            "be in [0,1) with a sum below 1", o->test_users, o->val_users);
    }
    if (!(o->heldout > 0 && o->heldout < 1)) {
        return sg_error_set(err, SG_EINVAL, "split: held-out share %g must be in (0,1)",
                            o->heldout);
    }
    int n_users = x->users.n, n_items = x->items.n;
    const int64_t *rp = x->row_ptr;
    int64_t *order = sg_malloc_array((size_t)n_users + 1, sizeof *order);
    unsigned char *role = sg_calloc((size_t)n_users + 1, 1);   /* 0 train, 1 val, 2 test */
    unsigned char *in_train = sg_calloc((size_t)n_items + 1, 1);
    int32_t *buf = NULL;
    int rc = SG_OK;
    if (!order || !role || !in_train) goto nomem;

    int64_t n_elig = 0;
    for (int u = 0; u < n_users; u++) {
        if (rp[u + 1] - rp[u] >= o->min_items) order[n_elig++] = u;
    }
    sg_rng rng;
    sg_rng_init(&rng, o->seed);
    sg_rng_shuffle_i64(&rng, order, n_elig);
    int64_t n_test = llround(o->test_users * (double)n_elig);
    int64_t n_val = llround(o->val_users * (double)n_elig);
    if (n_test + n_val > n_elig) n_val = n_elig - n_test;
    for (int64_t k = 0; k < n_test; k++) role[order[k]] = 2;
    for (int64_t k = n_test; k < n_test + n_val; k++) role[order[k]] = 1;

    int64_t train_rows = 0, train_nnz = 0, max_row = 0;
    for (int u = 0; u < n_users; u++) {
        int64_t len = rp[u + 1] - rp[u];
        if (len > max_row) max_row = len;
        if (role[u]) continue;
        train_rows++;
        train_nnz += len;
        for (int64_t k = rp[u]; k < rp[u + 1]; k++) in_train[x->col_idx[k]] = 1;
    }
    buf = sg_malloc_array(max_row > 0 ? (size_t)max_row : 1, sizeof *buf);
    if (!buf) goto nomem;
    if (new_part(&out->train, x, train_rows, train_nnz) ||
        new_part(&out->val_foldin, x, n_val, x->row_ptr[n_users]) ||
        new_part(&out->val_heldout, x, n_val, x->row_ptr[n_users]) ||
        new_part(&out->test_foldin, x, n_test, x->row_ptr[n_users]) ||
        new_part(&out->test_heldout, x, n_test, x->row_ptr[n_users]))
        goto nomem;
    /* Users in index order; the item shuffles draw from the same stream after the
     * user shuffle, one user after another, so the split is a function of the seed. */
    for (int u = 0; u < n_users; u++) {
        const int32_t *items = x->col_idx + rp[u];
        int64_t len = rp[u + 1] - rp[u];
        const char *label = dict_label(&x->users, u);
        if (role[u] == 0) {
            if ((rc = add_row(out->train, label, items, len))) goto code;
            continue;
        }
        int64_t n = 0;
        for (int64_t k = 0; k < len; k++) {
            if (in_train[items[k]]) buf[n++] = items[k];
        }
        if (n == 0) {
            out->n_dropped_users++;
            continue;
        }
        /* Fisher-Yates on the user's items, then the first n_fold are folded in. */
        for (int64_t k = n - 1; k > 0; k--) {
            int64_t j = (int64_t)sg_rng_below(&rng, (uint64_t)k + 1);
            int32_t tmp = buf[k];
            buf[k] = buf[j];
            buf[j] = tmp;
        }
        int64_t n_fold = (int64_t)floor((1.0 - o->heldout) * (double)n + 1e-9);
        if (n_fold >= n) n_fold = n - 1;
        qsort(buf, (size_t)n_fold, sizeof *buf, cmp_i32);
        qsort(buf + n_fold, (size_t)(n - n_fold), sizeof *buf, cmp_i32);
        sg_interactions *f = role[u] == 2 ? out->test_foldin : out->val_foldin;
        sg_interactions *h = role[u] == 2 ? out->test_heldout : out->val_heldout;
        if ((rc = add_row(f, label, buf, n_fold))) goto code;
        if ((rc = add_row(h, label, buf + n_fold, n - n_fold))) goto code;
    }
    sg_free(order);
    sg_free(role);
    sg_free(in_train);
    sg_free(buf);
    return SG_OK;
code:
    if (rc != SG_ENOMEM) {
        rc = sg_error_set(err, SG_EINTERNAL, "split: duplicate user label");
        goto fail;
    }
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "split: out of memory");
fail:
    sg_free(order);
    sg_free(role);
    sg_free(in_train);
    sg_free(buf);
    sg_user_split_deinit(out);
    return rc;
}

/* ---------------------------------------------------------------------------
 * serialisation (format in interactions_private.h) */

static void write_dict(sg_wbuf *w, const strdict *d)
{
    sg_wbuf_i64(w, d->n);
    sg_wbuf_i64(w, (int64_t)d->text_len);
    sg_wbuf_put(w, d->text, d->text_len);
}

void sg_interactions_write(const sg_interactions *x, sg_wbuf *w)
{
    sg_wbuf_u32(w, IA_MAGIC);
    sg_wbuf_u32(w, IA_VERSION);
    sg_wbuf_str(w, x->user_col);
    sg_wbuf_str(w, x->item_col);
    sg_wbuf_str(w, x->rating_col);
    sg_wbuf_f64(w, x->min_rating);
    write_dict(w, &x->users);
    write_dict(w, &x->items);
    int64_t nnz = x->row_ptr[x->users.n];
    sg_wbuf_i64(w, nnz);
    sg_wbuf_put(w, x->row_ptr, ((size_t)x->users.n + 1) * sizeof *x->row_ptr);
    sg_wbuf_put(w, x->col_idx, (size_t)nnz * sizeof *x->col_idx);
}

static size_t left(const sg_rbuf *r) { return r->len - r->pos; }

static int read_dict(strdict *d, sg_rbuf *r, const char *what, sg_error *err)
{
    int64_t n, len;
    int rc;
    if ((rc = sg_rbuf_count(r, &n, MAX_INDEX, what, err))) return rc;
    if ((rc = sg_rbuf_count(r, &len, INT64_MAX / 2, what, err))) return rc;
    if ((uint64_t)len > left(r)) {
        return sg_error_set(err, SG_EPARSE, "truncated data: %s need %lld bytes at offset %zu, "
                            "%zu left", what, (long long)len, r->pos, left(r));
    }
    if (len < n) {
        return sg_error_set(err, SG_EPARSE, "corrupt data: %s: %lld labels in %lld bytes", what,
                            (long long)n, (long long)len);
    }
    const char *text = (const char *)r->data + r->pos;
    if (len > 0 && text[len - 1] != '\0') {
        return sg_error_set(err, SG_EPARSE, "corrupt data: %s: labels not terminated", what);
    }
    int64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        if (pos >= len) {
            return sg_error_set(err, SG_EPARSE, "corrupt data: %s: %lld labels expected, %lld "
                                "found", what, (long long)n, (long long)k);
        }
        size_t l = strlen(text + pos);
        int before = d->n;
        int idx = dict_add(d, text + pos, l);
        if (idx == SG_ENOMEM) return sg_error_set(err, SG_ENOMEM, "%s: out of memory", what);
        if (idx < before) {
            return sg_error_set(err, SG_EPARSE, "corrupt data: %s: label '%s' repeated", what,
                                text + pos);
        }
        pos += (int64_t)l + 1;
    }
    if (pos != len) {
        return sg_error_set(err, SG_EPARSE, "corrupt data: %s: %lld stray bytes", what,
                            (long long)(len - pos));
    }
    r->pos += (size_t)len;
    return SG_OK;
}

int sg_interactions_read(sg_interactions **out, sg_rbuf *r, sg_error *err)
{
    sg_interactions *x = NULL;
    char *uc = NULL, *ic = NULL, *rcol = NULL;
    uint32_t magic, version;
    double min_rating;
    int rc;
    if ((rc = sg_rbuf_u32(r, &magic, "interactions magic", err))) return rc;
    if (magic != IA_MAGIC) {
        return sg_error_set(err, SG_EPARSE, "corrupt data: interactions block has bad magic "
                            "0x%08x", magic);
    }
    if ((rc = sg_rbuf_u32(r, &version, "interactions version", err))) return rc;
    if (version != IA_VERSION) {
        return sg_error_set(err, SG_EPARSE, "interactions block version %u, expected %u",
                            version, IA_VERSION);
    }
    if ((rc = sg_rbuf_str(r, &uc, 4096, "user column", err))) goto fail;
    if ((rc = sg_rbuf_str(r, &ic, 4096, "item column", err))) goto fail;
    if ((rc = sg_rbuf_str(r, &rcol, 4096, "rating column", err))) goto fail;
    if ((rc = sg_rbuf_f64(r, &min_rating, "minimum rating", err))) goto fail;
    if (alloc_like(&x, uc, ic, rcol, min_rating)) goto nomem;
    if ((rc = read_dict(&x->users, r, "user labels", err))) goto fail;
    if ((rc = read_dict(&x->items, r, "item labels", err))) goto fail;
    int n_users = x->users.n, n_items = x->items.n;
    int64_t nnz;
    if ((rc = sg_rbuf_count(r, &nnz, INT64_MAX / 16, "interaction count", err))) goto fail;
    size_t need = ((size_t)n_users + 1) * sizeof(int64_t);
    if (left(r) < need || (left(r) - need) / sizeof(int32_t) < (size_t)nnz) {
        rc = sg_error_set(err, SG_EPARSE, "truncated data: %d users and %lld interactions need "
                          "%zu bytes at offset %zu, %zu left", n_users, (long long)nnz,
                          need + (size_t)nnz * 4, r->pos, left(r));
        goto fail;
    }
    x->row_ptr = sg_malloc(need);
    x->col_idx = sg_malloc_array(nnz > 0 ? (size_t)nnz : 1, sizeof *x->col_idx);
    if (!x->row_ptr || !x->col_idx) goto nomem;
    memcpy(x->row_ptr, r->data + r->pos, need);
    r->pos += need;
    if (nnz > 0) memcpy(x->col_idx, r->data + r->pos, (size_t)nnz * sizeof *x->col_idx);
    r->pos += (size_t)nnz * sizeof *x->col_idx;
    if (x->row_ptr[0] != 0 || x->row_ptr[n_users] != nnz) goto corrupt;
    for (int u = 0; u < n_users; u++) {
        if (x->row_ptr[u + 1] < x->row_ptr[u]) goto corrupt;
        for (int64_t k = x->row_ptr[u]; k < x->row_ptr[u + 1]; k++) {
            int32_t c = x->col_idx[k];
            if (c < 0 || c >= n_items || (k > x->row_ptr[u] && c <= x->col_idx[k - 1]))
                goto corrupt;
        }
    }
    sg_free(uc);
    sg_free(ic);
    sg_free(rcol);
    *out = x;
    return SG_OK;
corrupt:
    rc = sg_error_set(err, SG_EPARSE, "corrupt data: interaction rows are out of range or "
                      "unsorted");
    goto fail;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "reading interactions: out of memory");
fail:
    sg_free(uc);
    sg_free(ic);
    sg_free(rcol);
    sg_interactions_free(x);
    return rc;
}
