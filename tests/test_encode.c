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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_encoding), cmocka_unit_test(linear_encoding),
        cmocka_unit_test(by_name),       cmocka_unit_test(fit_on_rows),
        cmocka_unit_test(save_load),     cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests_name("encode", tests, NULL, NULL);
}
