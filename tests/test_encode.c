/* test_encode.c -- the feature schema: fitted on training rows, applied by column name. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/encode.h"
#include "stratagem/mem.h"
#include "stratagem/table.h"

static sg_table *load(const char *csv)
{
    sg_load_opts o;
    sg_load_opts_default(&o);
    sg_table *t = NULL;
    sg_error err;
    int rc = sg_table_load_mem(&t, "t.csv", csv, strlen(csv), &o, &err);
    if (rc) fprintf(stderr, "load failed: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return t;
}

static const char TRAIN[] =
    "id,age,city,y\n"
    "1,20,Paris,0\n"
    "2,30,Lyon,1\n"
    "3,,Paris,0\n"
    "4,50,Nice,1\n"
    "5,40,Paris,1\n";

/* encode-1.1: tree encoding: numbers as they are, categories as codes by frequency, NaN missing */
static void tree_encoding(void **state)
{
    (void)state;
    sg_table *t = load(TRAIN);
    const char *ex[] = {"y", NULL};
    sg_schema *s = NULL;
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_TREE, ex, NULL), SG_OK);
    /* id is inferred as a number here, so it is a feature unless excluded: exclude it too */
    sg_schema_free(s);
    const char *ex2[] = {"y", "id", NULL};
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_TREE, ex2, NULL), SG_OK);
    assert_int_equal(sg_schema_n_features(s), 2);
    assert_string_equal(sg_schema_feature_name(s, 0), "age");
    assert_string_equal(sg_schema_feature_name(s, 1), "city");
    assert_int_equal(sg_schema_is_cat(s)[1], 1);
    float X[10];
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, NULL, NULL), SG_OK);
    assert_true(X[0] == 20.0f);
    assert_true(isnan(X[4]));
    assert_true(X[1] == 0.0f);   /* Paris: most frequent label, code 0 */
    assert_true(X[3] != 0.0f);
    sg_schema_free(s);
    sg_table_free(t);
}

/* encode-1.2: linear encoding: standardised numbers, missing indicator, one-hot (min count 5) */
static void linear_encoding(void **state)
{
    (void)state;
    char csv[4096] = "x,c,y\n";
    for (int i = 0; i < 20; i++) {
        char line[64];
        snprintf(line, sizeof line, "%s,%s,%d\n", i == 3 ? "NA" : (i % 2 ? "2" : "4"),
                 i < 10 ? "a" : i < 18 ? "b" : "rare", i % 2);
        strcat(csv, line);
    }
    sg_table *t = load(csv);
    const char *ex[] = {"y", NULL};
    sg_schema *s = NULL;
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_LINEAR, ex, NULL), SG_OK);
    /* x, x:missing, c=a, c=b ("rare" seen twice: below the minimum count) */
    assert_int_equal(sg_schema_n_features(s), 4);
    assert_string_equal(sg_schema_feature_name(s, 1), "x:missing");
    float X[80];
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, NULL, NULL), SG_OK);
    double mean = 0;
    for (int i = 0; i < 20; i++) mean += (double)X[i * 4];
    assert_true(fabs(mean) < 1e-5);           /* standardised (missing row is 0) */
    assert_true(X[3 * 4 + 1] == 1.0f);        /* row 3 missing */
    assert_true(X[0 * 4 + 1] == 0.0f);
    assert_true(X[0 * 4 + 2] == 1.0f && X[0 * 4 + 3] == 0.0f);
    assert_true(X[19 * 4 + 2] == 0.0f && X[19 * 4 + 3] == 0.0f);   /* rare: all zero */
    sg_schema_free(s);
    sg_table_free(t);
}

/* encode-2.1: applied by name to a file with reordered/extra columns; unseen labels counted */
static void by_name(void **state)
{
    (void)state;
    sg_table *t = load(TRAIN);
    const char *ex[] = {"y", "id", NULL};
    sg_schema *s = NULL;
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_TREE, ex, NULL), SG_OK);
    sg_table *u = load("city,extra,age\nLyon,1,33\nRome,2,44\n");
    float X[4];
    int64_t unseen = -1;
    assert_int_equal(sg_schema_transform(s, u, NULL, 0, X, &unseen, NULL), SG_OK);
    assert_true(X[0] == 33.0f && X[2] == 44.0f);
    assert_int_equal(unseen, 1);
    assert_true(isnan(X[3]));   /* Rome: unseen and no "other" code */
    sg_table *v = load("city\nLyon\n");
    sg_error err;
    assert_int_equal(sg_schema_transform(s, v, NULL, 0, X, NULL, &err), SG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'age'"));
    sg_table_free(v);
    sg_table_free(u);
    sg_schema_free(s);
    sg_table_free(t);
}

