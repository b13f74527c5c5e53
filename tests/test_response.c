/* test_response.c -- task 'response': training, cross-validation, grid, model files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/response.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

/* A table where y depends on a number, a category and a missing flag; rows
 * with i % 7 == 0 have no target; 'binary' = 0 gives a numeric target. */
static sg_table *make_table(int n, int binary, uint64_t seed)
{
    size_t cap = (size_t)n * 64 + 64;
    char *csv = malloc(cap);
    size_t off = (size_t)snprintf(csv, cap, "cust,x,seg,z,y\n");
    sg_rng r;
    sg_rng_init(&r, seed);
    static const char *segs[] = {"gold", "silver", "bronze", "tin"};
    for (int i = 0; i < n; i++) {
        double x = sg_rng_normal(&r);
        int seg = (int)sg_rng_below(&r, 4);
        int zmiss = sg_rng_uniform(&r) < 0.2;
        double z = sg_rng_normal(&r);
        double f = 1.5 * x + (seg == 0 ? 1.5 : seg == 3 ? -1.5 : 0) + (zmiss ? 1.0 : 0);
        char ys[32];
        if (i % 7 == 0) snprintf(ys, sizeof ys, "NA");
        else if (binary) snprintf(ys, sizeof ys, "%d", sg_rng_uniform(&r) < 1 / (1 + exp(-f)));
        else snprintf(ys, sizeof ys, "%.4f", f + 0.3 * sg_rng_normal(&r));
        char zs[32];
        if (zmiss) snprintf(zs, sizeof zs, "NA"); else snprintf(zs, sizeof zs, "%.4f", z);
        off += (size_t)snprintf(csv + off, cap - off, "c%d,%.4f,%s,%s,%s\n", i, x, segs[seg], zs, ys);
    }
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "cust";
    sg_table *t = NULL;
    sg_error err;
    int rc = sg_table_load_mem(&t, "gen.csv", csv, off, &o, &err);
    free(csv);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return t;
}

static void small_opts(sg_response_opts *o)
{
    sg_response_opts_default(o);
    o->target = "y";
    o->id = "cust";
    o->gbdt.n_trees = 60;
    o->gbdt.learning_rate = 0.1f;
    o->gbdt.max_leaves = 8;
    o->gbdt.n_threads = 2;
}

static double train_auc(const sg_response *m, const sg_table *t)
{
    int64_t N = sg_table_n_rows(t);
    double *p = malloc((size_t)N * sizeof *p);
    float *y = malloc((size_t)N * sizeof *y);
    double *s = malloc((size_t)N * sizeof *s);
    assert_int_equal(sg_response_predict(m, t, NULL, 0, p, NULL), SG_OK);
    const double *yv = sg_table_num(t, sg_table_find(t, "y"));
    int64_t k = 0;
    for (int64_t i = 0; i < N; i++)
        if (!isnan(yv[i])) {
            y[k] = (float)yv[i];
            s[k++] = p[i];
        }
    double auc = sg_auc(s, y, NULL, k);
    free(p);
    free(y);
    free(s);
    return auc;
}

/* response-1.1: gbdt and logit learn the signal; missing targets are skipped and counted */
static void learns(void **state)
{
    (void)state;
    sg_table *t = make_table(1400, 1, 1);
    for (int learner = 0; learner < 2; learner++) {
        sg_response_opts o;
        small_opts(&o);
        o.learner = learner;
        sg_response *m = NULL;
        sg_response_report rep;
        sg_error err;
        int rc = sg_response_train(&m, t, &o, &rep, &err);
        if (rc) fprintf(stderr, "%s\n", err.msg);
        assert_int_equal(rc, SG_OK);
        assert_int_equal(rep.n_missing_target, 200);
        assert_int_equal(rep.n_used, 1200);
        assert_int_equal(rep.objective, SG_OBJECTIVE_BINARY);
        double auc = train_auc(m, t);
        assert_true(auc > 0.8);
        sg_response_report_deinit(&rep);
        sg_response_free(m);
    }
    sg_table_free(t);
}

