/* response.c -- task 'response': schema + GBDT or linear learner, k-fold
 * cross-validation over a grid, refit on all labelled rows (see response.h).
 *
 * Cross-validation is honest about everything learned from data: each fold
 * fits its own schema (category lists, means) on its training rows, and GBDT
 * early stopping uses an inner split of those rows, never the held-out fold.
 * The final model uses the mean best round over folds.  Folds are stratified
 * for binary targets. See LICENSE. */
#include "stratagem/response.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/serial.h"
#include "stratagem/encode.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/model.h"
#include "stratagem/rng.h"

#define RESP_MAGIC 0x52455331u   /* "RES1" */
#define MAX_GRID 1000

struct sg_response {
    int objective;          /* SG_OBJECTIVE_BINARY or _REGRESSION */
    int learner;
    char *target, *id;
    char setting[160];
    uint64_t seed;
    sg_schema *schema;
    sg_gbdt *gbdt;          /* one of these two */
    sg_linear *lin;
};

void sg_response_opts_default(sg_response_opts *o)
{
    memset(o, 0, sizeof *o);
    o->learner = SG_LEARNER_GBDT;
    o->top_frac = 0.2;
    o->valid_frac = 0.2;
    sg_gbdt_params_default(&o->gbdt);
    sg_linear_params_default(&o->linear);
    o->seed = SG_DEFAULT_SEED;
}

void sg_response_report_deinit(sg_response_report *r)
{
    if (!r) return;
    sg_free(r->results);
    r->results = NULL;
    r->n_results = 0;
}

void sg_response_free(sg_response *m)
{
    if (!m) return;
    sg_free(m->target);
    sg_free(m->id);
    sg_schema_free(m->schema);
    sg_gbdt_free(m->gbdt);
    sg_linear_free(m->lin);
    sg_free(m);
}

int sg_response_objective(const sg_response *m) { return m->objective; }
int sg_response_learner(const sg_response *m) { return m->learner; }
const char *sg_response_target(const sg_response *m) { return m->target; }
const char *sg_response_id(const sg_response *m) { return m->id; }
const char *sg_response_setting(const sg_response *m) { return m->setting; }
uint64_t sg_response_seed(const sg_response *m) { return m->seed; }

/* ---------------------------------------------------------------- grid */

typedef struct grid_axis {
    char key[32];
    int n;
    double v[32];
} grid_axis;

static int set_param(sg_grid_point *g, int learner, const char *key, double v, sg_error *err)
{
    sg_gbdt_params *p = &g->gbdt;
    if (learner == SG_LEARNER_LINEAR) {
        if (!strcmp(key, "l2") || !strcmp(key, "lambda")) {
            if (!(v >= 0)) return sg_error_set(err, SG_EINVAL, "grid: l2 must be >= 0, got %g", v);
            g->linear.l2 = v;
            return SG_OK;
        }
        return sg_error_set(err, SG_EINVAL,
                            "grid: unknown key '%s' for the linear model (known: l2)", key);
    }
    if (!strcmp(key, "depth") || !strcmp(key, "max_depth")) p->max_depth = (int)v;
    else if (!strcmp(key, "leaves") || !strcmp(key, "max_leaves")) p->max_leaves = (int)v;
    else if (!strcmp(key, "lr") || !strcmp(key, "eta")) p->learning_rate = (float)v;
    else if (!strcmp(key, "trees") || !strcmp(key, "rounds")) p->n_trees = (int)v;
    else if (!strcmp(key, "mcw") || !strcmp(key, "min_child_weight")) p->min_child_weight = (float)v;
    else if (!strcmp(key, "l2") || !strcmp(key, "lambda")) p->lambda_l2 = (float)v;
    else if (!strcmp(key, "gamma") || !strcmp(key, "min_split_gain")) p->min_split_gain = (float)v;
    else if (!strcmp(key, "subsample")) p->subsample = (float)v;
    else if (!strcmp(key, "colsample")) p->colsample = (float)v;
    else if (!strcmp(key, "bins") || !strcmp(key, "max_bins")) p->max_bins = (int)v;
    else
        return sg_error_set(err, SG_EINVAL,
                            "grid: unknown key '%s' (known: depth, leaves, lr, trees, mcw, l2, "
                            "gamma, subsample, colsample, bins)", key);
    return SG_OK;
}

