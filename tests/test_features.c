/* test_features.c -- customer features from events (features.h): every column
 * against values worked out by hand, the cut-off and the targets after it,
 * dates and Unix seconds, category shares and their order, errors, and
 * allocation failures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/features.h"
#include "stratagem/mem.h"
#include "stratagem/table.h"

static sg_table *load(const char *csv)
{
    sg_load_opts o;
    sg_load_opts_default(&o);
    static const char *const cat[] = {"cust", NULL};   /* ids that look like numbers too */
    o.categorical = cat;
    sg_table *t = NULL;
    sg_error err;
    if (sg_table_load_mem(&t, "ev.csv", csv, strlen(csv), &o, &err)) fail_msg("%s", err.msg);
    return t;
}

static int col(const sg_features *f, const char *name)
{
    for (int j = 0; j < f->n_cols; j++)
        if (!strcmp(f->names[j], name)) return j;
    fail_msg("no column %s", name);
    return -1;
}

static double at(const sg_features *f, int64_t i, const char *name)
{
    return f->x[(size_t)i * (size_t)f->n_cols + (size_t)col(f, name)];
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* Customer a: 2024-01-01 (10), 2024-03-01 (20, fruit), 2024-03-31 (missing amount, milk);
 * b: 2023-04-01 (5, fruit); c: 2024-04-02 only, after the cut-off of 2024-03-31;
 * a again on 2024-04-10 (7) and b on 2024-08-01 (1), after the cut-off. */
static const char EVENTS[] =
    "cust,when,amount,dept\n"
    "a,2024-01-01,10,bread\n"
    "b,2023-04-01,5,fruit\n"
    "a,2024-03-01,20,fruit\n"
    "c,2024-04-02,3,milk\n"
    "a,2024-03-31,,milk\n"
    "a,2024-04-10,7,bread\n"
    ",2024-02-01,4,bread\n"
    "b,2024-08-01,1,fruit\n";

/* features-1.1: recency, tenure, frequency, gaps, windows, amounts, shares and the
 * targets, against hand-computed values */
static void by_hand(void **state)
{
    (void)state;
    sg_table *t = load(EVENTS);
    sg_features_opts o;
    sg_features_opts_default(&o);
    o.customer = "cust";
    o.time = "when";
    o.amount = "amount";
    o.category = "dept";
    o.top_categories = 2;
    int win[2] = {30, 90};
    o.windows = win;
    o.n_windows = 2;
    o.label_days = 30;
    sg_table *d = load("cust,when,amount,dept\nx,2024-03-31,0,x\n");
    o.as_of = sg_table_num(d, 1)[0];   /* 2024-03-31 as the loader reads it */
    sg_table_free(d);
    sg_features f;
    sg_error err;
    if (sg_features_build(t, &o, &f, &err)) fail_msg("%s", err.msg);
    assert_int_equal(f.n, 2);   /* c is unknown at the cut-off */
    assert_string_equal(f.ids[0], "a");
    assert_string_equal(f.ids[1], "b");
    assert_int_equal(f.n_used, 4);   /* the event without a customer counts apart */
    assert_int_equal(f.n_after, 3);
    assert_int_equal(f.n_no_customer, 1);
    assert_int_equal(f.n_targets, 2);
    /* a: last 2024-03-31, first 2024-01-01 (90 days before), 3 events */
    NEAR(at(&f, 0, "recency_days"), 0);
    NEAR(at(&f, 0, "tenure_days"), 90);
    NEAR(at(&f, 0, "frequency"), 3);
    NEAR(at(&f, 0, "mean_gap_days"), 45);
    /* a window of W days holds the events in (cut-off - W, cut-off]: 03-01 is exactly
     * 30 days back and 01-01 exactly 90, so each is outside the shorter window */
    NEAR(at(&f, 0, "events_30d"), 1);
    NEAR(at(&f, 0, "events_90d"), 2);
    NEAR(at(&f, 0, "amount_total"), 30);
    NEAR(at(&f, 0, "amount_mean"), 15);   /* over the two events with an amount */
    NEAR(at(&f, 0, "amount_30d"), 0);    /* its one event there has no amount */
    NEAR(at(&f, 0, "amount_90d"), 20);
    /* shares: the two most frequent departments among the customers' events before the
     * cut-off are fruit (2), then bread and milk (1 each: the tie goes to bread, seen
     * first); milk is "other" */
    assert_true(col(&f, "share_fruit") < col(&f, "share_bread"));
    assert_int_equal(col(&f, "share_bread") + 1, col(&f, "share_other"));
    NEAR(at(&f, 0, "share_bread"), 1.0 / 3);
    NEAR(at(&f, 0, "share_fruit"), 1.0 / 3);
    NEAR(at(&f, 0, "share_other"), 1.0 / 3);
    NEAR(at(&f, 0, "active_next_30d"), 1);   /* 2024-04-10 */
    NEAR(at(&f, 0, "amount_next_30d"), 7);
    /* b: one event a year before; it comes back after the window */
    NEAR(at(&f, 1, "recency_days"), 365);
    NEAR(at(&f, 1, "tenure_days"), 365);
    NEAR(at(&f, 1, "frequency"), 1);
    assert_true(isnan(at(&f, 1, "mean_gap_days")));
    NEAR(at(&f, 1, "events_90d"), 0);
    NEAR(at(&f, 1, "amount_90d"), 0);
    NEAR(at(&f, 1, "share_fruit"), 1);
    NEAR(at(&f, 1, "active_next_30d"), 0);
    NEAR(at(&f, 1, "amount_next_30d"), 0);
    sg_features_deinit(&f);
    sg_table_free(t);
}

/* features-1.2: Unix seconds give the same features as the same instants as dates;
 * without a cut-off the last event is the cut-off; the default windows */
static void seconds_and_defaults(void **state)
{
    (void)state;
    /* 2024-01-01 = 19723 days = 1704067200 s */
    sg_table *td = load("cust,when\na,2024-01-01\na,2024-01-11\nb,2024-01-21\n");
    sg_table *ts = load("cust,when\na,1704067200\na,1704931200\nb,1705795200\n");
    sg_features_opts o;
    sg_features_opts_default(&o);
    o.customer = "cust";
    o.time = "when";
    sg_features fd, fs;
    sg_error err;
    if (sg_features_build(td, &o, &fd, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sg_features_build(ts, &o, &fs, &err), SG_EINVAL);   /* unit not given */
    assert_non_null(strstr(err.msg, "say whether they are seconds (Unix time) or days"));
    o.time_unit = SG_TIME_SECONDS;
    if (sg_features_build(ts, &o, &fs, &err)) fail_msg("%s", err.msg);
    assert_int_equal(fd.n_cols, 4 + 3);   /* events_30d, _90d, _365d */
    assert_string_equal(fd.names[4], "events_30d");
    assert_string_equal(fd.names[6], "events_365d");
    NEAR(fd.as_of, 19723 + 20);
    NEAR(fs.as_of, fd.as_of);
    assert_int_equal(fd.n, fs.n);
    for (int64_t i = 0; i < fd.n * fd.n_cols; i++)
        assert_true((isnan(fd.x[i]) && isnan(fs.x[i])) || fabs(fd.x[i] - fs.x[i]) < 1e-9);
    NEAR(at(&fd, 0, "recency_days"), 10);
    NEAR(at(&fd, 0, "mean_gap_days"), 10);
    NEAR(at(&fd, 1, "recency_days"), 0);
    sg_features_deinit(&fd);
    sg_features_deinit(&fs);
    sg_table_free(td);
    sg_table_free(ts);
}

/* features-1.3: errors name what is wrong; nothing is returned on failure */
static void errors(void **state)
{
    (void)state;
    sg_table *t = load(EVENTS);
    sg_features_opts o;
    sg_features_opts_default(&o);
    o.customer = "cust";
    o.time = "when";
    sg_features f;
    sg_error err;
    o.customer = "who";
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_ENOTFOUND);
    assert_string_equal(err.msg, "ev.csv: no column 'who' (the customer column)");
    o.customer = "amount";
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "load it as a category (--categorical amount)"));
    o.customer = "cust";
    o.time = "dept";
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "not a date or a number"));
    o.time = "when";
    o.label_days = 30;   /* targets without a cut-off */
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "need a cut-off"));
    o.label_days = 0;
    int bad[1] = {0};
    o.windows = bad;
    o.n_windows = 1;
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EINVAL);
    o.windows = NULL;
    o.top_categories = -1;
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EINVAL);
    sg_table_free(t);
    /* an event without a time: file and line */
    t = load("cust,when\na,2024-01-01\nb,\n");
    o.top_categories = 10;
    assert_int_equal(sg_features_build(t, &o, &f, &err), SG_EPARSE);
    assert_string_equal(err.msg, "ev.csv:3: column 'when': an event without a time");
    sg_table_free(t);
}

/* features-1.4: every allocation failure is a clean SG_ENOMEM without a leak */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *t = load(EVENTS);
    sg_features_opts o;
    sg_features_opts_default(&o);
    o.customer = "cust";
    o.time = "when";
    o.amount = "amount";
    o.category = "dept";
    o.as_of = 19813;   /* 2024-03-31 */
    o.label_days = 30;
    int64_t live = sg_mem_live_bytes();
    int k, done = 0;
    for (k = 0; k < 300 && !done; k++) {
        sg_features f;
        sg_error err;
        sg_mem_fail_after(k);
        int rc = sg_features_build(t, &o, &f, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            assert_int_equal(f.n, 2);
            sg_features_deinit(&f);
            done = 1;
        } else {
            assert_int_equal(rc, SG_ENOMEM);
        }
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    assert_true(done && k > 10);
    sg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_hand),
        cmocka_unit_test(seconds_and_defaults),
        cmocka_unit_test(errors),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests_name("features", tests, NULL, NULL);
}