/* encode-2.2: fitted on a subset of rows: labels of other rows are unseen */
static void fit_on_rows(void **state)
{
    (void)state;
    sg_table *t = load(TRAIN);
    const char *ex[] = {"y", "id", NULL};
    int64_t rows[] = {0, 1, 2};
    sg_schema *s = NULL;
    assert_int_equal(sg_schema_fit(&s, t, rows, 3, SG_ENC_TREE, ex, NULL), SG_OK);
    float X[10];
    int64_t unseen;
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, &unseen, NULL), SG_OK);
    assert_int_equal(unseen, 1);   /* Nice is only in row 3 */
    sg_schema_free(s);
    sg_table_free(t);
}

/* encode-3.1: save/load round trip gives the same matrix; every truncation fails cleanly */
static void save_load(void **state)
{
    (void)state;
    sg_table *t = load(TRAIN);
    const char *ex[] = {"y", "id", NULL};
    for (int enc = 0; enc < 2; enc++) {
        sg_schema *s = NULL, *s2 = NULL;
        assert_int_equal(sg_schema_fit(&s, t, NULL, 0, enc, ex, NULL), SG_OK);
        unsigned char *buf;
        size_t len;
        assert_int_equal(sg_schema_save(s, &buf, &len, NULL), SG_OK);
        assert_int_equal(sg_schema_load(&s2, buf, len, NULL), SG_OK);
        int D = sg_schema_n_features(s);
        assert_int_equal(sg_schema_n_features(s2), D);
        float X1[64], X2[64];
        sg_schema_transform(s, t, NULL, 0, X1, NULL, NULL);
        sg_schema_transform(s2, t, NULL, 0, X2, NULL, NULL);
        assert_memory_equal(X1, X2, (size_t)(5 * D) * sizeof(float));
        for (size_t cut = 0; cut < len; cut++) {
            sg_schema *s3 = NULL;
            assert_int_equal(sg_schema_load(&s3, buf, cut, NULL), SG_EPARSE);
            assert_null(s3);
        }
        sg_free(buf);
        sg_schema_free(s);
        sg_schema_free(s2);
    }
    sg_table_free(t);
}

/* encode-4.1: allocation failures during fit are clean (no leak, SG_ENOMEM) */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *t = load(TRAIN);
    const char *ex[] = {"y", "id", NULL};
    int64_t base = sg_mem_live_bytes();
    for (int k = 0;; k++) {
        sg_schema *s = NULL;
        sg_mem_fail_after(k);
        int rc = sg_schema_fit(&s, t, NULL, 0, SG_ENC_LINEAR, ex, NULL);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            sg_schema_free(s);
            break;
        }
        assert_int_equal(rc, SG_ENOMEM);
        assert_int_equal(sg_mem_live_bytes(), base);
        assert_true(k < 1000);
    }
    assert_int_equal(sg_mem_live_bytes(), base);
    sg_table_free(t);
}

static const char SUMS[] =
    "id,a,b,c,txt,y\n"
    "1,1,2,3,u,0\n"
    "2,0,0,1,v,1\n"
    "3,2,,1,u,0\n"
    "4,5,1,0,v,1\n";

/* encode-5.1: derived sums: a range in file order and a named list, NaN where a source is missing;
 * a later table is summed by column name, whatever its column order */
