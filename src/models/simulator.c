/* simulator.c -- the customer simulator of simulator.h.
 *
 * B = batch rows, Dx = encoded features, A = arms, H = hidden width, K = networks
 * per outcome (the ensemble), L_j = levels of outcome j (its modes for a continuous
 * outcome), O_j = head width of outcome j: L_j logits for a discrete outcome; L_j
 * logits, L_j offset means and L_j offset log-sds for a continuous one.
 *
 * Chain rule: outcome j has networks of its own (one per ensemble member), with
 * input [x | onehot(a) | onehot of the levels of outcomes 0..j-1] (Din_j wide),
 * two ReLU layers shared by the actions and one dense head per action (as TARNet,
 * Shalit et al. 2017: a shared representation, a head per treatment, so effects
 * can differ across customers), plus a learned table of offsets per (action,
 * combination of earlier levels), started at the smoothed log-frequencies of the
 * levels in that cell.  The loss of outcome j is the cross-entropy of
 * its level plus, for a continuous outcome, the Gaussian negative log-likelihood
 * 0.5 ((alpha - m) / s)^2 + log s of its offset in that mode (log s clamped to
 * [-5, 2]).  Member k of every outcome trains on the same bootstrap resample of
 * the training rows, for a fixed number of epochs, and keeps its last weights.
 * Stopping early on the validation likelihood (patience > 0: keep the best epoch)
 * stops the conversion networks after 2-6 epochs, where the per-row effects have
 * a third to three fifths of their true spread; a plan that picks the customers
 * with the largest effects was then forecast at about half its value
 * (bench/synth_results.md, "Customer simulator").  A plan total sums many rows,
 * so the noise of less regularised members averages out while shrinkage would
 * not, and what noise is left shows up as disagreement between members, that
 * is, in the interval.
 * Earlier outcomes enter through their levels only (not the offsets), so the
 * combinations of earlier levels are finite (at most 256 per outcome): the
 * simulation evaluates each network once per combination and row, and a draw is
 * then a table lookup and a sample.
 *
 * Simulation works in blocks of rows.  Each (draw, row) pair has its own random
 * stream (sg_rng_split), used for both the plan and the all-control world, so rows
 * run in parallel and the totals, summed in row order, do not depend on the thread
 * count.  See LICENSE for copyright. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/serial.h"
#include "nn/nn_private.h"
#include "stratagem/encode.h"
#include "stratagem/fidelity.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/nn.h"
#include "stratagem/simulator.h"
#include "synth_private.h"

#define SIM_MAGIC 0x4d534753u   /* "SGSM" little-endian */
#define SIM_VERSION 1u
#define BLOCK 4096               /* rows simulated together */
#define LS_MIN (-5.0f)
#define LS_MAX 2.0f
#define MAX_NAME 4096

#define MAX_COMBOS 256           /* combinations of earlier outcome levels */

struct sg_simulator {
    uint64_t seed;
    int K, H, A, n_out, Dx;
    char *treatment, *id_name;
    char *arms[SG_SIM_MAX_ARMS];
    synth_xf yx;                 /* the outcome columns */
    sg_schema *schema;           /* the features */
    sg_params **nets;            /* (K * n_out): member k of outcome j at k * n_out + j */
    /* derived from yx */
    int L[SG_SIM_MAX_OUTCOMES];  /* levels */
    int O[SG_SIM_MAX_OUTCOMES];  /* head widths */
    int P[SG_SIM_MAX_OUTCOMES];  /* one-hot width of the earlier outcomes' levels */
    int C[SG_SIM_MAX_OUTCOMES];  /* combinations of earlier levels */
};

void sg_sim_opts_default(sg_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_discrete = 50;
    o->max_modes = 10;
    o->n_models = 10;
    o->hidden = 16;
    o->epochs = 25;
    o->batch = 256;
    o->lr = 1e-3;
    o->weight_decay = 1e-4;
    o->valid = 0.2;
    o->patience = 0;
    o->seed = SG_DEFAULT_SEED;
}

void sg_simulator_free(sg_simulator *m)
{
    if (!m) return;
    sg_free(m->treatment);
    sg_free(m->id_name);
    for (int a = 0; a < SG_SIM_MAX_ARMS; a++) sg_free(m->arms[a]);
    synth_xf_deinit(&m->yx);
    sg_schema_free(m->schema);
    for (int k = 0; m->nets && k < m->K * m->n_out; k++) sg_params_free(m->nets[k]);
    sg_free(m->nets);
    sg_free(m);
}

int sg_simulator_n_arms(const sg_simulator *m) { return m->A; }
const char *sg_simulator_arm(const sg_simulator *m, int a)
{
    return a >= 0 && a < m->A ? m->arms[a] : NULL;
}
int sg_simulator_find_arm(const sg_simulator *m, const char *label)
{
    for (int a = 0; a < m->A; a++)
        if (!strcmp(m->arms[a], label)) return a;
    return -1;
}
int sg_simulator_n_outcomes(const sg_simulator *m) { return m->n_out; }
const char *sg_simulator_outcome(const sg_simulator *m, int k)
{
    return k >= 0 && k < m->n_out ? m->yx.cols[k].name : NULL;
}
const char *sg_simulator_id_name(const sg_simulator *m) { return m->id_name; }
const char *sg_simulator_treatment(const sg_simulator *m) { return m->treatment; }

