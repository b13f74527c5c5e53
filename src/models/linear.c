/* linear.c -- L2 logistic regression and ridge regression (Newton/IRLS and L-BFGS).
 *
 * N = rows, D = features, P = D + 1 parameters (the intercept first).
 *
 * The data stay as the caller's float (N,D) array.  Every pass over them
 * converts one block of rows at a time to double, centred on the weighted
 * column means and with a leading 1 for the intercept, so memory is bounded by
 * one block per thread (at most BLOCK_DOUBLES doubles) plus a few doubles per row.
 * Centring is only a reparametrisation (eta = a + (x - mu) . beta, intercept
 * = a - mu . beta; the penalty on beta is unchanged) that keeps the Hessian
 * well conditioned when features have large means.
 *
 * Newton (D up to AUTO_LBFGS_D): each step solves H d = -g by Cholesky (a
 * small ridge jitter is added, with a warning, if H is not positive definite)
 * and then makes one pass at theta + d that forms the margins, the loss, the
 * gradient and the Hessian X^T diag(w l'') X there (dgemv/dsyrk per block).
 * If that point fails the sufficient-decrease test, a line search along d
 * follows, so the penalised loss never increases; it is cheap, because the
 * margins along d are eta + t u with u the change the pass just measured and
 * the loss is convex in t, so each trial costs O(N) without touching X.  So a
 * Newton step usually costs exactly one pass over the data.  Ridge regression
 * is the same with one step, which solves its normal equations exactly.
 *
 * L-BFGS (wider data, or params->solver): two-loop recursion with 10 pairs, in
 * variables scaled by the diagonal of the Hessian bound, with the same
 * one-pass trial step and line search (weak Wolfe).
 *
 * Threads: see eval_pass.  Every sum is taken in a fixed order (fixed chunks
 * of rows, workers added in order), so the same data, OpenMP and BLAS thread
 * counts give bit-identical models.  See LICENSE for copyright. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "stratagem/linalg.h"
#include "stratagem/linear.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "io/serial.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* OMP_FOR(c): the next loop runs in parallel only when c is true.  A parallel
 * region costs microseconds, and far more when another process holds a core,
 * so small problems (tests, CoIL-sized tables) stay on one thread. */
#define SG_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define OMP_FOR(c) SG_PRAGMA(omp parallel for schedule(static) if(c))
#define OMP_SIMD SG_PRAGMA(omp simd)
#define OMP_SIMD_SUM(v) SG_PRAGMA(omp simd reduction(+ : v))
#else
#define OMP_FOR(c) (void)(c);
#define OMP_SIMD
#define OMP_SIMD_SUM(v)
#endif
#define PAR_MIN_WORK (1 << 19)   /* element operations worth a parallel region (~0.3 ms) */

#define LOG_MODULE "linear"

#define BLOCK_ROWS 32768         /* rows per converted block (fewer when D is large) */
#define BLOCK_DOUBLES (1 << 19)  /* cap on one block: 4 MiB (big blocks: BLAS syncs rarely) */
#define WORKER_ROWS 4096         /* rows per block of a worker thread: stays in L2 */
#define CHUNK 8192               /* rows per partial sum in O(N) reductions */
#define AUTO_LBFGS_D 2000        /* above this many features, auto picks L-BFGS */
#define LBFGS_M 10               /* L-BFGS memory (pairs) */
#define MAX_D (1 << 24)          /* largest width a model file may claim */

#define LINEAR_MAGIC 0x4E4C4753u /* "SGLN" little-endian */
#define LINEAR_VERSION 1u

struct sg_linear {
    int kind;
    int D;
    sg_linear_params params;
    double loss;     /* final mean penalised loss */
    int n_iter;
    double *theta;   /* (D + 1): intercept, then beta (D) */
};

/* ---------------------------------------------------------------------------
 * per-row losses: logistic l = log(1 + e^eta) - y eta, l' = sigmoid(eta) - y,
 * l'' = sigmoid (1 - sigmoid); squared l = (eta - y)^2 / 2, l' = eta - y, l'' = 1 */