int sg_grid_parse(const char *spec, const sg_gbdt_params *gbdt, const sg_linear_params *linear,
                  int learner, sg_grid_point **settings, sg_error *err)
{
    grid_axis axes[16];
    int n_axes = 0;
    const char *s = spec ? spec : "";
    while (*s) {
        while (*s == ' ' || *s == ';') s++;
        if (!*s) break;
        if (n_axes == 16) return sg_error_set(err, SG_EINVAL, "grid: more than 16 keys");
        grid_axis *a = &axes[n_axes];
        const char *eq = strchr(s, '=');
        const char *end = strchr(s, ';');
        if (!end) end = s + strlen(s);
        if (!eq || eq > end || eq == s || eq - s >= (long)sizeof a->key)
            return sg_error_set(err, SG_EINVAL, "grid: expected KEY=V1,V2,... near \"%.*s\"",
                                (int)(end - s), s);
        memcpy(a->key, s, (size_t)(eq - s));
        a->key[eq - s] = '\0';
        a->n = 0;
        const char *v = eq + 1;
        while (v < end) {
            char *stop;
            double x = strtod(v, &stop);
            if (stop == v || stop > end || (*stop != ',' && stop != end) || !isfinite(x))
                return sg_error_set(err, SG_EINVAL, "grid: key '%s': expected a number near \"%.*s\"",
                                    a->key, (int)(end - v), v);
            if (a->n == 32) return sg_error_set(err, SG_EINVAL, "grid: key '%s' has > 32 values", a->key);
            a->v[a->n++] = x;
            v = stop + (*stop == ',');
        }
        if (a->n == 0) return sg_error_set(err, SG_EINVAL, "grid: key '%s' has no values", a->key);
        n_axes++;
        s = end;
    }
    long total = 1;
    for (int k = 0; k < n_axes; k++) {
        total *= axes[k].n;
        if (total > MAX_GRID)
            return sg_error_set(err, SG_EINVAL, "grid: more than %d settings", MAX_GRID);
    }
    sg_grid_point *g = sg_calloc((size_t)total, sizeof *g);
    if (!g) return sg_error_set(err, SG_ENOMEM, "out of memory parsing the grid");
    for (long i = 0; i < total; i++) {
        g[i].gbdt = *gbdt;
        g[i].linear = *linear;
        long rest = i;
        size_t off = 0;
        g[i].text[0] = '\0';
        for (int k = n_axes - 1; k >= 0; k--) {   /* last key varies fastest */
            double x = axes[k].v[rest % axes[k].n];
            rest /= axes[k].n;
            int rc = set_param(&g[i], learner, axes[k].key, x, err);
            if (rc) {
                sg_free(g);
                return rc;
            }
        }
        for (int k = 0; k < n_axes; k++) {
            long div = 1;
            for (int q = k + 1; q < n_axes; q++) div *= axes[q].n;
            double x = axes[k].v[(i / div) % axes[k].n];
            int w = snprintf(g[i].text + off, sizeof g[i].text - off, "%s%s=%g", k ? " " : "",
                             axes[k].key, x);
            if (w > 0 && off + (size_t)w < sizeof g[i].text) off += (size_t)w;
        }
        if (n_axes == 0) snprintf(g[i].text, sizeof g[i].text, "default");
    }
    *settings = g;
    return (int)total;
}

/* ---------------------------------------------------------------- target */

