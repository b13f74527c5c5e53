/* test_interactions.c -- user x item CSR from tables, vocabularies, the user split,
 * serialisation and allocation failures of src/data/interactions.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data/interactions_private.h"
#include "stratagem/error.h"
#include "stratagem/interactions.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

/* ---------------------------------------------------------------------------
 * helpers */

static sg_table *table_of(const char *csv)
{
    sg_table *t = NULL;
    sg_load_opts o;
    sg_load_opts_default(&o);
    sg_error err;
    int rc = sg_table_load_mem(&t, "mem.csv", csv, strlen(csv), &o, &err);
    if (rc) print_error("load: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return t;
}

static sg_interactions *build(const sg_table *t, const char *rating, double min_rating,
                              const sg_interactions *iv, const sg_interactions *uv,
                              sg_interactions_stats *st)
{
    sg_interactions_opts o;
    sg_interactions_opts_default(&o);
    o.user_col = "user";
    o.item_col = "item";
    o.rating_col = rating;
    o.min_rating = min_rating;
    o.item_vocab = iv;
    o.user_vocab = uv;
    sg_interactions *x = NULL;
    sg_error err;
    int rc = sg_interactions_from_table(&x, t, &o, st, &err);
    if (rc) print_error("build: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return x;
}

/* Items of user u as labels joined by spaces. */
static void row_text(const sg_interactions *x, int u, char *buf, size_t cap)
{
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    size_t len = 0;
    buf[0] = '\0';
    for (int64_t k = rp[u]; k < rp[u + 1]; k++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", k > rp[u] ? " " : "",
                                sg_interactions_item_label(x, ci[k]));
    }
}

/* A synthetic interactions set: n_users users with 1..max_len items over n_items. */
static sg_interactions *synthetic(int n_users, int n_items, int max_len, uint64_t seed)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    size_t cap = (size_t)n_users * (size_t)max_len * 16 + 32;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "user,item\n");
    for (int u = 0; u < n_users; u++) {
        int n = 1 + (int)sg_rng_below(&r, (uint64_t)max_len);
        for (int k = 0; k < n; k++) {
            /* skewed item popularity */
            double v = sg_rng_uniform(&r);
            int i = (int)(v * v * n_items);
            len += (size_t)snprintf(csv + len, cap - len, "u%d,i%d\n", u, i);
        }
    }
    sg_table *t = table_of(csv);
    free(csv);
    sg_interactions *x = build(t, NULL, 0, NULL, NULL, NULL);
    sg_table_free(t);
    return x;
}

/* ---------------------------------------------------------------------------
 * building */

/* interactions-1.1: first-appearance indices, sorted rows, duplicates, rating filter */
static void build_basic(void **state)
{
    (void)state;
    sg_table *t = table_of("user,item,rating\n"
                           "7,b,5\n"
                           "7,a,4\n"
                           "3,b,2\n"      /* below 3.5 */
                           "3,c,4.5\n"
                           "7,b,3.5\n"    /* repeated pair */
                           ",c,5\n"       /* missing user */
                           "9,a,NA\n"     /* missing rating */
                           "9,d,4\n");
    sg_interactions_stats st;
    sg_interactions *x = build(t, "rating", 3.5, NULL, NULL, &st);
    assert_int_equal(sg_interactions_n_users(x), 3);
    assert_int_equal(sg_interactions_n_items(x), 4);
    assert_int_equal(sg_interactions_nnz(x), 4);
    assert_string_equal(sg_interactions_user_label(x, 0), "7");
    assert_string_equal(sg_interactions_user_label(x, 1), "3");
    assert_string_equal(sg_interactions_user_label(x, 2), "9");
    assert_string_equal(sg_interactions_item_label(x, 0), "b");
    assert_string_equal(sg_interactions_item_label(x, 1), "a");
    assert_string_equal(sg_interactions_item_label(x, 2), "c");
    assert_string_equal(sg_interactions_item_label(x, 3), "d");
    char buf[256];
    row_text(x, 0, buf, sizeof buf);
    assert_string_equal(buf, "b a");     /* sorted by index: b=0, a=1 */
    row_text(x, 1, buf, sizeof buf);
    assert_string_equal(buf, "c");
    row_text(x, 2, buf, sizeof buf);
    assert_string_equal(buf, "d");
    assert_int_equal(st.n_rows, 8);
    assert_int_equal(st.n_below_rating, 2);
    assert_int_equal(st.n_missing_id, 1);
    assert_int_equal(st.n_duplicate, 1);
    assert_int_equal(st.n_unknown_item, 0);
    assert_int_equal(sg_interactions_find_user(x, "9"), 2);
    assert_int_equal(sg_interactions_find_user(x, "10"), -1);
    assert_int_equal(sg_interactions_find_item(x, "c"), 2);
    assert_string_equal(sg_interactions_rating_col(x), "rating");
    assert_true(sg_interactions_min_rating(x) == 3.5);
    int64_t counts[4];
    sg_interactions_item_counts(x, counts);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 1);
    assert_int_equal(counts[3], 1);
    assert_null(sg_interactions_user_label(x, 3));
    assert_null(sg_interactions_item_label(x, -1));
    sg_interactions_free(x);
    sg_table_free(t);
}

