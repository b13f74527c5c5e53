/* assign.c -- budgeted multi-treatment assignment (multiple-choice knapsack).
 *
 * N = customers, A = arms (0 = control), H = A - 1 hull slots per customer.
 * net(i,a) = gain - cost is the objective of one action; with arm prices mu
 * the greedy works on q(i,a) = net(i,a) - mu[a].  The method and the bound are
 * described in assign.h.  The phases of sg_assign_solve:
 *   1. hulls: per customer, the upper convex hull of (cost, q) over eligible arms
 *      and (0, 0); its segments are the LP increments,
 *   2. greedy: increments sorted by efficiency, taken while they fit (caps kept),
 *   3. prices: when caps bind, coordinate descent on mu at the greedy's lambda,
 *      then back to 1 (a few rounds; the best plan is kept),
 *   4. core: branch and bound over the customers nearest the break,
 *   5. fill: the best single upgrades that still fit.
 * See LICENSE for copyright. */
#include "stratagem/assign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"

/* Relative slack for comparing sums of costs with the budget in checks, and
 * the smaller one the solver itself allows: costs such as 0.05 and 0.10 are not
 * exact in binary, so a sum that spends the budget exactly can come out a few
 * units in the last place above it, and an exact comparison would leave an
 * action that fits unbought (seen: 0.05 of a budget of 300 left unspent). */
#define BUDGET_RTOL 1e-9
#define SOLVER_RTOL 1e-12

typedef struct inc {
    double key;     /* efficiency (greedy) or value gained (fill); sorted descending */
    uint64_t id;    /* i * A + k: customer and hull vertex (greedy) or arm (fill) */
} inc;

typedef struct solver {
    const sg_assign_problem *p;
    int64_t N;
    int A, H;
    double budget;
    int64_t *cap;       /* (A) effective caps, INT64_MAX = none; cap[0] = INT64_MAX */
    int any_cap;        /* some arm has a cap below N */
    double *mu;         /* (A) arm prices, 0 where uncapped */
    int32_t *hull;      /* (N, H) arms of the hull vertices after the control */
    int32_t *pos;       /* (N) greedy: current hull vertex; < 0 = frozen */
    inc *incs;          /* (N * H) increments / fill candidates */
    int32_t *x;         /* (N) plan of the current round */
    int32_t *best;      /* (N) best plan so far */
    double *scratch;    /* (N) margins for the price updates */
    int64_t *count;     /* (A) customers per arm */
    /* per-customer scratch for the hull (A entries each) */
    double *pc, *pq;
    int32_t *pa, *stk;
} solver;

/* ---------------------------------------------------------------------------
 * problem access and validation */

static inline double cost_at(const sg_assign_problem *p, int64_t i, int a)
{
    if (a == 0) return 0.0;
    return p->cost ? p->cost[i * p->A + a] : p->arm_cost[a];
}

static inline double net_at(const sg_assign_problem *p, int64_t i, int a)
{
    if (a == 0) return 0.0;
    return p->gain[i * p->A + a] - cost_at(p, i, a);
}

void sg_assign_problem_init(sg_assign_problem *p)
{
    memset(p, 0, sizeof *p);
    p->budget = INFINITY;
    p->min_gain = 0.0;
}

void sg_assign_options_default(sg_assign_options *o)
{
    o->core = 32;
    o->max_nodes = 200000;
    o->cap_rounds = 12;
    o->rtol = 1e-6;
}

static int validate(const sg_assign_problem *p, const void *arm, sg_error *err)
{
    if (!p) return sg_error_set(err, SG_EINVAL, "assign: problem is NULL");
    if (p->N < 0) return sg_error_set(err, SG_EINVAL, "assign: N = %lld < 0", (long long)p->N);
    if (p->A < 1) return sg_error_set(err, SG_EINVAL, "assign: A = %d arms, need >= 1", p->A);
    if (p->N > 0 && p->A > 1) {
        if (!p->gain) return sg_error_set(err, SG_EINVAL, "assign: 'gain' is NULL");
        if (!p->cost == !p->arm_cost)
            return sg_error_set(err, SG_EINVAL,
                                "assign: give exactly one of 'cost' (N x A) and 'arm_cost' (A)");
    }
    if (p->N > 0 && !arm) return sg_error_set(err, SG_EINVAL, "assign: output 'arm' is NULL");
    if (isnan(p->budget) || p->budget < 0)
        return sg_error_set(err, SG_EINVAL, "assign: budget %g must be >= 0", p->budget);
    if (!isfinite(p->min_gain) || p->min_gain < 0)
        return sg_error_set(err, SG_EINVAL, "assign: min_gain %g must be finite and >= 0",
                            p->min_gain);
    if (p->N > INT64_MAX / (p->A > 1 ? p->A : 1))
        return sg_error_set(err, SG_EINVAL, "assign: N x A too large");
    if (p->cap)
        for (int a = 1; a < p->A; a++)
            if (p->cap[a] < -1)
                return sg_error_set(err, SG_EINVAL, "assign: cap[%d] = %lld, need >= -1", a,
                                    (long long)p->cap[a]);
    if (p->A == 1 || p->N == 0) return SG_OK;
    if (p->arm_cost)
        for (int a = 1; a < p->A; a++)
            if (!isfinite(p->arm_cost[a]) || p->arm_cost[a] < 0)
                return sg_error_set(err, SG_EINVAL,
                                    "assign: arm %d: cost %g must be finite and >= 0", a,
                                    p->arm_cost[a]);
    for (int64_t i = 0; i < p->N; i++) {
        for (int a = 1; a < p->A; a++) {
            double g = p->gain[i * p->A + a];
            if (!isfinite(g))
                return sg_error_set(err, SG_EINVAL,
                                    "assign: customer %lld, arm %d: gain %g is not finite",
                                    (long long)i, a, g);
            if (p->cost) {
                double c = p->cost[i * p->A + a];
                if (!isfinite(c) || c < 0)
                    return sg_error_set(err, SG_EINVAL, "assign: customer %lld, arm %d: "
                                        "cost %g must be finite and >= 0", (long long)i, a, c);
            }
        }
    }
    return SG_OK;
}