static double sigmoid(double x)
{
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---------------------------------------------------------------------------
 * the fitting problem: borrowed data, owned work buffers */

typedef struct problem {
    const float *X;   /* (N,D) borrowed */
    const float *y;   /* (N) borrowed */
    const float *w;   /* (N) borrowed, NULL = 1 */
    int64_t N;
    int D, P;         /* P = D + 1 */
    int kind;
    double l2;
    double sum_w;
    int block_rows;
    int64_t n_chunks;
    double *mu;       /* (D) weighted column means */
    double *curv;     /* (P) diagonal Hessian bound per unit weight (L-BFGS scaling) */
    double *eta;      /* (N) margins at the current theta (centred parametrisation) */
    double *u;        /* (N) margins at a trial point, then their change along d */
    double *part;     /* (n_chunks) partial sums */
    double *part2;    /* (n_chunks) */
    int n_workers;    /* threads of eval_pass; 1 = blocks in order, BLAS threads inside */
    struct worker *workers; /* (n_workers) */
} problem;

/* Scratch of one eval_pass thread: its block, per-row values and partial sums. */
typedef struct worker {
    double *blk;      /* (block_rows, P) converted rows */
    double *r;        /* (block_rows) per-row w l' (divided by the row scale) */
    double *lk;       /* (block_rows) per-row w l */
    double *g;        /* (P) partial gradient sum */
    double *H;        /* (P,P) partial Hessian sum */
    double loss;      /* partial loss sum */
} worker;

static double weight(const problem *pb, int64_t i)
{
    return pb->w ? (double)pb->w[i] : 1.0;
}

/* Rows [i0, i0 + n) at theta: margins into eta_out, and their loss, gradient
 * and (when 'hess') Hessian sums added to the worker's partial sums.
 *
 * One loop converts the rows to [1, x - mu], forms the margin, loss and
 * derivatives of each row and, for the Hessian, scales the row by
 * s = sqrt(w l''); then BLAS adds X^T r to g (r = w l' / s, so the scaled rows
 * still give the gradient) and (sX)^T (sX) to H.  s is kept above 1e-150 so
 * that a saturated row (l'' = 0 in double) still counts in g. */
static void eval_block(const problem *pb, worker *wk, const double *theta, int64_t i0, int n,
                       double *eta_out, int hess)
{
    const int D = pb->D, P = pb->P, kind = pb->kind;
    const float *X = pb->X, *Y = pb->y;
    const double *mu = pb->mu;
    double *blk = wk->blk, *r = wk->r, *lk = wk->lk;
    for (int k = 0; k < n; k++) {
        const float *restrict x = X + (size_t)(i0 + k) * (size_t)D;
        double *restrict b = blk + (size_t)k * (size_t)P;
        double e = theta[0];
        b[0] = 1.0;
        OMP_SIMD_SUM(e)
        for (int j = 0; j < D; j++) {
            double v = (double)x[j] - mu[j];
            b[j + 1] = v;
            e += v * theta[j + 1];
        }
        eta_out[i0 + k] = e;
        double wi = weight(pb, i0 + k), yk = (double)Y[i0 + k], l, dl, h;
        if (kind == SG_LINEAR_LOGISTIC) {
            /* softplus, sigmoid and sigmoid' from one exp, without cancellation;
             * log(1 + z) rather than log1p: faster, and off by at most z < 1e-16
             * in absolute terms when z is tiny */
            double z = exp(-fabs(e)), q = 1.0 / (1.0 + z);
            l = (e > 0.0 ? e : 0.0) + log(1.0 + z) - yk * e;
            dl = (e >= 0.0 ? q : z * q) - yk;
            h = z * q * q;
        } else {
            dl = e - yk;
            l = 0.5 * dl * dl;
            h = 1.0;
        }
        lk[k] = wi * l;
        if (hess) {
            double s = SG_MAX(sqrt(wi * h), 1e-150);
            OMP_SIMD
            for (int j = 0; j < P; j++) b[j] *= s;
            r[k] = wi * dl / s;
        } else {
            r[k] = wi * dl;
        }
    }
    for (int k = 0; k < n; k++) wk->loss += lk[k];
    sg_dgemv(1, n, P, 1.0, blk, r, 1.0, wk->g);
    if (hess) sg_dsyrk_t(P, n, 1.0, blk, 1.0, wk->H);
}

static void worker_zero(worker *wk, int P, int hess)
{
    wk->loss = 0.0;
    memset(wk->g, 0, (size_t)P * sizeof *wk->g);
    if (hess) memset(wk->H, 0, (size_t)P * (size_t)P * sizeof *wk->H);
}

/* One pass over the data at theta (P): margins into eta_out (N), the mean
 * penalised loss into *f, its gradient into g (P) and, when H != NULL, its
 * Hessian into H (P,P).
 *
 * With one worker the blocks go in order and only BLAS may use threads, inside
 * its calls.  With several (BLAS single-threaded, enough rows) each OpenMP
 * thread takes a fixed contiguous range of blocks with its own buffers and
 * partial sums, added up afterwards in worker order.  Either way a pass has
 * at most one parallel region of ours: when other processes compete for the
 * cores, every barrier can cost a scheduler time slice (a region per block
 * made passes 20 times slower on a loaded 2-core machine). */
static void eval_pass(const problem *pb, const double *theta, double *eta_out, double *f,
                      double *g, double *H)
{
    const int P = pb->P, nw = pb->n_workers, hess = H != NULL;
    const int64_t n_blocks = (pb->N + pb->block_rows - 1) / pb->block_rows;
    double loss = 0.0;
    if (nw == 1) { /* accumulate straight into the caller's g and H */
        worker w0 = pb->workers[0];
        w0.g = g;
        w0.H = H;
        worker_zero(&w0, P, hess);
        for (int64_t i0 = 0; i0 < pb->N; i0 += pb->block_rows) {
            int n = (int)SG_MIN((int64_t)pb->block_rows, pb->N - i0);
            eval_block(pb, &w0, theta, i0, n, eta_out, hess);
        }
        loss = w0.loss;
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(nw)
#endif
        {
#ifdef _OPENMP
            int t0 = omp_get_thread_num(), nt = omp_get_num_threads();
#else
            int t0 = 0, nt = 1;
#endif
            for (int t = t0; t < nw; t += nt) { /* all workers run even with fewer threads */
                worker *wk = &pb->workers[t];
                worker_zero(wk, P, hess);
                for (int64_t bk = n_blocks * t / nw; bk < n_blocks * (t + 1) / nw; bk++) {
                    int64_t i0 = bk * pb->block_rows;
                    int n = (int)SG_MIN((int64_t)pb->block_rows, pb->N - i0);
                    eval_block(pb, wk, theta, i0, n, eta_out, hess);
                }
            }
        }
        memset(g, 0, (size_t)P * sizeof *g);
        if (hess) memset(H, 0, (size_t)P * (size_t)P * sizeof *H);
        for (int t = 0; t < nw; t++) { /* in worker order: deterministic */
            const worker *wk = &pb->workers[t];
            loss += wk->loss;
            for (int j = 0; j < P; j++) g[j] += wk->g[j];
            if (hess)
                for (size_t k = 0; k < (size_t)P * (size_t)P; k++) H[k] += wk->H[k];
        }
    }
    const double inv_w = 1.0 / pb->sum_w, l2w = pb->l2 * inv_w;
    double pen = 0.0;
    for (int j = 1; j < P; j++) pen += theta[j] * theta[j];
    *f = (loss + 0.5 * pb->l2 * pen) * inv_w;
    for (int j = 0; j < P; j++) g[j] *= inv_w;
    for (int j = 1; j < P; j++) g[j] += l2w * theta[j];
    if (hess) {
        for (size_t k = 0; k < (size_t)P * (size_t)P; k++) H[k] *= inv_w;
        for (int j = 1; j < P; j++) H[(size_t)j * P + j] += l2w;
    }
}

/* phi(t) = f(theta + t d) and phi'(t), from eta + t u; O(N), X untouched. */
static void line_eval(const problem *pb, const double *theta, const double *d, double t,
                      double *f, double *df)
{
    const int kind = pb->kind;
    const int64_t N = pb->N;
    double *part = pb->part, *part2 = pb->part2;
    const int par = N * 16 >= PAR_MIN_WORK;
    OMP_FOR(par)
    for (int64_t c = 0; c < pb->n_chunks; c++) {
        int64_t lo = c * CHUNK, hi = SG_MIN(lo + CHUNK, N);
        double s = 0.0, ds = 0.0;
        for (int64_t i = lo; i < hi; i++) {
            double e = pb->eta[i] + t * pb->u[i], yi = (double)pb->y[i], wi = weight(pb, i);
            double l, dl;
            if (kind == SG_LINEAR_LOGISTIC) {
                double z = exp(-fabs(e)), q = 1.0 / (1.0 + z);
                l = (e > 0.0 ? e : 0.0) + log(1.0 + z) - yi * e; /* as in eval_block */
                dl = (e >= 0.0 ? q : z * q) - yi;
            } else {
                dl = e - yi;
                l = 0.5 * dl * dl;
            }
            s += wi * l;
            ds += wi * dl * pb->u[i];
        }
        part[c] = s;
        part2[c] = ds;
    }
    double s = 0.0, ds = 0.0;
    for (int64_t c = 0; c < pb->n_chunks; c++) {
        s += part[c];
        ds += part2[c];
    }
    double pen = 0.0, dpen = 0.0;
    for (int j = 1; j < pb->P; j++) {
        double b = theta[j] + t * d[j];
        pen += b * b;
        dpen += b * d[j];
    }
    *f = (s + 0.5 * pb->l2 * pen) / pb->sum_w;
    *df = (ds + pb->l2 * dpen) / pb->sum_w;
}

/* Find t > 0 with sufficient decrease and a flattened slope along d (weak
 * Wolfe, c1 = 1e-4, c2 = 0.9), knowing phi(1) = f1 and phi'(1) = df1 from the
 * pass that tried the full step: if t = 1 went too far the search stays in
 * (0, 1), if it was too short it doubles.  phi is convex, so the acceptable
 * set is an interval, found with safeguarded secant steps on phi'.  Returns 0
 * and fills *t, *f_t; -1 if no decrease is possible (rounding level). */
static int line_search(const problem *pb, const double *theta, const double *d, double f0,
                       double df0, double f1, double df1, double *t_out, double *f_out)
{
    const double c1 = 1e-4, c2 = 0.9;
    if (!(df0 < 0.0)) return -1;
    double lo = 0.0, dlo = df0, hi = (double)INFINITY, dhi = (double)INFINITY, t;
    double best_t = 0.0, best_f = f0;
    if (isfinite(f1) && f1 <= f0 + c1 * df0) {
        lo = 1.0; /* t = 1 was too short */
        dlo = df1;
        best_t = 1.0;
        best_f = f1;
        t = 2.0;
    } else {
        hi = 1.0;
        if (isfinite(df1) && df1 > 0.0) dhi = df1;
        t = isfinite(dhi) ? -dlo / (dhi - dlo) : 0.5;
        if (!(t > 0.1 && t < 0.9)) t = 0.5;
    }
    for (int it = 0; it < 60 && t < 1e6; it++) {
        double f, df;
        line_eval(pb, theta, d, t, &f, &df);
        int armijo = isfinite(f) && f <= f0 + c1 * t * df0;
        if (armijo && f < best_f) {
            best_f = f;
            best_t = t;
        }
        if (armijo && df >= c2 * df0) {
            *t_out = t;
            *f_out = f;
            return 0;
        }
        if (!armijo || !isfinite(df) || df > 0.0) {
            hi = t;
            dhi = isfinite(df) && df > 0.0 ? df : (double)INFINITY;
        } else {
            lo = t;
            dlo = df;
        }
        if (isinf(hi)) {
            t *= 2.0;
        } else {
            double width = hi - lo;
            if (width < 1e-16 * hi) break;
            t = isfinite(dhi) ? lo - dlo * width / (dhi - dlo) : lo + 0.5 * width;
            if (!(t > lo + 0.1 * width && t < hi - 0.1 * width)) t = lo + 0.5 * width;
        }
    }
    /* no Wolfe point: take the best decrease seen, if any */
    if (best_t > 0.0) {
        *t_out = best_t;
        *f_out = best_f;
        return 0;
    }
    return -1;
}

/* A full step theta + d was evaluated (loss f1, slope df1 there; its margins
 * are in pb->u) and was not good enough: turn pb->u into the change of
 * margins along d, search the line for t (O(N) per trial), and move theta and
 * pb->eta there.  Returns the line search's result (-1: nothing moved). */
static int step_back(problem *pb, double *theta, const double *d, double f, double df0,
                     double f1, double df1, double *t_out, double *f_out)
{
    double *eta = pb->eta, *u = pb->u;
    const int64_t N = pb->N;
    const int par = N >= PAR_MIN_WORK;
    OMP_FOR(par)
    for (int64_t i = 0; i < N; i++) u[i] -= eta[i];
    double t;
    if (line_search(pb, theta, d, f, df0, f1, df1, &t, f_out) != 0) return -1;
    for (int j = 0; j < pb->P; j++) theta[j] += t * d[j];
    OMP_FOR(par)
    for (int64_t i = 0; i < N; i++) eta[i] += t * u[i];
    *t_out = t;
    return 0;
}

/* Whether the full step is taken: sufficient decrease (and, for L-BFGS, a
 * flattened slope), or, once the predicted decrease -df0 is at the rounding
 * level of the loss, simply no increase beyond that level: the loss can no
 * longer judge the step, and a Newton or quasi-Newton step there is sound. */
static int accept_full(double f, double df0, double f1, double df1, int wolfe)
{
    const double c1 = 1e-4, c2 = 0.9, noise = 1e-12 * fabs(f);
    if (!isfinite(f1)) return 0;
    if (f1 <= f + c1 * df0 && (!wolfe || df1 >= c2 * df0)) return 1;
    return -df0 <= noise && f1 <= f + noise;
}

static void swap_margins(problem *pb)
{
    double *tmp = pb->eta;
    pb->eta = pb->u;
    pb->u = tmp;
}

static double max_abs(const double *d, int n)
{
    double m = 0.0;
    for (int j = 0; j < n; j++) m = SG_MAX(m, fabs(d[j]));
    return m;
}

/* ---------------------------------------------------------------------------
 * Newton */

/* Solve H d = -g into d, with the Cholesky factor of H left in F.  A pivot
 * that is not positive, or tiny next to its diagonal entry (L_jj^2 < 1e-13
 * H_jj: column j is a combination of the others to 13 digits, which LAPACK and
 * the reference loop would otherwise pass through as rounding noise), makes
 * it retry with a ridge jitter on the diagonal; the gradient stays exact, so
 * later steps still converge to the true optimum.  *jittered says whether
 * that happened.  SG_ENUMERIC if even the largest jitter fails. */
static int newton_direction(const problem *pb, const double *H, const double *g, double *F,
                            double *d, int step, int *jittered, int *n_warned, sg_error *err)
{
    const int P = pb->P;
    double dmax = 0.0;
    for (int j = 0; j < P; j++) dmax = SG_MAX(dmax, fabs(H[(size_t)j * P + j]));
    if (!isfinite(dmax)) {
        return sg_error_set(err, SG_ENUMERIC, "linear: step %d: the Hessian is not finite",
                            step);
    }
    double jitter = 0.0;
    *jittered = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        memcpy(F, H, (size_t)P * (size_t)P * sizeof *F);
        for (int j = 0; j < P; j++) {
            d[j] = -g[j];
            F[(size_t)j * P + j] += jitter;
        }
        int pivot = sg_dposv(P, F, d);
        for (int j = 0; j < P && pivot == 0; j++) {
            double l = F[(size_t)j * P + j], h = H[(size_t)j * P + j] + jitter;
            if (l * l < 1e-13 * h) pivot = j + 1;
        }
        if (pivot == 0) {
            if (attempt > 0) {
                *jittered = 1;
                /* warn once per fit; later steps only at debug level */
                int level = (*n_warned)++ ? SG_LOG_DEBUG : SG_LOG_WARN;
                SG_LOG(level, LOG_MODULE,
                       "step %d: Hessian not positive definite (collinear or constant "
                       "features, or separable classes, with l2 = %g); added a ridge of %.3g",
                       step, pb->l2, jitter);
            }
            return SG_OK;
        }
        jitter = (dmax > 0.0 ? dmax : 1.0) * pow(10.0, -10.0 + 2.0 * attempt);
    }
    return sg_error_set(err, SG_ENUMERIC,
                        "linear: step %d: the Hessian is singular even with a ridge of %.3g "
                        "(collinear or constant features, or separable classes with l2 = 0); "
                        "use l2 > 0", step, jitter / 100.0);
}