/* interactions-1.2: missing columns and a text rating column are clear errors */
static void build_errors(void **state)
{
    (void)state;
    sg_table *t = table_of("user,item,rating\n1,a,good\n2,b,bad\n");
    sg_interactions_opts o;
    sg_interactions_opts_default(&o);
    o.user_col = "user";
    o.item_col = "product";
    sg_interactions *x = NULL;
    sg_error err;
    assert_int_equal(sg_interactions_from_table(&x, t, &o, NULL, &err), SG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no item column 'product'"));
    o.item_col = "item";
    o.rating_col = "rating";
    assert_int_equal(sg_interactions_from_table(&x, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "rating column 'rating'"));
    assert_null(x);
    sg_table_free(t);
}

/* interactions-1.3: an item vocabulary fixes indices and drops unknown items;
 * a user vocabulary lines held-out users up with fold-in users */
static void build_vocab(void **state)
{
    (void)state;
    sg_table *t1 = table_of("user,item\nu1,x\nu1,y\nu2,z\n");
    sg_interactions *train = build(t1, NULL, 0, NULL, NULL, NULL);
    sg_table *t2 = table_of("user,item\nv2,z\nv1,q\nv1,x\n");
    sg_interactions_stats st;
    sg_interactions *f = build(t2, NULL, 0, train, NULL, &st);
    assert_int_equal(sg_interactions_n_items(f), 3);
    assert_int_equal(st.n_unknown_item, 1);
    assert_int_equal(sg_interactions_n_users(f), 2);
    assert_string_equal(sg_interactions_user_label(f, 0), "v2");
    /* item indices are the training ones: z = 2, x = 0 */
    assert_int_equal(sg_interactions_col_idx(f)[0], 2);
    assert_int_equal(sg_interactions_col_idx(f)[1], 0);
    sg_table *t3 = table_of("user,item\nv1,y\nv3,x\n");
    sg_interactions *h = build(t3, NULL, 0, train, f, NULL);
    assert_int_equal(sg_interactions_n_users(h), 3);
    assert_string_equal(sg_interactions_user_label(h, 0), "v2");   /* from the vocabulary */
    assert_string_equal(sg_interactions_user_label(h, 1), "v1");
    assert_string_equal(sg_interactions_user_label(h, 2), "v3");   /* appended */
    const int64_t *rp = sg_interactions_row_ptr(h);
    assert_int_equal(rp[1] - rp[0], 0);   /* v2 has nothing held out */
    assert_int_equal(rp[2] - rp[1], 1);
    assert_int_equal(rp[3] - rp[2], 1);
    sg_interactions_free(train);
    sg_interactions_free(f);
    sg_interactions_free(h);
    sg_table_free(t1);
    sg_table_free(t2);
    sg_table_free(t3);
}

/* interactions-1.4: from raw CSR rows (unsorted, repeated) and a deep copy */
static void build_csr_copy(void **state)
{
    (void)state;
    sg_table *t = table_of("user,item\na,i0\na,i1\nb,i2\nb,i3\n");
    sg_interactions *voc = build(t, NULL, 0, NULL, NULL, NULL);
    int64_t rp[] = {5, 8, 8, 9};   /* a window: row_ptr[0] > 0 */
    int32_t ci[] = {0, 0, 0, 0, 0, 3, 1, 3, 2};
    const char *labels[] = {"x", "y", "z"};
    sg_interactions *x = NULL, *y = NULL;
    sg_error err;
    assert_int_equal(sg_interactions_from_csr(&x, voc, 0, 3, rp, ci, labels, &err), SG_OK);
    assert_int_equal(sg_interactions_nnz(x), 3);   /* 3,1,3 -> 1,3 ; empty ; 2 */
    char buf[64];
    row_text(x, 0, buf, sizeof buf);
    assert_string_equal(buf, "i1 i3");
    row_text(x, 2, buf, sizeof buf);
    assert_string_equal(buf, "i2");
    assert_int_equal(sg_interactions_copy(&y, x, &err), SG_OK);
    assert_int_equal(sg_interactions_nnz(y), 3);
    assert_string_equal(sg_interactions_user_label(y, 1), "y");
    assert_int_equal(sg_interactions_find_item(y, "i3"), 3);
    /* bad column and duplicate labels */
    int32_t bad[] = {0, 0, 0, 0, 0, 9, 1, 3, 2};
    sg_interactions *z = NULL;
    assert_int_equal(sg_interactions_from_csr(&z, voc, 0, 3, rp, bad, labels, &err), SG_EINVAL);
    const char *dup[] = {"x", "x", "z"};
    assert_int_equal(sg_interactions_from_csr(&z, voc, 0, 3, rp, ci, dup, &err), SG_EINVAL);
    assert_null(z);
    /* without a vocabulary: items and users named by their indices */
    assert_int_equal(sg_interactions_from_csr(&z, NULL, 5, 3, rp, ci, NULL, &err), SG_OK);
    assert_int_equal(sg_interactions_n_items(z), 5);
    assert_string_equal(sg_interactions_item_label(z, 4), "4");
    assert_string_equal(sg_interactions_user_label(z, 2), "2");
    assert_int_equal(sg_interactions_find_item(z, "3"), 3);
    sg_interactions_free(z);
    sg_interactions_free(x);
    sg_interactions_free(y);
    sg_interactions_free(voc);
    sg_table_free(t);
}

/* ---------------------------------------------------------------------------
 * split */

/* Items of user 'label' in x as a sorted int array (n returned). */
static int64_t items_of(const sg_interactions *x, const char *label, int32_t *out)
{
    int u = sg_interactions_find_user(x, label);
    if (u < 0) return -1;
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    for (int64_t k = rp[u]; k < rp[u + 1]; k++) out[k - rp[u]] = ci[k];
    return rp[u + 1] - rp[u];
}

static int cmp32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Checks one held-out part (fold-in f, held-out h) against the input x. */
static void check_heldout_part(const sg_interactions *x, const sg_user_split *s,
                               const sg_interactions *f, const sg_interactions *h,
                               const unsigned char *in_train)
{
    int32_t a[512], b[512], all[512], want[1024];
    assert_int_equal(sg_interactions_n_users(f), sg_interactions_n_users(h));
    for (int u = 0; u < sg_interactions_n_users(h); u++) {
        const char *l = sg_interactions_user_label(h, u);
        assert_string_equal(l, sg_interactions_user_label(f, u));
        assert_int_equal(sg_interactions_find_user(s->train, l), -1);   /* not a training user */
        int64_t nf = items_of(f, l, a), nh = items_of(h, l, b), nx = items_of(x, l, all);
        assert_true(nh >= 1);                                           /* something to find */
        int64_t n = 0;
        for (int64_t k = 0; k < nx; k++) {
            if (in_train[all[k]]) want[n++] = all[k];
        }
        assert_int_equal(nf + nh, n);
        assert_int_equal(nh, n - (int64_t)floor(0.8 * (double)n + 1e-9));
        /* disjoint, and together exactly the user's items that training users have */
        int32_t both[1024];
        memcpy(both, a, (size_t)nf * 4);
        memcpy(both + nf, b, (size_t)nh * 4);
        qsort(both, (size_t)n, 4, cmp32);
        for (int64_t k = 0; k < n; k++) assert_int_equal(both[k], want[k]);
        for (int64_t k = 1; k < n; k++) assert_true(both[k] != both[k - 1]);
    }
}

/* interactions-2.1: the split: shares, disjoint parts, held-out items for every
 * held-out user, items restricted to training items */
static void split_protocol(void **state)
{
    (void)state;
    sg_interactions *x = synthetic(400, 150, 40, 11);
    sg_split_opts o;
    sg_split_opts_default(&o);
    o.seed = 5;
    sg_user_split s;
    sg_error err;
    assert_int_equal(sg_interactions_split(&s, x, &o, &err), SG_OK);
    int n_elig = 0;
    const int64_t *rp = sg_interactions_row_ptr(x);
    for (int u = 0; u < sg_interactions_n_users(x); u++) n_elig += rp[u + 1] - rp[u] >= 5;
    int n_test = sg_interactions_n_users(s.test_heldout) + 0;
    int n_val = sg_interactions_n_users(s.val_heldout);
    assert_true(n_test + s.n_dropped_users >= (int)lround(0.1 * n_elig) - 1);
    assert_true(n_test <= (int)lround(0.1 * n_elig));
    assert_true(n_val <= (int)lround(0.1 * n_elig) && n_val > 0 && n_test > 0);
    assert_int_equal(sg_interactions_n_users(s.train) + n_test + n_val + s.n_dropped_users,
                     sg_interactions_n_users(x));
    /* all objects keep the input's item dictionary */
    assert_int_equal(sg_interactions_n_items(s.train), sg_interactions_n_items(x));
    assert_int_equal(sg_interactions_n_items(s.test_foldin), sg_interactions_n_items(x));
    unsigned char in_train[150] = {0};
    const int64_t *trp = sg_interactions_row_ptr(s.train);
    const int32_t *tci = sg_interactions_col_idx(s.train);
    for (int64_t k = 0; k < trp[sg_interactions_n_users(s.train)]; k++) in_train[tci[k]] = 1;
    check_heldout_part(x, &s, s.test_foldin, s.test_heldout, in_train);
    check_heldout_part(x, &s, s.val_foldin, s.val_heldout, in_train);
    /* training users keep all their items */
    int32_t a[512], b[512];
    for (int u = 0; u < sg_interactions_n_users(s.train); u++) {
        const char *l = sg_interactions_user_label(s.train, u);
        int64_t na = items_of(s.train, l, a), nb = items_of(x, l, b);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, (size_t)na * 4);
        assert_int_equal(sg_interactions_find_user(s.test_heldout, l), -1);
        assert_int_equal(sg_interactions_find_user(s.val_heldout, l), -1);
    }
    sg_user_split_deinit(&s);
    sg_interactions_free(x);
}

