/* test_fidelity.c -- fidelity, efficacy and privacy metrics on hand-made tables. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/fidelity.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#define assert_close(a, b, tol) \
    assert_close_at((double)(a), (double)(b), (double)(tol), #a, __FILE__, __LINE__)

static void assert_close_at(double a, double b, double tol, const char *expr, const char *file,
                            int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%s = %.9g, expected %.9g (tolerance %.3g)\n", expr, a, b, tol);
        _fail(file, line);
    }
}

/* A random frame: column 0 continuous N(shift, 1), column 1 discrete 0..4 (10%
 * missing), column 2 a category 0..2 correlated with column 0, column 3 a 0/1
 * target that depends on columns 0 and 2. */
static const uint8_t KIND4[4] = {SG_FCOL_CONTINUOUS, SG_FCOL_DISCRETE, SG_FCOL_CATEGORY,
                                 SG_FCOL_DISCRETE};

static float *make_frame(int64_t n, double shift, uint64_t seed)
{
    float *x = sg_malloc_array((size_t)n * 4, sizeof *x);
    assert_non_null(x);
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        double a = shift + sg_rng_normal(&r);
        float *row = x + i * 4;
        row[0] = (float)a;
        row[1] = sg_rng_uniform(&r) < 0.1 ? NAN : (float)sg_rng_below(&r, 5);
        row[2] = (float)(a > 0.5 ? 2 : a > -0.5 ? 1 : 0);
        if (sg_rng_uniform(&r) < 0.2) row[2] = (float)sg_rng_below(&r, 3);
        double p = 1.0 / (1.0 + exp(-(2.0 * (a - shift) + (row[2] == 2 ? 1.0 : 0.0))));
        row[3] = sg_rng_uniform(&r) < p ? 1.0f : 0.0f;
    }
    return x;
}

/* fidelity-1.1: KS statistic of hand-made samples */
static void ks_values(void **state)
{
    (void)state;
    float a[100], b[100];
    for (int i = 0; i < 100; i++) {
        a[i] = (float)i;
        b[i] = (float)(i + 50);
    }
    assert_close(sg_ks_statistic(a, 100, 1, a, 100, 1), 0.0, 1e-12);
    assert_close(sg_ks_statistic(a, 100, 1, b, 100, 1), 0.5, 1e-12);
    /* ties: {0,0,1,1} vs {0,1,1,1}: CDFs at 0 are 0.5 and 0.25 */
    float c[4] = {0, 0, 1, 1}, d[4] = {1, 0, 1, 1};
    assert_close(sg_ks_statistic(c, 4, 1, d, 4, 1), 0.25, 1e-12);
    /* missing values are skipped; strides read every other value */
    float e[8] = {0, 9, NAN, 9, 1, 9, 1, 9};
    assert_close(sg_ks_statistic(e, 4, 2, c, 4, 1), 0.5 - 1.0 / 3.0, 1e-6);
}

/* fidelity-1.2: identical tables score 1 everywhere */
static void identical_tables(void **state)
{
    (void)state;
    float *x = make_frame(500, 0.0, 1);
    sg_frame f = {500, 4, x, KIND4};
    sg_fidelity_opts o;
    sg_fidelity_opts_default(&o);
    o.target = 3;
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&f, &f, &f, &o, &rep, NULL), SG_OK);
    assert_close(rep.ks_complement, 1.0, 1e-12);
    assert_close(rep.tv_complement, 1.0, 1e-12);
    assert_close(rep.correlation_similarity, 1.0, 1e-12);
    assert_close(rep.contingency_similarity, 1.0, 1e-12);
    assert_close(rep.missing_similarity, 1.0, 1e-12);
    for (int j = 0; j < 4; j++) assert_close(rep.tv_col[j], 1.0, 1e-12);
    assert_true(isnan(rep.ks_col[2]));   /* categories have no KS */
    assert_close(rep.tstr_auc, rep.trtr_auc, 1e-12);
    assert_close(rep.dcr_synthetic_median, 0.0, 0.0);
    sg_fidelity_report_deinit(&rep);
    double ks, tv, corr, score;
    assert_int_equal(sg_fidelity_marginals(&f, &f, &ks, &tv, &corr, NULL, &score, NULL), SG_OK);
    assert_close(score, 1.0, 1e-12);
    sg_free(x);
}

