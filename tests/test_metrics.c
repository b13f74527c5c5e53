/* test_metrics.c -- AUC, log-loss, top-k, calibration against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stratagem/metrics.h"

#define CLOSE(a, b, tol) assert_true(fabs((a) - (b)) < (tol))

/* metrics-1.1: AUC of a perfect, a reversed and a tied ranking */
static void auc_basic(void **state)
{
    (void)state;
    double s[] = {0.9, 0.8, 0.3, 0.1};
    float y[] = {1, 1, 0, 0};
    CLOSE(sg_auc(s, y, NULL, 4), 1.0, 1e-12);
    float yr[] = {0, 0, 1, 1};
    CLOSE(sg_auc(s, yr, NULL, 4), 0.0, 1e-12);
    double t[] = {0.5, 0.5, 0.5, 0.5};
    CLOSE(sg_auc(t, y, NULL, 4), 0.5, 1e-12);
    float one[] = {1, 1, 1, 1};
    assert_true(isnan(sg_auc(s, one, NULL, 4)));
}

/* metrics-1.2: AUC with ties and weights equals the pairwise count */
static void auc_pairs(void **state)
{
    (void)state;
    double s[] = {0.1, 0.4, 0.35, 0.8, 0.4, 0.2};
    float y[] = {0, 0, 1, 1, 1, 0};
    float w[] = {1, 2, 1, 1, 3, 1};
    double num = 0, den = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            if (y[i] == 1 && y[j] == 0) {
                double ww = (double)w[i] * (double)w[j];
                den += ww;
                num += ww * (s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0);
            }
    CLOSE(sg_auc(s, y, w, 6), num / den, 1e-12);
}

/* metrics-2.1: log-loss, RMSE, R^2 */
static void losses(void **state)
{
    (void)state;
    double p[] = {0.8, 0.3};
    float y[] = {1, 0};
    CLOSE(sg_logloss(p, y, NULL, 2), -(log(0.8) + log(0.7)) / 2, 1e-12);
    double q[] = {1, 2, 3};
    float z[] = {1, 2, 5};
    CLOSE(sg_rmse(q, z, NULL, 3), sqrt(4.0 / 3), 1e-12);
    CLOSE(sg_mae(q, z, NULL, 3), 2.0 / 3, 1e-12);
    CLOSE(sg_r2(q, z, NULL, 3), 1 - 36.0 / 78.0, 1e-9);   /* SST = 78/9, SSE = 4 */
}

/* metrics-3.1: top-k order is score desc, ties by index; hits count */
static void topk(void **state)
{
    (void)state;
    double s[] = {0.5, 0.9, 0.5, 0.1, 0.9};
    int64_t idx[5];
    assert_int_equal(sg_topk(s, 5, 3, idx), 3);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 4);
    assert_int_equal(idx[2], 0);
    float y[] = {1, 0, 1, 1, 1};
    CLOSE(sg_hits_at_k(s, y, 5, 3), 2.0, 1e-12);
    assert_int_equal(sg_topk(s, 5, 10, idx), 5);
}

/* metrics-4.1: calibration bins of a calibrated predictor */
static void calibration(void **state)
{
    (void)state;
    double p[1000];
    float y[1000];
    for (int i = 0; i < 1000; i++) {
        p[i] = (i % 10) / 10.0 + 0.05;
        y[i] = (float)((i / 10) % 100 < (int)(p[i] * 100));   /* exact frequencies */
    }
    double mp[10], mo[10];
    int64_t c[10];
    assert_int_equal(sg_calibration(p, y, 1000, 10, mp, mo, c, NULL), SG_OK);
    for (int b = 0; b < 10; b++) {
        assert_int_equal(c[b], 100);
        CLOSE(mp[b], b / 10.0 + 0.05, 1e-9);
        CLOSE(mo[b], mp[b], 0.011);
    }
    assert_true(sg_ece(mp, mo, c, 10) < 0.011);
    assert_int_equal(sg_calibration(p, y, 1000, 0, mp, mo, c, NULL), SG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auc_basic), cmocka_unit_test(auc_pairs), cmocka_unit_test(losses),
        cmocka_unit_test(topk),      cmocka_unit_test(calibration),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