/* Each step solves for the Newton direction d and evaluates everything at
 * theta + d in one pass; only if that fails the sufficient-decrease test does
 * it search the line (cheaply, along the margins) and pass again.  Ridge has
 * a constant Hessian and stops after its one exact step. */
static int fit_newton(problem *pb, double *theta, int max_iter, double tol, double *loss,
                      int *n_iter, sg_error *err)
{
    const int P = pb->P, ridge = pb->kind == SG_LINEAR_RIDGE;
    int rc = SG_OK, converged = 0, it = 0, n_warned = 0;
    double *g = sg_malloc_array((size_t)P * 3, sizeof *g);
    double *H = sg_malloc_array((size_t)P * (size_t)P, sizeof *H);
    double *F = sg_malloc_array((size_t)P * (size_t)P, sizeof *F);
    if (!g || !H || !F) {
        rc = sg_error_set(err, SG_ENOMEM, "linear: out of memory for a %d x %d Hessian", P, P);
        goto fail;
    }
    double *d = g + P, *theta_new = d + P, f;
    eval_pass(pb, theta, pb->eta, &f, g, H);
    if (!isfinite(f)) {
        rc = sg_error_set(err, SG_ENUMERIC, "linear: the initial loss is not finite");
        goto fail;
    }
    while (it < max_iter) {
        int jittered;
        rc = newton_direction(pb, H, g, F, d, it + 1, &jittered, &n_warned, err);
        if (rc) goto fail;
        double df0 = 0.0;
        for (int j = 0; j < P; j++) {
            df0 += g[j] * d[j];
            theta_new[j] = theta[j] + d[j];
        }
        /* the Hessian at the new point is needed only if another step follows */
        int more = !(ridge && !jittered) && max_abs(d, P) >= tol && it + 1 < max_iter;
        double *Hn = more && !ridge ? H : NULL;
        double f_new, t = 1.0;
        eval_pass(pb, theta_new, pb->u, &f_new, g, Hn);
        double df1 = 0.0;
        for (int j = 0; j < P; j++) df1 += g[j] * d[j];
        if (accept_full(f, df0, f_new, df1, 0)) {
            swap_margins(pb);
            memcpy(theta, theta_new, (size_t)P * sizeof *theta);
        } else {
            if (step_back(pb, theta, d, f, df0, f_new, df1, &t, &f_new) != 0) {
                converged = 1; /* no decrease possible: optimal within rounding */
                break;
            }
            double f_chk;
            eval_pass(pb, theta, pb->eta, &f_chk, g, Hn);
            f_new = f_chk;
        }
        it++;
        if (!isfinite(f_new)) {
            rc = sg_error_set(err, SG_ENUMERIC, "linear: step %d: the loss is not finite", it);
            goto fail;
        }
        double size = t * max_abs(d, P), change = f - f_new;
        SG_LOG(SG_LOG_DEBUG, LOG_MODULE, "newton step %d: loss %.15g, max |step| %.3g, t %.3g",
               it, f_new, size, t);
        f = f_new;
        if (size < tol || change <= 1e-15 * fabs(f) || (ridge && !jittered)) {
            converged = 1;
            break;
        }
        if (!Hn && !ridge) break; /* H is stale (ridge's is constant): a last step only */
    }
    if (!converged) {
        SG_LOG(SG_LOG_WARN, LOG_MODULE,
               "Newton did not reach tol %.3g in %d steps (loss %.12g); the classes may be "
               "separable with l2 = %g", tol, max_iter, f, pb->l2);
    }
    *loss = f;
    *n_iter = it;
fail:
    sg_free(g);
    sg_free(H);
    sg_free(F);
    return rc;
}