/* fidelity-1.3: a shifted table scores lower, by the expected amount */
static void shifted_tables(void **state)
{
    (void)state;
    float *x = make_frame(4000, 0.0, 1), *y = make_frame(4000, 1.0, 2);
    sg_frame fx = {4000, 4, x, KIND4}, fy = {4000, 4, y, KIND4};
    double ks, tv, score1, score2;
    float *z = make_frame(4000, 0.0, 3);
    sg_frame fz = {4000, 4, z, KIND4};
    assert_int_equal(sg_fidelity_marginals(&fx, &fz, NULL, NULL, NULL, NULL, &score1, NULL),
                     SG_OK);
    assert_int_equal(sg_fidelity_marginals(&fx, &fy, &ks, &tv, NULL, NULL, &score2, NULL), SG_OK);
    assert_true(score2 < score1 - 0.05);
    /* column 0 alone: KS of N(0,1) against N(1,1) is 2 Phi(0.5) - 1 = 0.383 */
    double d = sg_ks_statistic(x, 4000, 4, y, 4000, 4);
    assert_close(d, 0.3829, 0.03);
    /* columns 1 and 3 do not move much, so the mean KS complement lies between */
    assert_true(ks < 1.0 - 0.383 / 3.0 + 0.03 && ks > 1.0 - 0.383 / 3.0 - 0.06);
    sg_free(x);
    sg_free(y);
    sg_free(z);
}

/* fidelity-1.4: TV and missing shares by hand */
static void tv_by_hand(void **state)
{
    (void)state;
    static const uint8_t kind[1] = {SG_FCOL_CATEGORY};
    float r[4] = {0, 0, 1, NAN}, s[4] = {0, 1, 1, 1};
    sg_frame fr = {4, 1, r, kind}, fs = {4, 1, s, kind};
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&fr, NULL, &fs, NULL, &rep, NULL), SG_OK);
    /* p = (0.5, 0.25, missing 0.25), q = (0.25, 0.75, 0): TV = (0.25 + 0.5 + 0.25) / 2 */
    assert_close(rep.tv_complement, 0.5, 1e-12);
    assert_close(rep.missing_similarity, 0.75, 1e-12);
    assert_true(isnan(rep.ks_complement));
    assert_true(isnan(rep.tstr_auc));
    sg_fidelity_report_deinit(&rep);
}

/* fidelity-2.1: correlation similarity: r = 1 against r = -1 gives 0 */
static void correlation_by_hand(void **state)
{
    (void)state;
    static const uint8_t kind[2] = {SG_FCOL_CONTINUOUS, SG_FCOL_CONTINUOUS};
    float r[20], s[20];
    for (int i = 0; i < 10; i++) {
        r[2 * i] = (float)i;
        r[2 * i + 1] = (float)(2 * i);
        s[2 * i] = (float)i;
        s[2 * i + 1] = (float)(-i);
    }
    sg_frame fr = {10, 2, r, kind}, fs = {10, 2, s, kind};
    double corr;
    assert_int_equal(sg_fidelity_marginals(&fr, &fs, NULL, NULL, &corr, NULL, NULL, NULL), SG_OK);
    assert_close(corr, 0.0, 1e-9);
    /* a constant synthetic column counts as r = 0: similarity 1 - 1/2 */
    for (int i = 0; i < 10; i++) s[2 * i + 1] = 3.0f;
    assert_int_equal(sg_fidelity_marginals(&fr, &fs, NULL, NULL, &corr, NULL, NULL, NULL), SG_OK);
    assert_close(corr, 0.5, 1e-9);
}

/* fidelity-2.2: contingency similarity: same marginals, broken association */
static void contingency_by_hand(void **state)
{
    (void)state;
    static const uint8_t kind[2] = {SG_FCOL_CATEGORY, SG_FCOL_DISCRETE};
    /* real: (0,0) (0,0) (1,5) (1,5); synthetic: (0,0) (0,5) (1,0) (1,5) */
    float r[8] = {0, 0, 0, 0, 1, 5, 1, 5}, s[8] = {0, 0, 0, 5, 1, 0, 1, 5};
    sg_frame fr = {4, 2, r, kind}, fs = {4, 2, s, kind};
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&fr, NULL, &fs, NULL, &rep, NULL), SG_OK);
    assert_close(rep.tv_complement, 1.0, 1e-12);
    /* joint p = (.5, 0, 0, .5), q = (.25, .25, .25, .25): TV = 0.5 */
    assert_close(rep.contingency_similarity, 0.5, 1e-12);
    sg_fidelity_report_deinit(&rep);
}

