/* uplift.c -- task 'uplift': cross-fitted T-, X- and DR-learners over GBDT or
 * linear models, for any number of arms (see uplift.h).
 *
 * N = log rows, A = arms (0 = control), K = folds, R = repeats of the K-fold
 * split (R K "fold models" in all, index rk = r K + k), D = encoded features,
 * W = width of a stage-1 input row (D, D + 1 with the arm as a categorical
 * feature, or D + (A - 1)(D + 1) for the pooled linear design), P = stage-1
 * parts (conversion, value given conversion, or plain value).
 *
 * Training encodes the log once (N x D floats) and gathers each fold's rows
 * into a scratch matrix; the schema is fitted on all log rows (category lists
 * and means, no outcome information).  The number of GBDT rounds of each model
 * type is chosen once, by early stopping on an inner split of fold 0's
 * training rows, then every fold is fitted with that many rounds: K + 1 fits
 * per model type instead of 2K.  Prediction works in blocks of BLOCK rows so
 * memory stays bounded for any table.  Plans and their forecasts are in
 * uplift_plan.c.  See LICENSE for copyright. */
#include "stratagem/uplift.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/serial.h"
#include "models/uplift_private.h"
#include "stratagem/encode.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/response.h"
#include "stratagem/rng.h"

#define UPL_MAGIC 0x55504C31u   /* "UPL1" */
#define UPL_VERSION 5u   /* 2: value range of each unit; 3: linear starts (type-3 units);
                          * 4: rank hinges; 5: the forecaster's model follows */
#define UPL_VERSION_MIN 2u   /* a model without hinges or linear starts is still written as 2 */
#define BLOCK 8192              /* rows per prediction block */
#define HURDLE_ZERO_SHARE 0.3   /* auto hurdle: at least this share of zeros */
#define ES_MIN_ROWS 20          /* fewer training rows: no early stopping */
#define CAL_MAX_SLOPE 3.0       /* calibration slopes are clipped to [0, this] */
#ifndef CAL_PRIOR_SD
#define CAL_PRIOR_SD 0.5        /* prior sd of the calibration slope around 1 (bench/
                                 * uplift_results.md, section 8, compares others) */
#endif
#ifndef HINGE_PRIOR_SD
#define HINGE_PRIOR_SD 0.25     /* prior sd of a rank hinge's slope change around its centre
                                 * (0.5 gained more at budget 50 and lost on smaller logs and
                                 * larger budgets: bench/uplift_results.md, section 24) */
#endif

enum { PART_CONV = 0, PART_POS = 1, PART_VAL = 2 };

/* ---------------------------------------------------------------- basics */

void sg_uplift_opts_default(sg_uplift_opts *o)
{
    memset(o, 0, sizeof *o);
    o->learner = SG_UPLIFT_T;
    o->base = SG_LEARNER_GBDT;
    o->pooled = 1;
    o->hurdle = SG_HURDLE_AUTO;
    o->cv_folds = 5;
    o->repeats = 3;
    o->min_arm_rows = 30;
    o->valid_frac = 0.2;
    o->prop_clip = 0.01;
    o->calibrate = 1;
    /* A hurdle's value slopes shrink toward the conversion slopes: plans worth
     * more on 11 of 12 campaign benchmarks and forecasts about 5% higher
     * (bench/uplift_results.md, section 18). */
    o->cal_prior = SG_UPLIFT_CAL_CONV;
    /* No linear start (0): on the world campaigns one (--linear-start 20000)
     * raised the plans' share by about 0.01 but made the forecasts more
     * cautious on other logs (bench/uplift_results.md, section 9). */
    o->linear_start = 0;
    /* A rank hinge at each arm's 80th percentile: on bench/uplift.sh the plans'
     * share of the best +0.008, +0.004, +0.000 at budgets 50, 100, 200, the
     * forecasts (the line's sums) as before; -0.002 to -0.005 on 5,000-row logs
     * (bench/uplift_results.md, section 24). */
    o->rank_hinge = 0.8;
    /* Both kinds of trees, the log's choice, and the any-feature model summing
     * the additive trees' plans: against trees of any features alone, plans
     * gained about 0.01 of the best on bench/uplift.sh's 60 campaigns and the
     * world's and lost about 0.02 where effects turn on pairs of features, with
     * forecasts as close to the truth or closer, at twice the training time
     * (bench/uplift_results.md, sections 26-27). */
    o->additive = SG_UPLIFT_TREES_AUTO;
    /* Shallow trees and a fixed number of rounds: early stopping on the
     * outcome's loss stops before the (smaller) differences between arms are
     * learned; on bench/uplift.sh these settings gave the best plans. */
    sg_gbdt_params_default(&o->gbdt);
    o->gbdt.n_trees = 300;
    o->gbdt.learning_rate = 0.05f;
    o->gbdt.max_leaves = 7;
    o->gbdt.max_depth = 3;
    o->gbdt.min_child_weight = 20;
    o->gbdt.subsample = 1.0f;
    o->gbdt.colsample = 0.8f;
    o->gbdt.early_stopping = 0;
    sg_linear_params_default(&o->linear);
    o->seed = SG_DEFAULT_SEED;
}

void sg_uplift_report_deinit(sg_uplift_report *r)
{
    if (!r) return;
    sg_free(r->arms);
    r->arms = NULL;
    r->A = 0;
}

static void unit_deinit(upl_unit *u)
{
    sg_gbdt_free(u->g);
    sg_linear_free(u->l);
    sg_free(u->lin);
    u->g = NULL;
    u->l = NULL;
    u->lin = NULL;
}

void sg_uplift_free(sg_uplift *m)
{
    if (!m) return;
    for (int a = 0; m->labels && a < m->A; a++) sg_free(m->labels[a]);
    sg_free(m->labels);
    sg_free(m->treatment);
    sg_free(m->outcome);
    sg_free(m->propensity);
    sg_free(m->id);
    sg_schema_free(m->schema);
    for (int64_t k = 0; m->s1 && k < m->n_s1; k++) unit_deinit(&m->s1[k]);
    sg_free(m->s1);
    for (int64_t k = 0; m->s2 && k < m->n_s2; k++) unit_deinit(&m->s2[k]);
    sg_free(m->s2);
    sg_schema_free(m->pschema);
    for (int a = 0; m->pm && a < m->A; a++) sg_linear_free(m->pm[a]);
    sg_free(m->pm);
    sg_free(m->action);
    sg_free(m->prop);
    for (int t = 0; t < 2; t++) {
        sg_free(m->y[t]);
        sg_free(m->mu[t]);
        sg_free(m->tau[t]);
    }
    sg_free(m->row);
    sg_uplift_free(m->fc);
    sg_free(m);
}

int sg_uplift_n_arms(const sg_uplift *m) { return m->A; }
const char *sg_uplift_arm_label(const sg_uplift *m, int a)
{
    return a >= 0 && a < m->A ? m->labels[a] : NULL;
}
int sg_uplift_find_arm(const sg_uplift *m, const char *label)
{
    for (int a = 0; a < m->A; a++)
        if (!strcmp(m->labels[a], label)) return a;
    return -1;
}
int sg_uplift_kind(const sg_uplift *m) { return m->kind; }
const sg_uplift *sg_uplift_forecaster(const sg_uplift *m) { return m->fc ? m->fc : m; }
int sg_uplift_has_conv(const sg_uplift *m) { return m->kind != SG_UPLIFT_NUMERIC; }
int sg_uplift_learner(const sg_uplift *m) { return m->learner; }
int sg_uplift_base(const sg_uplift *m) { return m->base; }
int sg_uplift_pooled(const sg_uplift *m) { return m->pooled; }
int sg_uplift_folds(const sg_uplift *m) { return m->K; }
int sg_uplift_repeats(const sg_uplift *m) { return m->R; }
uint64_t sg_uplift_seed(const sg_uplift *m) { return m->seed; }
const char *sg_uplift_outcome(const sg_uplift *m) { return m->outcome; }
const char *sg_uplift_treatment(const sg_uplift *m) { return m->treatment; }
const char *sg_uplift_propensity(const sg_uplift *m) { return m->propensity; }
const char *sg_uplift_id(const sg_uplift *m) { return m->id; }
int64_t sg_uplift_n_log(const sg_uplift *m) { return m->N; }
const int64_t *sg_uplift_log_rows(const sg_uplift *m) { return m->row; }

const char *sg_uplift_learner_name(int learner)
{
    switch (learner) {
    case SG_UPLIFT_T: return "t";
    case SG_UPLIFT_X: return "x";
    case SG_UPLIFT_DR: return "dr";
    default: return "unknown";
    }
}

/* Index of the stored arrays of a target: a binary outcome is its own conversion. */
static int store_of(const sg_uplift *m, int target)
{
    return m->kind == SG_UPLIFT_HURDLE ? target : 0;
}

static int check_target(const sg_uplift *m, int target, sg_error *err)
{
    if (target != SG_UPLIFT_VALUE && target != SG_UPLIFT_CONV)
        return sg_error_set(err, SG_EINVAL, "uplift: unknown target %d", target);
    if (target == SG_UPLIFT_CONV && !sg_uplift_has_conv(m))
        return sg_error_set(err, SG_EINVAL, "uplift: the outcome '%s' is a plain number (neither "
                            "0/1 nor a hurdle), so the model cannot predict conversions",
                            m->outcome);
    return SG_OK;
}

int sg_uplift_oof(const sg_uplift *m, int target, const int32_t **action, const float **y,
                  const float **prop, const float **mu, const float **tau, sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    int s = store_of(m, target);
    if (action) *action = m->action;
    if (y) *y = m->y[s];
    if (prop) *prop = m->prop;
    if (mu) *mu = m->mu[s];
    if (tau) *tau = m->tau[s];
    return SG_OK;
}

/* ---------------------------------------------------------------- reading the log */

void sg_uplift_log_deinit(sg_uplift_log *g)
{
    if (!g) return;
    for (int a = 0; g->labels && a < g->A; a++) sg_free(g->labels[a]);
    sg_free(g->labels);
    sg_free(g->count);
    sg_free(g->action);
    sg_free(g->y);
    sg_free(g->prop);
    sg_free(g->row);
    memset(g, 0, sizeof *g);
}

typedef struct numkey {
    double v;
    int64_t row;
} numkey;

static int numkey_cmp(const void *x, const void *y)
{
    const numkey *a = x, *b = y;
    if (a->v < b->v) return -1;
    if (a->v > b->v) return 1;
    return (a->row > b->row) - (a->row < b->row);
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "a, b, c" of up to 'max' labels into buf. */
static const char *label_list(char **labels, int n, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && off + 8 < cap; i++) {
        int w = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", labels[i]);
        if (w < 0) break;
        off += (size_t)w;
        if (off >= cap) {
            buf[cap - 1] = '\0';
            break;
        }
    }
    return buf;
}