/* Effective caps: INT64_MAX where there is none (arm 0 never capped). */
static void effective_caps(const sg_assign_problem *p, int64_t *cap)
{
    cap[0] = INT64_MAX;
    for (int a = 1; a < p->A; a++) cap[a] = (p->cap && p->cap[a] >= 0) ? p->cap[a] : INT64_MAX;
}

static inline int eligible(const solver *s, int64_t i, int a)
{
    return s->cap[a] != 0 && net_at(s->p, i, a) > s->p->min_gain;
}

static int budget_fits(double used, double budget)
{
    return used <= budget + BUDGET_RTOL * (budget > 1.0 ? budget : 1.0);
}

/* Whether spending 'used' stays within 'budget' for the solver's own choices. */
static inline int fits(double used, double budget)
{
    return used <= budget + SOLVER_RTOL * (budget > 1.0 ? budget : 1.0);
}

/* Totals and feasibility of a plan.  Returns SG_OK or SG_EINVAL with the reason. */
static int plan_totals(const sg_assign_problem *p, const int64_t *cap, const int32_t *arm,
                       int check_min_gain, sg_assign_stats *st, int64_t *count, sg_error *err)
{
    double value = 0, gain = 0, cost = 0;
    int64_t n_treated = 0;
    for (int a = 0; a < p->A; a++) count[a] = 0;
    for (int64_t i = 0; i < p->N; i++) {
        int a = arm[i];
        if (a < 0 || a >= p->A)
            return sg_error_set(err, SG_EINVAL,
                                "assign: customer %lld: arm %d out of range [0, %d)", (long long)i,
                                a, p->A);
        count[a]++;
        if (a == 0) continue;
        double c = cost_at(p, i, a), g = p->gain[i * p->A + a];
        if (check_min_gain && !(g - c > p->min_gain))
            return sg_error_set(err, SG_EINVAL, "assign: customer %lld, arm %d: gain - cost = %g "
                                "is not above min_gain %g", (long long)i, a, g - c, p->min_gain);
        value += g - c;
        gain += g;
        cost += c;
        n_treated++;
    }
    for (int a = 1; a < p->A; a++)
        if (count[a] > cap[a])
            return sg_error_set(err, SG_EINVAL, "assign: arm %d given to %lld customers, cap %lld",
                                a, (long long)count[a], (long long)cap[a]);
    if (!budget_fits(cost, p->budget))
        return sg_error_set(err, SG_EINVAL, "assign: plan costs %.17g, budget %.17g", cost,
                            p->budget);
    st->value = value;
    st->gain = gain;
    st->cost = cost;
    st->n_treated = n_treated;
    st->bound = NAN;
    st->lambda = NAN;
    st->rounds = 0;
    st->nodes = 0;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * phase 1: hulls and increments */

/* Increment order: key descending, then id ascending (a total order: ids are unique). */
static inline int inc_before(const inc *a, const inc *b)
{
    return a->key > b->key || (a->key == b->key && a->id < b->id);
}

static void inc_swap(inc *a, inc *b)
{
    inc t = *a;
    *a = *b;
    *b = t;
}

static void inc_heapsort(inc *a, int64_t n)
{
    for (int64_t start = n / 2 - 1, end = n;; ) {
        int64_t root;
        if (start >= 0) {
            root = start--;
        } else {
            if (--end <= 0) return;
            inc_swap(&a[0], &a[end]);
            root = 0;
        }
        for (;;) {   /* sift down, the "largest" being the last in order */
            int64_t c = 2 * root + 1;
            if (c >= end) break;
            if (c + 1 < end && inc_before(&a[c], &a[c + 1])) c++;
            if (!inc_before(&a[root], &a[c])) break;
            inc_swap(&a[root], &a[c]);
            root = c;
        }
    }
}

/* In-place sort of the increments: quicksort (median of three, recursing on the
 * smaller side) with a heapsort fallback when it degenerates, so no hidden
 * allocation (glibc's qsort mallocs a copy of the array) and O(n log n). */
static void inc_sort(inc *a, int64_t n, int depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            inc_heapsort(a, n);
            return;
        }
        int64_t m = n / 2;
        if (inc_before(&a[m], &a[0])) inc_swap(&a[m], &a[0]);
        if (inc_before(&a[n - 1], &a[0])) inc_swap(&a[n - 1], &a[0]);
        if (inc_before(&a[n - 1], &a[m])) inc_swap(&a[n - 1], &a[m]);
        inc pivot = a[m];
        int64_t i = 0, j = n - 1;
        for (;;) {   /* Hoare partition */
            while (inc_before(&a[i], &pivot)) i++;
            while (inc_before(&pivot, &a[j])) j--;
            if (i >= j) break;
            inc_swap(&a[i], &a[j]);
            i++;
            j--;
        }
        /* [0, j] and [j + 1, n) */
        if (j + 1 < n - j - 1) {
            inc_sort(a, j + 1, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            inc_sort(a + j + 1, n - j - 1, depth);
            n = j + 1;
        }
    }
    for (int64_t i = 1; i < n; i++) {
        inc t = a[i];
        int64_t j = i;
        while (j > 0 && inc_before(&t, &a[j - 1])) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = t;
    }
}