void sg_sim_result_deinit(sg_sim_result *r)
{
    if (!r) return;
    sg_free(r->plan);
    sg_free(r->control);
    sg_free(r->row_plan);
    sg_free(r->row_control);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------------
 * network layout */

/* Level counts, head widths and earlier-level widths from the outcome columns;
 * SG_EINVAL when an outcome has too many combinations of earlier levels. */
static int derive(sg_simulator *m, sg_error *err)
{
    int p = 0, c = 1;
    for (int j = 0; j < m->n_out; j++) {
        const synth_col *col = &m->yx.cols[j];
        m->L[j] = col->n_levels;
        m->O[j] = col->kind == SG_FCOL_CONTINUOUS ? 3 * col->n_levels : col->n_levels;
        m->P[j] = p;
        m->C[j] = c;
        p += col->n_levels;
        if ((int64_t)c * col->n_levels > MAX_COMBOS && j + 1 < m->n_out)
            return sg_error_set(err, SG_EINVAL, "simulator: the outcomes before '%s' have more "
                                "than %d combinations of levels; list fewer or coarser outcomes "
                                "first", m->yx.cols[j + 1].name, MAX_COMBOS);
        c *= col->n_levels;
    }
    return SG_OK;
}

static int make_nets(sg_simulator *m, int train, sg_error *err)
{
    m->nets = sg_calloc((size_t)m->K * m->n_out, sizeof *m->nets);
    if (!m->nets) return sg_error_set(err, SG_ENOMEM, "simulator: out of memory");
    for (int j = 0; j < m->n_out; j++) {
        char n[7][32];
        int din = m->Dx + m->A + m->P[j];
        static const char *const what[7] = {"w1", "b1", "w2", "b2", "w3", "b3", "table"};
        for (int k = 0; k < 7; k++) snprintf(n[k], 32, "out%d.%s", j, what[k]);
        sg_tensor_spec specs[7] = {
            {n[0], 2, {din, m->H, 0, 0}}, {n[1], 1, {m->H, 0, 0, 0}},
            {n[2], 2, {m->H, m->H, 0, 0}}, {n[3], 1, {m->H, 0, 0, 0}},
            {n[4], 2, {m->H, m->A * m->O[j], 0, 0}}, {n[5], 1, {m->A * m->O[j], 0, 0, 0}},
            {n[6], 2, {m->A * m->C[j], m->O[j], 0, 0}},
        };
        for (int k = 0; k < m->K; k++) {
            int rc = sg_params_new(&m->nets[k * m->n_out + j], specs, 7, train, err);
            if (rc) return rc;
        }
    }
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * forward pieces */

/* outall (B, A*O) of network p on inputs xin (B, Din): every action's head; h1, h (B, H)
 * kept for backward. */
static void net_forward(sg_params *p, const float *xin, float *h1, float *h, float *outall,
                        int B, int Din, int H, int AO)
{
    sg_dense_forward(h1, xin, sg_params_tensor(p, 0), sg_params_tensor(p, 1), B, Din, H);
    for (size_t i = 0; i < (size_t)B * H; i++) h1[i] = h1[i] > 0 ? h1[i] : 0;
    sg_dense_forward(h, h1, sg_params_tensor(p, 2), sg_params_tensor(p, 3), B, H, H);
    for (size_t i = 0; i < (size_t)B * H; i++) h[i] = h[i] > 0 ? h[i] : 0;
    sg_dense_forward(outall, h, sg_params_tensor(p, 4), sg_params_tensor(p, 5), B, H, AO);
}

/* Combination index of the earlier levels lev[0..j) (mixed radix, outcome 0 most
 * significant). */
static int combo_of(const sg_simulator *m, int j, const int32_t *lev)
{
    int c = 0;
    for (int i = 0; i < j; i++) c = c * m->L[i] + lev[i];
    return c;
}

/* out (O) += the table row of (action a, combination cb): a learned offset per action
 * and combination of earlier levels (the interaction the layers find hard to learn
 * from few rows, such as the money per conversion of each action). */
static void add_table(const sg_simulator *m, int j, const sg_params *p, float *out, int a, int cb)
{
    const float *t = sg_params_tensor((sg_params *)p, 6) + ((size_t)a * m->C[j] + cb) * m->O[j];
    for (int q = 0; q < m->O[j]; q++) out[q] += t[q];
}

/* One input row (Din) = [x (Dx) | onehot(a) (A) | onehot of the earlier levels lev[0..j)]. */
static void input_row(const sg_simulator *m, int j, float *r, const float *x, int a,
                      const int32_t *lev)
{
    int Dx = m->Dx, A = m->A;
    memcpy(r, x, (size_t)Dx * sizeof *r);
    memset(r + Dx, 0, (size_t)(A + m->P[j]) * sizeof *r);
    r[Dx + a] = 1.0f;
    for (int i = 0; i < j; i++) r[Dx + A + m->P[i] + lev[i]] = 1.0f;
}

/* Negative log-likelihood of (level, alpha) under head output o (O floats) of
 * column c; adds scale * its gradient into d when d is not NULL. */
static double head_nll(const synth_col *c, const float *o, int32_t level, float alpha, float *d,
                       float scale)
{
    int L = c->n_levels;
    double mx = -INFINITY, t = 0;
    for (int l = 0; l < L; l++) mx = fmax(mx, (double)o[l]);
    for (int l = 0; l < L; l++) t += exp((double)o[l] - mx);
    double nll = mx + log(t) - (double)o[level];
    if (d)
        for (int l = 0; l < L; l++)
            d[l] += scale * ((float)(exp((double)o[l] - mx) / t) - (l == level ? 1.0f : 0.0f));
    int missing = c->has_missing && level == L - 1;
    if (c->kind == SG_FCOL_CONTINUOUS && !missing) {
        float m = o[L + level], ls = o[2 * L + level];
        float lsc = fminf(fmaxf(ls, LS_MIN), LS_MAX), s = expf(lsc);
        float e = (alpha - m) / s;
        nll += 0.5 * (double)e * (double)e + (double)lsc;
        if (d) {
            d[L + level] += scale * (-e / s);
            if (ls > LS_MIN && ls < LS_MAX) d[2 * L + level] += scale * (1.0f - e * e);
        }
    }
    return nll;
}

/* Sample (level, alpha) of column c from head output o with stream r. */
static int32_t head_sample(const synth_col *c, const float *o, sg_rng *r, float *alpha)
{
    int L = c->n_levels;
    double mx = -INFINITY, t = 0, p[1024];
    int LL = L < 1024 ? L : 1024;
    for (int l = 0; l < LL; l++) mx = fmax(mx, (double)o[l]);
    for (int l = 0; l < LL; l++) {
        p[l] = exp((double)o[l] - mx);
        t += p[l];
    }
    double u = sg_rng_uniform(r) * t, acc = 0;
    int level = LL - 1;
    for (int l = 0; l < LL; l++) {
        acc += p[l];
        if (u < acc) {
            level = l;
            break;
        }
    }
    double z = sg_rng_normal(r);   /* drawn always, so both worlds stay in step */
    *alpha = 0.0f;
    if (c->kind == SG_FCOL_CONTINUOUS && !(c->has_missing && level == L - 1)) {
        float ls = fminf(fmaxf(o[2 * L + level], LS_MIN), LS_MAX);
        float a = o[L + level] + expf(ls) * (float)z;
        *alpha = fminf(fmaxf(a, -1.0f), 1.0f);
    }
    return level;
}

/* ---------------------------------------------------------------------------
 * training */

typedef struct train_ws {
    float *xin, *h1, *h, *dh, *dh1, *out, *dout;   /* out, dout: (B, A * O) */
} train_ws;

/* Forward of network p of outcome j on rows idx[0..B) and, when 'learn', the gradient
 * of the batch mean loss into p's grads (cleared first).  Returns the summed negative
 * log-likelihood. */
static double batch_loss(const sg_simulator *m, int j, sg_params *p, train_ws *w,
                         const float *X, const int32_t *arm, const int32_t *LEV,
                         const float *ALP, const int64_t *idx, int B, int learn)
{
    int Dx = m->Dx, H = m->H, Din = Dx + m->A + m->P[j], O = m->O[j], no = m->n_out;
    int AO = m->A * O;
    const synth_col *c = &m->yx.cols[j];
    for (int b = 0; b < B; b++)
        input_row(m, j, w->xin + (size_t)b * Din, X + idx[b] * Dx, arm[idx[b]],
                  LEV + idx[b] * no);
    net_forward(p, w->xin, w->h1, w->h, w->out, B, Din, H, AO);
    /* each row uses the head of its action (its O outputs within the A * O) */
    for (int b = 0; b < B; b++)
        add_table(m, j, p, w->out + (size_t)b * AO + (size_t)arm[idx[b]] * O, arm[idx[b]],
                  combo_of(m, j, LEV + idx[b] * no));
    double nll = 0;
    if (learn) memset(w->dout, 0, (size_t)B * AO * sizeof *w->dout);
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * AO + (size_t)arm[idx[b]] * O;
        nll += head_nll(c, w->out + o, LEV[idx[b] * no + j], ALP[idx[b] * no + j],
                        learn ? w->dout + o : NULL, 1.0f / (float)B);
    }
    if (!learn) return nll;
    /* backward: head, relu, layer 2, relu, layer 1 */
    size_t n = (size_t)B * H;
    sg_params_zero_grad(p);
    float *dt = sg_params_grad(p, 6);
    for (int b = 0; b < B; b++) {
        float *d = dt + ((size_t)arm[idx[b]] * m->C[j] + combo_of(m, j, LEV + idx[b] * no)) * O;
        const float *g = w->dout + (size_t)b * AO + (size_t)arm[idx[b]] * O;
        for (int q = 0; q < O; q++) d[q] += g[q];
    }
    memset(w->dh, 0, n * sizeof *w->dh);
    sg_dense_backward(w->dh, sg_params_grad(p, 4), sg_params_grad(p, 5), w->dout, w->h,
                      sg_params_tensor(p, 4), B, H, AO);
    for (size_t i = 0; i < n; i++)
        if (!(w->h[i] > 0)) w->dh[i] = 0;
    memset(w->dh1, 0, n * sizeof *w->dh1);
    sg_dense_backward(w->dh1, sg_params_grad(p, 2), sg_params_grad(p, 3), w->dh, w->h1,
                      sg_params_tensor(p, 2), B, H, H);
    for (size_t i = 0; i < n; i++)
        if (!(w->h1[i] > 0)) w->dh1[i] = 0;
    sg_dense_backward(NULL, sg_params_grad(p, 0), sg_params_grad(p, 1), w->dh1, w->xin,
                      sg_params_tensor(p, 0), B, Din, H);
    return nll;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sg_simulator_train(sg_simulator **out, const sg_table *t, const sg_sim_opts *o,
                       sg_sim_train_report *rep, sg_error *err)
{
    sg_sim_opts def;
    if (!o) {
        sg_sim_opts_default(&def);
        o = &def;
    }
    if (!out || !t) return sg_error_set(err, SG_EINVAL, "simulator: no table or output");
    if (!o->treatment || !o->control || !o->outcomes || !o->outcomes[0])
        return sg_error_set(err, SG_EINVAL, "simulator: a treatment column, its control label and "
                            "at least one outcome column are required");
    if (o->n_models < 1 || o->n_models > 64 || o->hidden < 1 || o->hidden > 4096 ||
        o->epochs < 1 || o->batch < 1 || !(o->lr > 0) || !(o->weight_decay >= 0) ||
        !(o->valid > 0 && o->valid < 0.9) || o->patience < 0 || o->max_modes < 1 ||
        o->max_modes > 64)
        return sg_error_set(err, SG_EINVAL, "simulator: bad options (models 1..64, hidden "
                            "1..4096, epochs >= 1, validation share in (0, 0.9))");
    int n_out = 0, tj = sg_table_find(t, o->treatment), oj[SG_SIM_MAX_OUTCOMES];
    if (tj < 0)
        return sg_error_set(err, SG_EINVAL, "simulator: no treatment column '%s' in %s",
                            o->treatment, sg_table_name(t));
    for (const char *const *p = o->outcomes; *p; p++) {
        if (n_out == SG_SIM_MAX_OUTCOMES)
            return sg_error_set(err, SG_EINVAL, "simulator: at most %d outcome columns",
                                SG_SIM_MAX_OUTCOMES);
        oj[n_out] = sg_table_find(t, *p);
        if (oj[n_out] < 0)
            return sg_error_set(err, SG_EINVAL, "simulator: no outcome column '%s' in %s", *p,
                                sg_table_name(t));
        int ty = sg_table_col_type(t, oj[n_out]);
        if (ty != SG_COL_NUMBER && ty != SG_COL_CATEGORY)
            return sg_error_set(err, SG_EINVAL, "simulator: outcome '%s' must be a number or a "
                                "category column", *p);
        n_out++;
    }
    const char *named[3] = {o->id, o->propensity, NULL};
    for (int k = 0; k < 2; k++)
        if (named[k] && sg_table_find(t, named[k]) < 0)
            return sg_error_set(err, SG_EINVAL, "simulator: no column '%s' in %s", named[k],
                                sg_table_name(t));
    for (const char *const *p = o->ignore; p && *p; p++)
        if (sg_table_find(t, *p) < 0)
            return sg_error_set(err, SG_EINVAL, "simulator: no column '%s' (ignored) in %s", *p,
                                sg_table_name(t));
    int64_t N = sg_table_n_rows(t);
    int rc = SG_OK;
    sg_simulator *m = sg_calloc(1, sizeof *m);
    int32_t *arm = NULL, *LEV = NULL;
    int64_t *used = NULL, *boot = NULL;
    float *Y = NULL, *X = NULL, *ALP = NULL, *best = NULL;
    const char **excl = NULL;
    train_ws w;
    memset(&w, 0, sizeof w);
    if (!m) goto oom;
    m->K = o->n_models;
    m->H = o->hidden;
    m->n_out = n_out;
    m->seed = o->seed;
    if (!(m->treatment = sg_strdup(o->treatment)) || (o->id && !(m->id_name = sg_strdup(o->id))))
        goto oom;

    /* arms: control first, then the other labels sorted; rows with everything present */
    if (!(arm = sg_malloc_array((size_t)(N > 0 ? N : 1), sizeof *arm)) ||
        !(used = sg_malloc_array((size_t)(N > 0 ? N : 1), sizeof *used)))
        goto oom;
    char cell[512];
    int A = 0;
    char *labels[SG_SIM_MAX_ARMS + 1];
    for (int64_t i = 0; i < N; i++) {
        sg_table_cell(t, i, tj, cell, sizeof cell);
        arm[i] = -1;
        if (!*cell) continue;
        int a = 0;
        while (a < A && strcmp(labels[a], cell)) a++;
        if (a == A) {
            if (A == SG_SIM_MAX_ARMS) {
                rc = sg_error_set(err, SG_EINVAL, "simulator: '%s' has more than %d actions",
                                  o->treatment, SG_SIM_MAX_ARMS);
                for (int k = 0; k < A; k++) sg_free(labels[k]);
                goto fail;
            }
            if (!(labels[A++] = sg_strdup(cell))) {
                for (int k = 0; k < A - 1; k++) sg_free(labels[k]);
                goto oom;
            }
        }
        arm[i] = a;
    }
    int ctrl = -1;
    for (int a = 0; a < A; a++)
        if (!strcmp(labels[a], o->control)) ctrl = a;
    if (ctrl < 0) {
        rc = sg_error_set(err, SG_EINVAL, "simulator: the control label '%s' never occurs in "
                          "column '%s'", o->control, o->treatment);
        for (int k = 0; k < A; k++) sg_free(labels[k]);
        goto fail;
    }
    {
        /* reorder: control, then sorted; remap the row arms */
        char *sorted[SG_SIM_MAX_ARMS];
        int ns = 0, remap[SG_SIM_MAX_ARMS];
        for (int a = 0; a < A; a++)
            if (a != ctrl) sorted[ns++] = labels[a];
        qsort(sorted, (size_t)ns, sizeof *sorted, cmp_str);
        m->arms[0] = labels[ctrl];
        for (int a = 0; a < ns; a++) m->arms[a + 1] = sorted[a];
        for (int a = 0; a < A; a++)
            for (int b = 0; b < A; b++)
                if (m->arms[b] == labels[a]) remap[a] = b;
        for (int64_t i = 0; i < N; i++)
            if (arm[i] >= 0) arm[i] = remap[arm[i]];
        m->A = A;
    }
    int64_t n_used = 0;
    for (int64_t i = 0; i < N; i++) {
        int ok = arm[i] >= 0;
        for (int j = 0; j < n_out && ok; j++) {
            int ty = sg_table_col_type(t, oj[j]);
            ok = ty == SG_COL_NUMBER ? !isnan(sg_table_num(t, oj[j])[i])
                                     : sg_table_codes(t, oj[j])[i] >= 0;
        }
        if (ok) used[n_used++] = i;
    }
    if (n_used < 50) {
        rc = sg_error_set(err, SG_EINVAL, "simulator: %s has %lld rows with a treatment and every "
                          "outcome; at least 50 are needed", sg_table_name(t), (long long)n_used);
        goto fail;
    }
    {
        int64_t cnt[SG_SIM_MAX_ARMS] = {0};
        for (int64_t i = 0; i < n_used; i++) cnt[arm[used[i]]]++;
        for (int a = 0; a < A; a++)
            if (cnt[a] < 10) {
                rc = sg_error_set(err, SG_EINVAL, "simulator: action '%s' has %lld usable rows; "
                                  "at least 10 are needed", m->arms[a], (long long)cnt[a]);
                goto fail;
            }
    }
    sg_rng master, r_split, r_fit;
    sg_rng_init(&master, o->seed);
    sg_rng_split(&master, 1, &r_split);
    sg_rng_split(&master, 2, &r_fit);
    sg_rng_shuffle_i64(&r_split, used, n_used);
    int64_t n_val = (int64_t)llround(o->valid * (double)n_used);
    if (n_val < 1) n_val = 1;
    int64_t n_tr = n_used - n_val;
    const int64_t *rows_tr = used + n_val, *rows_val = used;

    /* features: everything but the treatment, outcomes, id, propensity, ignored */
    int n_ign = 0;
    for (const char *const *p = o->ignore; p && *p; p++) n_ign++;
    if (!(excl = sg_calloc((size_t)(n_ign + n_out + 4), sizeof *excl))) goto oom;
    int ne = 0;
    excl[ne++] = o->treatment;
    for (int j = 0; j < n_out; j++) excl[ne++] = o->outcomes[j];
    if (o->id) excl[ne++] = o->id;
    if (o->propensity) excl[ne++] = o->propensity;
    for (int k = 0; k < n_ign; k++) excl[ne++] = o->ignore[k];
    if ((rc = sg_schema_fit(&m->schema, t, rows_tr, n_tr, SG_ENC_LINEAR, excl, err))) goto fail;
    m->Dx = sg_schema_n_features(m->schema);
    if (!(X = sg_malloc_array((size_t)n_used * (m->Dx > 0 ? m->Dx : 1), sizeof *X))) goto oom;
    /* X rows follow 'used' order: validation rows first */
    if ((rc = sg_schema_transform(m->schema, t, used, n_used, X, NULL, err))) goto fail;

    /* outcomes: fitted on the training rows, then encoded for all used rows */
    if (!(Y = sg_malloc_array((size_t)n_used * n_out, sizeof *Y))) goto oom;
    m->yx.n_cols = n_out;
    if (!(m->yx.cols = sg_calloc((size_t)n_out, sizeof *m->yx.cols))) goto oom;
    synth_fit_opts fo = {o->max_discrete, 100, o->max_modes, NULL};
    for (int j = 0; j < n_out; j++) {
        int ty = sg_table_col_type(t, oj[j]);
        int32_t nl = ty == SG_COL_CATEGORY ? sg_table_n_labels(t, oj[j]) : 0;
        for (int64_t i = 0; i < n_used; i++) {
            int64_t r = used[i];
            Y[i * n_out + j] = ty == SG_COL_CATEGORY ? (float)sg_table_codes(t, oj[j])[r]
                                                     : (float)sg_table_num(t, oj[j])[r];
        }
        const char **lab = NULL;
        if (nl > 0) {
            if (!(lab = sg_malloc_array((size_t)nl, sizeof *lab))) goto oom;
            for (int32_t k = 0; k < nl; k++) lab[k] = sg_table_label(t, oj[j], k);
        }
        rc = synth_col_fit(&m->yx.cols[j], o->outcomes[j], ty, Y + n_val * n_out, n_tr, n_out, j,
                           &fo, lab, nl, &r_fit, err);
        if (rc == SG_OK && ty == SG_COL_CATEGORY) {
            /* table codes -> levels, by label */
            synth_col *c = &m->yx.cols[j];
            for (int64_t i = 0; i < n_used; i++) {
                int32_t code = (int32_t)Y[i * n_out + j], l = -1;
                for (int k = 0; k < c->n_levels && l < 0; k++)
                    if (c->label[k] && !strcmp(c->label[k], lab[code])) l = k;
                Y[i * n_out + j] = (float)(l >= 0 ? l : c->other >= 0 ? c->other : 0);
            }
        }
        sg_free(lab);
        if (rc) goto fail;
    }
    if ((rc = synth_xf_finish(&m->yx, err))) goto fail;
    if (!(LEV = sg_malloc_array((size_t)n_used * n_out, sizeof *LEV)) ||
        !(ALP = sg_malloc_array((size_t)n_used * n_out, sizeof *ALP)))
        goto oom;
    for (int64_t i = 0; i < n_used; i++)
        for (int j = 0; j < n_out; j++)
            LEV[i * n_out + j] = synth_col_encode(&m->yx.cols[j], Y[i * n_out + j], &r_fit,
                                                  &ALP[i * n_out + j]);
    /* arms in 'used' order, reusing 'arm' as scratch would alias: copy */
    int32_t *uarm = sg_malloc_array((size_t)n_used, sizeof *uarm);
    if (!uarm) goto oom;
    for (int64_t i = 0; i < n_used; i++) uarm[i] = arm[used[i]];
    sg_free(arm);
    arm = uarm;

    /* networks: member k of every outcome on bootstrap resample k; each stops early
     * on its own validation loss */
    if ((rc = derive(m, err)) || (rc = make_nets(m, 1, err))) goto fail;
    int B = o->batch, H = m->H, maxO = 1, maxD = 1;
    for (int j = 0; j < n_out; j++) {
        maxO = SG_MAX(maxO, m->O[j]);
        maxD = SG_MAX(maxD, m->Dx + m->A + m->P[j]);
    }
    w.xin = sg_malloc_array((size_t)B * maxD, sizeof *w.xin);
    w.h1 = sg_malloc_array((size_t)B * H, sizeof *w.h1);
    w.h = sg_malloc_array((size_t)B * H, sizeof *w.h);
    w.dh = sg_malloc_array((size_t)B * H, sizeof *w.dh);
    w.dh1 = sg_malloc_array((size_t)B * H, sizeof *w.dh1);
    w.out = sg_malloc_array((size_t)B * maxO * m->A, sizeof *w.out);
    w.dout = sg_malloc_array((size_t)B * maxO * m->A, sizeof *w.dout);
    boot = sg_malloc_array((size_t)(n_tr > n_val ? n_tr : n_val), sizeof *boot);
    int64_t *vidx = sg_malloc_array((size_t)B, sizeof *vidx);
    size_t max_np = 0;
    for (int j = 0; j < n_out; j++) max_np = SG_MAX(max_np, sg_params_count(m->nets[j]));
    best = sg_malloc_array(max_np, sizeof *best);
    if (!w.xin || !w.h1 || !w.h || !w.dh || !w.dh1 || !w.out || !w.dout || !boot || !vidx ||
        !best) {
        sg_free(vidx);
        goto oom;
    }
    SG_LOG(SG_LOG_INFO, "simulator", "%lld rows (%lld skipped), %d actions, %d outcomes, %d "
           "features; %d networks per outcome, width %d, seed %llu", (long long)n_used,
           (long long)(N - n_used), A, n_out, m->Dx, m->K, H, (unsigned long long)o->seed);
    double nll_sum = 0;
    int epochs_kept[16] = {0};
    for (int k = 0; k < m->K; k++) {
        sg_rng r_boot;
        sg_rng_split(&master, 200 + (uint64_t)k, &r_boot);
        int64_t *bs = boot;
        for (int j = 0; j < n_out; j++) {
            sg_params *p = m->nets[k * n_out + j];
            size_t np = sg_params_count(p);
            sg_rng r_init, r_shuf;
            sg_rng_split(&master, 1000 + (uint64_t)(k * n_out + j), &r_init);
            sg_rng_split(&master, 5000 + (uint64_t)(k * n_out + j), &r_shuf);
            /* the same resample for every outcome of member k */
            sg_rng rb = r_boot;
            for (int64_t i = 0; i < n_tr; i++)
                bs[i] = n_val + (int64_t)sg_rng_below(&rb, (uint64_t)n_tr);
            /* PyTorch-style init: uniform in +-1/sqrt(fan_in) */
            int fan[6] = {m->Dx + m->A + m->P[j], m->Dx + m->A + m->P[j], H, H, H, H};
            for (int i = 0; i < 6; i++) {
                float bd = 1.0f / sqrtf((float)fan[i]);
                sg_init_uniform(sg_params_tensor(p, i), sg_params_size(p, i), -bd, bd, &r_init);
            }
            /* the table starts at the smoothed log-frequencies of the levels per (action,
             * earlier levels) in the resample, so the layers only learn how features move
             * them (Adam's small steps would take thousands of updates to get there) */
            {
                float *tb = sg_params_tensor(p, 6);
                int L = m->L[j], O = m->O[j], cells = m->A * m->C[j];
                memset(tb, 0, sg_params_size(p, 6) * sizeof(float));
                double *cnt = sg_calloc((size_t)cells * L, sizeof *cnt);
                if (!cnt) {
                    sg_free(vidx);
                    goto oom;
                }
                for (int64_t i = 0; i < n_tr; i++) {
                    int64_t r = bs[i];
                    int ce = arm[r] * m->C[j] + combo_of(m, j, LEV + r * n_out);
                    cnt[(size_t)ce * L + LEV[r * n_out + j]] += 1.0;
                }
                for (int ce = 0; ce < cells; ce++) {
                    double tot = 0;
                    for (int l = 0; l < L; l++) tot += cnt[(size_t)ce * L + l];
                    for (int l = 0; l < L; l++)
                        tb[(size_t)ce * O + l] =
                            (float)log((cnt[(size_t)ce * L + l] + 0.5) / (tot + 0.5 * L));
                }
                sg_free(cnt);
            }
            double best_nll = INFINITY;
            int best_e = 0, since = 0;
            for (int e = 1; e <= o->epochs; e++) {
                sg_rng_shuffle_i64(&r_shuf, bs, n_tr);
                double tr = 0;
                for (int64_t s0 = 0; s0 < n_tr; s0 += B) {
                    int bb = (int)SG_MIN((int64_t)B, n_tr - s0);
                    tr += batch_loss(m, j, p, &w, X, arm, LEV, ALP, bs + s0, bb, 1);
                    sg_params_adam(p, (float)o->lr, 0.9f, 0.999f, 1e-8f, (float)o->weight_decay);
                }
                double va = 0;
                for (int64_t s0 = 0; s0 < n_val; s0 += B) {
                    int bb = (int)SG_MIN((int64_t)B, n_val - s0);
                    for (int b = 0; b < bb; b++) vidx[b] = s0 + b;
                    va += batch_loss(m, j, p, &w, X, arm, LEV, ALP, vidx, bb, 0);
                }
                va /= (double)n_val;
                SG_LOG(SG_LOG_DEBUG, "simulator", "outcome '%s', network %d, epoch %d: training "
                       "loss %.5f, validation loss %.5f", m->yx.cols[j].name, k + 1, e,
                       tr / (double)n_tr, va);
                if (!isfinite(va) || !isfinite(tr)) {
                    sg_free(vidx);
                    rc = sg_error_set(err, SG_ENUMERIC, "simulator: outcome '%s', network %d, "
                                      "epoch %d: the loss is not finite; try a lower learning "
                                      "rate", m->yx.cols[j].name, k + 1, e);
                    goto fail;
                }
                if (o->patience == 0) {   /* no early stopping: the last epoch is kept */
                    best_nll = va;
                    best_e = e;
                } else if (va < best_nll - 1e-6) {
                    best_nll = va;
                    best_e = e;
                    since = 0;
                    memcpy(best, sg_params_data(p), np * sizeof *best);
                } else if (++since >= o->patience) {
                    break;
                }
            }
            if (o->patience > 0) memcpy(sg_params_data(p), best, np * sizeof *best);
            nll_sum += best_nll;
            if (k * n_out + j < 16) epochs_kept[k * n_out + j] = best_e;
            SG_LOG(SG_LOG_INFO, "simulator", "outcome '%s', network %d/%d: validation loss %.4f "
                   "per row at epoch %d", m->yx.cols[j].name, k + 1, m->K, best_nll, best_e);
        }
        if (o->on_progress) o->on_progress(o->ud, "network", k + 1, m->K);
    }
    sg_free(vidx);
    /* drop the training state: the saved model needs the weights only */
    {
        sg_params **keep = m->nets;
        m->nets = NULL;
        rc = make_nets(m, 0, err);
        for (int i = 0; rc == SG_OK && i < m->K * n_out; i++)
            memcpy(sg_params_data(m->nets[i]), sg_params_data(keep[i]),
                   sg_params_count(keep[i]) * sizeof(float));
        for (int i = 0; i < m->K * n_out; i++) sg_params_free(keep[i]);
        sg_free(keep);
        if (rc) goto fail;
    }
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->n_used = n_used;
        rep->n_skipped = N - n_used;
        rep->n_train = n_tr;
        rep->n_valid = n_val;
        rep->n_features = m->Dx;
        rep->n_arms = A;
        rep->n_outcomes = n_out;
        rep->valid_nll = nll_sum / m->K;
        for (int k = 0; k < 16; k++) rep->epochs[k] = epochs_kept[k];
        /* observed against simulated means on the validation rows, by logged arm */
        sg_sim_result res;
        if ((rc = sg_simulator_run(m, t, rows_val, n_val, arm, 2 * m->K, o->seed + 1, 1, &res,
                                   err)))
            goto fail;
        for (int64_t i = 0; i < n_val; i++) {
            int a = arm[i];
            rep->arm_rows[a]++;
            for (int j = 0; j < n_out; j++) {
                const synth_col *c = &m->yx.cols[j];
                double y = (double)synth_col_decode(c, LEV[i * n_out + j], ALP[i * n_out + j]);
                if (c->kind == SG_FCOL_CATEGORY) y = (double)(LEV[i * n_out + j] == 0);
                rep->obs_mean[a][j] += y;
                rep->sim_mean[a][j] += res.row_plan[i * n_out + j];
            }
        }
        for (int a = 0; a < A; a++)
            for (int j = 0; j < n_out; j++)
                if (rep->arm_rows[a]) {
                    rep->obs_mean[a][j] /= (double)rep->arm_rows[a];
                    rep->sim_mean[a][j] /= (double)rep->arm_rows[a];
                }
        sg_sim_result_deinit(&res);
    }
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "simulator: out of memory");
fail:
    sg_simulator_free(m);
    m = NULL;
done:
    sg_free(arm);
    sg_free(used);
    sg_free(boot);
    sg_free(Y);
    sg_free(X);
    sg_free(LEV);
    sg_free(ALP);
    sg_free(best);
    sg_free(excl);
    sg_free(w.xin);
    sg_free(w.h1);
    sg_free(w.h);
    sg_free(w.dh);
    sg_free(w.dh1);
    sg_free(w.out);
    sg_free(w.dout);
    if (m) *out = m;
    return rc;
}