/* Serialised bytes of an object (for equality). */
static unsigned char *bytes_of(const sg_interactions *x, size_t *len)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_interactions_write(x, &w);
    assert_int_equal(sg_wbuf_status(&w, NULL), SG_OK);
    *len = w.len;
    return w.data;
}

static int same_object(const sg_interactions *a, const sg_interactions *b)
{
    size_t la, lb;
    unsigned char *pa = bytes_of(a, &la), *pb = bytes_of(b, &lb);
    int same = la == lb && memcmp(pa, pb, la) == 0;
    sg_free(pa);
    sg_free(pb);
    return same;
}

/* interactions-2.2: the split is a function of the seed */
static void split_deterministic(void **state)
{
    (void)state;
    sg_interactions *x = synthetic(300, 80, 30, 3);
    sg_split_opts o;
    sg_split_opts_default(&o);
    sg_user_split a, b, c;
    assert_int_equal(sg_interactions_split(&a, x, &o, NULL), SG_OK);
    assert_int_equal(sg_interactions_split(&b, x, &o, NULL), SG_OK);
    o.seed = 99;
    assert_int_equal(sg_interactions_split(&c, x, &o, NULL), SG_OK);
    assert_true(same_object(a.train, b.train));
    assert_true(same_object(a.test_foldin, b.test_foldin));
    assert_true(same_object(a.test_heldout, b.test_heldout));
    assert_true(same_object(a.val_heldout, b.val_heldout));
    assert_false(same_object(a.test_heldout, c.test_heldout));
    sg_user_split_deinit(&a);
    sg_user_split_deinit(&b);
    sg_user_split_deinit(&c);
    sg_interactions_free(x);
}