static void sort_increments(inc *a, int64_t n)
{
    int depth = 2;
    for (int64_t m = n; m > 1; m >>= 1) depth += 2;
    inc_sort(a, n, depth);
}

/* Build the hull of customer i under the current prices; returns its size. */
static int32_t build_hull(solver *s, int64_t i)
{
    const sg_assign_problem *p = s->p;
    int n = 0;
    /* eligible points with q > 0, insertion-sorted by cost asc, q desc, arm asc */
    for (int a = 1; a < s->A; a++) {
        if (!eligible(s, i, a)) continue;
        double q = net_at(p, i, a) - s->mu[a];
        if (!(q > 0)) continue;
        double c = cost_at(p, i, a);
        int j = n++;
        while (j > 0 && (s->pc[j - 1] > c || (s->pc[j - 1] == c && s->pq[j - 1] < q))) {
            s->pc[j] = s->pc[j - 1];
            s->pq[j] = s->pq[j - 1];
            s->pa[j] = s->pa[j - 1];
            j--;
        }
        s->pc[j] = c;
        s->pq[j] = q;
        s->pa[j] = a;
    }
    /* stack of point indices; -1 is the control at (0, 0) */
    int top = 0;
    s->stk[0] = -1;
#define PC(k) ((k) < 0 ? 0.0 : s->pc[k])
#define PQ(k) ((k) < 0 ? 0.0 : s->pq[k])
    for (int j = 0; j < n; j++) {
        int last = s->stk[top];
        if (last >= 0 && s->pc[j] == PC(last)) continue;   /* same cost, not better */
        if (s->pq[j] <= PQ(last)) continue;                 /* costs more, gives no more */
        while (top >= 1) {
            int k0 = s->stk[top - 1], k1 = s->stk[top];
            double cross = (PC(k1) - PC(k0)) * (s->pq[j] - PQ(k0))
                         - (PQ(k1) - PQ(k0)) * (s->pc[j] - PC(k0));
            if (cross < 0) break;   /* k1 strictly above the chord: keep it */
            top--;
        }
        s->stk[++top] = j;
    }
    for (int k = 1; k <= top; k++) s->hull[i * s->H + k - 1] = s->pa[s->stk[k]];
#undef PC
#undef PQ
    return top;
}

/* Hulls for everyone and the sorted increments; returns their number. */
static int64_t build_increments(solver *s)
{
    const sg_assign_problem *p = s->p;
    int64_t n = 0;
    for (int64_t i = 0; i < s->N; i++) {
        int32_t h = build_hull(s, i);
        double c0 = 0, q0 = 0;
        for (int k = 1; k <= h; k++) {
            int a = s->hull[i * s->H + k - 1];
            double c = cost_at(p, i, a), q = net_at(p, i, a) - s->mu[a];
            double dc = c - c0, dq = q - q0;
            s->incs[n].key = dc > 0 ? dq / dc : HUGE_VAL;
            s->incs[n].id = (uint64_t)i * (uint64_t)s->A + (uint64_t)k;
            n++;
            c0 = c;
            q0 = q;
        }
    }
    sort_increments(s->incs, n);
    return n;
}

/* ---------------------------------------------------------------------------
 * phase 2: greedy over the sorted increments */

/* Fills s->x; returns the break multiplier lambda (0 when the budget never
 * binds) and the number of increments skipped because of a cap. */
static double greedy(solver *s, int64_t n_inc, int64_t *cap_skips)
{
    const sg_assign_problem *p = s->p;
    double used = 0, lambda = 0;
    int broke = 0;
    int64_t skips = 0;
    for (int a = 0; a < s->A; a++) s->count[a] = 0;
    for (int64_t i = 0; i < s->N; i++) {
        s->pos[i] = 0;
        s->x[i] = 0;
    }
    for (int64_t t = 0; t < n_inc; t++) {
        int64_t i = (int64_t)(s->incs[t].id / (uint64_t)s->A);
        int k = (int)(s->incs[t].id % (uint64_t)s->A);
        if (s->pos[i] != k - 1) continue;   /* frozen, or an earlier vertex was skipped */
        int to = s->hull[i * s->H + k - 1];
        int from = k >= 2 ? s->hull[i * s->H + k - 2] : 0;
        double dc = cost_at(p, i, to) - cost_at(p, i, from);
        if (!fits(used + dc, s->budget)) {
            if (!broke) {
                broke = 1;
                lambda = s->incs[t].key;
            }
            s->pos[i] = -1;
            continue;
        }
        if (s->count[to] >= s->cap[to]) {
            skips++;
            s->pos[i] = -1;
            continue;
        }
        used += dc;
        if (from != 0) s->count[from]--;
        s->count[to]++;
        s->pos[i] = k;
        s->x[i] = to;
    }
    *cap_skips = skips;
    return lambda;
}