static void sums(void **state)
{
    (void)state;
    sg_table *t = load(SUMS);
    const char *ex[] = {"y", "id", NULL};
    sg_schema *s = NULL;
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_TREE, ex, NULL), SG_OK);
    assert_int_equal(sg_schema_n_features(s), 4);
    assert_int_equal(sg_schema_add_sums(s, t, NULL, 0, "ALL=a..c, AC = a + c", ex, NULL), SG_OK);
    assert_int_equal(sg_schema_n_features(s), 6);
    assert_string_equal(sg_schema_feature_name(s, 4), "ALL");
    assert_string_equal(sg_schema_feature_name(s, 5), "AC");
    assert_int_equal(sg_schema_is_cat(s)[4], 0);
    float X[24];
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, NULL, NULL), SG_OK);
    assert_true(X[0 * 6 + 4] == 6.0f && X[0 * 6 + 5] == 4.0f);
    assert_true(X[1 * 6 + 4] == 1.0f && X[1 * 6 + 5] == 1.0f);
    assert_true(isnan(X[2 * 6 + 4]) && X[2 * 6 + 5] == 3.0f);   /* b missing in row 3 */
    assert_true(X[3 * 6 + 4] == 6.0f && X[3 * 6 + 5] == 5.0f);
    sg_table *u = load("c,txt,b,a\n10,u,20,30\n");
    assert_int_equal(sg_schema_transform(s, u, NULL, 0, X, NULL, NULL), SG_OK);
    assert_true(X[4] == 60.0f && X[5] == 40.0f);
    sg_table_free(u);
    sg_schema_free(s);

    /* linear: standardised over the fitted rows, with a missing indicator */
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_LINEAR, ex, NULL), SG_OK);
    int D0 = sg_schema_n_features(s);
    assert_int_equal(sg_schema_add_sums(s, t, NULL, 0, "ALL=a..c", ex, NULL), SG_OK);
    int D = sg_schema_n_features(s);
    assert_int_equal(D, D0 + 2);
    assert_string_equal(sg_schema_feature_name(s, D0 + 1), "ALL:missing");
    float XL[64];
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, XL, NULL, NULL), SG_OK);
    /* sums 6, 1, -, 6: mean 13/3, sd of (6, 1, 6) */
    double mean = 13.0 / 3.0;
    double sd = sqrt(((6 - mean) * (6 - mean) * 2 + (1 - mean) * (1 - mean)) / 2);
    assert_true(fabs((double)XL[0 * D + D0] - (6 - mean) / sd) < 1e-5);
    assert_true(fabs((double)XL[1 * D + D0] - (1 - mean) / sd) < 1e-5);
    assert_true(XL[2 * D + D0] == 0.0f && XL[2 * D + D0 + 1] == 1.0f);
    assert_true(XL[0 * D + D0 + 1] == 0.0f);
    sg_schema_free(s);
    sg_table_free(t);
}

/* encode-5.2: a bad --sum is an error naming the item and the column; the schema is unchanged */
static void sum_errors(void **state)
{
    (void)state;
    sg_table *t = load(SUMS);
    const char *ex[] = {"y", "id", NULL};
    static const struct { const char *spec; int rc; const char *msg; } cases[] = {
        {"S=a..zz", SG_ENOTFOUND, "no column 'zz'"},
        {"S=c..a", SG_EINVAL, "'c' comes after 'a'"},
        {"a=b+c", SG_EINVAL, "'a' is already a column"},
        {"S=a+b,S=b+c", SG_EINVAL, "'S' is defined twice"},
        {"S=a+txt", SG_EPARSE, "'txt', summed into 'S', holds text"},
        {"S=a..txt", SG_EPARSE, "'txt', summed into 'S', holds text"},
        {"S=a+y", SG_EINVAL, "'y' is not a feature"},
        {"S=a+nope", SG_ENOTFOUND, "'nope', summed into 'S', is missing"},
        {"S=a++b", SG_EINVAL, "an empty column name"},
        {"S", SG_EINVAL, "'S' is not NAME=FIRST..LAST"},
        {"=a+b", SG_EINVAL, "'=a+b' is not NAME"},
        {" =a+b", SG_EINVAL, "'=a+b' is not NAME"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sg_schema *s = NULL;
        assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_TREE, ex, NULL), SG_OK);
        int D = sg_schema_n_features(s);
        sg_error err;
        int rc = sg_schema_add_sums(s, t, NULL, 0, cases[k].spec, ex, &err);
        if (rc != cases[k].rc || !strstr(err.msg, cases[k].msg))
            fprintf(stderr, "case '%s': rc %d, message '%s'\n", cases[k].spec, rc, err.msg);
        assert_int_equal(rc, cases[k].rc);
        assert_non_null(strstr(err.msg, cases[k].msg));
        /* "S=a+b,S=b+c" keeps its first sum: what is added stays consistent */
        assert_true(sg_schema_n_features(s) == D || sg_schema_n_features(s) == D + 1);
        float X[64];
        assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, NULL, NULL), SG_OK);
        sg_schema_free(s);
    }
    sg_table_free(t);
}