/* fidelity-3.1: Gower distances by hand */
static void dcr_by_hand(void **state)
{
    (void)state;
    static const uint8_t kind[3] = {SG_FCOL_CONTINUOUS, SG_FCOL_CATEGORY, SG_FCOL_DISCRETE};
    /* reference: number range 0..10 */
    float ref[6] = {0, 1, 2, 10, 2, NAN};
    float q[12] = {5, 1, 2,     /* to row 0: (0.5 + 0 + 0) / 3 */
                   10, 2, NAN,  /* a copy of row 1 */
                   0, 1, NAN,   /* row 0 but missing: (0 + 0 + 1) / 3 */
                   20, 0, 2};   /* capped at 1: (1 + 1 + 0) / 3 to row 0 */
    sg_frame fr = {2, 3, ref, kind}, fq = {4, 3, q, kind};
    double d[4];
    assert_int_equal(sg_fidelity_dcr(&fr, &fq, d, NULL), SG_OK);
    assert_close(d[0], 0.5 / 3, 1e-7);
    assert_close(d[1], 0.0, 0.0);
    assert_close(d[2], 1.0 / 3, 1e-7);
    assert_close(d[3], 2.0 / 3, 1e-7);
}

/* fidelity-3.2: copies of training rows are flagged, fresh rows are not */
static void dcr_flags_copies(void **state)
{
    (void)state;
    float *tr = make_frame(1500, 0.0, 11), *ho = make_frame(500, 0.0, 12);
    float *fresh = make_frame(500, 0.0, 13);
    sg_frame ftr = {1500, 4, tr, KIND4}, fho = {500, 4, ho, KIND4}, ffr = {500, 4, fresh, KIND4};
    sg_frame fcp = {500, 4, tr + 100 * 4, KIND4};   /* rows 100..599 of the training frame */
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &fcp, NULL, &rep, NULL), SG_OK);
    assert_int_equal(rep.too_close, 1);
    assert_close(rep.exact_copy_synthetic, 1.0, 0.0);
    assert_close(rep.dcr_synthetic_median, 0.0, 0.0);
    assert_true(rep.dcr_holdout_median > 0);
    sg_fidelity_report_deinit(&rep);
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &ffr, NULL, &rep, NULL), SG_OK);
    assert_int_equal(rep.too_close, 0);
    assert_close(rep.dcr_synthetic_median, rep.dcr_holdout_median,
                 0.25 * rep.dcr_holdout_median);
    sg_fidelity_report_deinit(&rep);
    /* a few copies mixed into fresh rows: 10% exact copies is caught too */
    for (int i = 0; i < 50; i++) memcpy(fresh + i * 4, tr + i * 4, 4 * sizeof *fresh);
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &ffr, NULL, &rep, NULL), SG_OK);
    assert_int_equal(rep.too_close, 1);
    sg_fidelity_report_deinit(&rep);
    sg_free(tr);
    sg_free(ho);
    sg_free(fresh);
}

/* fidelity-4.1: efficacy: real rows predict the target; rows with shuffled labels do not */
static void efficacy(void **state)
{
    (void)state;
    float *tr = make_frame(2000, 0.0, 21), *ho = make_frame(1000, 0.0, 22);
    float *noise = make_frame(2000, 0.0, 23);
    sg_rng r;
    sg_rng_init(&r, 5);
    for (int64_t i = 0; i < 2000; i++) noise[i * 4 + 3] = (float)sg_rng_below(&r, 2);
    sg_frame ftr = {2000, 4, tr, KIND4}, fho = {1000, 4, ho, KIND4}, fno = {2000, 4, noise, KIND4};
    sg_fidelity_opts o;
    sg_fidelity_opts_default(&o);
    o.target = 3;
    o.n_trees = 50;
    o.max_dcr_rows = 200;
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &fno, &o, &rep, NULL), SG_OK);
    assert_true(rep.trtr_auc > 0.75);
    double auc;
    assert_int_equal(sg_fidelity_efficacy(&ftr, &fho, &o, &auc, NULL), SG_OK);
    assert_close(auc, rep.trtr_auc, 1e-12);
    assert_true(rep.tstr_auc < 0.6 && rep.tstr_auc > 0.4);
    assert_int_equal(rep.n_dcr_synthetic, 200);
    sg_fidelity_report_deinit(&rep);
    /* the EQUAL rule on a category target: y = (code == 2) */
    o.target = 2;
    o.target_rule = SG_TARGET_EQUAL;
    o.target_value = 2.0f;
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &ftr, &o, &rep, NULL), SG_OK);
    assert_true(rep.trtr_auc > 0.8);
    assert_close(rep.tstr_auc, rep.trtr_auc, 1e-12);
    sg_fidelity_report_deinit(&rep);
    sg_free(tr);
    sg_free(ho);
    sg_free(noise);
}