/* interactions-2.3: bad shares are refused; users below min_items always train */
static void split_options(void **state)
{
    (void)state;
    sg_interactions *x = synthetic(50, 20, 8, 4);
    sg_split_opts o;
    sg_split_opts_default(&o);
    sg_user_split s;
    sg_error err;
    o.test_users = 0.6;
    o.val_users = 0.5;
    assert_int_equal(sg_interactions_split(&s, x, &o, &err), SG_EINVAL);
    assert_null(s.train);
    sg_split_opts_default(&o);
    o.heldout = 1.0;
    assert_int_equal(sg_interactions_split(&s, x, &o, &err), SG_EINVAL);
    sg_split_opts_default(&o);
    o.min_items = 1000;   /* nobody is eligible */
    assert_int_equal(sg_interactions_split(&s, x, &o, &err), SG_OK);
    assert_int_equal(sg_interactions_n_users(s.train), 50);
    assert_int_equal(sg_interactions_n_users(s.test_heldout), 0);
    sg_user_split_deinit(&s);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * serialisation, failures */

/* interactions-3.1: write/read round trip; every truncation is a clean SG_EPARSE */
static void serial_roundtrip(void **state)
{
    (void)state;
    sg_interactions *x = synthetic(30, 25, 6, 8);
    size_t len;
    unsigned char *buf = bytes_of(x, &len);
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    sg_interactions *y = NULL;
    sg_error err;
    int rc = sg_interactions_read(&y, &r, &err);
    if (rc) print_error("read: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_int_equal(r.pos, len);
    assert_true(same_object(x, y));
    assert_int_equal(sg_interactions_find_user(y, "u7"), sg_interactions_find_user(x, "u7"));
    sg_interactions_free(y);
    int64_t live = sg_mem_live_bytes();
    for (size_t cut = 0; cut < len; cut++) {
        sg_rbuf_init(&r, buf, cut);
        y = NULL;
        int rc2 = sg_interactions_read(&y, &r, &err);
        if (rc2 != SG_EPARSE) print_error("cut %zu of %zu: %d\n", cut, len, rc2);
        assert_int_equal(rc2, SG_EPARSE);
        assert_null(y);
    }
    /* an out-of-range item index is caught */
    buf[len - 1] = 0x7f;
    sg_rbuf_init(&r, buf, len);
    assert_int_equal(sg_interactions_read(&y, &r, &err), SG_EPARSE);
    assert_int_equal(sg_mem_live_bytes(), live);
    sg_free(buf);
    sg_interactions_free(x);
}

/* interactions-4.1: every allocation failure in building and splitting is a
 * clean SG_ENOMEM without leaks */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *t = table_of("user,item\na,1\na,2\nb,2\nb,3\nb,4\nb,5\nb,6\nc,1\nc,2\nc,3\nc,4\n"
                           "c,5\nd,6\nd,1\nd,2\nd,3\nd,4\ne,9\n");
    sg_interactions_opts o;
    sg_interactions_opts_default(&o);
    o.user_col = "user";
    o.item_col = "item";
    int64_t live = sg_mem_live_bytes();
    int ok = 0;
    for (int64_t n = 0; n < 500 && !ok; n++) {
        sg_interactions *x = NULL;
        sg_user_split s;
        sg_split_opts so;
        sg_split_opts_default(&so);
        so.test_users = 0.3;
        so.val_users = 0.3;
        sg_mem_fail_after(n);
        int rc = sg_interactions_from_table(&x, t, &o, NULL, NULL);
        if (rc == SG_OK) rc = sg_interactions_split(&s, x, &so, NULL);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            ok = 1;
            assert_true(n > 5);
            sg_user_split_deinit(&s);
        } else {
            assert_int_equal(rc, SG_ENOMEM);
        }
        sg_interactions_free(x);
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    assert_true(ok);
    sg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_basic),         cmocka_unit_test(build_errors),
        cmocka_unit_test(build_vocab),         cmocka_unit_test(build_csr_copy),
        cmocka_unit_test(split_protocol),      cmocka_unit_test(split_deterministic),
        cmocka_unit_test(split_options),       cmocka_unit_test(serial_roundtrip),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