/* Labelled rows and their targets; checks the objective. */
static int read_target(const sg_table *t, const sg_response_opts *o, int64_t **rows_out,
                       float **y_out, int64_t *n_out, int *objective, sg_error *err)
{
    int j = sg_table_find(t, o->target);
    if (j < 0) return sg_error_set(err, SG_ENOTFOUND, "%s: no target column '%s'", sg_table_name(t), o->target);
    sg_coltype ty = sg_table_col_type(t, j);
    if (ty != SG_COL_NUMBER) {
        char buf[64];
        return sg_error_set(err, SG_EPARSE,
                            "%s: target column '%s' must hold numbers (0/1 or values), but it is "
                            "a %s column (e.g. \"%s\" at line %lld)",
                            sg_table_name(t), o->target, sg_coltype_name(ty),
                            sg_table_cell(t, 0, j, buf, sizeof buf),
                            (long long)sg_table_row_line(t, 0));
    }
    const double *v = sg_table_num(t, j);
    int64_t N = sg_table_n_rows(t), n = 0, bad = 0, first_bad = -1;
    int all01 = 1;
    for (int64_t i = 0; i < N; i++) {
        if (isnan(v[i])) continue;
        n++;
        if (v[i] != 0 && v[i] != 1) {
            all01 = 0;
            if (first_bad < 0) first_bad = i;
            bad++;
        }
    }
    int obj = o->objective;
    if (obj == SG_OBJECTIVE_AUTO) obj = all01 ? SG_OBJECTIVE_BINARY : SG_OBJECTIVE_REGRESSION;
    if (obj == SG_OBJECTIVE_BINARY && bad)
        return sg_error_set(err, SG_EPARSE,
                            "%s:%lld: column '%s': expected 0 or 1 for a binary target, got %.15g"
                            " (%lld such rows)",
                            sg_table_name(t), (long long)sg_table_row_line(t, first_bad),
                            o->target, v[first_bad], (long long)bad);
    if (n < 2) return sg_error_set(err, SG_EINVAL, "%s: only %lld rows have a target '%s'", sg_table_name(t), (long long)n, o->target);
    int64_t *rows = sg_malloc_array((size_t)n, sizeof *rows);
    float *y = sg_malloc_array((size_t)n, sizeof *y);
    if (!rows || !y) {
        sg_free(rows);
        sg_free(y);
        return sg_error_set(err, SG_ENOMEM, "out of memory reading the target");
    }
    int64_t k = 0;
    for (int64_t i = 0; i < N; i++)
        if (!isnan(v[i])) {
            rows[k] = i;
            y[k++] = (float)v[i];
        }
    *rows_out = rows;
    *y_out = y;
    *n_out = n;
    *objective = obj;
    return SG_OK;
}

/* ---------------------------------------------------------------- one fit */

/* Exclusion list: target, id, and ignored columns. */
static const char **exclusions(const sg_response_opts *o)
{
    int n = 0;
    for (const char *const *p = o->ignore; p && *p; p++) n++;
    const char **ex = sg_calloc((size_t)n + 3, sizeof *ex);
    if (!ex) return NULL;
    int k = 0;
    ex[k++] = o->target;
    if (o->id) ex[k++] = o->id;
    for (int i = 0; i < n; i++) ex[k++] = o->ignore[i];
    return ex;
}

/* Split idx[0..n) (positions into 'rows') into an inner train/valid part,
 * stratified by y, with the given validation share. */
static void inner_split(const float *y, const int64_t *pos, int64_t n, double frac, sg_rng *rng,
                        int64_t *tr, int64_t *n_tr, int64_t *va, int64_t *n_va)
{
    *n_tr = *n_va = 0;
    /* walk the positions in a random order; count per class so each class is split alike */
    int64_t seen[2] = {0, 0};
    for (int64_t k = 0; k < n; k++) {
        int64_t p = pos[k];
        int c = y[p] > 0.5f;
        int64_t s = seen[c]++;
        /* every 1/frac-th member of each class goes to validation */
        int to_valid = (int64_t)((double)(s + 1) * frac) > (int64_t)((double)s * frac);
        if (to_valid) va[(*n_va)++] = p; else tr[(*n_tr)++] = p;
    }
    (void)rng;
}

typedef struct fit_result {
    sg_schema *schema;
    sg_gbdt *gbdt;
    sg_linear *lin;
    int best_trees;
} fit_result;

static void fit_result_deinit(fit_result *f)
{
    sg_schema_free(f->schema);
    sg_gbdt_free(f->gbdt);
    sg_linear_free(f->lin);
    memset(f, 0, sizeof *f);
}

/* Gather table rows rows[pos[k]] into a list of table row indices. */
static int64_t *gather_rows(const int64_t *rows, const int64_t *pos, int64_t n)
{
    int64_t *r = sg_malloc_array((size_t)(n ? n : 1), sizeof *r);
    if (r)
        for (int64_t k = 0; k < n; k++) r[k] = rows[pos[k]];
    return r;
}

/* Fit schema + learner on positions pos[0..n) of (rows, y).  With GBDT early
 * stopping, an inner split of those rows is the validation set. */