/* fidelity-5.1: bad frames are refused with a message */
static void bad_frames(void **state)
{
    (void)state;
    static const uint8_t k1[2] = {SG_FCOL_CONTINUOUS, SG_FCOL_CATEGORY};
    static const uint8_t k2[2] = {SG_FCOL_CONTINUOUS, SG_FCOL_DISCRETE};
    float x[4] = {0, 1, 2, 0};
    sg_frame a = {2, 2, x, k1}, b = {2, 2, x, k2}, c = {2, 1, x, k1}, e = {0, 2, x, k1};
    sg_fidelity_report rep;
    sg_error err;
    assert_int_equal(sg_fidelity_compare(&a, NULL, &b, NULL, &rep, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "kind"));
    sg_fidelity_report_deinit(&rep);
    assert_int_equal(sg_fidelity_compare(&a, NULL, &c, NULL, &rep, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "columns"));
    sg_fidelity_report_deinit(&rep);
    assert_int_equal(sg_fidelity_compare(&a, NULL, &e, NULL, &rep, &err), SG_EINVAL);
    sg_fidelity_report_deinit(&rep);
    sg_fidelity_opts o;
    sg_fidelity_opts_default(&o);
    o.target = 7;
    assert_int_equal(sg_fidelity_compare(&a, &a, &a, &o, &rep, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "target"));
    sg_fidelity_report_deinit(&rep);
}

/* fidelity-5.2: every allocation failure gives SG_ENOMEM and leaks nothing */
static void alloc_failures(void **state)
{
    (void)state;
    float *tr = make_frame(300, 0.0, 31), *ho = make_frame(100, 0.0, 32);
    float *sy = make_frame(200, 0.2, 33);
    sg_frame ftr = {300, 4, tr, KIND4}, fho = {100, 4, ho, KIND4}, fsy = {200, 4, sy, KIND4};
    sg_fidelity_opts o;
    sg_fidelity_opts_default(&o);
    o.target = 3;
    o.n_trees = 5;
    int64_t before = sg_mem_live_bytes(), c0 = sg_mem_count();
    sg_fidelity_report rep;
    assert_int_equal(sg_fidelity_compare(&ftr, &fho, &fsy, &o, &rep, NULL), SG_OK);
    double ref = rep.contingency_similarity;
    sg_fidelity_report_deinit(&rep);
    int64_t total = sg_mem_count() - c0;
    assert_true(total > 10);
    for (int64_t k = 0; k < total; k++) {
        sg_mem_fail_after(k);
        sg_error err;
        int rc = sg_fidelity_compare(&ftr, &fho, &fsy, &o, &rep, &err);
        sg_mem_fail_after(-1);
        sg_fidelity_report_deinit(&rep);
        if (rc != SG_OK) assert_int_equal(rc, SG_ENOMEM);
        else assert_close(rep.contingency_similarity, ref, 0.0);
        assert_int_equal(sg_mem_live_bytes(), before);
    }
    sg_free(tr);
    sg_free(ho);
    sg_free(sy);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ks_values),           cmocka_unit_test(identical_tables),
        cmocka_unit_test(shifted_tables),      cmocka_unit_test(tv_by_hand),
        cmocka_unit_test(correlation_by_hand), cmocka_unit_test(contingency_by_hand),
        cmocka_unit_test(dcr_by_hand),         cmocka_unit_test(dcr_flags_copies),
        cmocka_unit_test(efficacy),            cmocka_unit_test(bad_frames),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