int sg_uplift_log_read(sg_uplift_log *g, const sg_table *t, const char *treatment,
                       const char *control, const char *outcome, const char *propensity,
                       const char *const *arms, int n_arms, sg_error *err)
{
    memset(g, 0, sizeof *g);
    const char *name = sg_table_name(t);
    int rc = SG_OK;
    int32_t *lab = NULL;            /* (n_rows) distinct-label index of each row, -1 = missing */
    char **dist = NULL;             /* (L) distinct label texts */
    int64_t L = 0;
    numkey *keys = NULL;
    int32_t *map = NULL;
    int64_t *lab_count = NULL;
    char buf[512], lbuf[400];
    if (!treatment || !outcome || (!control && !arms))
        return sg_error_set(err, SG_EINVAL, "uplift: the treatment, control and outcome are "
                            "required");
    int jt = sg_table_find(t, treatment), jy = sg_table_find(t, outcome);
    int jp = propensity ? sg_table_find(t, propensity) : -1;
    if (jt < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no treatment column '%s'", name, treatment);
    if (jy < 0) return sg_error_set(err, SG_ENOTFOUND, "%s: no outcome column '%s'", name, outcome);
    if (propensity && jp < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no propensity column '%s'", name, propensity);
    const double *yv = sg_table_num(t, jy);
    if (!yv || sg_table_col_type(t, jy) != SG_COL_NUMBER)
        return sg_error_set(err, SG_EPARSE, "%s: outcome column '%s' must hold numbers (0/1 or "
                            "values), but it is a %s column (e.g. \"%s\" at line %lld)", name,
                            outcome, sg_coltype_name(sg_table_col_type(t, jy)),
                            sg_table_cell(t, 0, jy, buf, sizeof buf),
                            (long long)sg_table_row_line(t, 0));
    const double *pv = NULL;
    if (jp >= 0) {
        pv = sg_table_num(t, jp);
        if (!pv || sg_table_col_type(t, jp) != SG_COL_NUMBER)
            return sg_error_set(err, SG_EPARSE, "%s: propensity column '%s' must hold numbers in "
                                "(0, 1], but it is a %s column", name, propensity,
                                sg_coltype_name(sg_table_col_type(t, jp)));
    }
    int64_t n_rows = sg_table_n_rows(t);
    lab = sg_malloc_array((size_t)(n_rows ? n_rows : 1), sizeof *lab);
    if (!lab) goto oom;

    /* distinct labels of the treatment column */
    const int32_t *codes = sg_table_codes(t, jt);
    if (codes) {
        L = sg_table_n_labels(t, jt);
        dist = sg_calloc((size_t)(L ? L : 1), sizeof *dist);
        if (!dist) goto oom;
        for (int64_t c = 0; c < L; c++)
            if (!(dist[c] = sg_strdup(sg_table_label(t, jt, (int32_t)c)))) goto oom;
        for (int64_t i = 0; i < n_rows; i++) lab[i] = codes[i];
    } else {
        const double *tv = sg_table_num(t, jt);
        keys = sg_malloc_array((size_t)(n_rows ? n_rows : 1), sizeof *keys);
        if (!keys) goto oom;
        int64_t nk = 0;
        for (int64_t i = 0; i < n_rows; i++) {
            lab[i] = -1;
            if (!isnan(tv[i])) keys[nk++] = (numkey){tv[i], i};
        }
        qsort(keys, (size_t)nk, sizeof *keys, numkey_cmp);
        dist = sg_calloc((size_t)(nk ? nk : 1), sizeof *dist);
        if (!dist) goto oom;
        for (int64_t k = 0; k < nk; k++) {
            if (k == 0 || keys[k].v != keys[k - 1].v) {
                if (!(dist[L] = sg_strdup(sg_table_cell(t, keys[k].row, jt, buf, sizeof buf))))
                    goto oom;
                L++;
            }
            lab[keys[k].row] = (int32_t)(L - 1);
        }
    }

    /* used rows: the outcome is present; their action must be too */
    lab_count = sg_calloc((size_t)(L ? L : 1), sizeof *lab_count);
    if (!lab_count) goto oom;
    int64_t N = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        if (isnan(yv[i])) continue;
        if (lab[i] < 0) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': missing action", name,
                              (long long)sg_table_row_line(t, i), treatment);
            goto fail;
        }
        lab_count[lab[i]]++;
        N++;
    }
    if (N == 0) {
        rc = sg_error_set(err, SG_EINVAL, "%s: no row has an outcome '%s'", name, outcome);
        goto fail;
    }

    /* arms: given, or control + the other labels in byte order */
    map = sg_malloc_array((size_t)(L ? L : 1), sizeof *map);
    if (!map) goto oom;
    int A;
    if (arms) {
        A = n_arms;
        if (A < 2 || A > SG_UPLIFT_MAX_ARMS) {
            rc = sg_error_set(err, SG_EINVAL, "uplift: %d arms given", A);
            goto fail;
        }
        if (!(g->labels = sg_calloc((size_t)A, sizeof *g->labels))) goto oom;
        g->A = A;
        for (int a = 0; a < A; a++)
            if (!(g->labels[a] = sg_strdup(arms[a]))) goto oom;
        for (int64_t c = 0; c < L; c++) {
            map[c] = -1;
            for (int a = 0; a < A; a++)
                if (!strcmp(dist[c], arms[a])) map[c] = a;
        }
        for (int64_t i = 0; i < n_rows; i++) {
            if (isnan(yv[i]) || map[lab[i]] >= 0) continue;
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': action '%s' is not an arm of "
                              "the model (arms: %s)", name, (long long)sg_table_row_line(t, i),
                              treatment, dist[lab[i]],
                              label_list(g->labels, A, lbuf, sizeof lbuf));
            goto fail;
        }
    } else {
        int64_t ctl = -1, n_present = 0;
        for (int64_t c = 0; c < L; c++) {
            if (!lab_count[c]) continue;
            n_present++;
            if (!strcmp(dist[c], control)) ctl = c;
        }
        if (ctl < 0) {
            char **present = sg_calloc((size_t)(n_present ? n_present : 1), sizeof *present);
            if (!present) goto oom;
            int np = 0;
            for (int64_t c = 0; c < L; c++)
                if (lab_count[c]) present[np++] = dist[c];
            qsort(present, (size_t)np, sizeof *present, str_cmp);
            rc = sg_error_set(err, SG_EINVAL, "%s: the control label '%s' never occurs in column "
                              "'%s' (labels: %s)", name, control, treatment,
                              label_list(present, np, lbuf, sizeof lbuf));
            sg_free(present);
            goto fail;
        }
        if (n_present > SG_UPLIFT_MAX_ARMS) {
            rc = sg_error_set(err, SG_EINVAL, "%s: column '%s' has %lld distinct actions; at most "
                              "%d arms are supported", name, treatment, (long long)n_present,
                              SG_UPLIFT_MAX_ARMS);
            goto fail;
        }
        A = (int)n_present;
        if (A < 2) {
            rc = sg_error_set(err, SG_EINVAL, "%s: column '%s' has only the control label '%s': "
                              "there is no action to learn about", name, treatment, control);
            goto fail;
        }
        if (!(g->labels = sg_calloc((size_t)A, sizeof *g->labels))) goto oom;
        g->A = A;
        int k = 0;
        if (!(g->labels[k++] = sg_strdup(dist[ctl]))) goto oom;
        for (int64_t c = 0; c < L; c++)
            if (lab_count[c] && c != ctl && !(g->labels[k++] = sg_strdup(dist[c]))) goto oom;
        qsort(g->labels + 1, (size_t)(A - 1), sizeof *g->labels, str_cmp);
        for (int64_t c = 0; c < L; c++) {
            map[c] = -1;
            for (int a = 0; a < A; a++)
                if (!strcmp(dist[c], g->labels[a])) map[c] = a;
        }
    }

    /* the used rows */
    g->N = N;
    g->count = sg_calloc((size_t)A, sizeof *g->count);
    g->action = sg_malloc_array((size_t)N, sizeof *g->action);
    g->y = sg_malloc_array((size_t)N, sizeof *g->y);
    g->row = sg_malloc_array((size_t)N, sizeof *g->row);
    if (pv) g->prop = sg_malloc_array((size_t)N, sizeof *g->prop);
    if (!g->count || !g->action || !g->y || !g->row || (pv && !g->prop)) goto oom;
    int64_t k = 0, n_bad = 0, first_bad = -1;
    for (int64_t i = 0; i < n_rows; i++) {
        if (isnan(yv[i])) continue;
        int a = map[lab[i]];
        g->action[k] = a;
        g->count[a]++;
        g->y[k] = yv[i];
        g->row[k] = i;
        if (pv) {
            double p = pv[i];
            if (!(p > 0 && p <= 1)) {
                if (first_bad < 0) first_bad = i;
                n_bad++;
            }
            g->prop[k] = p;
        }
        k++;
    }
    if (n_bad) {
        double p = pv[first_bad];
        if (isnan(p))
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': missing propensity (%lld bad "
                              "propensities in all)", name,
                              (long long)sg_table_row_line(t, first_bad), propensity,
                              (long long)n_bad);
        else
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected a probability in "
                              "(0, 1], got %.15g (%lld bad propensities in all)", name,
                              (long long)sg_table_row_line(t, first_bad), propensity, p,
                              (long long)n_bad);
        goto fail;
    }
    g->n_missing_outcome = n_rows - N;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory reading the campaign log");
fail:
    sg_uplift_log_deinit(g);
done:
    for (int64_t c = 0; dist && c < L; c++) sg_free(dist[c]);
    sg_free(dist);
    sg_free(lab);
    sg_free(keys);
    sg_free(map);
    sg_free(lab_count);
    return rc;
}

/* ---------------------------------------------------------------- designs */

/* Width of a stage-1 input row. */
static int s1_width(const sg_uplift *m)
{
    if (!m->pooled) return m->D;
    if (m->base == SG_LEARNER_GBDT) return m->D + 1;
    return m->D + (m->A - 1) * (m->D + 1);
}

/* Stage-1 rows for X rows 'rows[0..n)' (NULL = 0..n-1) under arm 'arm' (or the
 * row's own arm arm_of[r] when arm < 0) into Z (n, s1_width). */
static void s1_design(const sg_uplift *m, const float *X, const int64_t *rows, int64_t n,
                      int arm, const int32_t *arm_of, float *Z)
{
    int D = m->D, W = s1_width(m), A = m->A;
    for (int64_t k = 0; k < n; k++) {
        int64_t r = rows ? rows[k] : k;
        const float *x = X + r * D;
        float *z = Z + k * W;
        int a = arm >= 0 ? arm : arm_of[r];
        memcpy(z, x, (size_t)D * sizeof *z);
        if (!m->pooled) continue;
        if (m->base == SG_LEARNER_GBDT) {
            z[D] = (float)a;
            continue;
        }
        /* linear: arm dummies, then one block of x per arm (zero except the row's arm) */
        float *dum = z + D, *blk = z + D + (A - 1);
        memset(dum, 0, (size_t)(W - D) * sizeof *z);
        if (a > 0) {
            dum[a - 1] = 1.0f;
            memcpy(blk + (size_t)(a - 1) * D, x, (size_t)D * sizeof *z);
        }
    }
}

/* Plain feature rows (stage 2): X rows into Z (n, D). */
static void gather_x(const float *X, int D, const int64_t *rows, int64_t n, float *Z)
{
    for (int64_t k = 0; k < n; k++) memcpy(Z + k * D, X + rows[k] * D, (size_t)D * sizeof *Z);
}

/* ---------------------------------------------------------------- one learner */

typedef struct fit_spec {
    const sg_uplift_opts *o;
    int base;             /* SG_LEARNER_GBDT / _LINEAR */
    int loss;             /* 0 logistic, 1 squared */
    int W;
    const uint8_t *is_cat;    /* (W) or NULL */
    int n_trees;          /* GBDT rounds; < 0: choose by early stopping and return it */
    uint64_t seed;
    const char *what;     /* for messages */
    int lin_A;            /* > 0: a pooled GBDT (arm in column W - 1 of A arms) boosts
                           * from a linear start with penalty lin_l2 */
    double lin_l2;
    int additive;         /* a pooled GBDT (arm in column W - 1) of additive trees: each
                           * path splits on the arm and at most one feature */
} fit_spec;

/* A value-given-conversion prediction (log scale) clamped to the range fitted. */
static double unit_clamp(const upl_unit *u, double f)
{
    return f < u->lo ? u->lo : f > u->hi ? u->hi : f;
}

static int unit_predict(const upl_unit *u, const float *Z, int64_t n, double *out, sg_error *err);

/* The linear start's margin for a pooled design row z (width D + 1, arm in z[D]). */
static double lin_margin(const upl_unit *u, const float *z)
{
    int D = u->lin_D, a = (int)z[D];
    const double *c = u->lin + (size_t)a * (size_t)(D + 1);
    const double *fill = u->lin + (size_t)u->lin_A * (size_t)(D + 1);
    double s = c[0];
    for (int j = 0; j < D; j++) {
        double x = (double)z[j];
        s += c[1 + j] * (isnan(x) ? fill[j] : x);
    }
    return s;
}

/* Linear start of a pooled GBDT: a penalised logistic (loss 0) or ridge model
 * with, per treatment arm, a dummy and a block of arm x feature interactions,
 * on features standardised over the n rows (categorical and constant columns
 * left out, missing values at the column mean).  Its margin, folded back to the
 * raw features per arm (u->lin), is where the trees start: an effect that is a
 * sum over many columns, which shallow trees approximate badly, is one
 * direction for it.  train_stage1 gives one to the conversion part only (on the
 * world campaigns a start for the value part too did worse: bench/uplift_results.md,
 * section 9).  At most LIN_MAX_CELLS design values: larger data use evenly
 * spaced rows, with the penalty scaled by the share used so the fit stays the
 * full data's.  Fills u->lin and off (n). */
#define LIN_MAX_CELLS 32000000.0
static int fit_linear_start(upl_unit *u, const fit_spec *f, const float *Z, const float *y,
                            int64_t n, double *off, sg_error *err)
{
    int D = f->W - 1, A = f->lin_A, rc = SG_OK;
    double *cen = sg_calloc((size_t)D + 1, sizeof *cen);
    double *sca = sg_calloc((size_t)D + 1, sizeof *sca);
    int *keep = sg_malloc_array((size_t)D + 1, sizeof *keep);
    float *Zl = NULL, *yl = NULL;
    sg_linear *lm = NULL;
    if (!cen || !sca || !keep) goto oom;
    /* column means and standard deviations, two passes over the rows in order */
    int64_t *cnt = sg_calloc((size_t)D + 1, sizeof *cnt);
    if (!cnt) goto oom;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) {
            double x = (double)Z[i * f->W + j];
            if (isnan(x)) continue;
            cen[j] += x;
            cnt[j]++;
        }
    for (int j = 0; j < D; j++) cen[j] = cnt[j] ? cen[j] / (double)cnt[j] : 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) {
            double x = (double)Z[i * f->W + j];
            if (!isnan(x)) sca[j] += (x - cen[j]) * (x - cen[j]);
        }
    int Dk = 0;
    for (int j = 0; j < D; j++) {
        sca[j] = cnt[j] > 1 ? sqrt(sca[j] / (double)(cnt[j] - 1)) : 0.0;
        if (sca[j] > 0 && isfinite(sca[j]) && !(f->is_cat && f->is_cat[j])) keep[Dk++] = j;
    }
    sg_free(cnt);
    int Wl = Dk + (A - 1) * (Dk + 1);
    int64_t step = 1;
    if ((double)n * (double)Wl > LIN_MAX_CELLS)
        step = (int64_t)ceil((double)n * (double)Wl / LIN_MAX_CELLS);
    if (f->loss == 0 && step > 1) {
        /* a subsample must keep both outcomes (the caller checked the full data has them) */
        int64_t pos = 0, tot = 0;
        for (int64_t i = 0; i < n; i += step, tot++) pos += y[i] > 0.5f;
        if (pos == 0 || pos == tot) step = 1;
    }
    int64_t nl = (n + step - 1) / step;
    Zl = sg_malloc_array((size_t)nl * (size_t)(Wl ? Wl : 1), sizeof *Zl);
    yl = sg_malloc_array((size_t)nl, sizeof *yl);
    if (!Zl || !yl) goto oom;
    for (int64_t q = 0; q < nl; q++) {
        const float *z = Z + q * step * f->W;
        float *o = Zl + q * Wl, *dum = o + Dk, *blk = o + Dk + (A - 1);
        int a = (int)z[D];
        memset(o, 0, (size_t)Wl * sizeof *o);
        for (int k = 0; k < Dk; k++) {
            int j = keep[k];
            double x = (double)z[j];
            o[k] = isnan(x) ? 0.0f : (float)((x - cen[j]) / sca[j]);
        }
        if (a > 0) {
            dum[a - 1] = 1.0f;
            memcpy(blk + (size_t)(a - 1) * Dk, o, (size_t)Dk * sizeof *o);
        }
        yl[q] = y[q * step];
    }
    sg_linear_params lp;
    sg_linear_params_default(&lp);
    lp.kind = f->loss == 0 ? SG_LINEAR_LOGISTIC : SG_LINEAR_RIDGE;
    lp.l2 = f->lin_l2 * (double)nl / (double)n;
    if ((rc = sg_linear_train(&lm, Zl, yl, NULL, nl, Wl, &lp, err))) {
        sg_error_prefix(err, "linear start: ");
        goto done;
    }
    const double *beta = sg_linear_coef(lm);
    u->lin = sg_calloc((size_t)A * (size_t)(D + 1) + (size_t)D, sizeof *u->lin);
    if (!u->lin) goto oom;
    u->lin_A = A;
    u->lin_D = D;
    u->lin_logistic = f->loss == 0;
    for (int a = 0; a < A; a++) {
        double *c = u->lin + (size_t)a * (size_t)(D + 1);
        c[0] = sg_linear_intercept(lm) + (a > 0 ? beta[Dk + a - 1] : 0.0);
        for (int k = 0; k < Dk; k++) {
            int j = keep[k];
            double b = beta[k] + (a > 0 ? beta[Dk + (A - 1) + (a - 1) * Dk + k] : 0.0);
            c[1 + j] = b / sca[j];
            c[0] -= b * cen[j] / sca[j];
        }
    }
    memcpy(u->lin + (size_t)A * (size_t)(D + 1), cen, (size_t)D * sizeof *cen);
    for (int64_t i = 0; i < n; i++) off[i] = lin_margin(u, Z + i * f->W);
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "linear start: out of memory");
done:
    sg_linear_free(lm);
    sg_free(cen);
    sg_free(sca);
    sg_free(keep);
    sg_free(Zl);
    sg_free(yl);
    return rc;
}