static double plan_value(const solver *s, const int32_t *x)
{
    double v = 0;
    for (int64_t i = 0; i < s->N; i++) v += net_at(s->p, i, x[i]);
    return v;
}

/* The Lagrangian dual D(lambda, mu) of assign.h: an upper bound on the optimum. */
static double dual_bound(const solver *s, double lambda)
{
    const sg_assign_problem *p = s->p;
    double d = 0;
    for (int64_t i = 0; i < s->N; i++) {
        double m = 0;
        for (int a = 1; a < s->A; a++) {
            if (!eligible(s, i, a)) continue;
            double t = net_at(p, i, a) - lambda * cost_at(p, i, a) - s->mu[a];
            if (t > m) m = t;
        }
        d += m;
    }
    if (lambda > 0) d += lambda * s->budget;
    for (int a = 1; a < s->A; a++)
        if (s->mu[a] > 0) d += s->mu[a] * (double)s->cap[a];
    return d;
}

/* ---------------------------------------------------------------------------
 * phase 3: arm prices */

/* k-th smallest (0-based) of v[0..n) by quickselect; reorders v. */
static double select_kth(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}

/* One Gauss-Seidel sweep over the capped arms at fixed lambda: mu[a] becomes the
 * smallest price at which at most cap[a] customers strictly prefer arm a, the
 * exact minimiser of D along mu[a]. */
static void price_sweep(solver *s, double lambda)
{
    const sg_assign_problem *p = s->p;
    for (int a = 1; a < s->A; a++) {
        if (s->cap[a] == INT64_MAX || s->cap[a] == 0) continue;
        int64_t n = 0;
        for (int64_t i = 0; i < s->N; i++) {
            if (!eligible(s, i, a)) continue;
            double other = 0;
            for (int b = 1; b < s->A; b++) {
                if (b == a || !eligible(s, i, b)) continue;
                double t = net_at(p, i, b) - lambda * cost_at(p, i, b) - s->mu[b];
                if (t > other) other = t;
            }
            double m = net_at(p, i, a) - lambda * cost_at(p, i, a) - other;
            if (m > 0) s->scratch[n++] = m;
        }
        s->mu[a] = n <= s->cap[a] ? 0.0 : select_kth(s->scratch, n, n - s->cap[a] - 1);
    }
}

/* ---------------------------------------------------------------------------
 * phase 4: exact search over the core */


typedef struct core {
    int K, A;
    int64_t *who;          /* (K) customers, most marginal first */
    int32_t *n_opt;        /* (K) options each (the control is always one) */
    int32_t *opt;          /* (K, A) arms, best guess first */
    double *v, *c;         /* (K, A) net value and cost of each option */
    double *s0, *s1;       /* (K + 1) suffix bounds: no budget / Lagrangian at 'lambda' */
    int32_t *cur, *bestc;  /* (K) option chosen on the current path / in the incumbent */
    int64_t *capl;         /* (A) customers each arm may still take inside the core */
    double lambda, best_v, tol;
    int improved;
    int64_t nodes, max_nodes;
    double slack;          /* budget rounding allowed (SOLVER_RTOL) */
} core;

static void dfs(core *cs, int k, double cur_v, double left)
{
    if (cs->nodes >= cs->max_nodes) return;
    cs->nodes++;
    if (k == cs->K) {
        if (cur_v > cs->best_v + cs->tol) {
            cs->best_v = cur_v;
            cs->improved = 1;
            memcpy(cs->bestc, cs->cur, (size_t)cs->K * sizeof *cs->cur);
        }
        return;
    }
    /* any lambda >= 0 gives a bound: sum of max(0, v - lambda c) + lambda * left */
    double ub = cur_v + cs->s0[k];
    if (cs->lambda > 0) {
        double ub1 = cur_v + cs->s1[k] + cs->lambda * left;
        if (ub1 < ub) ub = ub1;
    }
    if (ub <= cs->best_v + cs->tol) return;
    for (int o = 0; o < cs->n_opt[k]; o++) {
        int64_t j = (int64_t)k * cs->A + o;
        int a = cs->opt[j];
        double c = cs->c[j];
        if (c > 0 && c > left + cs->slack) continue;
        if (a != 0 && cs->capl[a] <= 0) continue;
        if (a != 0) cs->capl[a]--;
        cs->cur[k] = o;
        dfs(cs, k + 1, cur_v + cs->v[j], left - c);
        if (a != 0) cs->capl[a]++;
    }
}

/* Is (g1, i1) after (g2, i2) in (gap, index) order? */
static inline int gap_after(double g1, int64_t i1, double g2, int64_t i2)
{
    return g1 > g2 || (g1 == g2 && i1 > i2);
}

/* Score of arm a for customer i at the multipliers: what the Lagrangian picks by. */
static inline double lag_score(const solver *s, int64_t i, int a, double lambda)
{
    if (a == 0) return 0.0;
    return net_at(s->p, i, a) - lambda * cost_at(s->p, i, a) - s->mu[a];
}

/* Re-solve the K most marginal customers of plan x exactly (within the node
 * limit), the others fixed.  Returns SG_OK or SG_ENOMEM; *nodes gets the count. */