/* response-1.2: save/load gives identical predictions; same seed gives identical bytes */
static void files_and_determinism(void **state)
{
    (void)state;
    sg_table *t = make_table(700, 1, 2);
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "/tmp/sg_test_resp1_%ld.sgm", (long)getpid());
    snprintf(p2, sizeof p2, "/tmp/sg_test_resp2_%ld.sgm", (long)getpid());
    sg_response_opts o;
    small_opts(&o);
    o.gbdt.subsample = 0.7f;
    o.gbdt.colsample = 0.7f;
    sg_response *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(sg_response_train(&a, t, &o, NULL, NULL), SG_OK);
    assert_int_equal(sg_response_train(&b, t, &o, NULL, NULL), SG_OK);
    assert_int_equal(sg_response_save(a, p1, NULL), SG_OK);
    assert_int_equal(sg_response_save(b, p2, NULL), SG_OK);
    FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
    int same = 1, c1, c2;
    do {
        c1 = fgetc(f1);
        c2 = fgetc(f2);
        if (c1 != c2) same = 0;
    } while (c1 != EOF && c2 != EOF);
    fclose(f1);
    fclose(f2);
    assert_true(same);
    sg_error err;
    assert_int_equal(sg_response_load(&c, p1, &err), SG_OK);
    int64_t N = sg_table_n_rows(t);
    double *pa = malloc((size_t)N * sizeof *pa), *pc = malloc((size_t)N * sizeof *pc);
    sg_response_predict(a, t, NULL, 0, pa, NULL);
    sg_response_predict(c, t, NULL, 0, pc, NULL);
    assert_memory_equal(pa, pc, (size_t)N * sizeof *pa);
    assert_string_equal(sg_response_target(c), "y");
    assert_string_equal(sg_response_id(c), "cust");
    free(pa);
    free(pc);
    sg_response_free(a);
    sg_response_free(b);
    sg_response_free(c);
    unlink(p1);
    unlink(p2);
    sg_table_free(t);
}

/* response-2.1: target errors: not 0/1 for binary, absent, text, one class */
static void target_errors(void **state)
{
    (void)state;
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    sg_table *t = NULL;
    const char csv[] = "x,y,name\n1,0,a\n2,1,b\n3,2,c\n4,1,d\n";
    assert_int_equal(sg_table_load_mem(&t, "bad.csv", csv, strlen(csv), &lo, NULL), SG_OK);
    sg_response_opts o;
    small_opts(&o);
    o.id = NULL;
    o.objective = SG_OBJECTIVE_BINARY;
    sg_response *m = NULL;
    sg_error err;
    assert_int_equal(sg_response_train(&m, t, &o, NULL, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "bad.csv:4: column 'y': expected 0 or 1"));
    assert_non_null(strstr(err.msg, "got 2"));
    o.target = "nope";
    assert_int_equal(sg_response_train(&m, t, &o, NULL, &err), SG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    o.target = "name";
    assert_int_equal(sg_response_train(&m, t, &o, NULL, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "must hold numbers"));
    o.target = "x";   /* auto: numbers -> regression is fine; force binary fails */
    assert_int_equal(sg_response_train(&m, t, &o, NULL, &err), SG_EPARSE);
    sg_table_free(t);
    const char one[] = "x,y\n1,1\n2,1\n3,1\n";
    assert_int_equal(sg_table_load_mem(&t, "one.csv", one, strlen(one), &lo, NULL), SG_OK);
    o.target = "y";
    assert_int_equal(sg_response_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "only one class"));
    assert_null(m);
    sg_table_free(t);
}