/* Fit one model on Z (n, W) with labels y (n).  With n_trees < 0 (GBDT) an
 * inner split picks the rounds: *best gets them and the model is the early-
 * stopped one.  POS models get Duan's smearing factor. */
static int fit_unit(upl_unit *u, const fit_spec *f, const float *Z, const float *y, int64_t n,
                    int smear, int *best, sg_error *err)
{
    int rc = SG_OK;
    float *Zt = NULL, *yt = NULL, *Zv = NULL, *yv = NULL;
    int64_t *perm = NULL;
    double *pred = NULL, *off = NULL, *offt = NULL, *offv = NULL;
    memset(u, 0, sizeof *u);
    u->smear = 1.0;
    u->lo = -DBL_MAX;
    u->hi = DBL_MAX;
    if (f->loss == 0) {
        int64_t pos = 0;
        for (int64_t i = 0; i < n; i++) pos += y[i] > 0.5f;
        if (pos == 0 || pos == n)
            return sg_error_set(err, SG_EINVAL, "%s: all %lld training rows have outcome %s; "
                                "cannot fit a conversion model", f->what, (long long)n,
                                pos ? "> 0" : "0");
    }
    if (n < 2)
        return sg_error_set(err, SG_EINVAL, "%s: only %lld training rows", f->what, (long long)n);
    if (f->base == SG_LEARNER_GBDT) {
        sg_gbdt_params p = f->o->gbdt;
        p.objective = f->loss == 0 ? SG_GBDT_LOGLOSS : SG_GBDT_SQUARED;
        p.seed = f->seed;
        if (f->additive) p.free_feature = f->W - 1;
        if (f->lin_A > 0) {
            off = sg_malloc_array((size_t)n, sizeof *off);
            if (!off) goto oom;
            if ((rc = fit_linear_start(u, f, Z, y, n, off, err))) goto fail;
        }
        if (f->n_trees >= 0 || p.early_stopping <= 0 || f->o->valid_frac <= 0 || n < ES_MIN_ROWS) {
            if (f->n_trees >= 0) p.n_trees = f->n_trees > 0 ? f->n_trees : 1;
            p.early_stopping = 0;
            rc = sg_gbdt_train_offset(&u->g, Z, y, NULL, off, n, f->W, f->is_cat, NULL, NULL,
                                      NULL, 0, &p, err);
        } else {
            /* inner split: a seeded permutation, the first share is the validation set */
            int64_t nv = (int64_t)ceil(f->o->valid_frac * (double)n), nt = n - nv;
            if (nv < 1) nv = 1, nt = n - 1;
            perm = sg_malloc_array((size_t)n, sizeof *perm);
            Zt = sg_malloc_array((size_t)nt * (size_t)f->W, sizeof *Zt);
            Zv = sg_malloc_array((size_t)nv * (size_t)f->W, sizeof *Zv);
            yt = sg_malloc_array((size_t)nt, sizeof *yt);
            yv = sg_malloc_array((size_t)nv, sizeof *yv);
            if (!perm || !Zt || !Zv || !yt || !yv) goto oom;
            if (off) {
                offt = sg_malloc_array((size_t)nt, sizeof *offt);
                offv = sg_malloc_array((size_t)nv, sizeof *offv);
                if (!offt || !offv) goto oom;
            }
            sg_rng rng;
            sg_rng_init(&rng, f->seed ^ 0x5EEDull);
            for (int64_t i = 0; i < n; i++) perm[i] = i;
            sg_rng_shuffle_i64(&rng, perm, n);
            /* keep the original row order inside each part */
            int64_t kt = 0, kv = 0;
            uint8_t *flag = sg_calloc((size_t)n, 1);
            if (!flag) goto oom;
            for (int64_t i = 0; i < nv; i++) flag[perm[i]] = 1;
            for (int64_t i = 0; i < n; i++) {
                if (flag[i]) {
                    memcpy(Zv + kv * f->W, Z + i * f->W, (size_t)f->W * sizeof *Z);
                    if (off) offv[kv] = off[i];
                    yv[kv++] = y[i];
                } else {
                    memcpy(Zt + kt * f->W, Z + i * f->W, (size_t)f->W * sizeof *Z);
                    if (off) offt[kt] = off[i];
                    yt[kt++] = y[i];
                }
            }
            sg_free(flag);
            rc = sg_gbdt_train_offset(&u->g, Zt, yt, NULL, offt, nt, f->W, f->is_cat, Zv, yv,
                                      offv, nv, &p, err);
        }
        if (rc) goto fail;
        if (best) *best = sg_gbdt_n_trees(u->g);
    } else {
        sg_linear_params p = f->o->linear;
        p.kind = f->loss == 0 ? SG_LINEAR_LOGISTIC : SG_LINEAR_RIDGE;
        if ((rc = sg_linear_train(&u->l, Z, y, NULL, n, f->W, &p, err))) goto fail;
        if (best) *best = 0;
    }
    if (smear) {
        /* Duan's smearing: E[y | y > 0] = exp(f(x)) * mean(exp(residual)) */
        pred = sg_malloc_array((size_t)n, sizeof *pred);
        if (!pred) goto oom;
        if ((rc = unit_predict(u, Z, n, pred, err))) goto fail;
        u->lo = u->hi = n > 0 ? (double)y[0] : 0.0;
        for (int64_t i = 1; i < n; i++) {
            u->lo = fmin(u->lo, (double)y[i]);
            u->hi = fmax(u->hi, (double)y[i]);
        }
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += exp((double)y[i] - unit_clamp(u, pred[i]));
        u->smear = s / (double)n;
        if (!isfinite(u->smear)) {
            rc = sg_error_set(err, SG_ENUMERIC, "%s: the smearing factor is not finite", f->what);
            goto fail;
        }
    }
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory", f->what);
fail:
    sg_error_prefix(err, "%s: ", f->what);
    unit_deinit(u);
done:
    sg_free(Zt);
    sg_free(yt);
    sg_free(Zv);
    sg_free(yv);
    sg_free(perm);
    sg_free(pred);
    sg_free(off);
    sg_free(offt);
    sg_free(offv);
    return rc;
}

static int unit_predict(const upl_unit *u, const float *Z, int64_t n, double *out, sg_error *err)
{
    if (u->g && u->lin) {
        int rc = sg_gbdt_predict(u->g, Z, n, 1, out, err);
        if (rc) return rc;
        for (int64_t i = 0; i < n; i++) {
            double v = out[i] + lin_margin(u, Z + i * (u->lin_D + 1));
            out[i] = u->lin_logistic ? 1.0 / (1.0 + exp(-v)) : v;
        }
        return SG_OK;
    }
    if (u->g) return sg_gbdt_predict(u->g, Z, n, 0, out, err);
    if (u->l) return sg_linear_predict(u->l, Z, n, 0, out, err);
    return sg_error_set(err, SG_EINTERNAL, "uplift: a model slot is empty");
}

/* ---------------------------------------------------------------- stage 1 */

/* GBDT rounds chosen by early stopping (once per model type, on fold 0). */
static int uses_es(const sg_uplift_opts *o)
{
    return o->base == SG_LEARNER_GBDT && o->gbdt.early_stopping > 0 && o->valid_frac > 0;
}

static upl_unit *s1_unit(const sg_uplift *m, int rk, int p, int slot)
{
    return &m->s1[((int64_t)rk * m->P + p) * m->M + slot];
}

static upl_unit *s2_unit(const sg_uplift *m, int s, int a, int rk, int j)
{
    return &m->s2[(((int64_t)s * m->A + a) * m->R * m->K + rk) * m->S + j];
}

static int part_kind(const sg_uplift *m, int p)
{
    if (m->kind == SG_UPLIFT_NUMERIC) return PART_VAL;
    return p == 0 ? PART_CONV : PART_POS;
}

/* A stage-1 part's output from its model's prediction v: the positive value
 * of a value-given-conversion part (log scale, clamped, smeared), else v. */
static double s1_output(const upl_unit *u, int pk, double v)
{
    return pk == PART_POS ? exp(unit_clamp(u, v)) * u->smear : v;
}

/* Stage-1 predictions of fold model k for the rows in Xr (n, D) under every
 * arm: raw (P, n, A): conversion probability, positive value (smeared) or
 * value.  Z is scratch (n, s1_width). */
static int s1_predict_fold(const sg_uplift *m, int k, const float *Xr, int64_t n, float *Z,
                           double *f, double *raw, sg_error *err)
{
    int A = m->A;
    if (m->pooled && m->base == SG_LEARNER_GBDT && A <= 64) {
        /* the arm is the last column of a GBDT: each tree walked once per row
         * for all arms (the values come out as A separate passes give them) */
        int lin = 0;
        for (int p = 0; p < m->P; p++) lin |= s1_unit(m, k, p, 0)->lin != NULL;
        if (!lin) {
            s1_design(m, Xr, NULL, n, 0, NULL, Z);
            for (int p = 0; p < m->P; p++) {
                const upl_unit *u = s1_unit(m, k, p, 0);
                double *dst = raw + (int64_t)p * n * A;
                int rc = sg_gbdt_predict_sweep(u->g, Z, n, m->D, A, 0, dst, err);
                if (rc) return rc;
                int pk = part_kind(m, p);
                for (int64_t q = 0; q < n * A; q++) dst[q] = s1_output(u, pk, dst[q]);
            }
            return SG_OK;
        }
    }
    for (int a = 0; a < A; a++) {
        const float *in = Xr;
        if (m->pooled) {
            s1_design(m, Xr, NULL, n, a, NULL, Z);
            in = Z;
        }
        for (int p = 0; p < m->P; p++) {
            const upl_unit *u = s1_unit(m, k, p, m->pooled ? 0 : a);
            int rc = unit_predict(u, in, n, f, err);
            if (rc) return rc;
            int pk = part_kind(m, p);
            double *dst = raw + (int64_t)p * n * A;
            for (int64_t i = 0; i < n; i++)
                dst[i * A + a] = s1_output(u, pk, f[i]);
        }
    }
    return SG_OK;
}

/* mu (n, A) of a target from the stage-1 parts raw (P, n, A). */
static void mu_from_raw(const sg_uplift *m, int target, const double *raw, int64_t n, double *mu)
{
    int64_t nA = n * m->A;
    if (m->kind == SG_UPLIFT_HURDLE && target == SG_UPLIFT_VALUE) {
        for (int64_t q = 0; q < nA; q++) mu[q] = raw[q] * raw[nA + q];
    } else {
        memcpy(mu, raw, (size_t)nA * sizeof *mu);
    }
}

/* ---------------------------------------------------------------- training */

typedef struct trainer {
    sg_uplift *m;
    const sg_uplift_opts *o;
    const float *X;           /* (N, D) */
    const int *fold;          /* (R, N) fold of each row in each repeat */
    const double *y;          /* (N) outcome */
    const double *e;          /* (N, A) estimated propensities or NULL */
    int step, n_steps;
} trainer;

static void progress(trainer *tr, const char *stage)
{
    tr->step++;
    if (tr->o->on_progress) tr->o->on_progress(tr->o->ud, stage, tr->step, tr->n_steps);
}

/* Rows of the training part of fold model rk passing a filter. */
static int64_t select_rows(const trainer *tr, int rk, int arm, int positive, int64_t *out)
{
    const sg_uplift *m = tr->m;
    const int *fold = tr->fold + (int64_t)(rk / m->K) * m->N;
    int k = rk % m->K;
    int64_t n = 0;
    for (int64_t i = 0; i < m->N; i++) {
        if (fold[i] == k) continue;
        if (arm >= 0 && m->action[i] != arm) continue;
        if (positive && !(tr->y[i] > 0)) continue;
        out[n++] = i;
    }
    return n;
}

/* Held-out rows of fold model rk. */
static int64_t held_out_rows(const trainer *tr, int rk, int64_t *out)
{
    const sg_uplift *m = tr->m;
    const int *fold = tr->fold + (int64_t)(rk / m->K) * m->N;
    int k = rk % m->K;
    int64_t n = 0;
    for (int64_t i = 0; i < m->N; i++)
        if (fold[i] == k) out[n++] = i;
    return n;
}

/* Fit stage 1 and fill the OOF arrays m->mu / m->tau (T learner): each row's
 * prediction is the mean of its R held-out predictions, one per repeat. */