static int fit_one(fit_result *f, const sg_table *t, const int64_t *rows, const float *y,
                   const int64_t *pos, int64_t n, const sg_grid_point *g, int learner, int objective,
                   const char *const *ex, const char *sums, double valid_frac, uint64_t seed,
                   sg_error *err)
{
    int rc = SG_ENOMEM;
    int64_t *tr = NULL, *va = NULL, *trows = NULL, *vrows = NULL;
    float *X = NULL, *Xv = NULL, *yt = NULL, *yv = NULL;
    int64_t n_tr = n, n_va = 0;
    memset(f, 0, sizeof *f);
    int es = learner == SG_LEARNER_GBDT && g->gbdt.early_stopping > 0 && valid_frac > 0;
    tr = sg_malloc_array((size_t)(n ? n : 1), sizeof *tr);
    va = sg_malloc_array((size_t)(n ? n : 1), sizeof *va);
    if (!tr || !va) goto oom;
    if (es) {
        sg_rng rng;
        sg_rng_init(&rng, seed ^ 0x5EEDull);
        inner_split(y, pos, n, valid_frac, &rng, tr, &n_tr, va, &n_va);
    } else {
        memcpy(tr, pos, (size_t)n * sizeof *tr);
    }
    if (!(trows = gather_rows(rows, tr, n_tr)) || !(vrows = gather_rows(rows, va, n_va))) goto oom;
    int enc = learner == SG_LEARNER_GBDT ? SG_ENC_TREE : SG_ENC_LINEAR;
    if ((rc = sg_schema_fit(&f->schema, t, trows, n_tr, enc, ex, err)) ||
        (rc = sg_schema_add_sums(f->schema, t, trows, n_tr, sums, ex, err)))
        goto fail;
    int D = sg_schema_n_features(f->schema);
    rc = SG_ENOMEM;
    X = sg_malloc_array((size_t)(n_tr * (D ? D : 1)), sizeof *X);
    Xv = sg_malloc_array((size_t)((n_va ? n_va : 1) * (D ? D : 1)), sizeof *Xv);
    yt = sg_malloc_array((size_t)n_tr, sizeof *yt);
    yv = sg_malloc_array((size_t)(n_va ? n_va : 1), sizeof *yv);
    if (!X || !Xv || !yt || !yv) goto oom;
    if ((rc = sg_schema_transform(f->schema, t, trows, n_tr, X, NULL, err))) goto fail;
    if (n_va && (rc = sg_schema_transform(f->schema, t, vrows, n_va, Xv, NULL, err))) goto fail;
    for (int64_t k = 0; k < n_tr; k++) yt[k] = y[tr[k]];
    for (int64_t k = 0; k < n_va; k++) yv[k] = y[va[k]];
    if (learner == SG_LEARNER_GBDT) {
        sg_gbdt_params p = g->gbdt;
        p.objective = objective == SG_OBJECTIVE_BINARY ? SG_GBDT_LOGLOSS : SG_GBDT_SQUARED;
        p.seed = seed;
        if (!es) p.early_stopping = 0;
        rc = sg_gbdt_train(&f->gbdt, X, yt, NULL, n_tr, D, sg_schema_is_cat(f->schema),
                           n_va ? Xv : NULL, n_va ? yv : NULL, n_va, &p, err);
        if (rc) goto fail;
        f->best_trees = sg_gbdt_n_trees(f->gbdt);
    } else {
        sg_linear_params p = g->linear;
        p.kind = objective == SG_OBJECTIVE_BINARY ? SG_LINEAR_LOGISTIC : SG_LINEAR_RIDGE;
        rc = sg_linear_train(&f->lin, X, yt, NULL, n_tr, D, &p, err);
        if (rc) goto fail;
    }
    rc = SG_OK;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory while training");
fail:
    fit_result_deinit(f);
done:
    sg_free(tr);
    sg_free(va);
    sg_free(trows);
    sg_free(vrows);
    sg_free(X);
    sg_free(Xv);
    sg_free(yt);
    sg_free(yv);
    return rc;
}

static int predict_fit(const sg_schema *schema, const sg_gbdt *gbdt, const sg_linear *lin,
                       const sg_table *t, const int64_t *rows, int64_t n, double *out, sg_error *err)
{
    int D = sg_schema_n_features(schema);
    /* encode in blocks to keep memory bounded for large tables */
    const int64_t BLOCK = 65536;
    float *X = sg_malloc_array((size_t)(SG_MIN(n, BLOCK) * (D ? D : 1) + 1), sizeof *X);
    int64_t *blk = sg_malloc_array((size_t)(SG_MIN(n, BLOCK) + 1), sizeof *blk);
    int rc = SG_OK;
    if (!X || !blk) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory while predicting");
        goto done;
    }
    int64_t unseen_total = 0;
    for (int64_t s = 0; s < n; s += BLOCK) {
        int64_t m = SG_MIN(BLOCK, n - s), unseen = 0;
        for (int64_t k = 0; k < m; k++) blk[k] = rows ? rows[s + k] : s + k;
        if ((rc = sg_schema_transform(schema, t, blk, m, X, &unseen, err))) goto done;
        unseen_total += unseen;
        rc = gbdt ? sg_gbdt_predict(gbdt, X, m, 0, out + s, err)
                  : sg_linear_predict(lin, X, m, 0, out + s, err);
        if (rc) goto done;
    }
    if (unseen_total)
        SG_LOG(SG_LOG_DEBUG, "response", "%lld category values not seen in training",
               (long long)unseen_total);