/* ---------------------------------------------------------------------------
 * simulation */

/* Frame value of an outcome as a number to add up: categories count their first
 * level (the most frequent label) as 1. */
static double outcome_value(const synth_col *c, int32_t level, float alpha)
{
    if (c->kind == SG_FCOL_CATEGORY) return level == 0 ? 1.0 : 0.0;
    float v = synth_col_decode(c, level, alpha);
    return isnan(v) ? 0.0 : (double)v;
}

int sg_simulator_run(const sg_simulator *m, const sg_table *c, const int64_t *rows, int64_t n,
                     const int32_t *arm, int n_draws, uint64_t seed, int per_row,
                     sg_sim_result *res, sg_error *err)
{
    memset(res, 0, sizeof *res);
    if (!m || !c || n < 0 || (n > 0 && !arm) || n_draws < 1)
        return sg_error_set(err, SG_EINVAL, "simulator: bad arguments (%lld rows, %d draws)",
                            (long long)n, n_draws);
    for (int64_t i = 0; i < n; i++)
        if (arm[i] < 0 || arm[i] >= m->A)
            return sg_error_set(err, SG_EINVAL, "simulator: row %lld: action %d out of range "
                                "(%d actions)", (long long)i, arm[i], m->A);
    int no = m->n_out, Dx = m->Dx, H = m->H, maxD = 1, maxO = 1;
    /* per block: outputs of every (outcome, combination, world, row): offsets into 'tab' */
    size_t toff[SG_SIM_MAX_OUTCOMES + 1];
    toff[0] = 0;
    for (int j = 0; j < no; j++) {
        maxD = SG_MAX(maxD, Dx + m->A + m->P[j]);
        maxO = SG_MAX(maxO, m->O[j]);
        toff[j + 1] = toff[j] + (size_t)m->C[j] * 2 * BLOCK * m->O[j];
    }
    res->n_draws = n_draws;
    res->n_outcomes = no;
    res->n_rows = n;
    res->plan = sg_calloc((size_t)n_draws * no, sizeof *res->plan);
    res->control = sg_calloc((size_t)n_draws * no, sizeof *res->control);
    if (per_row) {
        res->row_plan = sg_calloc((size_t)(n > 0 ? n : 1) * no, sizeof *res->row_plan);
        res->row_control = sg_calloc((size_t)(n > 0 ? n : 1) * no, sizeof *res->row_control);
    }
    size_t bn = (size_t)BLOCK;
    float *X = sg_malloc_array(bn * (Dx > 0 ? Dx : 1), sizeof *X);
    float *xin = sg_malloc_array(bn * maxD, sizeof *xin);
    float *h1 = sg_malloc_array(bn * H, sizeof *h1), *h = sg_malloc_array(bn * H, sizeof *h);
    float *tab = sg_malloc_array(toff[no], sizeof *tab);
    float *all = sg_malloc_array(bn * maxO * m->A, sizeof *all);
    double *val = sg_malloc_array(2 * bn * no, sizeof *val);
    int64_t *idx = sg_malloc_array(bn, sizeof *idx);
    int rc = SG_OK;
    if (!res->plan || !res->control || (per_row && (!res->row_plan || !res->row_control)) || !X ||
        !xin || !h1 || !h || !tab || !val || !idx || !all) {
        rc = sg_error_set(err, SG_ENOMEM, "simulator: out of memory for %lld rows", (long long)n);
        goto done;
    }
    sg_rng root;
    sg_rng_init(&root, seed);
    for (int64_t r0 = 0; r0 < n; r0 += BLOCK) {
        int bb = (int)SG_MIN((int64_t)BLOCK, n - r0);
        for (int b = 0; b < bb; b++) idx[b] = rows ? rows[r0 + b] : r0 + b;
        if ((rc = sg_schema_transform(m->schema, c, idx, bb, X, NULL, err))) goto done;
        for (int k = 0; k < m->K; k++) {
            /* every network once per combination of earlier levels, in both worlds */
            for (int j = 0; j < no; j++) {
                int Din = Dx + m->A + m->P[j];
                sg_params *p = m->nets[k * no + j];
                for (int cb = 0; cb < m->C[j]; cb++) {
                    int32_t lev[SG_SIM_MAX_OUTCOMES];
                    for (int i = j - 1, q = cb; i >= 0; i--) {   /* mixed radix, first outcome
                                                                   most significant */
                        lev[i] = q % m->L[i];
                        q /= m->L[i];
                    }
                    for (int wld = 0; wld < 2; wld++) {
                        for (int b = 0; b < bb; b++)
                            input_row(m, j, xin + (size_t)b * Din, X + (size_t)b * Dx,
                                      wld == 0 ? arm[r0 + b] : 0, lev);
                        float *dst = tab + toff[j] + ((size_t)cb * 2 + wld) * bn * m->O[j];
                        int O = m->O[j], AO = m->A * O;
                        net_forward(p, xin, h1, h, all, bb, Din, H, AO);
                        for (int b = 0; b < bb; b++) {
                            int a = wld == 0 ? arm[r0 + b] : 0;
                            memcpy(dst + (size_t)b * O, all + (size_t)b * AO + (size_t)a * O,
                                   (size_t)O * sizeof *dst);
                            add_table(m, j, p, dst + (size_t)b * O, a, cb);
                        }
                    }
                }
            }
            for (int d = k; d < n_draws; d += m->K) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (bb >= 256)
#endif
                for (int b = 0; b < bb; b++) {
                    sg_rng rr, r_start;
                    sg_rng_split(&root, (uint64_t)d * (uint64_t)n + (uint64_t)(r0 + b), &r_start);
                    for (int wld = 0; wld < 2; wld++) {
                        rr = r_start;   /* common random numbers for both worlds */
                        int cb = 0;
                        for (int j = 0; j < no; j++) {
                            const synth_col *cj = &m->yx.cols[j];
                            const float *o = tab + toff[j] +
                                             (((size_t)cb * 2 + wld) * bn + (size_t)b) * m->O[j];
                            float alpha;
                            int32_t l = head_sample(cj, o, &rr, &alpha);
                            val[((size_t)wld * bn + (size_t)b) * no + j] =
                                outcome_value(cj, l, alpha);
                            cb = cb * m->L[j] + l;
                        }
                    }
                }
                /* totals in row order */
                for (int b = 0; b < bb; b++)
                    for (int j = 0; j < no; j++) {
                        double vp = val[(size_t)b * no + j], vc = val[(bn + (size_t)b) * no + j];
                        res->plan[(size_t)d * no + j] += vp;
                        res->control[(size_t)d * no + j] += vc;
                        if (per_row) {
                            res->row_plan[(size_t)(r0 + b) * no + j] += vp / n_draws;
                            res->row_control[(size_t)(r0 + b) * no + j] += vc / n_draws;
                        }
                    }
            }
        }
    }