/* ---------------------------------------------------------------------------
 * L-BFGS */

/* In variables z = s .* theta with s_j = sqrt(curvature bound), so that the
 * identity is a sensible first inverse Hessian.  Like Newton, each step first
 * evaluates the full step in one pass and searches the line only if that
 * fails the Wolfe conditions. */
static int fit_lbfgs(problem *pb, double *theta, int max_iter, double tol, double *loss,
                     int *n_iter, sg_error *err)
{
    const int P = pb->P, M = LBFGS_M;
    int rc = SG_OK, converged = 0, it = 0;
    /* one block: sc, g, gz, gz_new, dz, d, theta_new, S (M,P), Y (M,P), rho (M), alpha (M) */
    double *mem = sg_malloc_array((size_t)P * (7 + 2 * M) + 2 * M, sizeof *mem);
    if (!mem) {
        rc = sg_error_set(err, SG_ENOMEM, "linear: out of memory for L-BFGS (%d parameters)",
                          P);
        goto fail;
    }
    double *sc = mem, *g = sc + P, *gz = g + P, *gz_new = gz + P, *dz = gz_new + P;
    double *d = dz + P, *theta_new = d + P;
    double *S = theta_new + P, *Y = S + (size_t)M * P, *rho = Y + (size_t)M * P;
    double *alpha = rho + M;
    for (int j = 0; j < P; j++) sc[j] = pb->curv[j] > 0.0 ? sqrt(pb->curv[j]) : 1.0;

    double f;
    eval_pass(pb, theta, pb->eta, &f, g, NULL);
    if (!isfinite(f)) {
        rc = sg_error_set(err, SG_ENUMERIC, "linear: the initial loss is not finite");
        goto fail;
    }
    for (int j = 0; j < P; j++) gz[j] = g[j] / sc[j];
    int n_pairs = 0, head = 0; /* ring buffer of pairs, newest at head - 1 */
    double gamma = 1.0;
    while (it < max_iter) {
        /* two-loop recursion: dz = -H gz */
        for (int j = 0; j < P; j++) dz[j] = -gz[j];
        for (int k = 0; k < n_pairs; k++) {
            int m = (head - 1 - k + M) % M;
            alpha[m] = rho[m] * sg_ddot(P, S + (size_t)m * P, dz);
            sg_daxpy(P, -alpha[m], Y + (size_t)m * P, dz);
        }
        for (int j = 0; j < P; j++) dz[j] *= gamma;
        for (int k = n_pairs - 1; k >= 0; k--) {
            int m = (head - 1 - k + M) % M;
            double beta = rho[m] * sg_ddot(P, Y + (size_t)m * P, dz);
            sg_daxpy(P, alpha[m] - beta, S + (size_t)m * P, dz);
        }
        double df0 = sg_ddot(P, gz, dz);
        if (!(df0 < 0.0)) { /* lost descent: restart from steepest descent */
            for (int j = 0; j < P; j++) dz[j] = -gz[j];
            n_pairs = 0;
            gamma = 1.0;
            df0 = sg_ddot(P, gz, dz);
            if (!(df0 < 0.0)) {
                converged = 1;
                break;
            }
        }
        for (int j = 0; j < P; j++) {
            d[j] = dz[j] / sc[j];
            theta_new[j] = theta[j] + d[j];
        }
        double f_new, t = 1.0;
        eval_pass(pb, theta_new, pb->u, &f_new, g, NULL);
        double df1 = sg_ddot(P, g, d);
        if (accept_full(f, df0, f_new, df1, 1)) {
            swap_margins(pb);
            memcpy(theta, theta_new, (size_t)P * sizeof *theta);
        } else {
            if (step_back(pb, theta, d, f, df0, f_new, df1, &t, &f_new) != 0) {
                converged = 1;
                break;
            }
            double f_chk;
            eval_pass(pb, theta, pb->eta, &f_chk, g, NULL);
            f_new = f_chk;
        }
        it++;
        if (!isfinite(f_new)) {
            rc = sg_error_set(err, SG_ENUMERIC, "linear: step %d: the loss is not finite", it);
            goto fail;
        }
        /* new pair s = t dz, y = gz_new - gz (in z) */
        double *s = S + (size_t)head * P, *yv = Y + (size_t)head * P;
        double sy = 0.0, yy = 0.0;
        for (int j = 0; j < P; j++) {
            gz_new[j] = g[j] / sc[j];
            s[j] = t * dz[j];
            yv[j] = gz_new[j] - gz[j];
            sy += s[j] * yv[j];
            yy += yv[j] * yv[j];
        }
        if (sy > 1e-12 * yy && yy > 0.0) { /* keep only pairs with positive curvature */
            rho[head] = 1.0 / sy;
            gamma = sy / yy;
            head = (head + 1) % M;
            n_pairs = SG_MIN(n_pairs + 1, M);
        }
        memcpy(gz, gz_new, (size_t)P * sizeof *gz);
        double size = t * max_abs(d, P), change = f - f_new;
        SG_LOG(SG_LOG_DEBUG, LOG_MODULE, "lbfgs step %d: loss %.15g, max |step| %.3g, t %.3g",
               it, f_new, size, t);
        f = f_new;
        if (size < tol || change <= 1e-16 * fabs(f)) {
            converged = 1;
            break;
        }
    }
    if (!converged) {
        SG_LOG(SG_LOG_WARN, LOG_MODULE, "L-BFGS did not reach tol %.3g in %d steps (loss %.12g)",
               tol, max_iter, f);
    }
    *loss = f;
    *n_iter = it;
fail:
    sg_free(mem);
    return rc;
}