static int train_stage1(trainer *tr, int *trees_out, sg_error *err)
{
    sg_uplift *m = tr->m;
    const sg_uplift_opts *o = tr->o;
    int64_t N = m->N;
    int A = m->A, K = m->K, RK = m->R * m->K, D = m->D, W = s1_width(m);
    int rc = SG_OK;
    int64_t *rows = sg_malloc_array((size_t)N, sizeof *rows);
    float *Z = sg_malloc_array((size_t)N * (size_t)W, sizeof *Z);
    float *lab = sg_malloc_array((size_t)N, sizeof *lab);
    double *f = sg_malloc_array((size_t)N, sizeof *f);
    double *acc = sg_calloc((size_t)m->n_store * (size_t)N * (size_t)A, sizeof *acc);
    double *rawk = NULL, *muk = NULL;
    float *Xk = NULL, *Zk = NULL;
    uint8_t *is_cat = sg_calloc((size_t)W, 1);
    if (!rows || !Z || !lab || !f || !acc || !is_cat) goto oom;
    const uint8_t *sc = sg_schema_is_cat(m->schema);
    if (m->base == SG_LEARNER_GBDT) {
        if (sc) memcpy(is_cat, sc, (size_t)D);
        if (m->pooled) is_cat[D] = 1;
    }
    int lin_start = m->base == SG_LEARNER_GBDT && m->pooled && o->linear_start > 0;

    /* fit every (part, slot) on every fold */
    for (int p = 0; p < m->P; p++) {
        int pk = part_kind(m, p);
        for (int slot = 0; slot < m->M; slot++) {
            int arm = m->pooled ? -1 : slot;
            char what[200];
            int best = -1;
            if (trees_out) trees_out[p] = o->gbdt.n_trees;
            for (int k = -1; k < RK; k++) {
                /* k = -1: the early-stopping run on fold 0's training rows (GBDT only) */
                if (k < 0 && !uses_es(o)) continue;
                int fk = k < 0 ? 0 : k;
                int64_t n = select_rows(tr, fk, arm, pk == PART_POS, rows);
                s1_design(m, tr->X, rows, n, -1, m->action, Z);
                for (int64_t q = 0; q < n; q++) {
                    double v = tr->y[rows[q]];
                    lab[q] = pk == PART_CONV ? (float)(v > 0) : pk == PART_POS ? (float)log(v)
                                                                               : (float)v;
                }
                snprintf(what, sizeof what, "%s model%s%s, fold %d/%d of repeat %d",
                         pk == PART_CONV ? (m->kind == SG_UPLIFT_BINARY ? "outcome" : "conversion")
                                         : pk == PART_POS ? "value-given-conversion" : "outcome",
                         arm >= 0 ? " of arm " : "", arm >= 0 ? m->labels[arm] : "", fk % K + 1, K,
                         fk / K + 1);
                fit_spec fs = {o, m->base, pk == PART_CONV ? 0 : 1, W, is_cat,
                               k < 0 ? -1 : best, o->seed + 1000u * (uint64_t)(p * m->M + slot)
                                                  + (uint64_t)fk, what,
                               lin_start && pk == PART_CONV ? A : 0, o->linear_start,
                               m->pooled && m->base == SG_LEARNER_GBDT &&
                                   o->additive == SG_UPLIFT_TREES_ARM};
                upl_unit tmp, *u = k < 0 ? &tmp : s1_unit(m, k, p, slot);
                rc = fit_unit(u, &fs, Z, lab, n, pk == PART_POS, k < 0 ? &best : NULL, err);
                if (rc) goto fail;
                if (k < 0) {
                    unit_deinit(&tmp);
                    SG_LOG(SG_LOG_INFO, "uplift", "%s: %d rounds chosen by early stopping",
                           what, best);
                    if (trees_out) trees_out[p] = best;
                    progress(tr, "uplift: outcome models");
                    continue;
                }
                progress(tr, "uplift: outcome models");
            }
        }
    }

    /* OOF stage-1 predictions, fold model by fold model */
    int64_t nk_max = 0;
    for (int k = 0; k < RK; k++) {
        int64_t c = held_out_rows(tr, k, rows);
        if (c > nk_max) nk_max = c;
    }
    Xk = sg_malloc_array((size_t)(nk_max ? nk_max : 1) * (size_t)D, sizeof *Xk);
    Zk = sg_malloc_array((size_t)(nk_max ? nk_max : 1) * (size_t)W, sizeof *Zk);
    rawk = sg_malloc_array((size_t)m->P * (size_t)(nk_max ? nk_max : 1) * (size_t)A, sizeof *rawk);
    muk = sg_malloc_array((size_t)(nk_max ? nk_max : 1) * (size_t)A, sizeof *muk);
    if (!Xk || !Zk || !rawk || !muk) goto oom;
    for (int k = 0; k < RK; k++) {
        int64_t n = held_out_rows(tr, k, rows);
        gather_x(tr->X, D, rows, n, Xk);
        if ((rc = s1_predict_fold(m, k, Xk, n, Zk, f, rawk, err))) goto fail;
        for (int s = 0; s < m->n_store; s++) {
            mu_from_raw(m, s, rawk, n, muk);
            for (int64_t q = 0; q < n; q++)
                for (int a = 0; a < A; a++) {
                    double v = muk[q * A + a];
                    if (!isfinite(v)) {
                        rc = sg_error_set(err, SG_ENUMERIC, "uplift: fold model %d: a prediction "
                                          "is not finite", k + 1);
                        goto fail;
                    }
                    acc[((int64_t)s * N + rows[q]) * A + a] += v;
                }
        }
    }
    for (int s = 0; s < m->n_store; s++)
        for (int64_t i = 0; i < N; i++)
            for (int a = 0; a < A; a++) {
                const double *ai = acc + ((int64_t)s * N + i) * A;
                m->mu[s][i * A + a] = (float)(ai[a] / m->R);
                m->tau[s][i * A + a] = (float)((ai[a] - ai[0]) / m->R);
            }
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory training the outcome models");
fail:
done:
    sg_free(rows);
    sg_free(Z);
    sg_free(lab);
    sg_free(f);
    sg_free(acc);
    sg_free(rawk);
    sg_free(muk);
    sg_free(Xk);
    sg_free(Zk);
    sg_free(is_cat);
    return rc;
}

/* The stored outcome of a target for row i. */
static double y_of(const sg_uplift *m, int s, int64_t i)
{
    return (double)m->y[s][i];
}

/* The cross-fitted doubly robust pseudo-outcome of arm a vs control for log row i. */
static double dr_pseudo(const sg_uplift *m, int s, int a, int64_t i)
{
    int A = m->A;
    double ma = (double)m->mu[s][i * A + a], m0 = (double)m->mu[s][i * A];
    double y = (double)m->y[s][i], v = ma - m0;
    if (m->action[i] == a) v += (y - ma) / (double)m->prop[i];
    else if (m->action[i] == 0) v -= (y - m0) / (double)m->prop[i];
    return v;
}

static int cmp_float_asc(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* The rank hinge of arm a in store s (uplift.h): on the raw OOF effects t, whose
 * line is alpha + beta t, the residual pseudo-outcomes are regressed on the
 * centred hinge h(t) = max(t - knot, 0) - mean h, knot the arm's quantile q of t;
 * the slope change gamma is shrunk toward the centre cg under a N(cg,
 * HINGE_PRIOR_SD^2) prior with its HC0 variance and kept >= -beta.  Stored on the
 * calibrated scale u = alpha + beta t: rank(u) = u + (gamma / beta) max(u - (alpha +
 * beta knot), 0) - gamma mean h.  A flat line (beta 0) ranks nothing: no hinge.
 * 'srt' (N) is scratch.  Returns gamma (0 without a hinge). */
static double fit_hinge(sg_uplift *m, int s, int a, double q, double alpha, double beta,
                        double cg, float *srt)
{
    int A = m->A;
    int64_t N = m->N;
    double *hg = m->hinge[s][a];
    hg[0] = hg[1] = hg[2] = 0;
    if (!(q > 0 && q < 1) || N < 2 || !(beta > 0) || !srt) return 0;
    for (int64_t i = 0; i < N; i++) srt[i] = m->tau[s][i * A + a];
    qsort(srt, (size_t)N, sizeof *srt, cmp_float_asc);
    double knot = (double)srt[(int64_t)(q * (double)(N - 1))];
    double sh = 0, sr = 0;
    for (int64_t i = 0; i < N; i++) {
        double t = (double)m->tau[s][i * A + a];
        sh += t > knot ? t - knot : 0;
        sr += dr_pseudo(m, s, a, i) - alpha - beta * t;
    }
    double mh = sh / (double)N, mr = sr / (double)N, shh = 0, shr = 0, vg = 0;
    for (int64_t i = 0; i < N; i++) {
        double t = (double)m->tau[s][i * A + a];
        double h = (t > knot ? t - knot : 0) - mh, r = dr_pseudo(m, s, a, i) - alpha - beta * t - mr;
        shh += h * h;
        shr += h * r;
    }
    double g = shh > 0 ? shr / shh : 0;
    for (int64_t i = 0; shh > 0 && i < N; i++) {
        double t = (double)m->tau[s][i * A + a];
        double h = (t > knot ? t - knot : 0) - mh;
        double e = dr_pseudo(m, s, a, i) - alpha - beta * t - mr - g * h;
        vg += h * h * e * e;
    }
    vg = shh > 0 ? vg / (shh * shh) : 0;
    const double sd = HINGE_PRIOR_SD;
    double gamma = vg > 0 ? (g / vg + cg / (sd * sd)) / (1 / vg + 1 / (sd * sd)) : cg;
    if (beta + gamma < 0) gamma = -beta;
    hg[0] = gamma / beta;
    hg[1] = alpha + beta * knot;
    hg[2] = gamma * mh;
    SG_LOG(SG_LOG_INFO, "uplift", "arm %s (%s): rank hinge at %.4g (calibrated %.4g), slope "
           "change %.4g (least squares %.4g, se %.3g, prior centre %.4g)", m->labels[a],
           s == SG_UPLIFT_CONV ? "conversions" : "value", knot, hg[1], gamma, g, sqrt(vg), cg);
    return gamma;
}

double upl_rank(const sg_uplift *m, int target, int a, double u)
{
    const double *hg = m->hinge[store_of(m, target)][a];
    return a > 0 ? u + hg[0] * (u > hg[1] ? u - hg[1] : 0) - hg[2] : u;
}

int sg_uplift_rank(const sg_uplift *m, int target, const double *eff, int64_t n, double *score,
                   sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < m->A; a++)
            score[i * m->A + a] = a ? upl_rank(m, target, a, eff[i * m->A + a]) : 0.0;
    return SG_OK;
}

/* Per-arm linear calibration of the OOF effects against the DR pseudo-outcomes.
 * The least-squares slope b of phi on tau has a heteroskedasticity-robust
 * (HC0) variance V; it is shrunk toward a centre c as the posterior mean under
 * a N(c, CAL_PRIOR_SD^2) prior, beta = (b / V + c / s0^2) / (1 / V + 1 / s0^2),
 * then clipped to [0, CAL_MAX_SLOPE]; the intercept keeps the arm's mean effect
 * at the mean pseudo-outcome (the AIPW estimate).  c is 1 (the model's own
 * scale), or for a hurdle's value with prior SG_UPLIFT_CAL_CONV the arm's
 * conversion slope, calibrated first (uplift.h says why).  A big log moves the
 * slope to what it shows; a small, noisy one leaves it near c.  The OOF effects
 * are replaced by calibrated ones.  With 0 < hinge_q < 1 each arm also gets its
 * rank hinge (fit_hinge), which changes no effect, only a plan's ranking. */
int upl_calibrate(sg_uplift *m, int prior, double hinge_q, sg_error *err)
{
    int A = m->A;
    int64_t N = m->N;
    const double s0 = CAL_PRIOR_SD;
    double graw[2][SG_UPLIFT_MAX_ARMS] = {{0}};
    float *srt = hinge_q > 0 ? sg_malloc_array((size_t)(N ? N : 1), sizeof *srt) : NULL;
    if (hinge_q > 0 && !srt)
        return sg_error_set(err, SG_ENOMEM, "uplift: out of memory for the rank hinges of %lld "
                            "rows", (long long)N);
    /* conversions (store 1 of a hurdle) before the value (store 0) */
    for (int s = m->n_store - 1; s >= 0; s--)
        for (int a = 1; a < A; a++) {
            double sx = 0, sy = 0, sxx = 0, sxy = 0, v = 0;
            for (int64_t i = 0; i < N; i++) {
                sx += (double)m->tau[s][i * A + a];
                sy += dr_pseudo(m, s, a, i);
            }
            double mx = sx / (double)N, my = sy / (double)N;
            for (int64_t i = 0; i < N; i++) {
                double x = (double)m->tau[s][i * A + a] - mx, y = dr_pseudo(m, s, a, i) - my;
                sxx += x * x;
                sxy += x * y;
            }
            double b = sxx > 0 ? sxy / sxx : 1.0;
            for (int64_t i = 0; sxx > 0 && i < N; i++) {
                double x = (double)m->tau[s][i * A + a] - mx;
                double e = dr_pseudo(m, s, a, i) - my - b * x;
                v += x * x * e * e;
            }
            v = sxx > 0 ? v / (sxx * sxx) : 0;
            double c = 1.0;
            if (prior == SG_UPLIFT_CAL_CONV && m->n_store == 2 && s == SG_UPLIFT_VALUE)
                c = m->cal[SG_UPLIFT_CONV][a][1];
            double beta = v > 0 ? (b / v + c / (s0 * s0)) / (1 / v + 1 / (s0 * s0)) : c;
            beta = beta < 0 ? 0 : beta > CAL_MAX_SLOPE ? CAL_MAX_SLOPE : beta;
            double alpha = my - beta * mx;
            double cg = prior == SG_UPLIFT_CAL_CONV && m->n_store == 2 && s == SG_UPLIFT_VALUE
                            ? graw[SG_UPLIFT_CONV][a] : 0.0;
            graw[s][a] = fit_hinge(m, s, a, hinge_q, alpha, beta, cg, srt);
            m->cal[s][a][0] = alpha;
            m->cal[s][a][1] = beta;
            for (int64_t i = 0; i < N; i++)
                m->tau[s][i * A + a] = (float)(alpha + beta * (double)m->tau[s][i * A + a]);
            SG_LOG(SG_LOG_INFO, "uplift", "arm %s (%s): effect calibration %.4g + %.4g x predicted "
                   "(least-squares slope %.4g, se %.3g, prior centre %.4g)", m->labels[a],
                   s == SG_UPLIFT_CONV ? "conversions" : "value", alpha, beta, b, sqrt(v), c);
        }
    sg_free(srt);
    m->calibrated = 1;
    return SG_OK;
}

/* Mixing weight of the X-learner for arm a: g = e_a / (e_a + e_0). */
static double x_weight(const double *e_row, int a)
{
    double s = e_row[a] + e_row[0];
    return s > 0 ? e_row[a] / s : 0.5;
}

/* Stage 2 (X or DR): per target and treatment arm, effect models on the
 * imputed / pseudo outcomes; fills m->tau with their OOF predictions. */