/* response-3.1: grid parsing: cartesian product, texts, bad specs */
static void grid(void **state)
{
    (void)state;
    sg_gbdt_params gp;
    sg_linear_params lp;
    sg_gbdt_params_default(&gp);
    sg_linear_params_default(&lp);
    sg_grid_point *g = NULL;
    int n = sg_grid_parse("depth=3,5;lr=0.05,0.1", &gp, &lp, SG_LEARNER_GBDT, &g, NULL);
    assert_int_equal(n, 4);
    assert_string_equal(g[0].text, "depth=3 lr=0.05");
    assert_string_equal(g[3].text, "depth=5 lr=0.1");
    assert_int_equal(g[1].gbdt.max_depth, 3);
    assert_true(fabsf(g[1].gbdt.learning_rate - 0.1f) < 1e-7f);
    assert_int_equal(g[2].gbdt.max_depth, 5);
    sg_free(g);
    assert_int_equal(sg_grid_parse(NULL, &gp, &lp, SG_LEARNER_GBDT, &g, NULL), 1);
    assert_string_equal(g[0].text, "default");
    sg_free(g);
    sg_error err;
    assert_int_equal(sg_grid_parse("depth=3;bogus=1", &gp, &lp, 0, &g, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(sg_grid_parse("depth=3,x", &gp, &lp, 0, &g, &err), SG_EINVAL);
    assert_int_equal(sg_grid_parse("depth", &gp, &lp, 0, &g, &err), SG_EINVAL);
    assert_int_equal(sg_grid_parse("depth=3", &gp, &lp, SG_LEARNER_LINEAR, &g, &err), SG_EINVAL);
    assert_int_equal(sg_grid_parse("l2=0.1,1,10", &gp, &lp, SG_LEARNER_LINEAR, &g, &err), 3);
    assert_true(g[2].linear.l2 == 10);
    sg_free(g);
}

/* response-3.2: cross-validation over a grid reports every setting and picks the best AUC */
static void cross_validation(void **state)
{
    (void)state;
    sg_table *t = make_table(1000, 1, 3);
    sg_response_opts o;
    small_opts(&o);
    o.cv_folds = 3;
    o.grid = "leaves=2,8;lr=0.005,0.1";
    o.gbdt.early_stopping = 10;
    sg_response *m = NULL;
    sg_response_report rep;
    assert_int_equal(sg_response_train(&m, t, &o, &rep, NULL), SG_OK);
    assert_int_equal(rep.n_results, 4);
    int best = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(rep.results[i].auc > 0.6 && rep.results[i].auc < 1.0);
        assert_true(rep.results[i].top_precision > 0);
        if (rep.results[i].auc > rep.results[best].auc) best = i;
    }
    assert_int_equal(rep.chosen, best);
    assert_string_equal(sg_response_setting(m), rep.results[best].setting);
    sg_response_report_deinit(&rep);
    sg_response_free(m);
    sg_table_free(t);
}

/* response-4.1: a numeric target becomes a regression; both learners fit it */
static void regression(void **state)
{
    (void)state;
    sg_table *t = make_table(1400, 0, 4);
    for (int learner = 0; learner < 2; learner++) {
        sg_response_opts o;
        small_opts(&o);
        o.learner = learner;
        o.cv_folds = 3;
        sg_response *m = NULL;
        sg_response_report rep;
        assert_int_equal(sg_response_train(&m, t, &o, &rep, NULL), SG_OK);
        assert_int_equal(rep.objective, SG_OBJECTIVE_REGRESSION);
        assert_true(rep.results[0].r2 > 0.75);
        assert_int_equal(sg_response_objective(m), SG_OBJECTIVE_REGRESSION);
        sg_response_report_deinit(&rep);
        sg_response_free(m);
    }
    sg_table_free(t);
}

/* response-5.1: allocation failures anywhere in training are clean */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *t = make_table(120, 1, 5);
    sg_response_opts o;
    small_opts(&o);
    o.learner = SG_LEARNER_LINEAR;
    o.cv_folds = 2;
    int64_t base = sg_mem_live_bytes();
    int k;
    for (k = 0; k < 5000; k++) {
        sg_response *m = NULL;
        sg_mem_fail_after(k);
        int rc = sg_response_train(&m, t, &o, NULL, NULL);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            sg_response_free(m);
            break;
        }
        assert_int_equal(rc, SG_ENOMEM);
        assert_null(m);
        assert_int_equal(sg_mem_live_bytes(), base);
    }
    assert_true(k < 5000);
    sg_table_free(t);
}

int main(void)
{
    sg_log_set_level(SG_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learns),        cmocka_unit_test(files_and_determinism),
        cmocka_unit_test(target_errors), cmocka_unit_test(grid),
        cmocka_unit_test(cross_validation), cmocka_unit_test(regression),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