/* ---------------------------------------------------------------------------
 * validation and set-up */

void sg_linear_params_default(sg_linear_params *p)
{
    p->kind = SG_LINEAR_LOGISTIC;
    p->l2 = 1.0;
    p->max_iter = 50;
    p->tol = 1e-8;
    p->solver = SG_LINEAR_AUTO;
    p->lbfgs_max_iter = 1000;
}

static int check_params(const sg_linear_params *p, sg_error *err)
{
    if (p->kind != SG_LINEAR_LOGISTIC && p->kind != SG_LINEAR_RIDGE)
        return sg_error_set(err, SG_EINVAL, "linear: unknown kind %d (0 logistic, 1 ridge)",
                            p->kind);
    if (!(p->l2 >= 0.0) || !isfinite(p->l2))
        return sg_error_set(err, SG_EINVAL, "linear: l2 must be finite and >= 0, got %g", p->l2);
    if (p->max_iter < 1)
        return sg_error_set(err, SG_EINVAL, "linear: max_iter must be >= 1, got %d",
                            p->max_iter);
    if (!(p->tol >= 0.0) || !isfinite(p->tol))
        return sg_error_set(err, SG_EINVAL, "linear: tol must be finite and >= 0, got %g",
                            p->tol);
    if (p->solver < SG_LINEAR_AUTO || p->solver > SG_LINEAR_LBFGS)
        return sg_error_set(err, SG_EINVAL,
                            "linear: unknown solver %d (0 auto, 1 newton, 2 lbfgs)", p->solver);
    if (p->lbfgs_max_iter < 1)
        return sg_error_set(err, SG_EINVAL, "linear: lbfgs_max_iter must be >= 1, got %d",
                            p->lbfgs_max_iter);
    return SG_OK;
}