static int train_stage2(trainer *tr, sg_error *err)
{
    sg_uplift *m = tr->m;
    const sg_uplift_opts *o = tr->o;
    int64_t N = m->N;
    int A = m->A, K = m->K, RK = m->R * m->K, D = m->D;
    int rc = SG_OK;
    double *acc = sg_malloc_array((size_t)N, sizeof *acc);
    int64_t *rows = sg_malloc_array((size_t)N, sizeof *rows);
    float *Z = sg_malloc_array((size_t)N * (size_t)D, sizeof *Z);
    float *lab = sg_malloc_array((size_t)N, sizeof *lab);
    double *phi = sg_malloc_array((size_t)N, sizeof *phi);
    double *f = sg_malloc_array((size_t)N, sizeof *f);
    double *f1 = sg_malloc_array((size_t)N, sizeof *f1);
    const uint8_t *is_cat = m->base == SG_LEARNER_GBDT ? sg_schema_is_cat(m->schema) : NULL;
    if (!acc || !rows || !Z || !lab || !phi || !f || !f1) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory training the effect models");
        goto done;
    }
    for (int s = 0; s < m->n_store; s++) {
        const float *mu = m->mu[s];
        for (int a = 1; a < A; a++) {
            /* DR pseudo-outcomes (all rows) */
            if (m->learner == SG_UPLIFT_DR)
                for (int64_t i = 0; i < N; i++) phi[i] = dr_pseudo(m, s, a, i);
            for (int j = 0; j < m->S; j++) {
                /* X: j = 0 is tau0 (control rows, mu_a - y), j = 1 is tau1 (arm rows, y - mu_0) */
                int best = -1;
                for (int k = -1; k < RK; k++) {
                    if (k < 0 && !uses_es(o)) continue;
                    int fk = k < 0 ? 0 : k;
                    int arm = m->learner == SG_UPLIFT_DR ? -1 : j == 0 ? 0 : a;
                    int64_t n = select_rows(tr, fk, arm, 0, rows);
                    gather_x(tr->X, D, rows, n, Z);
                    for (int64_t q = 0; q < n; q++) {
                        int64_t i = rows[q];
                        double v;
                        if (m->learner == SG_UPLIFT_DR) v = phi[i];
                        else if (j == 0) v = (double)mu[i * A + a] - y_of(m, s, i);
                        else v = y_of(m, s, i) - (double)mu[i * A];
                        lab[q] = (float)v;
                    }
                    char what[200];
                    snprintf(what, sizeof what, "%s effect model%s of arm %s (%s), fold %d/%d "
                             "of repeat %d", m->learner == SG_UPLIFT_DR ? "DR" : "X",
                             m->learner == SG_UPLIFT_X ? (j == 0 ? " tau0" : " tau1") : "",
                             m->labels[a], s == SG_UPLIFT_CONV ? "conversions" : "value",
                             fk % K + 1, K, fk / K + 1);
                    fit_spec fs = {o, m->base, 1, D, is_cat, k < 0 ? -1 : best,
                                   o->seed + 7919u * (uint64_t)(1 + (s * A + a) * m->S + j)
                                       + (uint64_t)fk, what, 0, 0.0, 0};
                    upl_unit tmp, *u = k < 0 ? &tmp : s2_unit(m, s, a, k, j);
                    rc = fit_unit(u, &fs, Z, lab, n, 0, k < 0 ? &best : NULL, err);
                    if (rc) goto done;
                    if (k < 0) unit_deinit(&tmp);
                    progress(tr, "uplift: effect models");
                }
            }
            /* OOF effects: the mean over repeats */
            memset(acc, 0, (size_t)N * sizeof *acc);
            for (int k = 0; k < RK; k++) {
                int64_t n = held_out_rows(tr, k, rows);
                gather_x(tr->X, D, rows, n, Z);
                if ((rc = unit_predict(s2_unit(m, s, a, k, 0), Z, n, f, err))) goto done;
                if (m->S == 2 && (rc = unit_predict(s2_unit(m, s, a, k, 1), Z, n, f1, err)))
                    goto done;
                for (int64_t q = 0; q < n; q++) {
                    int64_t i = rows[q];
                    double v = f[q];
                    if (m->S == 2) {
                        double gw = x_weight(tr->e + i * A, a);
                        v = gw * f[q] + (1 - gw) * f1[q];
                    }
                    acc[i] += v;
                }
            }
            for (int64_t i = 0; i < N; i++) m->tau[s][i * A + a] = (float)(acc[i] / m->R);
        }
    }
done:
    sg_free(acc);
    sg_free(rows);
    sg_free(Z);
    sg_free(lab);
    sg_free(phi);
    sg_free(f);
    sg_free(f1);
    return rc;
}

/* Propensity model: one-vs-rest logistic per arm on standardised features.
 * e (N, A) receives the normalised in-sample probabilities. */
static int train_propensity(trainer *tr, const sg_table *t, const int64_t *trows,
                            const char *const *ex, double *e, sg_error *err)
{
    sg_uplift *m = tr->m;
    int64_t N = m->N;
    int A = m->A, rc;
    float *XL = NULL, *lab = NULL;
    double *f = NULL;
    if ((rc = sg_schema_fit(&m->pschema, t, trows, N, SG_ENC_LINEAR, ex, err))) return rc;
    int DL = sg_schema_n_features(m->pschema);
    XL = sg_malloc_array((size_t)N * (size_t)(DL ? DL : 1), sizeof *XL);
    lab = sg_malloc_array((size_t)N, sizeof *lab);
    f = sg_malloc_array((size_t)N, sizeof *f);
    m->pm = sg_calloc((size_t)A, sizeof *m->pm);
    if (!XL || !lab || !f || !m->pm) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory fitting the propensity model");
        goto done;
    }
    if ((rc = sg_schema_transform(m->pschema, t, trows, N, XL, NULL, err))) goto done;
    for (int a = 0; a < A; a++) {
        for (int64_t i = 0; i < N; i++) lab[i] = m->action[i] == a ? 1.0f : 0.0f;
        sg_linear_params p = tr->o->linear;
        p.kind = SG_LINEAR_LOGISTIC;
        /* a penalty growing like sqrt(N): with many features and few rows an
         * unpenalised fit separates the arms and gives extreme propensities
         * (weights 1/e), while for big logs it fades next to the N-row loss */
        p.l2 = SG_MAX(p.l2, sqrt((double)N));
        if ((rc = sg_linear_train(&m->pm[a], XL, lab, NULL, N, DL, &p, err))) {
            sg_error_prefix(err, "propensity model of arm '%s': ", m->labels[a]);
            goto done;
        }
        if ((rc = sg_linear_predict(m->pm[a], XL, N, 0, f, err))) goto done;
        for (int64_t i = 0; i < N; i++) e[i * A + a] = f[i];
    }
    for (int64_t i = 0; i < N; i++) {
        double s = 0;
        for (int a = 0; a < A; a++) s += e[i * A + a];
        for (int a = 0; a < A; a++) e[i * A + a] = s > 0 ? e[i * A + a] / s : 1.0 / A;
    }
    progress(tr, "uplift: propensity model");
done:
    sg_free(XL);
    sg_free(lab);
    sg_free(f);
    return rc;
}

/* Stratified K-fold assignment by (arm, outcome > 0). */
static void make_folds(const sg_uplift *m, const double *y, int K, uint64_t seed, int *fold,
                       int64_t *perm)
{
    int64_t N = m->N;
    sg_rng base;
    sg_rng_init(&base, seed ^ 0xF01Dull);
    for (int r = 0; r < m->R; r++, fold += N) {
        sg_rng rng;
        sg_rng_split(&base, (uint64_t)r, &rng);
        for (int64_t i = 0; i < N; i++) perm[i] = i;
        sg_rng_shuffle_i64(&rng, perm, N);
        int64_t c[2 * SG_UPLIFT_MAX_ARMS];
        for (int s = 0; s < 2 * SG_UPLIFT_MAX_ARMS; s++) c[s] = s;   /* spread stratum starts */
        for (int64_t q = 0; q < N; q++) {
            int64_t i = perm[q];
            int s = 2 * m->action[i] + (y[i] > 0);
            fold[i] = (int)(c[s]++ % K);
        }
    }
}

static const char **exclusions(const sg_uplift_opts *o)
{
    int n = 0;
    for (const char *const *p = o->ignore; p && *p; p++) n++;
    const char **ex = sg_calloc((size_t)n + 5, sizeof *ex);
    if (!ex) return NULL;
    int k = 0;
    ex[k++] = o->treatment;
    ex[k++] = o->outcome;
    if (o->propensity) ex[k++] = o->propensity;
    if (o->id) ex[k++] = o->id;
    for (int i = 0; i < n; i++) ex[k++] = o->ignore[i];
    return ex;
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s) return NULL;
    char *d = sg_strdup(s);
    if (!d) *oom = 1;
    return d;
}

static int train_one(sg_uplift **out, const sg_table *t, const sg_uplift_opts *o,
                     sg_uplift_report *rep, sg_error *err)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (o->learner != SG_UPLIFT_T && o->learner != SG_UPLIFT_X && o->learner != SG_UPLIFT_DR)
        return sg_error_set(err, SG_EINVAL, "uplift: unknown learner %d", o->learner);
    if (o->base != SG_LEARNER_GBDT && o->base != SG_LEARNER_LINEAR)
        return sg_error_set(err, SG_EINVAL, "uplift: unknown base learner %d", o->base);
    if (o->cv_folds < 2 || o->cv_folds > 32)
        return sg_error_set(err, SG_EINVAL, "uplift: --cv must be between 2 and 32 (got %d)",
                            o->cv_folds);
    if (o->repeats < 1 || o->repeats > 16)
        return sg_error_set(err, SG_EINVAL, "uplift: --repeats must be between 1 and 16 (got %d)",
                            o->repeats);
    if (o->hurdle < SG_HURDLE_AUTO || o->hurdle > SG_HURDLE_OFF)
        return sg_error_set(err, SG_EINVAL, "uplift: bad hurdle setting %d", o->hurdle);
    if (o->cal_prior != SG_UPLIFT_CAL_CONV && o->cal_prior != SG_UPLIFT_CAL_ONE)
        return sg_error_set(err, SG_EINVAL, "uplift: bad calibration prior %d", o->cal_prior);
    if (!(o->rank_hinge >= 0 && o->rank_hinge < 1))
        return sg_error_set(err, SG_EINVAL, "uplift: rank hinge quantile %g; need 0 (none) or a "
                            "quantile in (0, 1)", o->rank_hinge);
    if (!(o->valid_frac >= 0 && o->valid_frac < 1) || !(o->prop_clip > 0 && o->prop_clip < 1) ||
        o->min_arm_rows < 1)
        return sg_error_set(err, SG_EINVAL, "uplift: need 0 <= valid_frac < 1, 0 < prop_clip < 1 "
                            "and min_arm_rows >= 1");
    if (!(o->linear_start >= 0) || !isfinite(o->linear_start))
        return sg_error_set(err, SG_EINVAL, "uplift: the linear start's penalty is %g; need a "
                            "finite number >= 0 (0: off)", o->linear_start);
    if (o->additive != SG_UPLIFT_TREES_ALL && o->additive != SG_UPLIFT_TREES_ARM &&
        o->additive != SG_UPLIFT_TREES_AUTO)
        return sg_error_set(err, SG_EINVAL, "uplift: bad tree interactions setting %d",
                            o->additive);

    sg_uplift_log g;
    sg_uplift *m = NULL;
    int *fold = NULL, rc, oom = 0;
    int64_t *perm = NULL;
    float *X = NULL;
    double *e = NULL;
    const char **ex = NULL;
    trainer tr;
    memset(&tr, 0, sizeof tr);
    rc = sg_uplift_log_read(&g, t, o->treatment, o->control, o->outcome, o->propensity, NULL, 0,
                            err);
    if (rc) return rc;
    const char *name = sg_table_name(t);
    int64_t N = g.N;
    int A = g.A, K = o->cv_folds;
    for (int a = 0; a < A; a++)
        if (g.count[a] < o->min_arm_rows) {
            rc = sg_error_set(err, SG_EINVAL, "%s: arm '%s' has only %lld row%s with an outcome; "
                              "at least %lld are needed (--min-arm-rows)", name, g.labels[a],
                              (long long)g.count[a], g.count[a] == 1 ? "" : "s",
                              (long long)o->min_arm_rows);
            goto fail;
        }
    if (N < 2 * K) {
        rc = sg_error_set(err, SG_EINVAL, "%s: %lld rows are too few for %d folds", name,
                          (long long)N, K);
        goto fail;
    }

    /* outcome kind */
    int all01 = 1, nonneg = 1;
    int64_t zeros = 0;
    for (int64_t i = 0; i < N; i++) {
        double v = g.y[i];
        if (v != 0 && v != 1) all01 = 0;
        if (v < 0) nonneg = 0;
        zeros += v == 0;
    }
    int kind;
    if (all01) kind = SG_UPLIFT_BINARY;
    else if (o->hurdle == SG_HURDLE_ON) {
        if (!nonneg) {
            rc = sg_error_set(err, SG_EINVAL, "%s: outcome '%s' has negative values; a hurdle "
                              "model needs outcomes >= 0", name, o->outcome);
            goto fail;
        }
        if (zeros == 0 || zeros == N) {
            rc = sg_error_set(err, SG_EINVAL, "%s: outcome '%s' has %s: a hurdle model needs "
                              "both zeros and positive values", name, o->outcome,
                              zeros ? "only zeros" : "no zeros");
            goto fail;
        }
        kind = SG_UPLIFT_HURDLE;
    } else if (o->hurdle == SG_HURDLE_AUTO && nonneg && zeros < N &&
               (double)zeros >= HURDLE_ZERO_SHARE * (double)N) {
        kind = SG_UPLIFT_HURDLE;
    } else {
        kind = SG_UPLIFT_NUMERIC;
    }

    if (!(m = sg_calloc(1, sizeof *m))) goto oom;
    m->A = A;
    m->K = K;
    m->R = o->repeats;
    m->learner = o->learner;
    m->base = o->base;
    m->pooled = o->pooled ? 1 : 0;
    m->kind = kind;
    m->n_store = kind == SG_UPLIFT_HURDLE ? 2 : 1;
    m->P = kind == SG_UPLIFT_HURDLE ? 2 : 1;
    m->M = m->pooled ? 1 : A;
    m->S = o->learner == SG_UPLIFT_T ? 0 : o->learner == SG_UPLIFT_DR ? 1 : 2;
    m->seed = o->seed;
    m->prop_clip = o->prop_clip;
    m->labels = g.labels;
    g.labels = NULL;
    m->treatment = dup_or_null(o->treatment, &oom);
    m->outcome = dup_or_null(o->outcome, &oom);
    m->propensity = dup_or_null(o->propensity, &oom);
    m->id = dup_or_null(o->id, &oom);
    if (oom) goto oom;
    m->N = N;
    m->action = g.action;
    g.action = NULL;
    m->row = g.row;
    g.row = NULL;
    m->prop = sg_malloc_array((size_t)N, sizeof *m->prop);
    for (int s = 0; s < m->n_store; s++) {
        m->y[s] = sg_malloc_array((size_t)N, sizeof *m->y[s]);
        m->mu[s] = sg_malloc_array((size_t)N * (size_t)A, sizeof *m->mu[s]);
        m->tau[s] = sg_malloc_array((size_t)N * (size_t)A, sizeof *m->tau[s]);
        if (!m->y[s] || !m->mu[s] || !m->tau[s]) goto oom;
        for (int64_t i = 0; i < N; i++)
            m->y[s][i] = (float)(s == SG_UPLIFT_CONV ? (g.y[i] > 0) : g.y[i]);
    }
    if (!m->prop) goto oom;

    /* features */
    if (!(ex = exclusions(o))) goto oom;
    if ((rc = sg_schema_fit(&m->schema, t, m->row, N,
                            o->base == SG_LEARNER_GBDT ? SG_ENC_TREE : SG_ENC_LINEAR, ex, err)) ||
        (rc = sg_schema_add_sums(m->schema, t, m->row, N, o->sums, ex, err)))
        goto fail;
    m->D = sg_schema_n_features(m->schema);
    X = sg_malloc_array((size_t)N * (size_t)(m->D ? m->D : 1), sizeof *X);
    fold = sg_malloc_array((size_t)N * (size_t)m->R, sizeof *fold);
    perm = sg_malloc_array((size_t)N, sizeof *perm);
    if (!X || !fold || !perm) goto oom;
    if ((rc = sg_schema_transform(m->schema, t, m->row, N, X, NULL, err))) goto fail;
    make_folds(m, g.y, K, o->seed, fold, perm);

    m->n_s1 = (int64_t)m->R * K * m->P * m->M;
    m->n_s2 = (int64_t)m->n_store * A * m->R * K * m->S;
    m->s1 = sg_calloc((size_t)m->n_s1, sizeof *m->s1);
    m->s2 = sg_calloc((size_t)(m->n_s2 ? m->n_s2 : 1), sizeof *m->s2);
    if (!m->s1 || !m->s2) goto oom;

    tr.m = m;
    tr.o = o;
    tr.X = X;
    tr.fold = fold;
    tr.y = g.y;
    int es = uses_es(o);
    int need_prop = !g.prop || o->learner == SG_UPLIFT_X;
    tr.n_steps = need_prop + m->P * m->M * (m->R * K + es) +
                 m->n_store * (A - 1) * m->S * (m->R * K + es);
    SG_LOG(SG_LOG_INFO, "uplift", "%lld rows, %d arms, %d features, outcome %s, learner %s over "
           "%s (%s), %d folds x %d repeats, seed %llu", (long long)N, A, m->D,
           kind == SG_UPLIFT_BINARY ? "binary" : kind == SG_UPLIFT_HURDLE
                                                     ? "hurdle (conversion x value)" : "numeric",
           sg_uplift_learner_name(o->learner), o->base == SG_LEARNER_GBDT ? "gbdt" : "linear",
           m->pooled ? "pooled arms" : "one model per arm", K, m->R, (unsigned long long)o->seed);
    if (o->linear_start > 0 && o->base == SG_LEARNER_GBDT && m->pooled &&
        kind != SG_UPLIFT_NUMERIC)
        SG_LOG(SG_LOG_INFO, "uplift", "the conversion model's trees start from a logistic model "
               "with arm x feature terms (L2 penalty %g)", o->linear_start);
    if (o->additive == SG_UPLIFT_TREES_ARM && o->base == SG_LEARNER_GBDT && m->pooled)
        SG_LOG(SG_LOG_INFO, "uplift", "additive trees: each splits on the arm and at most one "
               "feature");
    if (o->linear_start > 0 && !(o->base == SG_LEARNER_GBDT && m->pooled &&
                                 kind != SG_UPLIFT_NUMERIC))
        SG_LOG(SG_LOG_DEBUG, "uplift", "no linear start: it applies to the conversion part of a "
               "shared GBDT outcome model (not --per-arm, --base linear or a numeric outcome)");

    /* propensities */
    if (need_prop) {
        if (!(e = sg_malloc_array((size_t)N * (size_t)A, sizeof *e))) goto oom;
        if ((rc = train_propensity(&tr, t, m->row, ex, e, err))) goto fail;
        tr.e = e;
    }
    double pmin = 1, pmax = 0;
    for (int64_t i = 0; i < N; i++) {
        double p = g.prop ? g.prop[i] : SG_MAX(o->prop_clip, e[i * A + m->action[i]]);
        m->prop[i] = (float)p;
        pmin = SG_MIN(pmin, p);
        pmax = SG_MAX(pmax, p);
    }
    if (!g.prop)
        SG_LOG(SG_LOG_INFO, "uplift", "no propensity column: propensities estimated (one-vs-rest "
               "logistic per arm), range %.4f to %.4f", pmin, pmax);

    int trees[2] = {0, 0};
    if ((rc = train_stage1(&tr, trees, err))) goto fail;
    if (m->S && (rc = train_stage2(&tr, err))) goto fail;
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < SG_UPLIFT_MAX_ARMS; a++) m->cal[s][a][0] = 0, m->cal[s][a][1] = 1;
    if (o->calibrate && (rc = upl_calibrate(m, o->cal_prior, o->rank_hinge, err))) goto fail;
    if (o->learner != SG_UPLIFT_X) {
        /* the propensity model is needed at prediction time by X only */
        for (int a = 0; m->pm && a < A; a++) sg_linear_free(m->pm[a]);
        sg_free(m->pm);
        m->pm = NULL;
        sg_schema_free(m->pschema);
        m->pschema = NULL;
    }

    if (rep) {
        rep->n_rows = sg_table_n_rows(t);
        rep->n_used = N;
        rep->n_missing_outcome = g.n_missing_outcome;
        rep->A = A;
        rep->kind = kind;
        rep->propensity_estimated = !g.prop;
        rep->prop_min = pmin;
        rep->prop_max = pmax;
        rep->n_features = m->D;
        rep->trees[0] = trees[0];
        rep->trees[1] = trees[1];
        if (!(rep->arms = sg_calloc((size_t)A, sizeof *rep->arms))) goto oom;
        double mean0 = 0;
        for (int a = 0; a < A; a++) {
            sg_uplift_arm_info *ai = &rep->arms[a];
            snprintf(ai->label, sizeof ai->label, "%s", m->labels[a]);
            ai->n = g.count[a];
            double sy = 0, sc = 0, sp = 0;
            for (int64_t i = 0; i < N; i++) {
                if (m->action[i] != a) continue;
                sy += g.y[i];
                sc += g.y[i] > 0;
                sp += (double)m->prop[i];
            }
            ai->mean_outcome = sy / (double)ai->n;
            ai->conv_rate = sc / (double)ai->n;
            ai->mean_propensity = sp / (double)ai->n;
            if (a == 0) {
                mean0 = ai->mean_outcome;
                ai->ate_conv = ai->ate_conv_se = NAN;
                continue;
            }
            ai->diff_means = ai->mean_outcome - mean0;
            if ((rc = sg_uplift_ate(m, SG_UPLIFT_VALUE, a, NULL, &ai->ate, &ai->ate_se, err)))
                goto fail;
            if (sg_uplift_has_conv(m)) {
                if ((rc = sg_uplift_ate(m, SG_UPLIFT_CONV, a, NULL, &ai->ate_conv,
                                        &ai->ate_conv_se, err)))
                    goto fail;
            } else {
                ai->ate_conv = ai->ate_conv_se = NAN;
            }
            sg_error e2;
            if (sg_uplift_oof_metrics(m, SG_UPLIFT_VALUE, a, NULL, &ai->held_out, &e2)) {
                /* e.g. all outcomes 0 in the arm: metrics are undefined, not an error */
                memset(&ai->held_out, 0, sizeof ai->held_out);
                ai->held_out.s.qini_coef = ai->held_out.s.auuc = NAN;
                for (int q = 0; q < 3; q++) ai->held_out.at_k[q] = NAN;
            }
        }
    }
    *out = m;
    m = NULL;
    rc = SG_OK;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "out of memory training the uplift model");
