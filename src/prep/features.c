/* features.c -- customer features from an event history (see features.h).
 *
 * One pass over the events accumulates, per customer (the customer column's
 * codes index the accumulators): count, first and last time, counts and
 * amounts per window, amounts, counts per kept category, and what happened
 * after the cut-off.  A second small pass over the customers writes the rows.
 * The kept categories are the most frequent ones among the events at or
 * before the cut-off (ties to the lower code, so the columns do not depend on
 * row order beyond the labels' first appearance). */
#include "stratagem/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stratagem/mem.h"

#define DEFAULT_WINDOWS 3
static const int default_windows[DEFAULT_WINDOWS] = {30, 90, 365};

void sg_features_opts_default(sg_features_opts *o)
{
    memset(o, 0, sizeof *o);
    o->as_of = (double)NAN;
    o->top_categories = 10;
}

void sg_features_deinit(sg_features *f)
{
    if (!f) return;
    for (int64_t i = 0; f->ids && i < f->n; i++) sg_free(f->ids[i]);
    for (int j = 0; f->names && j < f->n_cols; j++) sg_free(f->names[j]);
    sg_free(f->ids);
    sg_free(f->names);
    sg_free(f->x);
    memset(f, 0, sizeof *f);
}

/* Column 'name' of 't' or an SG_ENOTFOUND error naming the role. */
static int column(const sg_table *t, const char *name, const char *role, int *j, sg_error *err)
{
    *j = sg_table_find(t, name);
    if (*j < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no column '%s' (the %s column)",
                            sg_table_name(t), name, role);
    return SG_OK;
}

/* A category and its events, sorted by count, descending (ties: lower code first). */
typedef struct cat_count {
    int64_t n;
    int32_t code;
} cat_count;

static int cmp_count(const void *a, const void *b)
{
    const cat_count *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return x->code < y->code ? -1 : x->code > y->code;
}

typedef struct acc {
    int64_t n;              /* events at or before the cut-off */
    double first, last;
    int64_t n_amount;       /* of them with an amount */
    double amount;
    int64_t next;           /* events after the cut-off, within the label window */
    double next_amount;
} acc;