/* Labels and weights; sum of weights into pb->sum_w. */
static int check_targets(problem *pb, sg_error *err)
{
    double sw = 0.0;
    for (int64_t i = 0; i < pb->N; i++) {
        double y = (double)pb->y[i];
        if (pb->kind == SG_LINEAR_LOGISTIC && y != 0.0 && y != 1.0)
            return sg_error_set(err, SG_EINVAL,
                                "linear: row %lld: label must be 0 or 1 for logistic "
                                "regression, got %g", (long long)i, y);
        if (!isfinite(y))
            return sg_error_set(err, SG_EINVAL, "linear: row %lld: target is not finite (%g)",
                                (long long)i, y);
        if (pb->w) {
            double w = (double)pb->w[i];
            if (!(w >= 0.0) || !isfinite(w))
                return sg_error_set(err, SG_EINVAL,
                                    "linear: row %lld: weight must be finite and >= 0, got %g",
                                    (long long)i, w);
            sw += w;
        }
    }
    pb->sum_w = pb->w ? sw : (double)pb->N;
    if (!(pb->sum_w > 0.0))
        return sg_error_set(err, SG_EINVAL, "linear: all %lld weights are zero",
                            (long long)pb->N);
    return SG_OK;
}

/* One pass: X finite (the first bad value is named), weighted column means
 * into pb->mu and the diagonal curvature bound into pb->curv.  'tmp' holds
 * 2 D doubles per chunk so the sums are reduced in a fixed order. */
static int column_stats(problem *pb, double *tmp, int64_t *bad, sg_error *err)
{
    const int D = pb->D;
    const float *X = pb->X, *W = pb->w;
    const int par = pb->N * (int64_t)D >= PAR_MIN_WORK;
    OMP_FOR(par)
    for (int64_t c = 0; c < pb->n_chunks; c++) {
        int64_t lo = c * CHUNK, hi = SG_MIN(lo + CHUNK, pb->N);
        double *restrict s1 = tmp + (size_t)c * 2 * (size_t)D, *restrict s2 = s1 + D;
        memset(s1, 0, 2 * (size_t)D * sizeof *s1);
        bad[c] = -1;
        for (int64_t i = lo; i < hi; i++) {
            const float *restrict x = X + (size_t)i * (size_t)D;
            double w = W ? (double)W[i] : 1.0;
            OMP_SIMD
            for (int j = 0; j < D; j++) {
                double v = (double)x[j];
                s1[j] += w * v;
                s2[j] += w * v * v;
            }
        }
        for (int j = 0; j < D; j++) {
            if (!isfinite(s2[j])) { /* find where: rare, so a second look is fine */
                for (int64_t i = lo; i < hi && bad[c] < 0; i++)
                    for (int k = 0; k < D; k++)
                        if (!isfinite(pb->X[(size_t)i * (size_t)D + k])) {
                            bad[c] = i * (int64_t)D + k;
                            break;
                        }
                break;
            }
        }
    }
    for (int64_t c = 0; c < pb->n_chunks; c++) {
        if (bad[c] >= 0) {
            int64_t i = bad[c] / D;
            int j = (int)(bad[c] % D);
            return sg_error_set(err, SG_EINVAL, "linear: row %lld, column %d: value is not "
                                "finite (%g)", (long long)i, j,
                                (double)pb->X[(size_t)i * (size_t)D + j]);
        }
    }
    double h = pb->kind == SG_LINEAR_LOGISTIC ? 0.25 : 1.0; /* max of l'' */
    pb->curv[0] = h;
    for (int j = 0; j < D; j++) {
        double s1 = 0.0, s2 = 0.0;
        for (int64_t c = 0; c < pb->n_chunks; c++) {
            s1 += tmp[(size_t)c * 2 * (size_t)D + j];
            s2 += tmp[(size_t)c * 2 * (size_t)D + D + j];
        }
        double mean = s1 / pb->sum_w;
        double var = SG_MAX(s2 / pb->sum_w - mean * mean, 0.0);
        pb->mu[j] = mean;
        pb->curv[j + 1] = h * var + pb->l2 / pb->sum_w;
    }
    return SG_OK;
}

/* Threads for eval_pass: several only when BLAS runs single-threaded (so that
 * threads may call it at once), a pass is big enough to pay for a parallel
 * region, and (Newton) a Hessian per thread stays under 256 MiB in all;
 * otherwise one, and BLAS parallelises inside its calls. */
static int n_workers(const problem *pb, int newton)
{
#ifdef _OPENMP
    int64_t n_blocks = (pb->N + pb->block_rows - 1) / pb->block_rows;
    int64_t nt = SG_MIN(omp_get_max_threads(), 64);
    int64_t hess_bytes = newton ? nt * pb->P * pb->P * (int64_t)sizeof(double) : 0;
    if (nt > 1 && sg_blas_get_threads() == 1 && hess_bytes <= ((int64_t)256 << 20) &&
        pb->N * (int64_t)(pb->P + 16) >= 2 * (int64_t)PAR_MIN_WORK)
        return (int)SG_MIN(nt, n_blocks);
#else
    (void)pb;
    (void)newton;
#endif
    return 1;
}

static void problem_deinit(problem *pb)
{
    sg_free(pb->mu);
    sg_free(pb->curv);
    sg_free(pb->eta);
    sg_free(pb->u);
    sg_free(pb->part);
    sg_free(pb->part2);
    for (int t = 0; pb->workers && t < pb->n_workers; t++) {
        worker *wk = &pb->workers[t];
        sg_free(wk->blk);
        sg_free(wk->r);
        sg_free(wk->lk);
        sg_free(wk->g);
        sg_free(wk->H);
    }
    sg_free(pb->workers);
}

/* ---------------------------------------------------------------------------
 * public API */