done:
    sg_free(X);
    sg_free(xin);
    sg_free(h1);
    sg_free(h);
    sg_free(tab);
    sg_free(all);
    sg_free(val);
    sg_free(idx);
    if (rc) sg_sim_result_deinit(res);
    return rc;
}

/* ---------------------------------------------------------------------------
 * files */

int sg_simulator_save_mem(const sg_simulator *m, unsigned char **buf, size_t *len, sg_error *err)
{
    if (!m || !buf || !len) return sg_error_set(err, SG_EINVAL, "simulator: nothing to save");
    unsigned char *sb = NULL;
    size_t sl = 0;
    int rc = sg_schema_save(m->schema, &sb, &sl, err);
    if (rc) return rc;
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, SIM_MAGIC);
    sg_wbuf_u32(&w, SIM_VERSION);
    sg_wbuf_u64(&w, m->seed);
    sg_wbuf_i32(&w, m->K);
    sg_wbuf_i32(&w, m->H);
    sg_wbuf_i32(&w, m->A);
    sg_wbuf_str(&w, m->treatment);
    sg_wbuf_str(&w, m->id_name);
    for (int a = 0; a < m->A; a++) sg_wbuf_str(&w, m->arms[a]);
    synth_xf_write(&m->yx, &w);
    sg_wbuf_u64(&w, sl);
    sg_wbuf_put(&w, sb, sl);
    sg_free(sb);
    for (int k = 0; k < m->K * m->n_out; k++) sg_params_write(m->nets[k], &w, 0);
    if ((rc = sg_wbuf_status(&w, err))) {
        sg_wbuf_deinit(&w);
        return rc;
    }
    *buf = w.data;
    *len = w.len;
    return SG_OK;
}