/* encode-5.3: sums survive save/load (a model file keeps the recipe); every truncation fails;
 * a table without a source column is an error naming it; no sums: the old format */
static void sum_save_load(void **state)
{
    (void)state;
    sg_table *t = load(SUMS);
    const char *ex[] = {"y", "id", NULL};
    sg_schema *s = NULL, *s2 = NULL, *plain = NULL;
    assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_LINEAR, ex, NULL), SG_OK);
    assert_int_equal(sg_schema_fit(&plain, t, NULL, 0, SG_ENC_LINEAR, ex, NULL), SG_OK);
    assert_int_equal(sg_schema_add_sums(s, t, NULL, 0, "ALL=a..c,AB=a+b", ex, NULL), SG_OK);
    unsigned char *buf, *pbuf;
    size_t len, plen;
    assert_int_equal(sg_schema_save(s, &buf, &len, NULL), SG_OK);
    assert_int_equal(sg_schema_save(plain, &pbuf, &plen, NULL), SG_OK);
    assert_int_equal(memcmp(pbuf, "1HCS", 4), 0);   /* "SCH1", little-endian */
    assert_int_equal(memcmp(buf, "2HCS", 4), 0);
    assert_int_equal(sg_schema_load(&s2, buf, len, NULL), SG_OK);
    int D = sg_schema_n_features(s);
    assert_int_equal(sg_schema_n_features(s2), D);
    assert_string_equal(sg_schema_feature_name(s2, D - 2), "AB");
    float X1[64], X2[64];
    assert_int_equal(sg_schema_transform(s, t, NULL, 0, X1, NULL, NULL), SG_OK);
    assert_int_equal(sg_schema_transform(s2, t, NULL, 0, X2, NULL, NULL), SG_OK);
    assert_memory_equal(X1, X2, (size_t)(4 * D) * sizeof(float));
    for (size_t cut = 0; cut < len; cut++) {
        sg_schema *s3 = NULL;
        assert_int_equal(sg_schema_load(&s3, buf, cut, NULL), SG_EPARSE);
        assert_null(s3);
    }
    sg_table *u = load("a,c,txt\n1,2,u\n");
    sg_error err;
    assert_int_equal(sg_schema_transform(s2, u, NULL, 0, X2, NULL, &err), SG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'b'"));
    sg_table_free(u);
    sg_free(buf);
    sg_free(pbuf);
    sg_schema_free(s);
    sg_schema_free(s2);
    sg_schema_free(plain);
    sg_table_free(t);
}

/* encode-5.4: allocation failures while adding sums are clean */
static void sum_alloc_failures(void **state)
{
    (void)state;
    sg_table *t = load(SUMS);
    const char *ex[] = {"y", "id", NULL};
    int64_t base = sg_mem_live_bytes();
    for (int k = 0;; k++) {
        sg_schema *s = NULL;
        assert_int_equal(sg_schema_fit(&s, t, NULL, 0, SG_ENC_LINEAR, ex, NULL), SG_OK);
        sg_mem_fail_after(k);
        int rc = sg_schema_add_sums(s, t, NULL, 0, "ALL=a..c,AB=a+b", ex, NULL);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            float X[64];
            assert_int_equal(sg_schema_transform(s, t, NULL, 0, X, NULL, NULL), SG_OK);
            sg_schema_free(s);
            break;
        }
        assert_int_equal(rc, SG_ENOMEM);
        sg_schema_free(s);
        assert_int_equal(sg_mem_live_bytes(), base);
        assert_true(k < 1000);
    }
    assert_int_equal(sg_mem_live_bytes(), base);
    sg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_encoding), cmocka_unit_test(linear_encoding),
        cmocka_unit_test(by_name),       cmocka_unit_test(fit_on_rows),
        cmocka_unit_test(save_load),     cmocka_unit_test(alloc_failures),
        cmocka_unit_test(sums),          cmocka_unit_test(sum_errors),
        cmocka_unit_test(sum_save_load), cmocka_unit_test(sum_alloc_failures),
    };
    return cmocka_run_group_tests_name("encode", tests, NULL, NULL);
}