int sg_features_build(const sg_table *t, const sg_features_opts *o, sg_features *out,
                      sg_error *err)
{
    if (!o->customer || !o->time)
        return sg_error_set(err, SG_EINVAL, "features: the customer and time columns are required");
    int jc, jt, ja = -1, jk = -1, rc;
    if ((rc = column(t, o->customer, "customer", &jc, err)) ||
        (rc = column(t, o->time, "time", &jt, err)) ||
        (o->amount && (rc = column(t, o->amount, "amount", &ja, err))) ||
        (o->category && (rc = column(t, o->category, "category", &jk, err))))
        return rc;
    const int32_t *cust = sg_table_codes(t, jc);
    if (!cust)
        return sg_error_set(err, SG_EINVAL, "%s: the customer column '%s' holds %ss; load it as "
                            "a category (--categorical %s)", sg_table_name(t), o->customer,
                            sg_coltype_name(sg_table_col_type(t, jc)), o->customer);
    const double *tv = sg_table_num(t, jt);
    double scale = 1;
    if (!tv)
        return sg_error_set(err, SG_EINVAL, "%s: the time column '%s' is a %s, not a date or a "
                            "number", sg_table_name(t), o->time,
                            sg_coltype_name(sg_table_col_type(t, jt)));
    if (sg_table_col_type(t, jt) == SG_COL_NUMBER) {
        if (o->time_unit == SG_TIME_SECONDS) scale = 1.0 / 86400;
        else if (o->time_unit != SG_TIME_DAYS)
            return sg_error_set(err, SG_EINVAL, "%s: the time column '%s' holds numbers: say "
                                "whether they are seconds (Unix time) or days", sg_table_name(t),
                                o->time);
    }
    const double *av = NULL;
    if (ja >= 0 && !(av = sg_table_num(t, ja)))
        return sg_error_set(err, SG_EINVAL, "%s: the amount column '%s' is a %s, not a number",
                            sg_table_name(t), o->amount, sg_coltype_name(sg_table_col_type(t, ja)));
    const int32_t *kv = NULL;
    if (jk >= 0 && !(kv = sg_table_codes(t, jk)))
        return sg_error_set(err, SG_EINVAL, "%s: the category column '%s' holds %ss; load it "
                            "as a category (--categorical %s)", sg_table_name(t), o->category,
                            sg_coltype_name(sg_table_col_type(t, jk)), o->category);
    const int *win = o->windows ? o->windows : default_windows;
    int W = o->windows ? o->n_windows : DEFAULT_WINDOWS;
    if (W < 0 || W > 64) return sg_error_set(err, SG_EINVAL, "features: 0..64 windows (got %d)", W);
    for (int w = 0; w < W; w++)
        if (win[w] <= 0)
            return sg_error_set(err, SG_EINVAL, "features: a window must be > 0 days (got %d)",
                                win[w]);
    if (o->top_categories < 0 || o->top_categories > 1000)
        return sg_error_set(err, SG_EINVAL, "features: top categories must be in 0..1000 (got %d)",
                            o->top_categories);
    if (o->label_days < 0)
        return sg_error_set(err, SG_EINVAL, "features: the label window must be >= 0 days");

    const int64_t N = sg_table_n_rows(t);
    for (int64_t i = 0; i < N; i++)
        if (isnan(tv[i]))
            return sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': an event without a time",
                                sg_table_name(t), (long long)sg_table_row_line(t, i), o->time);
    double as_of = o->as_of;
    if (isnan(as_of)) {
        if (o->label_days > 0)
            return sg_error_set(err, SG_EINVAL, "features: targets of the days after the "
                                "cut-off need a cut-off (as of) before the last event");
        as_of = -INFINITY;
        for (int64_t i = 0; i < N; i++) as_of = fmax(as_of, tv[i] * scale);
        if (N == 0) as_of = 0;
    }

    const int32_t K = sg_table_n_labels(t, jc);
    const int32_t C = kv ? sg_table_n_labels(t, jk) : 0;
    acc *a = sg_calloc((size_t)SG_MAX(K, 1), sizeof *a);
    double *wn = sg_calloc((size_t)SG_MAX(K, 1) * (size_t)SG_MAX(W, 1), sizeof *wn);
    double *wa = av ? sg_calloc((size_t)SG_MAX(K, 1) * (size_t)SG_MAX(W, 1), sizeof *wa) : NULL;
    int64_t *cat_n = kv ? sg_calloc((size_t)SG_MAX(C, 1), sizeof *cat_n) : NULL;
    cat_count *order = kv ? sg_malloc_array((size_t)SG_MAX(C, 1), sizeof *order) : NULL;
    int32_t *keep = kv ? sg_malloc_array((size_t)SG_MAX(C, 1), sizeof *keep) : NULL;
    double *kn = NULL;
    sg_features f;
    memset(&f, 0, sizeof f);
    if (!a || !wn || (av && !wa) || (kv && (!cat_n || !order || !keep))) goto nomem;

    /* the pass over the events */
    for (int64_t i = 0; i < N; i++) {
        int32_t c = cust[i];
        if (c < 0) {
            f.n_no_customer++;
            continue;
        }
        double ti = tv[i] * scale, amt = av ? av[i] : (double)NAN;
        acc *p = &a[c];
        if (ti > as_of) {
            f.n_after++;
            if (o->label_days > 0 && ti <= as_of + o->label_days) {
                p->next++;
                if (!isnan(amt)) p->next_amount += amt;
            }
            continue;
        }
        f.n_used++;
        if (p->n == 0 || ti < p->first) p->first = ti;
        if (p->n == 0 || ti > p->last) p->last = ti;
        p->n++;
        if (!isnan(amt)) {
            p->n_amount++;
            p->amount += amt;
        }
        for (int w = 0; w < W; w++)
            if (as_of - ti < win[w]) {
                wn[(size_t)c * W + w] += 1;
                if (wa && !isnan(amt)) wa[(size_t)c * W + w] += amt;
            }
        if (kv && kv[i] >= 0) cat_n[kv[i]]++;
    }

    /* the kept categories, and each customer's count in them */
    int nk = 0;
    if (kv) {
        for (int32_t k = 0; k < C; k++) {
            order[k].n = cat_n[k];
            order[k].code = k;
            keep[k] = -1;
        }
        qsort(order, (size_t)C, sizeof *order, cmp_count);
        for (int32_t r = 0; r < C && nk < o->top_categories; r++)
            if (order[r].n > 0) keep[order[r].code] = nk++;
        if (!(kn = sg_calloc((size_t)SG_MAX(K, 1) * (size_t)(nk + 1), sizeof *kn))) goto nomem;
        for (int64_t i = 0; i < N; i++) {
            if (cust[i] < 0 || tv[i] * scale > as_of || kv[i] < 0) continue;
            int s = keep[kv[i]];
            kn[(size_t)cust[i] * (nk + 1) + (s >= 0 ? s : nk)] += 1;
        }
    }

    /* the columns */
    int ncol = 4 + W + (av ? 2 + W : 0) + (kv ? nk + 1 : 0);
    int nt = o->label_days > 0 ? 1 + (av != NULL) : 0;
    f.n_cols = ncol + nt;
    f.n_targets = nt;
    if (!(f.names = sg_calloc((size_t)f.n_cols, sizeof *f.names))) goto nomem;
    {
        char buf[256];
        int j = 0;
        static const char *const base[4] = {"recency_days", "tenure_days", "frequency",
                                            "mean_gap_days"};
        for (int b = 0; b < 4; b++)
            if (!(f.names[j++] = sg_strdup(base[b]))) goto nomem;
        for (int w = 0; w < W; w++) {
            snprintf(buf, sizeof buf, "events_%dd", win[w]);
            if (!(f.names[j++] = sg_strdup(buf))) goto nomem;
        }
        if (av) {
            if (!(f.names[j++] = sg_strdup("amount_total")) ||
                !(f.names[j++] = sg_strdup("amount_mean")))
                goto nomem;
            for (int w = 0; w < W; w++) {
                snprintf(buf, sizeof buf, "amount_%dd", win[w]);
                if (!(f.names[j++] = sg_strdup(buf))) goto nomem;
            }
        }
        if (kv) {
            for (int32_t r = 0; r < nk; r++) {
                snprintf(buf, sizeof buf, "share_%.200s", sg_table_label(t, jk, order[r].code));
                if (!(f.names[j + r] = sg_strdup(buf))) goto nomem;
            }
            j += nk;
            if (!(f.names[j++] = sg_strdup("share_other"))) goto nomem;
        }
        if (nt) {
            snprintf(buf, sizeof buf, "active_next_%dd", o->label_days);
            if (!(f.names[j++] = sg_strdup(buf))) goto nomem;
            if (av) {
                snprintf(buf, sizeof buf, "amount_next_%dd", o->label_days);
                if (!(f.names[j++] = sg_strdup(buf))) goto nomem;
            }
        }
    }

    /* the rows: customers with an event at or before the cut-off, in code order */
    for (int32_t c = 0; c < K; c++) f.n += a[c].n > 0;
    f.ids = sg_calloc((size_t)SG_MAX(f.n, 1), sizeof *f.ids);
    f.x = sg_malloc_array((size_t)SG_MAX(f.n, 1) * (size_t)f.n_cols, sizeof *f.x);
    if (!f.ids || !f.x) goto nomem;
    int64_t r = 0;
    for (int32_t c = 0; c < K; c++) {
        const acc *p = &a[c];
        if (p->n == 0) continue;
        double *x = f.x + (size_t)r * (size_t)f.n_cols;
        if (!(f.ids[r] = sg_strdup(sg_table_label(t, jc, c)))) goto nomem;
        r++;
        int j = 0;
        x[j++] = as_of - p->last;
        x[j++] = as_of - p->first;
        x[j++] = (double)p->n;
        x[j++] = p->n > 1 ? (p->last - p->first) / (double)(p->n - 1) : (double)NAN;
        for (int w = 0; w < W; w++) x[j++] = wn[(size_t)c * W + w];
        if (av) {
            x[j++] = p->n_amount ? p->amount : (double)NAN;
            x[j++] = p->n_amount ? p->amount / (double)p->n_amount : (double)NAN;
            for (int w = 0; w < W; w++)
                x[j++] = p->n_amount ? wa[(size_t)c * W + w] : (double)NAN;
        }
        if (kv) {
            double tot = 0;
            for (int s = 0; s <= nk; s++) tot += kn[(size_t)c * (nk + 1) + s];
            for (int s = 0; s <= nk; s++)
                x[j++] = tot > 0 ? kn[(size_t)c * (nk + 1) + s] / tot : (double)NAN;
        }
        if (nt) {
            x[j++] = p->next > 0;
            if (av) x[j++] = p->next_amount;
        }
    }
    f.as_of = as_of;
    *out = f;
    rc = SG_OK;
    goto done;
nomem:
    sg_features_deinit(&f);
    rc = sg_error_set(err, SG_ENOMEM, "features: out of memory (%d customers)", K);
done:
    sg_free(a);
    sg_free(wn);
    sg_free(wa);
    sg_free(cat_n);
    sg_free(order);
    sg_free(keep);
    sg_free(kn);
    return rc;
}