fail:
done:
    sg_uplift_log_deinit(&g);
    sg_uplift_free(m);
    sg_free(fold);
    sg_free(perm);
    sg_free(X);
    sg_free(e);
    sg_free(ex);
    return rc;
}

/* ---------------------------------------------------------------- effects on the log */

/* Pairs (score, value) by score, largest first. */
static int cmp_pair_desc(const void *x, const void *y)
{
    double a = ((const double *)x)[0], b = ((const double *)y)[0];
    return (a < b) - (a > b);
}

/* The doubly robust value, per log row, of the rule the out-of-fold effects
 * make: each row's best arm by its rank score, the rows with the largest
 * positive scores first, the top fifth treated.  Each model's own cross-fitted
 * outcome predictions correct its own rule, so two models' values are both
 * unbiased for their rules and can be compared (SG_UPLIFT_TREES_AUTO). */
static int rule_value(const sg_uplift *m, double *value, sg_error *err)
{
    int A = m->A, s = store_of(m, SG_UPLIFT_VALUE);
    int64_t N = m->N;
    double *pr = sg_malloc_array((size_t)(N ? N : 1), 2 * sizeof *pr);
    if (!pr) return sg_error_set(err, SG_ENOMEM, "uplift: out of memory valuing a rule on %lld "
                                 "rows", (long long)N);
    for (int64_t i = 0; i < N; i++) {
        int best = 0;
        double bs = 0;
        for (int a = 1; a < A; a++) {
            double r = upl_rank(m, SG_UPLIFT_VALUE, a, (double)m->tau[s][i * A + a]);
            if (r > bs) bs = r, best = a;
        }
        pr[2 * i] = bs;
        pr[2 * i + 1] = best ? dr_pseudo(m, s, best, i) : 0;
    }
    qsort(pr, (size_t)N, 2 * sizeof *pr, cmp_pair_desc);
    double v = 0;
    for (int64_t k = 0; k < N / 5 && pr[2 * k] > 0; k++) v += pr[2 * k + 1];
    sg_free(pr);
    *value = N ? v / (double)N : 0;
    return SG_OK;
}

int sg_uplift_train(sg_uplift **out, const sg_table *t, const sg_uplift_opts *o,
                    sg_uplift_report *rep, sg_error *err)
{
    if (o->additive != SG_UPLIFT_TREES_AUTO || o->base != SG_LEARNER_GBDT || !o->pooled) {
        sg_uplift_opts one = *o;
        if (one.additive == SG_UPLIFT_TREES_AUTO) one.additive = SG_UPLIFT_TREES_ALL;
        int rc = train_one(out, t, &one, rep, err);
        if (rep && !rc)
            rep->trees_chosen = one.additive == SG_UPLIFT_TREES_ARM &&
                                        one.base == SG_LEARNER_GBDT && one.pooled
                                    ? SG_UPLIFT_TREES_ARM : SG_UPLIFT_TREES_ALL;
        return rc;
    }
    /* both kinds of trees, the log's doubly robust value of each one's rule decides */
    sg_uplift *m[2] = {NULL, NULL};
    sg_uplift_report r[2];
    double v[2] = {0, 0};
    int rc = SG_OK, k = 0;
    memset(r, 0, sizeof r);
    for (k = 0; k < 2; k++) {
        sg_uplift_opts one = *o;
        one.additive = k ? SG_UPLIFT_TREES_ARM : SG_UPLIFT_TREES_ALL;
        if ((rc = train_one(&m[k], t, &one, &r[k], err)) || (rc = rule_value(m[k], &v[k], err)))
            break;
    }
    /* on success the chosen model and its report; on failure the failed run's report */
    int w = rc ? k : v[1] > v[0];
    if (!rc) {
        SG_LOG(SG_LOG_INFO, "uplift", "tree interactions: %s (the log's doubly robust value of "
               "the top fifth's rule %.6g per row with additive trees, %.6g with trees of any "
               "features)", w ? "arm" : "all", v[1], v[0]);
        *out = m[w];
        m[w] = NULL;
        if (w) {   /* the additive trees rank; the other model sums their plans */
            (*out)->fc = m[0];
            m[0] = NULL;
        }
    }
    if (rep) {
        *rep = r[w];
        memset(&r[w], 0, sizeof r[w]);
        if (!rc) {
            rep->trees_chosen = w ? SG_UPLIFT_TREES_ARM : SG_UPLIFT_TREES_ALL;
            rep->rule_value[0] = v[0];
            rep->rule_value[1] = v[1];
        }
    }
    for (int j = 0; j < 2; j++) {
        sg_uplift_free(m[j]);
        sg_uplift_report_deinit(&r[j]);
    }
    return rc;
}

int sg_uplift_ate(const sg_uplift *m, int target, int arm, const uint8_t *mask, double *ate,
                  double *se, sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    if (arm < 1 || arm >= m->A)
        return sg_error_set(err, SG_EINVAL, "uplift: arm %d is not a treatment arm", arm);
    int s = store_of(m, target);
    double sum = 0, sum2 = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < m->N; i++) {
        if (mask && !mask[i]) continue;
        sum += dr_pseudo(m, s, arm, i);
        n++;
    }
    if (n < 2)
        return sg_error_set(err, SG_EINVAL, "uplift: %lld rows selected; need 2", (long long)n);
    double mean = sum / (double)n;
    for (int64_t i = 0; i < m->N; i++) {   /* second pass: a stable variance */
        if (mask && !mask[i]) continue;
        double d = dr_pseudo(m, s, arm, i) - mean;
        sum2 += d * d;
    }
    *ate = mean;
    *se = sqrt(sum2 / ((double)n - 1) / (double)n);
    return SG_OK;
}

int sg_uplift_gates(const sg_uplift *m, int target, int arm, int G, sg_uplift_group *out,
                    sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    if (arm < 1 || arm >= m->A)
        return sg_error_set(err, SG_EINVAL, "uplift: arm %d is not a treatment arm", arm);
    if (G < 1 || (int64_t)G > m->N / 2)
        return sg_error_set(err, SG_EINVAL, "uplift: %d groups of %lld log rows; need 1 to %lld",
                            G, (long long)m->N, (long long)(m->N / 2));
    int s = store_of(m, target), A = m->A;
    numkey *k = sg_malloc_array((size_t)m->N, sizeof *k);   /* by (effect, row) */
    if (!k) return sg_error_set(err, SG_ENOMEM, "out of memory grouping the log by effect");
    for (int64_t i = 0; i < m->N; i++) k[i] = (numkey){(double)m->tau[s][i * A + arm], i};
    qsort(k, (size_t)m->N, sizeof *k, numkey_cmp);
    for (int g = 0; g < G; g++) {
        int64_t lo = m->N * g / G, hi = m->N * (g + 1) / G, n = hi - lo;
        double sp = 0, sum = 0, sum2 = 0;
        for (int64_t q = lo; q < hi; q++) {
            sp += k[q].v;
            sum += dr_pseudo(m, s, arm, k[q].row);
        }
        double mean = sum / (double)n;
        for (int64_t q = lo; q < hi; q++) {   /* second pass: a stable variance */
            double d = dr_pseudo(m, s, arm, k[q].row) - mean;
            sum2 += d * d;
        }
        out[g].n = n;
        out[g].predicted = sp / (double)n;
        out[g].effect = mean;
        out[g].se = sqrt(sum2 / ((double)n - 1) / (double)n);
    }
    sg_free(k);
    return SG_OK;
}

int sg_uplift_arm_metrics_compute(const double *score, const int32_t *action, const double *y,
                                  const double *prop, int64_t N, int arm,
                                  const sg_uplift_curves *curves, sg_uplift_arm_metrics *out,
                                  sg_error *err)
{
    int64_t n = 0, nt = 0, nc = 0;
    for (int64_t i = 0; i < N; i++) n += action[i] == arm || action[i] == 0;
    double *s = sg_malloc_array((size_t)(n ? n : 1), sizeof *s);
    double *yy = sg_malloc_array((size_t)(n ? n : 1), sizeof *yy);
    double *w = prop ? sg_malloc_array((size_t)(n ? n : 1), sizeof *w) : NULL;
    int32_t *tr = sg_malloc_array((size_t)(n ? n : 1), sizeof *tr);
    int rc = SG_OK;
    if (!s || !yy || (prop && !w) || !tr) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory computing uplift metrics");
        goto done;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < N; i++) {
        if (action[i] != arm && action[i] != 0) continue;
        s[k] = score[i];
        yy[k] = y[i];
        tr[k] = action[i] == arm;
        nt += tr[k];
        nc += !tr[k];
        if (w) w[k] = 1.0 / prop[i];
        k++;
    }
    sg_uplift_arm_metrics r;
    memset(&r, 0, sizeof r);
    if ((rc = sg_uplift_evaluate(s, tr, yy, w, n, curves, &r.s, err))) goto done;
    static const double KS[3] = {0.1, 0.2, 0.3};
    for (int q = 0; q < 3; q++)
        if ((rc = sg_uplift_at_k(s, tr, yy, w, n, KS[q], &r.at_k[q], err))) goto done;
    r.n_treated = nt;
    r.n_control = nc;
    *out = r;