done:
    sg_free(X);
    sg_free(blk);
    return rc;
}

/* ---------------------------------------------------------------- training */

/* Stratified k-fold assignment of n positions: fold[k] in [0, K). */
static void make_folds(const float *y, int64_t n, int K, int binary, sg_rng *rng, int *fold,
                       int64_t *perm)
{
    for (int64_t k = 0; k < n; k++) perm[k] = k;
    sg_rng_shuffle_i64(rng, perm, n);
    int64_t c[2] = {0, 0};
    for (int64_t k = 0; k < n; k++) {
        int64_t p = perm[k];
        int cls = binary ? y[p] > 0.5f : 0;
        fold[p] = (int)(c[cls]++ % K);
    }
}

static double mean_of(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n ? s / n : (double)NAN;
}

static double sd_of(const double *v, int n)
{
    double m = mean_of(v, n), s = 0;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    return n > 1 ? sqrt(s / (n - 1)) : 0.0;
}

/* Cross-validate one setting; fills r. */
static int cv_setting(const sg_table *t, const int64_t *rows, const float *y, int64_t n,
                      const int *fold, const sg_grid_point *g, const sg_response_opts *o,
                      int objective, const char *const *ex, sg_cv_result *r, int gi, int n_grid,
                      sg_error *err)
{
    int K = o->cv_folds, rc = SG_OK;
    int64_t *tr = sg_malloc_array((size_t)n, sizeof *tr), *te = sg_malloc_array((size_t)n, sizeof *te);
    int64_t *terows = sg_malloc_array((size_t)n, sizeof *terows);
    double *pred = sg_malloc_array((size_t)n, sizeof *pred);
    float *yte = sg_malloc_array((size_t)n, sizeof *yte);
    double auc[64], ll[64], prec[64], rmse[64], r2[64], trees[64];
    if (!tr || !te || !terows || !pred || !yte) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory in cross-validation");
        goto done;
    }
    memset(r, 0, sizeof *r);
    snprintf(r->setting, sizeof r->setting, "%s", g->text);
    for (int k = 0; k < K; k++) {
        int64_t n_tr = 0, n_te = 0;
        for (int64_t p = 0; p < n; p++) {
            if (fold[p] == k) te[n_te++] = p; else tr[n_tr++] = p;
        }
        fit_result f;
        rc = fit_one(&f, t, rows, y, tr, n_tr, g, o->learner, objective, ex, o->sums,
                     o->valid_frac, o->seed + (uint64_t)k, err);
        if (rc) {
            sg_error_prefix(err, "cross-validation fold %d/%d (%s): ", k + 1, K, g->text);
            goto done;
        }
        for (int64_t q = 0; q < n_te; q++) {
            terows[q] = rows[te[q]];
            yte[q] = y[te[q]];
        }
        rc = predict_fit(f.schema, f.gbdt, f.lin, t, terows, n_te, pred, err);
        trees[k] = f.best_trees;
        fit_result_deinit(&f);
        if (rc) goto done;
        if (objective == SG_OBJECTIVE_BINARY) {
            auc[k] = sg_auc(pred, yte, NULL, n_te);
            ll[k] = sg_logloss(pred, yte, NULL, n_te);
            int64_t top = (int64_t)llround(o->top_frac * (double)n_te);
            prec[k] = top > 0 ? sg_hits_at_k(pred, yte, n_te, top) / (double)top : (double)NAN;
        } else {
            rmse[k] = sg_rmse(pred, yte, NULL, n_te);
            r2[k] = sg_r2(pred, yte, NULL, n_te);
        }
        if (o->on_progress) o->on_progress(o->ud, "cross-validation", gi * K + k + 1, n_grid * K);
    }
    if (objective == SG_OBJECTIVE_BINARY) {
        r->auc = mean_of(auc, K);
        r->auc_sd = sd_of(auc, K);
        r->logloss = mean_of(ll, K);
        r->top_precision = mean_of(prec, K);
        r->top_precision_sd = sd_of(prec, K);
    } else {
        r->rmse = mean_of(rmse, K);
        r->r2 = mean_of(r2, K);
    }
    r->n_trees = mean_of(trees, K);