int sg_simulator_load_mem(sg_simulator **out, const unsigned char *buf, size_t len, sg_error *err)
{
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    sg_simulator *m = sg_calloc(1, sizeof *m);
    if (!m) return sg_error_set(err, SG_ENOMEM, "simulator: out of memory");
    uint32_t magic, version;
    int32_t K, H, A;
    uint64_t sl;
    int rc;
    if ((rc = sg_rbuf_u32(&r, &magic, "simulator magic", err))) goto fail;
    if (magic != SIM_MAGIC) {
        rc = sg_error_set(err, SG_EPARSE, "not a simulator model (bad magic)");
        goto fail;
    }
    if ((rc = sg_rbuf_u32(&r, &version, "simulator version", err))) goto fail;
    if (version != SIM_VERSION) {
        rc = sg_error_set(err, SG_EPARSE, "simulator model format version %u; this build reads "
                          "version %u (retrain the model with this build)", version, SIM_VERSION);
        goto fail;
    }
    if ((rc = sg_rbuf_u64(&r, &m->seed, "seed", err)) ||
        (rc = sg_rbuf_i32(&r, &K, "networks", err)) ||
        (rc = sg_rbuf_i32(&r, &H, "hidden width", err)) ||
        (rc = sg_rbuf_i32(&r, &A, "actions", err)))
        goto fail;
    if (K < 1 || K > 64 || H < 1 || H > 4096 || A < 1 || A > SG_SIM_MAX_ARMS) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt simulator model: bad configuration");
        goto fail;
    }
    m->H = H;
    m->A = A;
    if ((rc = sg_rbuf_str(&r, &m->treatment, MAX_NAME, "treatment column", err)) ||
        (rc = sg_rbuf_str(&r, &m->id_name, MAX_NAME, "id column", err)))
        goto fail;
    for (int a = 0; a < A; a++) {
        if ((rc = sg_rbuf_str(&r, &m->arms[a], MAX_NAME, "action label", err))) goto fail;
        if (!m->arms[a] || !m->treatment) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt simulator model: empty label");
            goto fail;
        }
    }
    if ((rc = synth_xf_read(&m->yx, &r, err))) goto fail;
    m->n_out = m->yx.n_cols;
    if (m->n_out > SG_SIM_MAX_OUTCOMES) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt simulator model: %d outcomes", m->n_out);
        goto fail;
    }
    if ((rc = sg_rbuf_u64(&r, &sl, "schema length", err))) goto fail;
    if (sl > len - r.pos) {
        rc = sg_error_set(err, SG_EPARSE, "truncated simulator model (schema)");
        goto fail;
    }
    if ((rc = sg_schema_load(&m->schema, r.data + r.pos, (size_t)sl, err))) goto fail;
    r.pos += (size_t)sl;
    m->Dx = sg_schema_n_features(m->schema);
    m->K = K;
    if ((rc = derive(m, err)) || (rc = make_nets(m, 0, err))) goto fail;
    for (int k = 0; k < K * m->n_out; k++)
        if ((rc = sg_params_read(m->nets[k], &r, err))) goto fail;
    if (r.pos != r.len) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt simulator model: %zu bytes after the end",
                          r.len - r.pos);
        goto fail;
    }
    *out = m;
    return SG_OK;
fail:
    sg_simulator_free(m);
    return rc;
}

int sg_simulator_save(const sg_simulator *m, const char *path, sg_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = sg_simulator_save_mem(m, &buf, &len, err);
    if (rc == SG_OK) rc = sg_modelfile_write(path, SG_TASK_SIMULATE, buf, len, err);
    sg_free(buf);
    return rc;
}

int sg_simulator_load(sg_simulator **out, const char *path, sg_error *err)
{
    int task;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = sg_modelfile_read(path, SG_TASK_SIMULATE, &task, &buf, &len, err);
    if (rc) return rc;
    rc = sg_simulator_load_mem(out, buf, len, err);
    if (rc) sg_error_prefix(err, "%s: ", path);
    sg_free(buf);
    return rc;
}