done:
    sg_free(s);
    sg_free(yy);
    sg_free(w);
    sg_free(tr);
    return rc;
}

int sg_uplift_oof_metrics(const sg_uplift *m, int target, int arm, const sg_uplift_curves *curves,
                          sg_uplift_arm_metrics *out, sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    if (arm < 1 || arm >= m->A)
        return sg_error_set(err, SG_EINVAL, "uplift: arm %d is not a treatment arm", arm);
    int s = store_of(m, target);
    int64_t N = m->N;
    double *sc = sg_malloc_array((size_t)N, sizeof *sc);
    double *y = sg_malloc_array((size_t)N, sizeof *y);
    double *p = sg_malloc_array((size_t)N, sizeof *p);
    if (!sc || !y || !p) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory computing uplift metrics");
        goto done;
    }
    for (int64_t i = 0; i < N; i++) {
        sc[i] = m->tau[s][i * m->A + arm];
        y[i] = m->y[s][i];
        p[i] = m->prop[i];
    }
    rc = sg_uplift_arm_metrics_compute(sc, m->action, y, p, N, arm, curves, out, err);
done:
    sg_free(sc);
    sg_free(y);
    sg_free(p);
    return rc;
}

/* ---------------------------------------------------------------- prediction */

/* sg_uplift_predict, and with 'arm' and 'fold_sum' (R K, zeroed by the caller) each
 * fold model's sum over the rows of its (calibrated) effect of the row's arm. */
static int predict_rows(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                        int target, double *mu_out, double *eff_out, double *se_out,
                        const int32_t *arm, double *fold_sum, sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    if (!rows) n = sg_table_n_rows(t);
    int A = m->A, K = m->R * m->K, D = m->D, W = s1_width(m);
    int DL = m->pschema ? sg_schema_n_features(m->pschema) : 0;
    int64_t B = SG_MIN(n, BLOCK);
    if (B < 1) B = 1;
    float *X = sg_malloc_array((size_t)B * (size_t)(D ? D : 1), sizeof *X);
    float *Z = sg_malloc_array((size_t)B * (size_t)W, sizeof *Z);
    float *XL = DL ? sg_malloc_array((size_t)B * (size_t)DL, sizeof *XL) : NULL;
    int64_t *blk = sg_malloc_array((size_t)B, sizeof *blk);
    double *f = sg_malloc_array((size_t)B, sizeof *f);
    double *f1 = sg_malloc_array((size_t)B, sizeof *f1);
    double *raw = sg_malloc_array((size_t)m->P * (size_t)B * (size_t)A, sizeof *raw);
    double *muk = sg_malloc_array((size_t)K * (size_t)B * (size_t)A, sizeof *muk);  /* (K,B,A) */
    double *tauk = sg_malloc_array((size_t)K * (size_t)B * (size_t)A, sizeof *tauk);
    double *e = m->pm ? sg_malloc_array((size_t)B * (size_t)A, sizeof *e) : NULL;
    if (!X || !Z || (DL && !XL) || !blk || !f || !f1 || !raw || !muk || !tauk || (m->pm && !e)) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory predicting effects");
        goto done;
    }
    int64_t unseen_total = 0;
    for (int64_t s0 = 0; s0 < n; s0 += B) {
        int64_t nb = SG_MIN(B, n - s0), unseen = 0;
        for (int64_t q = 0; q < nb; q++) blk[q] = rows ? rows[s0 + q] : s0 + q;
        if ((rc = sg_schema_transform(m->schema, t, blk, nb, X, &unseen, err))) goto done;
        unseen_total += unseen;
        if (m->pm) {
            if ((rc = sg_schema_transform(m->pschema, t, blk, nb, XL, NULL, err))) goto done;
            for (int a = 0; a < A; a++) {
                if ((rc = sg_linear_predict(m->pm[a], XL, nb, 0, f, err))) goto done;
                for (int64_t q = 0; q < nb; q++) e[q * A + a] = f[q];
            }
            for (int64_t q = 0; q < nb; q++) {
                double sm = 0;
                for (int a = 0; a < A; a++) sm += e[q * A + a];
                for (int a = 0; a < A; a++) e[q * A + a] = sm > 0 ? e[q * A + a] / sm : 1.0 / A;
            }
        }
        for (int k = 0; k < K; k++) {
            double *mk = muk + (int64_t)k * nb * A, *tk = tauk + (int64_t)k * nb * A;
            if ((rc = s1_predict_fold(m, k, X, nb, Z, f, raw, err))) goto done;
            mu_from_raw(m, target, raw, nb, mk);
            for (int64_t q = 0; q < nb; q++)
                for (int a = 0; a < A; a++) tk[q * A + a] = mk[q * A + a] - mk[q * A];
            if (!m->S) continue;
            int s = store_of(m, target);
            for (int a = 1; a < A; a++) {
                if ((rc = unit_predict(s2_unit(m, s, a, k, 0), X, nb, f, err))) goto done;
                if (m->S == 2 && (rc = unit_predict(s2_unit(m, s, a, k, 1), X, nb, f1, err)))
                    goto done;
                for (int64_t q = 0; q < nb; q++) {
                    double v = f[q];
                    if (m->S == 2) {
                        double gw = x_weight(e + q * A, a);
                        v = gw * f[q] + (1 - gw) * f1[q];
                    }
                    tk[q * A + a] = v;
                }
            }
        }
        if (m->calibrated) {
            int s = store_of(m, target);
            for (int k = 0; k < K; k++)
                for (int64_t q = 0; q < nb; q++)
                    for (int a = 1; a < A; a++) {
                        double *v = tauk + ((int64_t)k * nb + q) * A + a;
                        *v = m->cal[s][a][0] + m->cal[s][a][1] * *v;
                    }
        }
        if (fold_sum)
            for (int k = 0; k < K; k++)
                for (int64_t q = 0; q < nb; q++) {
                    int a = arm[s0 + q];
                    if (a > 0) fold_sum[k] += tauk[((int64_t)k * nb + q) * A + a];
                }
        /* mean over the fold models; the jackknife variance of each repeat's K
         * fold models, averaged over the repeats */
        int KF = m->K;
        for (int64_t q = 0; q < nb; q++) {
            int64_t o = (s0 + q) * A;
            double mu0 = 0;
            for (int k = 0; k < K; k++) mu0 += muk[((int64_t)k * nb + q) * A];
            mu0 /= K;
            for (int a = 0; a < A; a++) {
                double sm = 0, smu = 0, ss = 0;
                for (int k = 0; k < K; k++) {
                    sm += tauk[((int64_t)k * nb + q) * A + a];
                    smu += muk[((int64_t)k * nb + q) * A + a];
                }
                for (int r = 0; r < m->R; r++) {
                    double mr = 0;
                    for (int k = r * KF; k < (r + 1) * KF; k++)
                        mr += tauk[((int64_t)k * nb + q) * A + a];
                    mr /= KF;
                    for (int k = r * KF; k < (r + 1) * KF; k++) {
                        double d = tauk[((int64_t)k * nb + q) * A + a] - mr;
                        ss += d * d;
                    }
                }
                ss /= m->R;
                double mean = sm / K;
                if (a == 0) mean = 0, ss = 0;
                if (!isfinite(mean) || !isfinite(ss)) {
                    rc = sg_error_set(err, SG_ENUMERIC, "uplift: row %lld: a prediction is not "
                                      "finite", (long long)(s0 + q));
                    goto done;
                }
                if (eff_out) eff_out[o + a] = mean;
                if (se_out) se_out[o + a] = sqrt((double)(KF - 1) / KF * ss);
                if (mu_out) mu_out[o + a] = m->S || m->calibrated ? mu0 + mean : smu / K;
            }
        }
    }
    if (unseen_total)
        SG_LOG(SG_LOG_DEBUG, "uplift", "%lld category values not seen in training",
               (long long)unseen_total);
done:
    sg_free(X);
    sg_free(Z);
    sg_free(XL);
    sg_free(blk);
    sg_free(f);
    sg_free(f1);
    sg_free(raw);
    sg_free(muk);
    sg_free(tauk);
    sg_free(e);
    return rc;
}

int sg_uplift_predict(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                      int target, double *mu_out, double *eff_out, double *se_out, sg_error *err)
{
    return predict_rows(m, t, rows, n, target, mu_out, eff_out, se_out, NULL, NULL, err);
}

int sg_uplift_sum_se(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                     int target, const int32_t *arm, double *se, sg_error *err)
{
    int rc = check_target(m, target, err);
    if (rc) return rc;
    if (!rows) n = sg_table_n_rows(t);
    for (int64_t i = 0; i < n; i++)
        if (arm[i] < 0 || arm[i] >= m->A)
            return sg_error_set(err, SG_EINVAL, "uplift: row %lld: arm %d is not one of the "
                                "model's %d", (long long)i, (int)arm[i], m->A);
    int K = m->R * m->K, KF = m->K;
    double *sum = sg_calloc((size_t)K, sizeof *sum);
    if (!sum) return sg_error_set(err, SG_ENOMEM, "out of memory");
    rc = predict_rows(m, t, rows, n, target, NULL, NULL, NULL, arm, sum, err);
    if (!rc) {
        /* as a customer's se: each repeat's K fold sums about their mean */
        double ss = 0;
        for (int r = 0; r < m->R; r++) {
            double mr = 0;
            for (int k = r * KF; k < (r + 1) * KF; k++) mr += sum[k];
            mr /= KF;
            for (int k = r * KF; k < (r + 1) * KF; k++) ss += (sum[k] - mr) * (sum[k] - mr);
        }
        *se = KF > 1 ? sqrt((double)(KF - 1) / KF * ss / m->R) : 0.0;
    }
    sg_free(sum);
    return rc;
}

/* ---------------------------------------------------------------- files */

static void put_blob(sg_wbuf *w, const unsigned char *b, size_t n)
{
    sg_wbuf_u64(w, n);
    sg_wbuf_put(w, b, n);
}

static int get_blob(sg_rbuf *r, const unsigned char **b, size_t *n, const char *what, sg_error *err)
{
    uint64_t len;
    int rc = sg_rbuf_u64(r, &len, what, err);
    if (rc) return rc;
    if (len > r->len - r->pos)
        return sg_error_set(err, SG_EPARSE, "corrupt uplift model: %s length %llu exceeds the "
                            "file", what, (unsigned long long)len);
    *b = r->data + r->pos;
    *n = (size_t)len;
    r->pos += (size_t)len;
    return SG_OK;
}

static int put_unit(sg_wbuf *w, const upl_unit *u, sg_error *err)
{
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = SG_OK;
    sg_wbuf_i32(w, u->g ? (u->lin ? 3 : 1) : u->l ? 2 : 0);
    sg_wbuf_f64(w, u->smear);
    sg_wbuf_f64(w, u->lo);
    sg_wbuf_f64(w, u->hi);
    if (u->g) rc = sg_gbdt_save(u->g, &b, &n, err);
    else if (u->l) rc = sg_linear_save(u->l, &b, &n, err);
    if (rc) return rc;
    put_blob(w, b, n);
    sg_free(b);
    if (u->g && u->lin) {   /* type 3: a GBDT and its linear start */
        sg_wbuf_i32(w, u->lin_A);
        sg_wbuf_i32(w, u->lin_D);
        sg_wbuf_i32(w, u->lin_logistic);
        for (size_t k = 0; k < (size_t)u->lin_A * (size_t)(u->lin_D + 1) + (size_t)u->lin_D; k++)
            sg_wbuf_f64(w, u->lin[k]);
    }
    return SG_OK;
}

/* One unit; a linear start (type 3) only where lin_A > 0 (pooled stage-1
 * GBDTs of a format-3 file), with that many arms. */
static int get_unit(sg_rbuf *r, upl_unit *u, int want_features, int lin_A, sg_error *err)
{
    int32_t type;
    const unsigned char *b;
    size_t n;
    int rc;
    if ((rc = sg_rbuf_i32(r, &type, "model type", err))) return rc;
    if ((rc = sg_rbuf_f64(r, &u->smear, "smearing factor", err))) return rc;
    if ((rc = sg_rbuf_f64(r, &u->lo, "value range", err))) return rc;
    if ((rc = sg_rbuf_f64(r, &u->hi, "value range", err))) return rc;
    if ((rc = get_blob(r, &b, &n, "model", err))) return rc;
    if (type == 1 || (type == 3 && lin_A > 0)) rc = sg_gbdt_load(&u->g, b, n, err);
    else if (type == 2) rc = sg_linear_load(&u->l, b, n, err);
    else return sg_error_set(err, SG_EPARSE, "corrupt uplift model (model type %d)", type);
    if (rc) return rc;
    if (type == 3) {
        int32_t A, D, logistic;
        if ((rc = sg_rbuf_i32(r, &A, "linear start arms", err)) ||
            (rc = sg_rbuf_i32(r, &D, "linear start features", err)) ||
            (rc = sg_rbuf_i32(r, &logistic, "linear start kind", err)))
            return rc;
        if (A != lin_A || D + 1 != want_features || (logistic != 0 && logistic != 1))
            return sg_error_set(err, SG_EPARSE, "corrupt uplift model (a linear start of %d "
                                "arms and %d features)", A, D);
        size_t cnt = (size_t)A * (size_t)(D + 1) + (size_t)D;
        if (cnt > (r->len - r->pos) / 8)
            return sg_error_set(err, SG_EPARSE, "corrupt uplift model: the linear start exceeds "
                                "the file");
        u->lin = sg_malloc_array(cnt ? cnt : 1, sizeof *u->lin);
        if (!u->lin) return sg_error_set(err, SG_ENOMEM, "out of memory loading a linear start");
        u->lin_A = A;
        u->lin_D = D;
        u->lin_logistic = logistic;
        for (size_t k = 0; k < cnt; k++) {
            if ((rc = sg_rbuf_f64(r, &u->lin[k], "linear start", err))) return rc;
            if (!isfinite(u->lin[k]))
                return sg_error_set(err, SG_EPARSE, "corrupt uplift model (a linear start "
                                    "coefficient is %g)", u->lin[k]);
        }
    }
    int w = u->g ? sg_gbdt_n_features(u->g) : sg_linear_n_features(u->l);
    if (w != want_features || !(u->smear > 0) || !isfinite(u->smear) || !(u->lo <= u->hi))
        return sg_error_set(err, SG_EPARSE, "corrupt uplift model (a model has %d features, "
                            "expected %d)", w, want_features);
    return SG_OK;
}