done:
    sg_free(tr);
    sg_free(te);
    sg_free(terows);
    sg_free(pred);
    sg_free(yte);
    return rc;
}

int sg_response_train(sg_response **out, const sg_table *t, const sg_response_opts *o,
                      sg_response_report *rep, sg_error *err)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (!o->target) return sg_error_set(err, SG_EINVAL, "no target column given");
    if (o->cv_folds == 1 || o->cv_folds < 0 || o->cv_folds > 64)
        return sg_error_set(err, SG_EINVAL, "--cv must be between 2 and 64 (got %d)", o->cv_folds);
    if (o->grid && o->cv_folds < 2)
        return sg_error_set(err, SG_EINVAL, "a grid needs cross-validation (--cv K, K >= 2) to choose a setting");
    if (o->learner != SG_LEARNER_GBDT && o->learner != SG_LEARNER_LINEAR)
        return sg_error_set(err, SG_EINVAL, "unknown learner %d", o->learner);

    int64_t *rows = NULL, n = 0, *pos = NULL, *perm = NULL;
    float *y = NULL;
    int *fold = NULL, objective = 0, rc, n_grid = 0;
    const char **ex = NULL;
    sg_grid_point *grid = NULL;
    sg_cv_result *res = NULL;
    sg_response *m = NULL;
    fit_result f;
    memset(&f, 0, sizeof f);

    if ((rc = read_target(t, o, &rows, &y, &n, &objective, err))) goto fail;
    double base = 0;
    for (int64_t k = 0; k < n; k++) base += (double)y[k];
    base /= (double)n;
    if (rep) {
        rep->n_rows = sg_table_n_rows(t);
        rep->n_used = n;
        rep->n_missing_target = rep->n_rows - n;
        rep->base_rate = base;
        rep->objective = objective;
        rep->chosen = -1;
    }
    if (objective == SG_OBJECTIVE_BINARY && (base == 0 || base == 1)) {
        rc = sg_error_set(err, SG_EINVAL, "%s: target '%s' has only one class (%g) in %lld rows",
                          sg_table_name(t), o->target, base, (long long)n);
        goto fail;
    }
    if (!(ex = exclusions(o))) goto oom;
    n_grid = sg_grid_parse(o->grid, &o->gbdt, &o->linear, o->learner, &grid, err);
    if (n_grid < 0) {
        rc = n_grid;
        goto fail;
    }
    int chosen = 0;
    double final_trees = -1;
    if (o->cv_folds >= 2) {
        if (n < 2 * o->cv_folds) {
            rc = sg_error_set(err, SG_EINVAL, "%lld labelled rows are too few for %d folds",
                              (long long)n, o->cv_folds);
            goto fail;
        }
        fold = sg_malloc_array((size_t)n, sizeof *fold);
        perm = sg_malloc_array((size_t)n, sizeof *perm);
        res = sg_calloc((size_t)n_grid, sizeof *res);
        if (!fold || !perm || !res) goto oom;
        sg_rng rng;
        sg_rng_init(&rng, o->seed);
        make_folds(y, n, o->cv_folds, objective == SG_OBJECTIVE_BINARY, &rng, fold, perm);
        for (int gi = 0; gi < n_grid; gi++) {
            rc = cv_setting(t, rows, y, n, fold, &grid[gi], o, objective, ex, &res[gi], gi, n_grid, err);
            if (rc) goto fail;
            if (objective == SG_OBJECTIVE_BINARY) {
                SG_LOG(SG_LOG_INFO, "train", "cv %d/%d %s: auc %.4f (sd %.4f) logloss %.4f top%.0f%% precision %.4f%s",
                       gi + 1, n_grid, res[gi].setting, res[gi].auc, res[gi].auc_sd, res[gi].logloss,
                       100 * o->top_frac, res[gi].top_precision, "");
            } else {
                SG_LOG(SG_LOG_INFO, "train", "cv %d/%d %s: rmse %.6g r2 %.4f", gi + 1, n_grid,
                       res[gi].setting, res[gi].rmse, res[gi].r2);
            }
            int better = objective == SG_OBJECTIVE_BINARY ? res[gi].auc > res[chosen].auc
                                                          : res[gi].rmse < res[chosen].rmse;
            if (gi > 0 && better) chosen = gi;
        }
        if (o->learner == SG_LEARNER_GBDT && grid[chosen].gbdt.early_stopping > 0)
            final_trees = res[chosen].n_trees;
    }

    /* the final model: all labelled rows with the chosen setting */
    sg_grid_point g = grid[chosen];
    if (!(pos = sg_malloc_array((size_t)n, sizeof *pos))) goto oom;
    for (int64_t k = 0; k < n; k++) pos[k] = k;
    double vf = o->valid_frac;
    if (final_trees > 0) {
        g.gbdt.n_trees = (int)lround(final_trees) > 0 ? (int)lround(final_trees) : 1;
        g.gbdt.early_stopping = 0;
        vf = 0;
    } else if (o->learner == SG_LEARNER_GBDT && g.gbdt.early_stopping > 0) {
        /* no CV: find the round count on an inner split, then refit on everything */
        if ((rc = fit_one(&f, t, rows, y, pos, n, &g, o->learner, objective, ex, o->sums, vf,
                          o->seed, err)))
            goto fail;
        g.gbdt.n_trees = f.best_trees > 0 ? f.best_trees : 1;
        g.gbdt.early_stopping = 0;
        fit_result_deinit(&f);
        vf = 0;
    }
    if ((rc = fit_one(&f, t, rows, y, pos, n, &g, o->learner, objective, ex, o->sums, vf, o->seed,
                      err)))
        goto fail;
    if (f.gbdt)
        SG_LOG(SG_LOG_INFO, "train", "final model: %s, %d trees on %lld rows x %d features",
               grid[chosen].text, sg_gbdt_n_trees(f.gbdt), (long long)n, sg_schema_n_features(f.schema));
    else
        SG_LOG(SG_LOG_INFO, "train", "final model: %s, linear on %lld rows x %d features",
               grid[chosen].text, (long long)n, sg_schema_n_features(f.schema));
    if (!(m = sg_calloc(1, sizeof *m))) goto oom;
    m->objective = objective;
    m->learner = o->learner;
    m->seed = o->seed;
    snprintf(m->setting, sizeof m->setting, "%s", grid[chosen].text);
    m->target = sg_strdup(o->target);
    m->id = o->id ? sg_strdup(o->id) : NULL;
    if (!m->target || (o->id && !m->id)) goto oom;
    m->schema = f.schema;
    m->gbdt = f.gbdt;
    m->lin = f.lin;
    memset(&f, 0, sizeof f);
    if (rep) {
        rep->n_results = o->cv_folds >= 2 ? n_grid : 0;
        rep->results = o->cv_folds >= 2 ? res : NULL;
        if (o->cv_folds >= 2) res = NULL;
        rep->chosen = o->cv_folds >= 2 ? chosen : -1;
        rep->n_features = sg_schema_n_features(m->schema);
        rep->n_trees = m->gbdt ? sg_gbdt_n_trees(m->gbdt) : 0;
    }
    *out = m;
    m = NULL;
    rc = SG_OK;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory while training");