static int core_search(solver *s, int32_t *x, double lambda, int K, int64_t max_nodes,
                       int64_t *nodes)
{
    const sg_assign_problem *p = s->p;
    int A = s->A;
    int rc = SG_ENOMEM;
    core cs;
    memset(&cs, 0, sizeof cs);
    *nodes = 0;
    if (K > s->N) K = (int)s->N;
    double *hg = sg_malloc_array((size_t)K + 1, sizeof *hg);
    int64_t *hi = sg_malloc_array((size_t)K + 1, sizeof *hi);
    cs.who = sg_malloc_array((size_t)K + 1, sizeof *cs.who);
    cs.n_opt = sg_malloc_array((size_t)K + 1, sizeof *cs.n_opt);
    cs.opt = sg_malloc_array((size_t)K * A + 1, sizeof *cs.opt);
    cs.v = sg_malloc_array((size_t)K * A + 1, sizeof *cs.v);
    cs.c = sg_malloc_array((size_t)K * A + 1, sizeof *cs.c);
    cs.s0 = sg_malloc_array((size_t)K + 1, sizeof *cs.s0);
    cs.s1 = sg_malloc_array((size_t)K + 1, sizeof *cs.s1);
    cs.cur = sg_malloc_array((size_t)K + 1, sizeof *cs.cur);
    cs.bestc = sg_malloc_array((size_t)K + 1, sizeof *cs.bestc);
    cs.capl = sg_malloc_array((size_t)A, sizeof *cs.capl);
    double *sc = sg_malloc_array((size_t)A, sizeof *sc);
    if (!hg || !hi || !cs.who || !cs.n_opt || !cs.opt || !cs.v || !cs.c || !cs.s0 || !cs.s1 ||
        !cs.cur || !cs.bestc || !cs.capl || !sc)
        goto fail;

    /* the K customers with the smallest gap between their best and second-best
     * option at the multipliers, by a max-heap of size K */
    int n = 0;
    for (int64_t i = 0; i < s->N && K > 0; i++) {
        double t1 = 0, t2 = -INFINITY;   /* the control scores 0 */
        int n_el = 0;
        for (int a = 1; a < A; a++) {
            if (!eligible(s, i, a)) continue;
            n_el++;
            double t = lag_score(s, i, a, lambda);
            if (t > t1) {
                t2 = t1;
                t1 = t;
            } else if (t > t2) {
                t2 = t;
            }
        }
        if (n_el == 0) continue;   /* no choice to make */
        double g = t1 - t2;
        if (n == K) {
            if (!gap_after(hg[0], hi[0], g, i)) continue;
            /* replace the root and sift down */
            int j = 0;
            for (;;) {
                int l = 2 * j + 1, r = l + 1, m = j;
                double mg = g;
                int64_t mi = i;
                if (l < n && gap_after(hg[l], hi[l], mg, mi)) {
                    m = l;
                    mg = hg[l];
                    mi = hi[l];
                }
                if (r < n && gap_after(hg[r], hi[r], mg, mi)) m = r;
                if (m == j) break;
                hg[j] = hg[m];
                hi[j] = hi[m];
                j = m;
            }
            hg[j] = g;
            hi[j] = i;
        } else {
            int j = n++;
            while (j > 0 && gap_after(g, i, hg[(j - 1) / 2], hi[(j - 1) / 2])) {
                hg[j] = hg[(j - 1) / 2];
                hi[j] = hi[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            hg[j] = g;
            hi[j] = i;
        }
    }
    K = n;
    /* most marginal first (insertion sort: K is small) */
    for (int j = 1; j < K; j++) {
        double g = hg[j];
        int64_t ii = hi[j];
        int m = j;
        while (m > 0 && gap_after(hg[m - 1], hi[m - 1], g, ii)) {
            hg[m] = hg[m - 1];
            hi[m] = hi[m - 1];
            m--;
        }
        hg[m] = g;
        hi[m] = ii;
    }
    if (K == 0) {
        rc = SG_OK;
        goto fail;
    }

    /* the rest of the plan is fixed: what budget and caps remain for the core */
    cs.K = K;
    cs.A = A;
    for (int a = 0; a < A; a++) cs.capl[a] = s->cap[a];
    double fixed_cost = 0;
    for (int64_t i = 0; i < s->N; i++) {
        if (x[i] == 0) continue;
        fixed_cost += cost_at(p, i, x[i]);
        cs.capl[x[i]]--;
    }
    double core_cost = 0;
    cs.best_v = 0;
    for (int k = 0; k < K; k++) {
        int64_t i = hi[k];
        cs.who[k] = i;
        if (x[i] != 0) {
            core_cost += cost_at(p, i, x[i]);
            cs.capl[x[i]]++;
            cs.best_v += net_at(p, i, x[i]);
        }
        /* options: control and eligible arms, by Lagrangian score (ties by arm) */
        int m = 0;
        int32_t *op = cs.opt + (int64_t)k * A;
        for (int a = 0; a < A; a++) {
            if (a != 0 && !eligible(s, i, a)) continue;
            double t = lag_score(s, i, a, lambda);
            int j = m++;
            while (j > 0 && sc[j - 1] < t) {
                sc[j] = sc[j - 1];
                op[j] = op[j - 1];
                j--;
            }
            sc[j] = t;
            op[j] = a;
        }
        cs.n_opt[k] = m;
        cs.bestc[k] = 0;
        for (int o = 0; o < m; o++) {
            cs.v[(int64_t)k * A + o] = net_at(p, i, op[o]);
            cs.c[(int64_t)k * A + o] = cost_at(p, i, op[o]);
            if (op[o] == x[i]) cs.bestc[k] = o;
        }
    }
    fixed_cost -= core_cost;
    double left = isinf(s->budget) ? HUGE_VAL : s->budget - fixed_cost;
    cs.s0[K] = cs.s1[K] = 0;
    for (int k = K - 1; k >= 0; k--) {
        double m0 = 0, m1 = 0;
        for (int o = 0; o < cs.n_opt[k]; o++) {
            double v = cs.v[(int64_t)k * A + o], c = cs.c[(int64_t)k * A + o];
            if (v > m0) m0 = v;
            if (v - lambda * c > m1) m1 = v - lambda * c;
        }
        cs.s0[k] = cs.s0[k + 1] + m0;
        cs.s1[k] = cs.s1[k + 1] + m1;
    }
    cs.lambda = isinf(left) ? 0.0 : lambda;
    cs.tol = 1e-12 * (1.0 + fabs(cs.best_v));
    cs.slack = SOLVER_RTOL * (s->budget > 1.0 ? s->budget : 1.0);
    cs.max_nodes = max_nodes;
    cs.improved = 0;
    dfs(&cs, 0, 0.0, left);
    *nodes = cs.nodes;
    if (cs.improved)
        for (int k = 0; k < K; k++) x[cs.who[k]] = cs.opt[(int64_t)k * A + cs.bestc[k]];
    rc = SG_OK;
fail:
    sg_free(hg);
    sg_free(hi);
    sg_free(cs.who);
    sg_free(cs.n_opt);
    sg_free(cs.opt);
    sg_free(cs.v);
    sg_free(cs.c);
    sg_free(cs.s0);
    sg_free(cs.s1);
    sg_free(cs.cur);
    sg_free(cs.bestc);
    sg_free(cs.capl);
    sg_free(sc);
    return rc;
}

/* ---------------------------------------------------------------------------
 * phase 5: spend what is left on the best single upgrades that fit */

static void fill(solver *s, int32_t *x)
{
    const sg_assign_problem *p = s->p;
    int A = s->A;
    for (int pass = 0; pass < 4; pass++) {
        double used = 0;
        for (int a = 0; a < A; a++) s->count[a] = 0;
        for (int64_t i = 0; i < s->N; i++) {
            used += cost_at(p, i, x[i]);
            s->count[x[i]]++;
        }
        int64_t n = 0;
        for (int64_t i = 0; i < s->N; i++) {
            int cur = x[i];
            double vcur = net_at(p, i, cur), ccur = cost_at(p, i, cur);
            int best_a = -1;
            double best_dv = 0, best_dc = 0;
            for (int a = 1; a < A; a++) {
                if (a == cur || !eligible(s, i, a) || s->count[a] >= s->cap[a]) continue;
                double dv = net_at(p, i, a) - vcur;
                double dc = cost_at(p, i, a) - ccur;
                if (!(dv > 0) || !fits(used + dc, s->budget)) continue;
                if (best_a < 0 || dv > best_dv || (dv == best_dv && dc < best_dc)) {
                    best_a = a;
                    best_dv = dv;
                    best_dc = dc;
                }
            }
            if (best_a < 0) continue;
            s->incs[n].key = best_dv;
            s->incs[n].id = (uint64_t)i * (uint64_t)A + (uint64_t)best_a;
            n++;
        }
        if (n == 0) return;
        sort_increments(s->incs, n);
        int64_t applied = 0;
        for (int64_t t = 0; t < n; t++) {
            int64_t i = (int64_t)(s->incs[t].id / (uint64_t)A);
            int a = (int)(s->incs[t].id % (uint64_t)A);
            double dc = cost_at(p, i, a) - cost_at(p, i, x[i]);
            if (!fits(used + dc, s->budget) || s->count[a] >= s->cap[a]) continue;
            used += dc;
            s->count[x[i]]--;
            s->count[a]++;
            x[i] = a;
            applied++;
        }
        if (applied == 0) return;
    }
}

/* ---------------------------------------------------------------------------
 * the solver */

static void solver_free(solver *s)
{
    sg_free(s->cap);
    sg_free(s->mu);
    sg_free(s->hull);
    sg_free(s->pos);
    sg_free(s->incs);
    sg_free(s->x);
    sg_free(s->best);
    sg_free(s->scratch);
    sg_free(s->count);
    sg_free(s->pc);
    sg_free(s->pq);
    sg_free(s->pa);
    sg_free(s->stk);
}

int sg_assign_solve(const sg_assign_problem *p, const sg_assign_options *opt, int32_t *arm,
                    sg_assign_stats *st, sg_error *err)
{
    int rc = validate(p, arm, err);
    if (rc != SG_OK) return rc;
    sg_assign_options o;
    if (opt) o = *opt;
    else sg_assign_options_default(&o);
    if (o.core < 0 || o.max_nodes < 0 || o.cap_rounds < 1 || !(o.rtol >= 0))
        return sg_error_set(err, SG_EINVAL, "assign: options core = %d, max_nodes = %lld, "
                            "cap_rounds = %d, rtol = %g: need core >= 0, max_nodes >= 0, "
                            "cap_rounds >= 1, rtol >= 0",
                            o.core, (long long)o.max_nodes, o.cap_rounds, o.rtol);
    sg_assign_stats out;
    memset(&out, 0, sizeof out);
    if (p->N == 0 || p->A == 1) {
        for (int64_t i = 0; i < p->N; i++) arm[i] = 0;
        out.rounds = 1;
        if (st) *st = out;
        return SG_OK;
    }

    solver s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.N = p->N;
    s.A = p->A;
    s.H = p->A - 1;
    s.budget = p->budget;
    size_t N = (size_t)p->N, A = (size_t)p->A, H = A - 1;
    double *best_mu = NULL;
    rc = SG_ENOMEM;
    s.cap = sg_malloc_array(A, sizeof *s.cap);
    s.mu = sg_calloc(A, sizeof *s.mu);
    best_mu = sg_calloc(A, sizeof *best_mu);
    s.hull = sg_malloc_array(N * H, sizeof *s.hull);
    s.pos = sg_malloc_array(N, sizeof *s.pos);
    s.incs = sg_malloc_array(N * H, sizeof *s.incs);
    s.x = sg_malloc_array(N, sizeof *s.x);
    s.best = sg_malloc_array(N, sizeof *s.best);
    s.count = sg_malloc_array(A, sizeof *s.count);
    s.pc = sg_malloc_array(A, sizeof *s.pc);
    s.pq = sg_malloc_array(A, sizeof *s.pq);
    s.pa = sg_malloc_array(A, sizeof *s.pa);
    s.stk = sg_malloc_array(A, sizeof *s.stk);
    if (!s.cap || !s.mu || !best_mu || !s.hull || !s.pos || !s.incs || !s.x || !s.best ||
        !s.count || !s.pc || !s.pq || !s.pa || !s.stk)
        goto fail;
    effective_caps(p, s.cap);
    for (int a = 1; a < p->A; a++)
        if (s.cap[a] < p->N) s.any_cap = 1;
    if (s.any_cap) {
        s.scratch = sg_malloc_array(N, sizeof *s.scratch);
        if (!s.scratch) goto fail;
    }

    /* phases 1-3: greedy rounds, with price updates while caps bind */
    double best_value = -INFINITY, best_lambda = 0, bound = INFINITY, bound_lambda = 0;
    int rounds = 0, stall = 0;
    for (int r = 0; r < o.cap_rounds; r++) {
        int64_t n_inc = build_increments(&s);
        int64_t skips = 0;
        double lambda = greedy(&s, n_inc, &skips);
        double v = plan_value(&s, s.x);
        rounds = r + 1;
        double prev_best = best_value;
        if (v > best_value) {
            best_value = v;
            best_lambda = lambda;
            memcpy(s.best, s.x, N * sizeof *s.x);
            memcpy(best_mu, s.mu, A * sizeof *s.mu);
        }
        double d = dual_bound(&s, lambda);
        if (d < bound) {
            bound = d;
            bound_lambda = lambda;
        }
        SG_LOG(SG_LOG_DEBUG, "assign", "round %d: %lld increments, plan value %.6g, lambda %.6g, "
               "bound %.6g, %lld cap skips", rounds, (long long)n_inc, v, lambda, d,
               (long long)skips);
        if (!s.any_cap) break;
        int consistent = skips == 0;
        for (int a = 1; a < p->A; a++)
            if (s.mu[a] > 0 && s.count[a] < s.cap[a]) consistent = 0;
        /* stop at consistent prices, a gap within 'rtol', or two rounds without progress */
        double tol = o.rtol * (fabs(bound) > 1.0 ? fabs(bound) : 1.0);
        stall = best_value - prev_best <= tol ? stall + 1 : 0;
        if (consistent || bound - best_value <= tol || stall >= 2 || r + 1 == o.cap_rounds) break;
        price_sweep(&s, lambda);
        price_sweep(&s, lambda);
        d = dual_bound(&s, lambda);
        if (d < bound) {
            bound = d;
            bound_lambda = lambda;
        }
    }
    memcpy(s.mu, best_mu, A * sizeof *s.mu);

    /* phases 4-5 */
    int64_t nodes = 0;
    if (o.core > 0) {
        rc = core_search(&s, s.best, best_lambda, o.core, o.max_nodes, &nodes);
        if (rc != SG_OK) goto fail;
    }
    fill(&s, s.best);

    rc = plan_totals(p, s.cap, s.best, 1, &out, s.count, err);
    if (rc != SG_OK) {
        sg_error_prefix(err, "assign: internal check failed: ");
        rc = SG_EINTERNAL;
        if (err) err->code = rc;
        goto fail;
    }
    out.bound = bound;
    out.lambda = bound_lambda;
    out.rounds = rounds;
    out.nodes = nodes;
    SG_LOG(SG_LOG_DEBUG, "assign", "%lld customers x %d arms: %lld treated, value %.6g, cost %.6g, "
           "bound %.6g (gap %.3g%%)", (long long)p->N, p->A, (long long)out.n_treated, out.value,
           out.cost, bound, bound > 0 ? 100.0 * (bound - out.value) / bound : 0.0);
    memcpy(arm, s.best, N * sizeof *arm);
    if (st) *st = out;
    rc = SG_OK;
fail:
    if (rc == SG_ENOMEM) sg_error_set(err, rc, "assign: out of memory for %lld x %d arms",
                                      (long long)p->N, p->A);
    solver_free(&s);
    sg_free(best_mu);
    return rc;
}

/* ---------------------------------------------------------------------------
 * baselines and evaluation */

static int64_t *random_order(int64_t N, sg_rng *rng)
{
    int64_t *perm = sg_malloc_array((size_t)N + 1, sizeof *perm);
    if (!perm) return NULL;
    for (int64_t i = 0; i < N; i++) perm[i] = i;
    sg_rng_shuffle_i64(rng, perm, N);
    return perm;
}

/* Give arm a to customers in 'order' (NULL = row order) while the budget and
 * the cap allow; returns the plan's value, writes it to 'arm' when not NULL. */
static double single_arm_plan(const sg_assign_problem *p, const int64_t *cap,
                              const int64_t *order, int a, int32_t *arm)
{
    double used = 0, v = 0;
    int64_t n = 0;
    for (int64_t t = 0; t < p->N; t++) {
        int64_t i = order ? order[t] : t;
        double c = cost_at(p, i, a);
        int take = n < cap[a] && fits(used + c, p->budget);
        if (take) {
            used += c;
            v += net_at(p, i, a);
            n++;
        }
        if (arm) arm[i] = take ? a : 0;
    }
    return v;
}

int sg_assign_single_arm(const sg_assign_problem *p, int which, sg_rng *rng, int32_t *arm,
                         sg_assign_stats *st, sg_error *err)
{
    int rc = validate(p, arm, err);
    if (rc != SG_OK) return rc;
    if (which != -1 && (which < 1 || which >= p->A))
        return sg_error_set(err, SG_EINVAL, "assign: single arm %d out of range [1, %d)", which,
                            p->A);
    int64_t *cap = sg_malloc_array((size_t)p->A, sizeof *cap);
    int64_t *count = sg_malloc_array((size_t)p->A, sizeof *count);
    int64_t *order = NULL;
    rc = SG_ENOMEM;
    if (!cap || !count) goto fail;
    if (rng && p->N > 0) {
        order = random_order(p->N, rng);
        if (!order) goto fail;
    }
    effective_caps(p, cap);
    int best_a = which;
    if (which == -1 && p->A > 1) {   /* the arm whose plan is worth most; ties: lower arm */
        double best_v = 0;
        for (int a = 1; a < p->A; a++) {
            double v = single_arm_plan(p, cap, order, a, NULL);
            if (a == 1 || v > best_v) {
                best_a = a;
                best_v = v;
            }
        }
    }
    if (best_a > 0) {
        single_arm_plan(p, cap, order, best_a, arm);
    } else {   /* A == 1: there is nothing to give */
        for (int64_t i = 0; i < p->N; i++) arm[i] = 0;
    }
    sg_assign_stats out;
    rc = plan_totals(p, cap, arm, 0, &out, count, err);
    if (rc != SG_OK) {
        sg_error_prefix(err, "assign: internal check failed: ");
        rc = SG_EINTERNAL;
        if (err) err->code = rc;
        goto fail;
    }
    if (st) *st = out;
fail:
    if (rc == SG_ENOMEM) sg_error_set(err, rc, "assign: out of memory");
    sg_free(cap);
    sg_free(count);
    sg_free(order);
    return rc;
}

int sg_assign_random(const sg_assign_problem *p, sg_rng *rng, int32_t *arm, sg_assign_stats *st,
                     sg_error *err)
{
    int rc = validate(p, arm, err);
    if (rc != SG_OK) return rc;
    if (!rng) return sg_error_set(err, SG_EINVAL, "assign: random baseline needs an rng");
    int64_t *cap = sg_malloc_array((size_t)p->A, sizeof *cap);
    int64_t *count = sg_calloc((size_t)p->A, sizeof *count);
    int64_t *perm = random_order(p->N, rng);
    rc = SG_ENOMEM;
    if (!cap || !count || !perm) goto fail;
    effective_caps(p, cap);
    double used = 0;
    for (int64_t t = 0; t < p->N; t++) {
        int64_t i = perm[t];
        arm[i] = 0;
        if (p->A == 1) continue;
        int a = 1 + (int)sg_rng_below(rng, (uint64_t)p->A - 1);
        double c = cost_at(p, i, a);
        if (count[a] < cap[a] && fits(used + c, p->budget)) {
            used += c;
            count[a]++;
            arm[i] = a;
        }
    }
    sg_assign_stats out;
    rc = plan_totals(p, cap, arm, 0, &out, count, err);
    if (rc != SG_OK) {
        sg_error_prefix(err, "assign: internal check failed: ");
        rc = SG_EINTERNAL;
        if (err) err->code = rc;
        goto fail;
    }
    if (st) *st = out;
fail:
    if (rc == SG_ENOMEM) sg_error_set(err, rc, "assign: out of memory");
    sg_free(cap);
    sg_free(count);
    sg_free(perm);
    return rc;
}

int sg_assign_evaluate(const sg_assign_problem *p, const int32_t *arm, int ignore_min_gain,
                       sg_assign_stats *st, int64_t *count, sg_error *err)
{
    int rc = validate(p, arm, err);
    if (rc != SG_OK) return rc;
    int64_t *cap = sg_malloc_array((size_t)p->A, sizeof *cap);
    int64_t *cnt = count ? count : sg_malloc_array((size_t)p->A, sizeof *cnt);
    if (!cap || !cnt) {
        rc = sg_error_set(err, SG_ENOMEM, "assign: out of memory");
        goto fail;
    }
    effective_caps(p, cap);
    sg_assign_stats out;
    rc = plan_totals(p, cap, arm, !ignore_min_gain, &out, cnt, err);
    if (rc == SG_OK && st) *st = out;
fail:
    sg_free(cap);
    if (cnt != count) sg_free(cnt);
    return rc;
}