static void put_f32s(sg_wbuf *w, const float *v, int64_t n)
{
    sg_wbuf_f32s(w, v, (size_t)n);
}

/* One model from the magic to its log; format 5 (a model with a forecaster,
 * sg_uplift_forecaster) is followed by the forecaster's own. */
static int put_model(sg_wbuf *wb, const sg_uplift *m, sg_error *err)
{
    unsigned char *sb = NULL;
    size_t sn = 0;
    int rc = sg_schema_save(m->schema, &sb, &sn, err);
    if (rc) goto done;
    int has_lin = 0, has_hinge = 0;
    for (int64_t k = 0; k < m->n_s1; k++) has_lin |= m->s1[k].lin != NULL;
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < m->A; a++)
            for (int j = 0; j < 3; j++) has_hinge |= m->hinge[s][a][j] != 0;
    sg_wbuf_u32(wb, UPL_MAGIC);
    /* the oldest format that holds the model: hinges from 4 on, a forecaster 5 */
    uint32_t version = m->fc ? 5u : has_hinge ? 4u : has_lin ? 3u : UPL_VERSION_MIN;
    sg_wbuf_u32(wb, version);
    sg_wbuf_i32(wb, m->A);
    sg_wbuf_i32(wb, m->K);
    sg_wbuf_i32(wb, m->R);
    sg_wbuf_i32(wb, m->learner);
    sg_wbuf_i32(wb, m->base);
    sg_wbuf_i32(wb, m->pooled);
    sg_wbuf_i32(wb, m->kind);
    sg_wbuf_u64(wb, m->seed);
    sg_wbuf_f64(wb, m->prop_clip);
    sg_wbuf_str(wb, m->treatment);
    sg_wbuf_str(wb, m->outcome);
    sg_wbuf_str(wb, m->propensity);
    sg_wbuf_str(wb, m->id);
    for (int a = 0; a < m->A; a++) sg_wbuf_str(wb, m->labels[a]);
    put_blob(wb, sb, sn);
    sg_free(sb);
    sb = NULL;
    for (int64_t k = 0; k < m->n_s1; k++)
        if ((rc = put_unit(wb, &m->s1[k], err))) goto done;
    for (int64_t k = 0; k < m->n_s2; k++) {
        int a = (int)((k / ((int64_t)m->R * m->K * m->S)) % m->A);
        if (a == 0) continue;   /* no stage-2 models for the control arm */
        if ((rc = put_unit(wb, &m->s2[k], err))) goto done;
    }
    sg_wbuf_i32(wb, m->calibrated);
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < m->A; a++) {
            sg_wbuf_f64(wb, m->cal[s][a][0]);
            sg_wbuf_f64(wb, m->cal[s][a][1]);
        }
    for (int s = 0; version >= 4 && s < 2; s++)
        for (int a = 0; a < m->A; a++)
            for (int j = 0; j < 3; j++) sg_wbuf_f64(wb, m->hinge[s][a][j]);
    sg_wbuf_i32(wb, m->pm ? 1 : 0);
    if (m->pm) {
        if ((rc = sg_schema_save(m->pschema, &sb, &sn, err))) goto done;
        put_blob(wb, sb, sn);
        for (int a = 0; a < m->A; a++) {
            upl_unit u = {NULL, m->pm[a], 1.0, -DBL_MAX, DBL_MAX, NULL, 0, 0, 0};
            if ((rc = put_unit(wb, &u, err))) goto done;
        }
    }
    sg_wbuf_i64(wb, m->N);
    sg_wbuf_put(wb, m->action, (size_t)m->N * sizeof *m->action);
    put_f32s(wb, m->prop, m->N);
    for (int s = 0; s < m->n_store; s++) {
        put_f32s(wb, m->y[s], m->N);
        put_f32s(wb, m->mu[s], m->N * m->A);
        put_f32s(wb, m->tau[s], m->N * m->A);
    }
    if (m->fc) rc = put_model(wb, m->fc, err);
done:
    sg_free(sb);
    return rc;
}

int sg_uplift_save(const sg_uplift *m, const char *path, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    int rc = put_model(&w, m, err);
    if (!rc) rc = sg_wbuf_status(&w, err);
    if (!rc) rc = sg_modelfile_write(path, SG_TASK_UPLIFT, w.data, w.len, err);
    sg_wbuf_deinit(&w);
    return rc;
}

/* One model from the magic to its log (put_model), and a format-5 model's
 * forecaster after it (only at depth 0: a forecaster has none). */
static int get_model(sg_rbuf *r, sg_uplift *m, int depth, sg_error *err)
{
    int rc;
    uint32_t magic, version;
    int32_t A, K, R, learner, base, pooled, kind;
    const unsigned char *sb;
    size_t sn;
    if ((rc = sg_rbuf_u32(r, &magic, "uplift magic", err))) goto fail;
    if (magic != UPL_MAGIC) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (bad magic)");
        goto fail;
    }
    if ((rc = sg_rbuf_u32(r, &version, "uplift version", err))) goto fail;
    if (version < UPL_VERSION_MIN || version > UPL_VERSION) {
        rc = sg_error_set(err, SG_EPARSE, "uplift model format %u, this program reads %u: "
                          "retrain the model with this version", version, UPL_VERSION);
        goto fail;
    }
    if ((rc = sg_rbuf_i32(r, &A, "arms", err)) || (rc = sg_rbuf_i32(r, &K, "folds", err)) ||
        (rc = sg_rbuf_i32(r, &R, "repeats", err)) ||
        (rc = sg_rbuf_i32(r, &learner, "learner", err)) ||
        (rc = sg_rbuf_i32(r, &base, "base", err)) ||
        (rc = sg_rbuf_i32(r, &pooled, "pooled", err)) ||
        (rc = sg_rbuf_i32(r, &kind, "kind", err)))
        goto fail;
    if (A < 2 || A > SG_UPLIFT_MAX_ARMS || K < 2 || K > 32 || R < 1 || R > 16 || learner < 0 ||
        learner > 2 ||
        (base != SG_LEARNER_GBDT && base != SG_LEARNER_LINEAR) || (pooled != 0 && pooled != 1) ||
        kind < 0 || kind > 2) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (arms %d, folds %d, learner %d, "
                          "base %d, kind %d)", A, K, learner, base, kind);
        goto fail;
    }
    m->A = A;
    m->K = K;
    m->R = R;
    m->learner = learner;
    m->base = base;
    m->pooled = pooled;
    m->kind = kind;
    m->n_store = kind == SG_UPLIFT_HURDLE ? 2 : 1;
    m->P = kind == SG_UPLIFT_HURDLE ? 2 : 1;
    m->M = pooled ? 1 : A;
    m->S = learner == SG_UPLIFT_T ? 0 : learner == SG_UPLIFT_DR ? 1 : 2;
    if ((rc = sg_rbuf_u64(r, &m->seed, "seed", err)) ||
        (rc = sg_rbuf_f64(r, &m->prop_clip, "propensity clip", err)))
        goto fail;
    if ((rc = sg_rbuf_str(r, &m->treatment, 1 << 16, "treatment name", err)) ||
        (rc = sg_rbuf_str(r, &m->outcome, 1 << 16, "outcome name", err)) ||
        (rc = sg_rbuf_str(r, &m->propensity, 1 << 16, "propensity name", err)) ||
        (rc = sg_rbuf_str(r, &m->id, 1 << 16, "id name", err)))
        goto fail;
    if (!m->treatment || !m->outcome) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (no treatment or outcome name)");
        goto fail;
    }
    if (!(m->labels = sg_calloc((size_t)A, sizeof *m->labels))) goto oom;
    for (int a = 0; a < A; a++) {
        if ((rc = sg_rbuf_str(r, &m->labels[a], 1 << 16, "arm label", err))) goto fail;
        if (!m->labels[a]) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (arm %d has no label)", a);
            goto fail;
        }
    }
    if ((rc = get_blob(r, &sb, &sn, "schema", err))) goto fail;
    if ((rc = sg_schema_load(&m->schema, sb, sn, err))) goto fail;
    m->D = sg_schema_n_features(m->schema);
    m->n_s1 = (int64_t)R * K * m->P * m->M;
    m->n_s2 = (int64_t)m->n_store * A * R * K * m->S;
    m->s1 = sg_calloc((size_t)m->n_s1, sizeof *m->s1);
    m->s2 = sg_calloc((size_t)(m->n_s2 ? m->n_s2 : 1), sizeof *m->s2);
    if (!m->s1 || !m->s2) goto oom;
    for (int64_t k = 0; k < m->n_s1; k++)
        if ((rc = get_unit(r, &m->s1[k], s1_width(m),
                           version >= 3 && base == SG_LEARNER_GBDT && pooled ? A : 0, err)))
            goto fail;
    for (int64_t k = 0; k < m->n_s2; k++) {
        int a = (int)((k / ((int64_t)R * K * m->S)) % A);
        if (a == 0) continue;
        if ((rc = get_unit(r, &m->s2[k], m->D, 0, err))) goto fail;
    }
    int32_t has_pm, cal;
    if ((rc = sg_rbuf_i32(r, &cal, "calibration flag", err))) goto fail;
    if (cal != 0 && cal != 1) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (calibration flag %d)", cal);
        goto fail;
    }
    m->calibrated = cal;
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < A; a++) {
            if ((rc = sg_rbuf_f64(r, &m->cal[s][a][0], "calibration", err)) ||
                (rc = sg_rbuf_f64(r, &m->cal[s][a][1], "calibration", err)))
                goto fail;
            if (!isfinite(m->cal[s][a][0]) || !isfinite(m->cal[s][a][1])) {
                rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (calibration of arm %d)",
                                  a);
                goto fail;
            }
        }
    for (int s = 0; version >= 4 && s < 2; s++)
        for (int a = 0; a < A; a++)
            for (int j = 0; j < 3; j++) {
                if ((rc = sg_rbuf_f64(r, &m->hinge[s][a][j], "rank hinge", err))) goto fail;
                if (!isfinite(m->hinge[s][a][j]) || (j == 0 && m->hinge[s][a][j] < -1)) {
                    rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (rank hinge of arm "
                                      "%d)", a);
                    goto fail;
                }
            }
    if ((rc = sg_rbuf_i32(r, &has_pm, "propensity flag", err))) goto fail;
    if (has_pm != (learner == SG_UPLIFT_X)) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (propensity model flag %d)",
                          has_pm);
        goto fail;
    }
    if (has_pm) {
        if ((rc = get_blob(r, &sb, &sn, "propensity schema", err))) goto fail;
        if ((rc = sg_schema_load(&m->pschema, sb, sn, err))) goto fail;
        if (!(m->pm = sg_calloc((size_t)A, sizeof *m->pm))) goto oom;
        for (int a = 0; a < A; a++) {
            upl_unit u = {NULL, NULL, 1.0, -DBL_MAX, DBL_MAX, NULL, 0, 0, 0};
            rc = get_unit(r, &u, sg_schema_n_features(m->pschema), 0, err);
            m->pm[a] = u.l;
            if (rc == SG_OK && !u.l) {
                sg_gbdt_free(u.g);
                rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (propensity model type)");
            }
            if (rc) goto fail;
        }
    }
    if ((rc = sg_rbuf_count(r, &m->N, (int64_t)(r->len / 4), "log rows", err))) goto fail;
    int64_t N = m->N;
    m->action = sg_malloc_array((size_t)(N ? N : 1), sizeof *m->action);
    m->prop = sg_malloc_array((size_t)(N ? N : 1), sizeof *m->prop);
    if (!m->action || !m->prop) goto oom;
    if ((rc = sg_rbuf_get(r, m->action, (size_t)N * sizeof *m->action, "log actions", err)) ||
        (rc = sg_rbuf_f32s(r, m->prop, (size_t)N, "log propensities", err)))
        goto fail;
    for (int s = 0; s < m->n_store; s++) {
        m->y[s] = sg_malloc_array((size_t)(N ? N : 1), sizeof *m->y[s]);
        m->mu[s] = sg_malloc_array((size_t)(N ? N : 1) * (size_t)A, sizeof *m->mu[s]);
        m->tau[s] = sg_malloc_array((size_t)(N ? N : 1) * (size_t)A, sizeof *m->tau[s]);
        if (!m->y[s] || !m->mu[s] || !m->tau[s]) goto oom;
        if ((rc = sg_rbuf_f32s(r, m->y[s], (size_t)N, "log outcomes", err)) ||
            (rc = sg_rbuf_f32s(r, m->mu[s], (size_t)(N * A), "log predictions", err)) ||
            (rc = sg_rbuf_f32s(r, m->tau[s], (size_t)(N * A), "log effects", err)))
            goto fail;
    }
    for (int64_t i = 0; i < N; i++)
        if (m->action[i] < 0 || m->action[i] >= A || !(m->prop[i] > 0 && m->prop[i] <= 1)) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (log row %lld: arm %d, "
                              "propensity %g)", (long long)i, m->action[i], (double)m->prop[i]);
            goto fail;
        }
    if (version < 5) return SG_OK;
    if (depth > 0)
        return sg_error_set(err, SG_EPARSE, "corrupt uplift model (a forecaster with its own)");
    if (!(m->fc = sg_calloc(1, sizeof *m->fc))) goto oom;
    if ((rc = get_model(r, m->fc, 1, err))) return rc;
    const sg_uplift *f = m->fc;
    int same = f->A == A && f->kind == kind;
    for (int a = 0; same && a < A; a++) same = !strcmp(f->labels[a], m->labels[a]);
    if (!same)
        return sg_error_set(err, SG_EPARSE, "corrupt uplift model (its forecaster has other arms "
                            "or another outcome kind)");
    return SG_OK;
oom:
    return sg_error_set(err, SG_ENOMEM, "out of memory loading the uplift model");
fail:
    return rc;
}

int sg_uplift_load(sg_uplift **out, const char *path, sg_error *err)
{
    unsigned char *payload = NULL;
    size_t len = 0;
    int task;
    int rc = sg_modelfile_read(path, SG_TASK_UPLIFT, &task, &payload, &len, err);
    if (rc) return rc;
    sg_uplift *m = sg_calloc(1, sizeof *m);
    if (!m) {
        rc = sg_error_set(err, SG_ENOMEM, "out of memory loading %s", path);
        goto fail;
    }
    sg_rbuf r;
    sg_rbuf_init(&r, payload, len);
    if ((rc = get_model(&r, m, 0, err))) goto fail;
    if (r.pos != r.len) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt uplift model (%zu bytes after the end)",
                          r.len - r.pos);
        goto fail;
    }
    sg_free(payload);
    *out = m;
    return SG_OK;
fail:
    sg_error_prefix(err, "%s: ", path);
    sg_free(payload);
    sg_uplift_free(m);
    return rc;
}
