/* ease.c -- EASE (Steck 2019): closed-form item-item autoencoder.
 *
 * I = items, B = users scored at once.
 *
 * G = X^T X (I,I) is accumulated from the CSR rows (each user adds 1 for every
 * pair of her items: sum over users of n_u^2 increments, far fewer than the
 * I^2 U of a dense product on sparse data).  P = (G + lambda I)^-1 through
 * Cholesky (sg_sposinv, LAPACK potrf + potri, float: EASE's ranking does not
 * need double, and float halves the I x I memory).  The weights are B_ij =
 * -P_ij / P_jj off the diagonal and 0 on it; a user's scores are the sum of
 * the rows of B of her items.
 *
 * Memory: two I x I float matrices while fitting (G kept for the lambda grid,
 * and the one being inverted), one in the model.  'max_items' refuses larger
 * item sets with a clear message instead of paging.  See LICENSE. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "recommend_private.h"
#include "nn/nn_private.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"

/* The lambda grid tried on validation users when none is given. */
static const double LAMBDA_GRID[] = {5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
#define N_GRID ((int)(sizeof LAMBDA_GRID / sizeof LAMBDA_GRID[0]))
#define LAMBDA_DEFAULT 500.0

/* G (I,I) = X^T X from CSR rows (both triangles). */
static void gram(float *G, const int64_t *rp, const int32_t *ci, int n_users, int I)
{
    memset(G, 0, (size_t)I * (size_t)I * sizeof *G);
    for (int u = 0; u < n_users; u++) {
        for (int64_t a = rp[u]; a < rp[u + 1]; a++) {
            float *row = G + (size_t)ci[a] * I;
            for (int64_t b = rp[u]; b < rp[u + 1]; b++) row[ci[b]] += 1.0f;
        }
    }
}

/* m->ease_b from G and lambda, using 'work' (I,I).  SG_ENUMERIC when G + lambda I
 * is not positive definite (only with lambda <= 0 or non-finite input). */
static int fit_lambda(sg_recommender *m, const float *G, float *work, double lambda,
                      sg_error *err)
{
    int I = m->n_items;
    size_t II = (size_t)I * (size_t)I;
    memcpy(work, G, II * sizeof *work);
    for (int i = 0; i < I; i++) work[(size_t)i * I + i] += (float)lambda;
    int piv = sg_sposinv(I, work);
    if (piv) {
        return sg_error_set(err, SG_ENUMERIC, "ease: X^T X + %g I is not positive definite "
                            "(pivot %d)", lambda, piv);
    }
    float *Bw = m->ease_b;
    SG_PAR_FOR(II > SG_NN_PAR_WORK)
    for (int i = 0; i < I; i++) {
        const float *p = work + (size_t)i * I;
        float *b = Bw + (size_t)i * I;
        for (int j = 0; j < I; j++) b[j] = -p[j] / work[(size_t)j * I + j];
        b[i] = 0.0f;
    }
    m->lambda = lambda;
    return SG_OK;
}

int sg_ease_fit(sg_recommender *m, const sg_interactions *x, const sg_interactions *vf,
                const sg_interactions *vh, sg_rec_report *rep, sg_error *err)
{
    int I = m->n_items;
    if (I > m->opts.max_items) {
        return sg_error_set(err, SG_EINVAL, "ease: %d items need two %d x %d matrices (%.1f "
                            "GB); the limit is %d items (raise max_items, or keep only items "
                            "with more users)", I, I, I, 8.0 * (double)I * I / 1e9,
                            m->opts.max_items);
    }
    size_t II = (size_t)I * (size_t)I;
    float *G = sg_malloc_array(II, sizeof *G);
    float *work = sg_malloc_array(II, sizeof *work);
    sg_free(m->ease_b);
    m->ease_b = sg_malloc_array(II, sizeof *m->ease_b);
    int rc = SG_OK;
    if (!G || !work || !m->ease_b) {
        rc = sg_error_set(err, SG_ENOMEM, "ease: out of memory for %d x %d matrices", I, I);
        goto done;
    }
    gram(G, sg_interactions_row_ptr(x), sg_interactions_col_idx(x), sg_interactions_n_users(x),
         I);
    double lambda = m->opts.lambda;
    int have_val = vf && vh && sg_interactions_n_users(vh) > 0;
    if (!(lambda > 0.0) && have_val) {
        double best = -1.0, best_l = LAMBDA_DEFAULT;
        for (int k = 0; k < N_GRID; k++) {
            double t0 = sg_rec_now();
            if ((rc = fit_lambda(m, G, work, LAMBDA_GRID[k], err))) goto done;
            sg_rec_metrics met;
            rc = sg_rec_eval_csr(m, sg_interactions_row_ptr(vf), sg_interactions_col_idx(vf),
                                 sg_interactions_n_users(vf), sg_interactions_row_ptr(vh),
                                 sg_interactions_col_idx(vh), sg_interactions_n_users(vh), &met,
                                 err);
            if (rc) goto done;
            SG_LOG(SG_LOG_DEBUG, "recommend", "ease lambda %g: val ndcg@100 %.4f", LAMBDA_GRID[k],
                   met.ndcg100);
            if (met.ndcg100 > best) {
                best = met.ndcg100;
                best_l = LAMBDA_GRID[k];
            }
            if (m->opts.on_progress) {
                sg_rec_progress p = {"lambda", k + 1, N_GRID, NAN, 0.0, met.ndcg100,
                                     LAMBDA_GRID[k], sg_rec_now() - t0};
                m->opts.on_progress(m->opts.ud, &p);
            }
        }
        if (rep) rep->best_val_ndcg = best;
        lambda = best_l;
        if (m->lambda == lambda) goto done;   /* the last one tried is the best */
    } else if (!(lambda > 0.0)) {
        lambda = LAMBDA_DEFAULT;
    }
    rc = fit_lambda(m, G, work, lambda, err);
done:
    if (rep && rc == SG_OK) rep->lambda = m->lambda;
    sg_free(G);
    sg_free(work);
    return rc;
}

void sg_ease_score(const sg_recommender *m, const int64_t *row_ptr, const int32_t *col_idx,
                   int B, float *scores)
{
    int I = m->n_items;
    const float *Bw = m->ease_b;
    int64_t work = (row_ptr[B] - row_ptr[0] + B) * (int64_t)I;
    (void)work;
    SG_PAR_FOR(work > SG_NN_PAR_WORK)
    for (int b = 0; b < B; b++) {
        float *s = scores + (size_t)b * I;
        memset(s, 0, (size_t)I * sizeof *s);
        for (int64_t k = row_ptr[b]; k < row_ptr[b + 1]; k++) {
            const float *w = Bw + (size_t)col_idx[k] * I;
            SG_SIMD
            for (int i = 0; i < I; i++) s[i] += w[i];
        }
    }
}