int sg_linear_train(sg_linear **out, const float *X, const float *y, const float *w, int64_t N,
                    int D, const sg_linear_params *p, sg_error *err)
{
    sg_linear_params defaults;
    if (!p) {
        sg_linear_params_default(&defaults);
        p = &defaults;
    }
    if (!out) return sg_error_set(err, SG_EINVAL, "linear: 'out' is NULL");
    int rc = check_params(p, err);
    if (rc) return rc;
    if (N <= 0) return sg_error_set(err, SG_EINVAL, "linear: need at least one row, got N = %lld",
                                    (long long)N);
    if (D < 0 || D >= MAX_D)
        return sg_error_set(err, SG_EINVAL, "linear: D = %d features is out of range [0, %d)",
                            D, MAX_D);
    if (!y || (D > 0 && !X)) return sg_error_set(err, SG_EINVAL, "linear: X or y is NULL");

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sg_linear *m = NULL;
    double *tmp = NULL;
    int64_t *bad = NULL;
    problem pb;
    memset(&pb, 0, sizeof pb);
    pb.X = X;
    pb.y = y;
    pb.w = w;
    pb.N = N;
    pb.D = D;
    pb.P = D + 1;
    pb.kind = p->kind;
    pb.l2 = p->l2;
    pb.n_chunks = (N + CHUNK - 1) / CHUNK;
    int use_lbfgs = p->solver == SG_LINEAR_LBFGS || (p->solver == SG_LINEAR_AUTO &&
                                                     D > AUTO_LBFGS_D);
    /* workers each sweep their own small blocks; a lone sweep uses big blocks
     * so that BLAS's threads sync rarely */
    pb.block_rows = (int)SG_MAX(16, SG_MIN(WORKER_ROWS, BLOCK_DOUBLES / pb.P));
    pb.n_workers = n_workers(&pb, !use_lbfgs);
    if (pb.n_workers == 1)
        pb.block_rows = (int)SG_MAX(16, SG_MIN(BLOCK_ROWS, BLOCK_DOUBLES / pb.P));
    rc = check_targets(&pb, err);
    if (rc) goto fail;

    m = sg_calloc(1, sizeof *m);
    if (m) m->theta = sg_calloc((size_t)pb.P, sizeof *m->theta);
    pb.mu = sg_malloc_array((size_t)SG_MAX(D, 1), sizeof *pb.mu);
    pb.curv = sg_malloc_array((size_t)pb.P, sizeof *pb.curv);
    pb.eta = sg_malloc_array((size_t)N, sizeof *pb.eta);
    pb.u = sg_malloc_array((size_t)N, sizeof *pb.u);
    pb.part = sg_malloc_array((size_t)pb.n_chunks, sizeof *pb.part);
    pb.part2 = sg_malloc_array((size_t)pb.n_chunks, sizeof *pb.part2);
    tmp = sg_malloc_array((size_t)pb.n_chunks * 2 * (size_t)SG_MAX(D, 1), sizeof *tmp);
    bad = sg_malloc_array((size_t)pb.n_chunks, sizeof *bad);
    pb.workers = sg_calloc((size_t)pb.n_workers, sizeof *pb.workers);
    int workers_ok = pb.workers != NULL;
    for (int t = 0; workers_ok && t < pb.n_workers; t++) {
        worker *wk = &pb.workers[t];
        wk->blk = sg_malloc_array((size_t)pb.block_rows * (size_t)pb.P, sizeof *wk->blk);
        wk->r = sg_malloc_array((size_t)pb.block_rows, sizeof *wk->r);
        wk->lk = sg_malloc_array((size_t)pb.block_rows, sizeof *wk->lk);
        workers_ok = wk->blk && wk->r && wk->lk;
        if (pb.n_workers > 1) { /* a single worker sums straight into the caller's g, H */
            wk->g = sg_malloc_array((size_t)pb.P, sizeof *wk->g);
            if (!use_lbfgs) wk->H = sg_malloc_array((size_t)pb.P * (size_t)pb.P, sizeof *wk->H);
            workers_ok = workers_ok && wk->g && (use_lbfgs || wk->H);
        }
    }
    if (!m || !m->theta || !pb.mu || !pb.curv || !pb.eta || !pb.u || !workers_ok ||
        !pb.part || !pb.part2 || !tmp || !bad) {
        rc = sg_error_set(err, SG_ENOMEM, "linear: out of memory for %lld rows x %d features",
                          (long long)N, D);
        goto fail;
    }
    rc = column_stats(&pb, tmp, bad, err);
    sg_free(tmp);
    sg_free(bad);
    tmp = NULL;
    bad = NULL;
    if (rc) goto fail;

    /* start at beta = 0 with the intercept that fits the (weighted) mean of y */
    double ybar = 0.0;
    for (int64_t i = 0; i < N; i++) ybar += weight(&pb, i) * (double)y[i];
    ybar /= pb.sum_w;
    double a0 = ybar;
    if (pb.kind == SG_LINEAR_LOGISTIC) {
        double q = SG_MIN(SG_MAX(ybar, 1e-10), 1.0 - 1e-10);
        a0 = log(q / (1.0 - q));
    }
    double *theta = m->theta;
    theta[0] = a0;

    double loss = 0.0;
    int n_iter = 0;
    if (use_lbfgs)
        rc = fit_lbfgs(&pb, theta, p->lbfgs_max_iter, p->tol, &loss, &n_iter, err);
    else
        rc = fit_newton(&pb, theta, p->max_iter, p->tol, &loss, &n_iter, err);
    if (rc) goto fail;

    /* back from the centred parametrisation */
    for (int j = 0; j < D; j++) theta[0] -= pb.mu[j] * theta[j + 1];
    for (int j = 0; j < pb.P; j++) {
        if (!isfinite(theta[j])) {
            rc = sg_error_set(err, SG_ENUMERIC, "linear: coefficient %d is not finite", j);
            goto fail;
        }
    }
    m->kind = p->kind;
    m->D = D;
    m->params = *p;
    m->loss = loss;
    m->n_iter = n_iter;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    SG_LOG(SG_LOG_INFO, LOG_MODULE,
           "%s regression: %lld rows, %d features, l2 %g: %s, %d steps, loss %.10g, "
           "%d pass thread(s), %.3f s",
           pb.kind == SG_LINEAR_LOGISTIC ? "logistic" : "ridge", (long long)N, D, p->l2,
           use_lbfgs ? "L-BFGS" : "Newton", n_iter, loss, pb.n_workers,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    problem_deinit(&pb);
    *out = m;
    return SG_OK;
fail:
    problem_deinit(&pb);
    sg_free(tmp);
    sg_free(bad);
    sg_linear_free(m);
    return rc;
}

int sg_linear_predict(const sg_linear *m, const float *X, int64_t N, int margin, double *out,
                      sg_error *err)
{
    if (!m || !out || N < 0 || (N > 0 && m->D > 0 && !X))
        return sg_error_set(err, SG_EINVAL, "linear: predict: bad arguments (N = %lld)",
                            (long long)N);
    const int D = m->D;
    const double *theta = m->theta;
    int64_t first_bad = -1;
    const int par = N * (int64_t)(D + 16) >= PAR_MIN_WORK;
    OMP_FOR(par)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + (size_t)i * (size_t)D;
        double s = theta[0];
        for (int j = 0; j < D; j++) s += (double)x[j] * theta[j + 1];
        if (!isfinite(s)) {
            s = NAN;
        } else if (!margin && m->kind == SG_LINEAR_LOGISTIC) {
            s = sigmoid(s);
        }
        out[i] = s;
    }
    for (int64_t i = 0; i < N; i++) {
        if (isnan(out[i])) {
            first_bad = i;
            break;
        }
    }
    if (first_bad >= 0) {
        const float *x = X + (size_t)first_bad * (size_t)D;
        int j = 0;
        while (j < D - 1 && isfinite(x[j])) j++;
        return sg_error_set(err, SG_EINVAL, "linear: predict: row %lld, column %d: value is not "
                            "finite (%g)", (long long)first_bad, j, (double)x[j]);
    }
    return SG_OK;
}