fail:
done:
    fit_result_deinit(&f);
    sg_response_free(m);
    sg_free(rows);
    sg_free(y);
    sg_free(pos);
    sg_free(perm);
    sg_free(fold);
    sg_free(ex);
    sg_free(grid);
    sg_free(res);
    return rc;
}

int sg_response_predict(const sg_response *m, const sg_table *t, const int64_t *rows, int64_t n,
                        double *out, sg_error *err)
{
    if (!rows) n = sg_table_n_rows(t);
    return predict_fit(m->schema, m->gbdt, m->lin, t, rows, n, out, err);
}

/* ---------------------------------------------------------------- files */

static void put_blob(sg_wbuf *w, const unsigned char *b, size_t n)
{
    sg_wbuf_u64(w, n);
    sg_wbuf_put(w, b, n);
}

int sg_response_save(const sg_response *m, const char *path, sg_error *err)
{
    unsigned char *sb = NULL, *lb = NULL;
    size_t sn = 0, ln = 0;
    sg_wbuf w;
    sg_wbuf_init(&w);
    int rc = sg_schema_save(m->schema, &sb, &sn, err);
    if (rc) goto done;
    rc = m->gbdt ? sg_gbdt_save(m->gbdt, &lb, &ln, err) : sg_linear_save(m->lin, &lb, &ln, err);
    if (rc) goto done;
    sg_wbuf_u32(&w, RESP_MAGIC);
    sg_wbuf_i32(&w, m->objective);
    sg_wbuf_i32(&w, m->learner);
    sg_wbuf_str(&w, m->target);
    sg_wbuf_str(&w, m->id);
    sg_wbuf_str(&w, m->setting);
    sg_wbuf_u64(&w, m->seed);
    put_blob(&w, sb, sn);
    put_blob(&w, lb, ln);
    if ((rc = sg_wbuf_status(&w, err))) goto done;
    rc = sg_modelfile_write(path, SG_TASK_RESPONSE, w.data, w.len, err);
done:
    sg_free(sb);
    sg_free(lb);
    sg_wbuf_deinit(&w);
    return rc;
}