double sg_linear_intercept(const sg_linear *m)
{
    return m->theta[0];
}

const double *sg_linear_coef(const sg_linear *m)
{
    return m->theta + 1;
}

int sg_linear_n_features(const sg_linear *m)
{
    return m->D;
}

double sg_linear_loss(const sg_linear *m)
{
    return m->loss;
}

int sg_linear_iterations(const sg_linear *m)
{
    return m->n_iter;
}

const sg_linear_params *sg_linear_get_params(const sg_linear *m)
{
    return &m->params;
}

void sg_linear_free(sg_linear *m)
{
    if (!m) return;
    sg_free(m->theta);
    sg_free(m);
}

/* ---------------------------------------------------------------------------
 * serialisation: magic, version, kind, D, params, loss, steps, theta (D + 1) */

int sg_linear_save(const sg_linear *m, unsigned char **buf, size_t *len, sg_error *err)
{
    if (!m || !buf || !len) return sg_error_set(err, SG_EINVAL, "linear: save: bad arguments");
    sg_wbuf wb;
    sg_wbuf_init(&wb);
    sg_wbuf_u32(&wb, LINEAR_MAGIC);
    sg_wbuf_u32(&wb, LINEAR_VERSION);
    sg_wbuf_i32(&wb, m->kind);
    sg_wbuf_i32(&wb, m->D);
    sg_wbuf_f64(&wb, m->params.l2);
    sg_wbuf_i32(&wb, m->params.max_iter);
    sg_wbuf_f64(&wb, m->params.tol);
    sg_wbuf_i32(&wb, m->params.solver);
    sg_wbuf_i32(&wb, m->params.lbfgs_max_iter);
    sg_wbuf_f64(&wb, m->loss);
    sg_wbuf_i32(&wb, m->n_iter);
    sg_wbuf_f64s(&wb, m->theta, (size_t)m->D + 1);
    int rc = sg_wbuf_status(&wb, err);
    if (rc) {
        sg_wbuf_deinit(&wb);
        sg_error_prefix(err, "linear: save: ");
        return rc;
    }
    *buf = wb.data;
    *len = wb.len;
    return SG_OK;
}

int sg_linear_load(sg_linear **out, const unsigned char *buf, size_t len, sg_error *err)
{
    if (!out || (!buf && len > 0))
        return sg_error_set(err, SG_EINVAL, "linear: load: bad arguments");
    sg_rbuf rb;
    sg_rbuf_init(&rb, buf, len);
    sg_linear *m = NULL;
    uint32_t magic = 0, version = 0;
    int32_t kind = 0, D = 0, n_iter = 0;
    sg_linear_params p;
    int rc;
    if ((rc = sg_rbuf_u32(&rb, &magic, "linear model magic", err))) goto fail;
    if (magic != LINEAR_MAGIC) {
        rc = sg_error_set(err, SG_EPARSE, "linear: load: not a linear model (magic %08x)",
                          (unsigned)magic);
        goto fail;
    }
    if ((rc = sg_rbuf_u32(&rb, &version, "linear model version", err))) goto fail;
    if (version != LINEAR_VERSION) {
        rc = sg_error_set(err, SG_EPARSE, "linear: load: format version %u, this build reads "
                          "version %u; retrain the model", (unsigned)version, LINEAR_VERSION);
        goto fail;
    }
    if ((rc = sg_rbuf_i32(&rb, &kind, "linear model kind", err)) ||
        (rc = sg_rbuf_i32(&rb, &D, "linear model width", err)) ||
        (rc = sg_rbuf_f64(&rb, &p.l2, "linear l2", err)) ||
        (rc = sg_rbuf_i32(&rb, &p.max_iter, "linear max_iter", err)) ||
        (rc = sg_rbuf_f64(&rb, &p.tol, "linear tol", err)) ||
        (rc = sg_rbuf_i32(&rb, &p.solver, "linear solver", err)) ||
        (rc = sg_rbuf_i32(&rb, &p.lbfgs_max_iter, "linear lbfgs_max_iter", err)))
        goto fail;
    p.kind = kind;
    if (D < 0 || D >= MAX_D || check_params(&p, NULL) != SG_OK) {
        rc = sg_error_set(err, SG_EPARSE, "linear: load: corrupt header (kind %d, D %d, l2 %g)",
                          (int)kind, (int)D, p.l2);
        goto fail;
    }
    double loss;
    if ((rc = sg_rbuf_f64(&rb, &loss, "linear loss", err)) ||
        (rc = sg_rbuf_i32(&rb, &n_iter, "linear steps", err)))
        goto fail;
    size_t n_theta = (size_t)D + 1;
    if (rb.len - rb.pos != n_theta * sizeof(double)) {
        rc = sg_error_set(err, SG_EPARSE, "linear: load: expected %zu bytes of coefficients for "
                          "D = %d, found %zu", n_theta * sizeof(double), (int)D,
                          rb.len - rb.pos);
        goto fail;
    }
    m = sg_calloc(1, sizeof *m);
    if (m) m->theta = sg_malloc_array(n_theta, sizeof *m->theta);
    if (!m || !m->theta) {
        rc = sg_error_set(err, SG_ENOMEM, "linear: load: out of memory");
        goto fail;
    }
    if ((rc = sg_rbuf_f64s(&rb, m->theta, n_theta, "linear coefficients", err))) goto fail;
    for (size_t j = 0; j < n_theta; j++) {
        if (!isfinite(m->theta[j])) {
            rc = sg_error_set(err, SG_EPARSE, "linear: load: coefficient %zu is not finite", j);
            goto fail;
        }
    }
    m->kind = kind;
    m->D = D;
    m->params = p;
    m->loss = loss;
    m->n_iter = n_iter;
    *out = m;
    return SG_OK;
fail:
    sg_linear_free(m);
    return rc;
}