static int get_blob(sg_rbuf *r, const unsigned char **b, size_t *n, const char *what, sg_error *err)
{
    uint64_t len;
    int rc = sg_rbuf_u64(r, &len, what, err);
    if (rc) return rc;
    if (len > r->len - r->pos)
        return sg_error_set(err, SG_EPARSE, "corrupt model: %s length %llu exceeds the file",
                            what, (unsigned long long)len);
    *b = r->data + r->pos;
    *n = (size_t)len;
    r->pos += (size_t)len;
    return SG_OK;
}

int sg_response_load(sg_response **out, const char *path, sg_error *err)
{
    unsigned char *payload = NULL;
    size_t len = 0;
    int task;
    int rc = sg_modelfile_read(path, SG_TASK_RESPONSE, &task, &payload, &len, err);
    if (rc) return rc;
    sg_response *m = sg_calloc(1, sizeof *m);
    char *setting = NULL;
    if (!m) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory loading %s", path);
        goto fail;
    }
    sg_rbuf r;
    sg_rbuf_init(&r, payload, len);
    uint32_t magic;
    int32_t obj, learner;
    const unsigned char *sb, *lb;
    size_t sn, ln;
    if ((rc = sg_rbuf_u32(&r, &magic, "response magic", err))) goto fail;
    if (magic != RESP_MAGIC) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt response model (bad magic)");
        goto fail;
    }
    if ((rc = sg_rbuf_i32(&r, &obj, "objective", err)) || (rc = sg_rbuf_i32(&r, &learner, "learner", err)))
        goto fail;
    if ((obj != SG_OBJECTIVE_BINARY && obj != SG_OBJECTIVE_REGRESSION) ||
        (learner != SG_LEARNER_GBDT && learner != SG_LEARNER_LINEAR)) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt response model (objective %d, learner %d)", obj, learner);
        goto fail;
    }
    m->objective = obj;
    m->learner = learner;
    if ((rc = sg_rbuf_str(&r, &m->target, 1 << 16, "target name", err))) goto fail;
    if ((rc = sg_rbuf_str(&r, &m->id, 1 << 16, "id name", err))) goto fail;
    if ((rc = sg_rbuf_str(&r, &setting, sizeof m->setting - 1, "setting", err))) goto fail;
    if (!m->target) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt response model (no target)");
        goto fail;
    }
    snprintf(m->setting, sizeof m->setting, "%s", setting ? setting : "");
    if ((rc = sg_rbuf_u64(&r, &m->seed, "seed", err))) goto fail;
    if ((rc = get_blob(&r, &sb, &sn, "schema", err))) goto fail;
    if ((rc = get_blob(&r, &lb, &ln, "learner", err))) goto fail;
    if ((rc = sg_schema_load(&m->schema, sb, sn, err))) goto fail;
    rc = learner == SG_LEARNER_GBDT ? sg_gbdt_load(&m->gbdt, lb, ln, err)
                                    : sg_linear_load(&m->lin, lb, ln, err);
    if (rc) goto fail;
    int lw = m->gbdt ? sg_gbdt_n_features(m->gbdt) : sg_linear_n_features(m->lin);
    if (lw != sg_schema_n_features(m->schema)) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt response model (learner has %d features, schema %d)",
                          lw, sg_schema_n_features(m->schema));
        goto fail;
    }
    sg_free(setting);
    sg_free(payload);
    *out = m;
    return SG_OK;
fail:
    sg_error_prefix(err, "%s: ", path);
    sg_free(setting);
    sg_free(payload);
    sg_response_free(m);
    return rc;
}
