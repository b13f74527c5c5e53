/* gbdt.c -- histogram gradient-boosted decision trees (see gbdt.h).
 *
 * N = rows, D = features, B = bins of one feature (<= 256, bin 0 = missing),
 * L = leaves of a tree, T = trees.
 *
 * Training bins every value once: numeric features get at most 'max_bins'
 * quantile bins computed from a deterministic sample of rows, categorical
 * features get one bin per code 0..K-1; bin 0 holds missing values (and
 * out-of-range codes).  Bins are stored row-major as uint8 (N, D): a row's bins
 * share one cache line, so a histogram pass reads each row once.  Trees grow
 * leaf-wise: the leaf with the best split is split next, the smaller child's
 * histogram is built from its rows and the larger one's is the parent's minus
 * the smaller (the subtraction trick).  Rows of a leaf are a contiguous range
 * of 'idx', kept in ascending order by a stable partition, so histogram and
 * partition passes walk memory forwards.
 *
 * Threads (OpenMP) share the histogram of a large leaf by row blocks, each
 * with its own partial histogram, added in block order; a small leaf's
 * histogram is split over features.  Block counts depend on the data only,
 * split searches keep the first best feature, partitions are stable, and
 * losses are reduced in fixed chunks, so a given seed gives a bit-identical
 * model for any thread count.  Loops take work items dynamically: on a busy
 * machine a descheduled thread does not hold the others up.
 *
 * Limits: N < 2^32 rows; categorical codes >= max_bins are treated as missing;
 * histograms of all live leaves are kept in a pool of at most about 256 MiB
 * (a leaf that lost its histogram rebuilds its children from rows).
 * See LICENSE for copyright. */
#include "stratagem/gbdt.h"

#include <math.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"
#include "io/serial.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#ifdef _OPENMP
#define OMP_PRAGMA(x) _Pragma(#x)
#define OMP(...) OMP_PRAGMA(omp __VA_ARGS__)
#define THREAD_ID() omp_get_thread_num()
#define THREAD_COUNT() omp_get_num_threads()
#else
#define OMP(...)
#define THREAD_ID() 0
#define THREAD_COUNT() 1
#endif

#define PREFETCH 32                 /* rows to fetch ahead in histogram gathers */
#define PREFETCH_PART 64            /* and in partitions, whose iterations are shorter */

#define GBDT_MAGIC 0x54444247u      /* "GBDT" */
#define GBDT_VERSION 1u
#define MAX_TREES 10000000
#define MAX_LEAVES 65536
#define MAX_FEATURES (1 << 22)       /* keeps histogram offsets in int32 */
#define NODE_BYTES 40               /* one node in the file */
#define BIN_SAMPLE 200000           /* rows sampled to find quantile bins */
#define CAT_SMOOTH 10.0             /* categories sort on G / (H + CAT_SMOOTH) */
#define CAT_L2 10.0                 /* extra L2 in the gain of a categorical split */
#define CAT_MIN_DATA 10.0           /* rarer categories of a node join the missing group */
#define CAT_MAX_THRESHOLD 32        /* at most this many categories on the scanned side */
#define LOSS_CHUNK 16384            /* rows per partial sum: fixed, so sums are reproducible */
#define HIST_POOL_BYTES ((size_t)256 << 20)   /* histograms of live leaves */
#define VALUES_PER_THREAD ((int64_t)1 << 19)   /* training uses <= N * D / this threads */
#define PAR_MIN_WORK 32768          /* rows x features below which a pass stays serial */
#define HIST_BLK_ROWS 32768         /* rows per partial histogram of a large leaf */
#define HIST_BLK_BYTES ((size_t)64 << 20)   /* memory for partial histograms */
#define MAX_HIST_BLK 64
#define PART_BLK 16384              /* rows per block of a parallel partition */
#define ROW_CHUNK 4096              /* rows per work item of row-parallel loops */

#ifdef TESTING
/* tests shrink these to force evictions and threads on small data */
static size_t hist_pool_bytes = HIST_POOL_BYTES;
static int64_t values_per_thread = VALUES_PER_THREAD;
static int64_t n_evictions;
#define COUNT_EVICTION() (n_evictions++)
#else
#define COUNT_EVICTION() ((void)0)
#define hist_pool_bytes HIST_POOL_BYTES
#define values_per_thread VALUES_PER_THREAD
#endif

/* ---------------------------------------------------------------- model */

typedef struct gbdt_node {
    int32_t feature;       /* split feature, -1 for a leaf */
    int32_t left, right;   /* children as indices within the tree, > this node's index */
    int32_t cat;           /* row of 'cat_bits' for a categorical split, else -1 */
    float threshold;       /* numeric split: x <= threshold goes left */
    uint8_t default_left;  /* missing values go left */
    uint8_t bin;           /* training only: numeric split sends bins 1..bin left */
    double value;          /* leaf output (learning rate applied), 0 for inner nodes */
    double gain;           /* split gain, 0 for leaves */
} gbdt_node;

struct sg_gbdt {
    sg_gbdt_params params;
    int D;
    uint8_t *is_cat;       /* (D) */
    int32_t *cat_k;        /* (D) codes 0..K-1 of a categorical feature; 0 for numeric */
    double base_score;     /* initial margin */
    int n_trees;
    int64_t n_nodes, n_bits;
    int64_t *tree_off;     /* (n_trees + 1) first node of each tree in 'nodes' */
    gbdt_node *nodes;      /* (n_nodes) */
    uint32_t *cat_bits;    /* (n_bits, 8) bins sent left by each categorical split */
    int64_t cap_trees, cap_nodes, cap_bits;   /* allocated rows, grown while training */
};

static int resolve_threads(int n)
{
#ifdef _OPENMP
    return n > 0 ? n : omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bit_test(const uint32_t *bits, int b) { return (bits[b >> 5] >> (b & 31)) & 1; }
static inline void bit_set(uint32_t *bits, int b) { bits[b >> 5] |= 1u << (b & 31); }

/* Bin of a categorical code: code + 1 for 0 <= code < K, else 0 (missing). */
static inline int cat_bin(float v, int K)
{
    return (v >= 0.0f && v < (float)K) ? (int)v + 1 : 0;
}

/* First index i with c[i] >= x (n when none), without branches on the data. */
static inline int lower_bound_f(const float *c, int n, float x)
{
    if (n == 0) return 0;
    const float *base = c;
    while (n > 1) {
        int half = n / 2;
        base += (base[half] < x) ? half : 0;
        n -= half;
    }
    return (int)(base - c) + (*base < x);
}

#define PRED_BLK 64   /* rows walked through a tree together */
#define SWEEP_MAX_K 64  /* values of a swept feature: one bit each in a mask */

/* Add one tree's leaf values to out (n <= PRED_BLK rows of X (n, D)).  The rows
 * step down the tree together, one level per pass, so the node loads of
 * different rows overlap instead of each row waiting on its own chain, and
 * the direction of a split is computed without branches. */
static void tree_predict_block(const sg_gbdt *m, const gbdt_node *tr, const float *X, int64_t n,
                               int D, double *out)
{
    int32_t pos[PRED_BLK];
    for (int64_t i = 0; i < n; i++) pos[i] = 0;
    for (int active = 1; active;) {
        active = 0;
        for (int64_t i = 0; i < n; i++) {
            const gbdt_node *nd = &tr[pos[i]];
            int f = nd->feature, inner = f >= 0, left;
            float v = X[(size_t)i * D + (inner ? f : 0)];
            if (nd->cat >= 0)
                left = bit_test(m->cat_bits + 8 * (size_t)nd->cat, cat_bin(v, m->cat_k[f]));
            else
                left = (v <= nd->threshold) | ((v != v) & nd->default_left);
            int next = left ? nd->left : nd->right;
            pos[i] = inner ? next : pos[i];
            active |= inner;
        }
    }
    for (int64_t i = 0; i < n; i++) out[i] += tr[pos[i]].value;
}

/* The leaf value one row of bins reaches (training only; same path as on the raw row). */
static double tree_predict_bins(const sg_gbdt *m, const gbdt_node *tr, const uint8_t *row)
{
    int k = 0;
    while (tr[k].feature >= 0) {
        const gbdt_node *nd = &tr[k];
        int b = row[nd->feature], left;
        if (nd->cat >= 0)
            left = bit_test(m->cat_bits + 8 * (size_t)nd->cat, b);
        else
            left = b == 0 ? nd->default_left : b <= nd->bin;
        k = left ? nd->left : nd->right;
    }
    return tr[k].value;
}

void sg_gbdt_free(sg_gbdt *m)
{
    if (!m) return;
    sg_free(m->is_cat);
    sg_free(m->cat_k);
    sg_free(m->tree_off);
    sg_free(m->nodes);
    sg_free(m->cat_bits);
    sg_free(m);
}

static sg_gbdt *model_new(int D)
{
    sg_gbdt *m = sg_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->D = D;
    m->is_cat = sg_calloc((size_t)D, 1);
    m->cat_k = sg_calloc((size_t)D, sizeof *m->cat_k);
    m->tree_off = sg_calloc(1, sizeof *m->tree_off);
    m->cap_trees = 0;
    if (!m->is_cat || !m->cat_k || !m->tree_off) {
        sg_gbdt_free(m);
        return NULL;
    }
    return m;
}

/* Room for one more tree of up to L leaves; the tree growth itself never allocates. */
static int model_reserve(sg_gbdt *m, int L)
{
    if (m->n_trees + 2 > m->cap_trees) {
        int64_t cap = m->cap_trees ? 2 * m->cap_trees : 64;
        int64_t *p = sg_realloc(m->tree_off, (size_t)cap * sizeof *p);
        if (!p) return SG_ENOMEM;
        m->tree_off = p;
        m->cap_trees = cap;
    }
    if (m->n_nodes + 2 * L > m->cap_nodes) {
        int64_t cap = SG_MAX(2 * m->cap_nodes, m->n_nodes + 2 * (int64_t)L + 64);
        gbdt_node *p = sg_realloc(m->nodes, (size_t)cap * sizeof *p);
        if (!p) return SG_ENOMEM;
        m->nodes = p;
        m->cap_nodes = cap;
    }
    if (m->n_bits + L > m->cap_bits) {
        int64_t cap = SG_MAX(2 * m->cap_bits, m->n_bits + (int64_t)L + 16);
        uint32_t *p = sg_realloc(m->cat_bits, (size_t)cap * 8 * sizeof *p);
        if (!p) return SG_ENOMEM;
        m->cat_bits = p;
        m->cap_bits = cap;
    }
    return SG_OK;
}

/* ---------------------------------------------------------------- params */

void sg_gbdt_params_default(sg_gbdt_params *p)
{
    memset(p, 0, sizeof *p);
    p->objective = SG_GBDT_LOGLOSS;
    p->n_trees = 300;
    p->max_depth = 6;
    p->max_leaves = 31;
    p->learning_rate = 0.1f;
    p->min_child_weight = 1.0f;
    p->min_split_gain = 0.0f;
    p->lambda_l2 = 1.0f;
    p->subsample = 1.0f;
    p->colsample = 1.0f;
    p->max_bins = 255;
    p->early_stopping = 0;
    p->seed = SG_DEFAULT_SEED;
    p->n_threads = 0;
    p->verbose = 0;
    p->free_feature = -1;
}

/* SG_OK or 'code' (SG_EINVAL when training, SG_EPARSE when loading). */
static int check_params(const sg_gbdt_params *p, int code, sg_error *err)
{
    if (p->objective != SG_GBDT_LOGLOSS && p->objective != SG_GBDT_SQUARED)
        return sg_error_set(err, code, "objective is %d; it must be SG_GBDT_LOGLOSS (0) "
                            "or SG_GBDT_SQUARED (1)", p->objective);
    if (p->n_trees < 1 || p->n_trees > MAX_TREES)
        return sg_error_set(err, code, "n_trees is %d; it must be in 1..%d", p->n_trees,
                            MAX_TREES);
    if (p->max_depth < 0)
        return sg_error_set(err, code, "max_depth is %d; it must be >= 0 (0 = no limit)",
                            p->max_depth);
    if (p->max_leaves < 2 || p->max_leaves > MAX_LEAVES)
        return sg_error_set(err, code, "max_leaves is %d; it must be in 2..%d",
                            p->max_leaves, MAX_LEAVES);
    if (!(p->learning_rate > 0.0f) || !isfinite(p->learning_rate))
        return sg_error_set(err, code, "learning_rate is %g; it must be > 0 and finite",
                            (double)p->learning_rate);
    if (!(p->min_child_weight >= 0.0f) || !isfinite(p->min_child_weight))
        return sg_error_set(err, code, "min_child_weight is %g; it must be >= 0",
                            (double)p->min_child_weight);
    if (!(p->min_split_gain >= 0.0f) || !isfinite(p->min_split_gain))
        return sg_error_set(err, code, "min_split_gain is %g; it must be >= 0",
                            (double)p->min_split_gain);
    if (!(p->lambda_l2 >= 0.0f) || !isfinite(p->lambda_l2))
        return sg_error_set(err, code, "lambda_l2 is %g; it must be >= 0",
                            (double)p->lambda_l2);
    if (!(p->subsample > 0.0f && p->subsample <= 1.0f))
        return sg_error_set(err, code, "subsample is %g; it must be in (0, 1]",
                            (double)p->subsample);
    if (!(p->colsample > 0.0f && p->colsample <= 1.0f))
        return sg_error_set(err, code, "colsample is %g; it must be in (0, 1]",
                            (double)p->colsample);
    if (p->max_bins < 2 || p->max_bins > 255)
        return sg_error_set(err, code, "max_bins is %d; it must be in 2..255", p->max_bins);
    if (p->early_stopping < 0)
        return sg_error_set(err, code, "early_stopping is %d; it must be >= 0 (0 = off)",
                            p->early_stopping);
    if (p->n_threads < 0)
        return sg_error_set(err, code, "n_threads is %d; it must be >= 0 (0 = all cores)",
                            p->n_threads);
    if (p->verbose < 0)
        return sg_error_set(err, code, "verbose is %d; it must be >= 0", p->verbose);
    return SG_OK;
}

/* ---------------------------------------------------------------- trainer state */

typedef struct split {
    double gain;           /* loss reduction; only meaningful when feature >= 0 */
    int feature;           /* -1 = no valid split */
    int bin;               /* numeric: bins 1..bin go left */
    int default_left;      /* missing values (categorical: the rare-category group) go left */
    double GL, HL;         /* gradient and hessian sums of the left child */
    uint32_t bits[8];      /* categorical: bins going left */
} split;

typedef struct leaf {
    int node;              /* node index within the current tree */
    int depth;
    int hist;              /* histogram buffer in the pool, -1 = none */
    int64_t begin, end;    /* its rows are idx[begin..end) */
    double G, H;           /* gradient and hessian sums */
    int path_feat;         /* with free_feature: the other feature on its path, -1 none */
    split best;
} leaf;

typedef struct trainer {
    const sg_gbdt_params *p;
    sg_gbdt *m;
    int64_t N, Nv;
    int D, nt;
    const float *y, *w, *yv;
    uint8_t *bins;         /* (N, D) bin of every value, row-major */
    uint8_t *vbins;        /* (Nv, D) */
    float *cuts;           /* (D, 256) upper bounds of the value bins of numeric features */
    int32_t *n_cuts;       /* (D) */
    int32_t *nb;           /* (D) bins of each feature, the missing bin included */
    int32_t *off;          /* (D) first bin of each feature in a histogram */
    int64_t total_bins;
    float *gh;             /* (N, 2) gradient and hessian of the current round */
    double *F, *Fv;        /* (N), (Nv) margins */
    uint32_t *idx, *tmp;   /* (N) rows of the current tree grouped by leaf; scratch */
    uint8_t *in_bag;       /* (N) row is used by the current tree */
    int64_t n_bag;
    int *feats;            /* (D) features of the current tree, ascending */
    int32_t *foff;         /* (D) histogram offsets of 'feats' (in bins) */
    int64_t *fbyte;        /* (D) the same in bytes */
    int n_feats;
    double *pool;          /* (n_pool, total_bins, 2) histograms */
    int n_pool, n_free;
    int *free_hist;        /* (n_pool) */
    leaf *leaves;          /* (max_leaves) */
    int n_leaves;
    split *fbest;          /* (2, D) best split per feature of two leaves */
    double *partial;       /* (chunks) loss partial sums */
    int64_t *part_cnt;     /* (2, N / PART_BLK + 2) rows sent left per partition block,
                              then left and right offsets */
    double *blk;           /* (max_blk - 1, total_bins, 2) partial histograms */
    int max_blk;
    double wsum;
    sg_rng rng;
} trainer;

static void trainer_deinit(trainer *t)
{
    sg_free(t->bins);
    sg_free(t->vbins);
    sg_free(t->cuts);
    sg_free(t->n_cuts);
    sg_free(t->nb);
    sg_free(t->off);
    sg_free(t->gh);
    sg_free(t->F);
    sg_free(t->Fv);
    sg_free(t->idx);
    sg_free(t->tmp);
    sg_free(t->in_bag);
    sg_free(t->feats);
    sg_free(t->foff);
    sg_free(t->fbyte);
    sg_free(t->pool);
    sg_free(t->free_hist);
    sg_free(t->leaves);
    sg_free(t->fbest);
    sg_free(t->partial);
    sg_free(t->part_cnt);
    sg_free(t->blk);
}

/* ---------------------------------------------------------------- binning */

/* Order-preserving uint32 key of a float (NaN excluded), and back. */
static uint32_t float_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? k & 0x7FFFFFFFu : ~k;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* LSD radix sort of n keys, a byte per pass; tmp (n) is scratch.  The result is in k. */
static void radix_sort_u32(uint32_t *k, uint32_t *tmp, int64_t n)
{
    if (n < 2) return;
    uint32_t *src = k, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        int64_t cnt[257] = {0};
        for (int64_t i = 0; i < n; i++) cnt[((src[i] >> shift) & 0xFF) + 1]++;
        if (cnt[((src[0] >> shift) & 0xFF) + 1] == n) continue;   /* all share this byte */
        for (int b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
        for (int64_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & 0xFF]++] = src[i];
        uint32_t *sw = src;
        src = dst;
        dst = sw;
    }
    if (src != k) memcpy(k, src, (size_t)n * sizeof *k);
}

/* A cut c with a <= c < b, so that a goes to the lower bin and b to the upper. */
static float midpoint(float a, float b)
{
    float c = (float)(0.5 * ((double)a + (double)b));
    return c < b ? c : a;
}

/* Cuts of one numeric feature from its sorted values s (n): one bin per distinct
 * value when there are at most 'max_bins', else cuts at the quantiles. */
static int make_cuts(const float *s, int64_t n, int max_bins, float *cuts)
{
    if (n == 0) return 0;
    int64_t nd = 1;
    for (int64_t i = 1; i < n && nd <= max_bins; i++) nd += s[i] != s[i - 1];
    int n_cuts = 0;
    if (nd <= max_bins) {
        for (int64_t i = 1; i < n; i++)
            if (s[i] != s[i - 1]) cuts[n_cuts++] = midpoint(s[i - 1], s[i]);
        return n_cuts;
    }
    for (int k = 1; k < max_bins; k++) {
        float v = s[(int64_t)k * n / max_bins];
        int64_t lo = 0, hi = n;   /* first index holding v */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (s[mid] < v) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) continue;
        float c = midpoint(s[lo - 1], v);
        if (n_cuts == 0 || c > cuts[n_cuts - 1]) cuts[n_cuts++] = c;
    }
    return n_cuts;
}

static void bin_rows(const trainer *t, const float *X, int64_t n, uint8_t *out)
{
    const int D = t->D;
    const uint8_t *is_cat = t->m->is_cat;
    const int32_t *cat_k = t->m->cat_k;
    OMP(parallel for num_threads(t->nt) schedule(dynamic, ROW_CHUNK) if (n * D > PAR_MIN_WORK))
    for (int64_t i = 0; i < n; i++) {
        const float *x = X + (size_t)i * D;
        uint8_t *o = out + (size_t)i * D;
        for (int f = 0; f < D; f++) {
            float v = x[f];
            if (is_cat[f])
                o[f] = (uint8_t)cat_bin(v, cat_k[f]);
            else
                o[f] = isnan(v) ? 0
                                : (uint8_t)(1 + lower_bound_f(t->cuts + (size_t)f * 256,
                                                              t->n_cuts[f], v));
        }
    }
}

/* Bin boundaries of every feature, from up to BIN_SAMPLE rows of positive weight. */
static int build_bins(trainer *t, const float *X, const float *Xv, sg_error *err)
{
    const int D = t->D, max_bins = t->p->max_bins;
    const int64_t N = t->N;
    uint32_t *rows = NULL;
    uint32_t *scratch = NULL;
    int64_t n_el = 0;
    for (int64_t i = 0; i < N; i++) n_el += !t->w || t->w[i] > 0.0f;
    int64_t S = SG_MIN(n_el, (int64_t)BIN_SAMPLE);
    const size_t S1 = (size_t)SG_MAX(S, 1);
    rows = sg_malloc_array(S1, sizeof *rows);
    const int nt = SG_MIN(t->nt, D);   /* threads over features, 3 scratch arrays each */
    scratch = sg_malloc_array((size_t)nt * 3 * S1, sizeof *scratch);
    if (!rows || !scratch) {
        sg_free(rows);
        sg_free(scratch);
        return sg_error_set(err, SG_ENOMEM, "gbdt: out of memory sampling rows for binning");
    }
    /* selection sampling (Knuth's algorithm S): exactly S rows, in order */
    sg_rng rng;
    sg_rng_split(&t->rng, 0x62696e73u, &rng);
    int64_t got = 0, seen = 0;
    for (int64_t i = 0; i < N && got < S; i++) {
        if (t->w && !(t->w[i] > 0.0f)) continue;
        if (S == n_el || (double)(n_el - seen) * sg_rng_uniform(&rng) < (double)(S - got))
            rows[got++] = (uint32_t)i;
        seen++;
    }
    int64_t n_high = 0;   /* categorical codes >= max_bins, treated as missing */
    OMP(parallel for num_threads(nt) schedule(dynamic, 1) reduction(+ : n_high))
    for (int f = 0; f < D; f++) {
        uint32_t *keys = scratch + (size_t)THREAD_ID() * 3 * S1, *tmp = keys + S1;
        float *vals = (float *)(tmp + S1);   /* only ever accessed as float */
        if (t->m->is_cat[f]) {
            float hi = -1.0f;
            for (int64_t i = 0; i < N; i++) {
                if (t->w && !(t->w[i] > 0.0f)) continue;
                float v = X[(size_t)i * D + f];
                if (v >= (float)max_bins) n_high++;
                else if (v >= 0.0f && v > hi) hi = v;
            }
            t->m->cat_k[f] = hi >= 0.0f ? (int32_t)hi + 1 : 0;
            t->nb[f] = t->m->cat_k[f] + 1;
            t->n_cuts[f] = 0;
            continue;
        }
        int64_t n = 0;
        for (int64_t j = 0; j < S; j++) {
            float v = X[(size_t)rows[j] * D + f];
            if (!isnan(v)) keys[n++] = float_key(v);
        }
        radix_sort_u32(keys, tmp, n);
        for (int64_t j = 0; j < n; j++) vals[j] = key_float(keys[j]);
        t->n_cuts[f] = make_cuts(vals, n, max_bins, t->cuts + (size_t)f * 256);
        t->nb[f] = t->n_cuts[f] + 2;
    }
    sg_free(rows);
    sg_free(scratch);
    if (n_high)
        SG_LOG(SG_LOG_WARN, "gbdt", "%lld categorical values are >= max_bins (%d): treated as "
               "missing", (long long)n_high, max_bins);
    int64_t tot = 0;
    for (int f = 0; f < D; f++) {
        t->off[f] = (int32_t)tot;
        tot += t->nb[f];
    }
    t->total_bins = tot;
    bin_rows(t, X, N, t->bins);
    if (t->Nv > 0) bin_rows(t, Xv, t->Nv, t->vbins);
    return SG_OK;
}

/* ---------------------------------------------------------------- losses and gradients */

/* Gradients and hessians of the margins F for the next tree.  Returns the
 * weighted mean training loss (logloss, or RMSE for squared error) when
 * 'want_loss', else the sum of the margins: either is non-finite exactly when
 * some margin is, which is what the per-round check needs, and skipping the
 * log1p per row saves a tenth of a round. */
static double grad_loss(trainer *t, int want_loss)
{
    const int64_t N = t->N, n_chunks = (N + LOSS_CHUNK - 1) / LOSS_CHUNK;
    const int logloss = t->p->objective == SG_GBDT_LOGLOSS;
    const float *y = t->y, *w = t->w;
    const double *F = t->F;
    float *gh = t->gh;
    double *partial = t->partial;
    OMP(parallel for num_threads(t->nt) schedule(dynamic, 1) if (N > PAR_MIN_WORK))
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t a = c * LOSS_CHUNK, b = SG_MIN(N, a + LOSS_CHUNK);
        double s = 0;
        for (int64_t i = a; i < b; i++) {
            double wi = w ? (double)w[i] : 1.0, f = F[i], yi = (double)y[i];
            if (logloss) {
                /* in float, as the gradients are stored: p and 1 - p both computed
                 * directly, so neither loses relative precision when tiny */
                float e = expf(-fabsf((float)f)), hi = 1.0f / (1.0f + e), lo = e * hi;
                float pr = f >= 0 ? hi : lo, q = f >= 0 ? lo : hi, wf = (float)wi;
                if (want_loss) s += wi * (log1p((double)e) + (f > 0 ? f : 0.0) - yi * f);
                else s += f;
                gh[2 * i] = (y[i] > 0.5f ? -q : pr) * wf;   /* p - y, y in {0, 1} */
                float hh = hi * lo;
                gh[2 * i + 1] = (hh > 1e-16f ? hh : 1e-16f) * wf;   /* fmaxf is a call */
            } else {
                double r = f - yi;
                s += want_loss ? wi * r * r : f;
                gh[2 * i] = (float)(r * wi);
                gh[2 * i + 1] = (float)wi;
            }
        }
        partial[c] = s;
    }
    double s = 0;
    for (int64_t c = 0; c < n_chunks; c++) s += partial[c];
    if (!want_loss) return s;
    return logloss ? s / t->wsum : sqrt(s / t->wsum);
}

/* Unweighted mean loss of the validation margins (logloss, or RMSE). */
static double valid_loss(trainer *t)
{
    const int64_t N = t->Nv, n_chunks = (N + LOSS_CHUNK - 1) / LOSS_CHUNK;
    const int logloss = t->p->objective == SG_GBDT_LOGLOSS;
    const float *y = t->yv;
    const double *F = t->Fv;
    double *partial = t->partial;
    OMP(parallel for num_threads(t->nt) schedule(dynamic, 1) if (N > PAR_MIN_WORK))
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t a = c * LOSS_CHUNK, b = SG_MIN(N, a + LOSS_CHUNK);
        double s = 0;
        for (int64_t i = a; i < b; i++) {
            double f = F[i], yi = (double)y[i];
            if (logloss) s += log1p(exp(-fabs(f))) + (f > 0 ? f : 0.0) - yi * f;
            else s += (f - yi) * (f - yi);
        }
        partial[c] = s;
    }
    double s = 0;
    for (int64_t c = 0; c < n_chunks; c++) s += partial[c];
    return logloss ? s / (double)N : sqrt(s / (double)N);
}

/* ---------------------------------------------------------------- histograms */

/* Histogram (sum of gradient, hessian per bin) of features feats[ka..kb) over
 * rows idx[b..e) (rows b..e when idx is NULL). */
static void hist_range(const trainer *t, double *hist, const uint32_t *idx, int64_t b, int64_t e,
                       int ka, int kb)
{
    const int D = t->D;
    const uint8_t *bins = t->bins;
    const float *gh = t->gh;
    const int *fi = t->feats;
    const int64_t *fob = t->fbyte;
    const int all = t->n_feats == D;   /* feats[k] == k: one load less per value */
    char *hb = (char *)hist;
    for (int k = ka; k < kb; k++)
        memset(hb + fob[k], 0, (size_t)t->nb[fi[k]] * 2 * sizeof *hist);
    for (int64_t i = b; i < e; i++) {
        size_t r = idx ? idx[i] : (size_t)i;
        const uint8_t *row = bins + r * (size_t)D;
        if (idx && i + PREFETCH < e) {
            /* rows of deep leaves are scattered: fetch ahead to hide memory latency */
            size_t rp = idx[i + PREFETCH];
            PREFETCH_READ(bins + rp * (size_t)D);
            PREFETCH_READ(gh + 2 * rp);
        }
        /* one update = byte offset of the feature + 16 * bin: few instructions,
         * which is what bounds this loop once the rows are in cache */
#if defined(__SSE2__)
        /* (g, h) widened to doubles and added as one 16-byte pair */
        __m128d v = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(gh + 2 * r))));
#define HIST_ADD(k, bin)                                                        \
        do {                                                                    \
            double *hp = (double *)(hb + fob[k] + 16 * (size_t)(bin));          \
            _mm_storeu_pd(hp, _mm_add_pd(_mm_loadu_pd(hp), v));                 \
        } while (0)
#else
        double g = (double)gh[2 * r], h = (double)gh[2 * r + 1];
#define HIST_ADD(k, bin)                                                        \
        do {                                                                    \
            double *hp = (double *)(hb + fob[k] + 16 * (size_t)(bin));          \
            hp[0] += g;                                                         \
            hp[1] += h;                                                         \
        } while (0)
#endif
        int k = ka;
        if (all) {
            for (; k + 4 <= kb; k += 4) {
                HIST_ADD(k, row[k]);
                HIST_ADD(k + 1, row[k + 1]);
                HIST_ADD(k + 2, row[k + 2]);
                HIST_ADD(k + 3, row[k + 3]);
            }
            for (; k < kb; k++) HIST_ADD(k, row[k]);
        } else {
            for (; k + 4 <= kb; k += 4) {
                HIST_ADD(k, row[fi[k]]);
                HIST_ADD(k + 1, row[fi[k + 1]]);
                HIST_ADD(k + 2, row[fi[k + 2]]);
                HIST_ADD(k + 3, row[fi[k + 3]]);
            }
            for (; k < kb; k++) HIST_ADD(k, row[fi[k]]);
        }
#undef HIST_ADD
    }
}

/* Histogram of the current tree's features over leaf rows idx[b..e).
 *
 * A large leaf is cut into blocks whose number depends only on its row count;
 * threads take blocks dynamically (a descheduled thread does not hold the
 * others up), each block fills its own partial histogram, and the partials are
 * added in block order.  A small leaf is one block, split over features.
 * Either way every bin is summed in an order fixed by the data alone, so the
 * result is the same for any thread count. */
static void hist_build(trainer *t, double *hist, int64_t b, int64_t e)
{
    const int nf = t->n_feats;
    const uint32_t *idx = (b == 0 && e == t->N) ? NULL : t->idx;   /* all rows: idx = 0..N-1 */
    const int64_t n = e - b;
    const int n_blk = (int)SG_MIN((int64_t)t->max_blk, SG_MAX((int64_t)1, n / HIST_BLK_ROWS));
    if (n_blk == 1) {
        /* waking a thread costs about as much as 10^5 bin updates */
        int nt = (t->nt > 1 && n * nf >= 4 * PAR_MIN_WORK) ? SG_MIN(t->nt, nf) : 1;
        (void)nt;
        OMP(parallel num_threads(nt) if (nt > 1))
        {
            int tid = THREAD_ID(), n_th = THREAD_COUNT();
            hist_range(t, hist, idx, b, e, nf * tid / n_th, nf * (tid + 1) / n_th);
        }
        return;
    }
    const size_t stride = 2 * (size_t)t->total_bins;
    OMP(parallel num_threads(t->nt) if (t->nt > 1))
    {
        OMP(for schedule(dynamic, 1))
        for (int j = 0; j < n_blk; j++)
            hist_range(t, j ? t->blk + (size_t)(j - 1) * stride : hist, idx,
                       b + n * j / n_blk, b + n * (j + 1) / n_blk, 0, nf);
        OMP(for schedule(dynamic, 1))
        for (int k = 0; k < nf; k++) {
            size_t a = 2 * (size_t)t->foff[k], z = a + 2 * (size_t)t->nb[t->feats[k]];
            for (int j = 1; j < n_blk; j++) {
                const double *pj = t->blk + (size_t)(j - 1) * stride;
                for (size_t q = a; q < z; q++) hist[q] += pj[q];
            }
        }
    }
}

static double *hist_at(const trainer *t, int h) { return t->pool + (size_t)h * 2 * t->total_bins; }

/* A free histogram buffer; when none is left, the one of the leaf with the
 * lowest pending gain is taken (that leaf will build its children from rows).
 * Leaves whose split is not searched yet (best.feature < 0) are never taken. */
static int hist_acquire(trainer *t)
{
    if (t->n_free > 0) return t->free_hist[--t->n_free];
    int victim = -1;
    for (int l = 0; l < t->n_leaves; l++) {
        const leaf *lf = &t->leaves[l];
        if (lf->hist < 0 || lf->best.feature < 0) continue;
        if (victim < 0 || lf->best.gain < t->leaves[victim].best.gain) victim = l;
    }
    /* the pool holds >= 3 buffers, a split holds at most 2 and every other
     * leaf holding one has a searched split, so a victim exists */
    int h = t->leaves[victim].hist;
    t->leaves[victim].hist = -1;
    COUNT_EVICTION();
    return h;
}

static void hist_release(trainer *t, int h)
{
    if (h >= 0) t->free_hist[t->n_free++] = h;
}

/* ---------------------------------------------------------------- split search */

/* Best numeric split of one feature's histogram h (nb, 2): left = value bins
 * 1..b, missing (bin 0) tried on both sides. */
static void find_numeric(const double *h, int nb, double G, double H, double l2, double mcw,
                         split *s)
{
    const double gm = h[0], hm = h[1], eps = 1e-10 * H;
    double best = -(double)INFINITY, GL = 0, HL = 0;
    s->feature = -1;
#define TRY(gl, hl, dl, bb)                                                              \
    do {                                                                                 \
        double gl_ = (gl), hl_ = (hl), gr_ = G - gl_, hr_ = H - hl_;                     \
        if (hl_ >= mcw && hr_ >= mcw && hl_ > eps && hr_ > eps) {                        \
            double g_ = gl_ * gl_ / (hl_ + l2) + gr_ * gr_ / (hr_ + l2);                 \
            if (g_ > best) {                                                             \
                best = g_;                                                               \
                s->bin = (bb);                                                           \
                s->default_left = (dl);                                                  \
                s->GL = gl_;                                                             \
                s->HL = hl_;                                                             \
            }                                                                            \
        }                                                                                \
    } while (0)
    for (int b = 1; b < nb - 1; b++) {
        GL += h[2 * b];
        HL += h[2 * b + 1];
        if (h[2 * b + 1] == 0.0) continue;   /* empty bin: same partition as b - 1 */
        TRY(GL, HL, 0, b);
        if (hm > 0) TRY(GL + gm, HL + hm, 1, b);
    }
    if (hm > 0 && nb >= 2) TRY(G - gm, H - hm, 0, nb - 1);   /* values left, missing right */
#undef TRY
    if (best == -(double)INFINITY) return;
    s->gain = best - G * G / (H + l2);
    s->feature = 0;
    /* no missing value here: unseen ones follow the heavier child */
    if (hm == 0) s->default_left = s->HL >= H - s->HL;
}

/* Best categorical split (LightGBM style): categories with enough rows are
 * sorted on G / (H + CAT_SMOOTH) and prefixes of up to CAT_MAX_THRESHOLD of
 * them from either end go left; missing and rare categories form one group
 * tried on both sides. */
static void find_categorical(const double *h, int nb, double G, double H, double cnt_factor,
                             double l2, double mcw, split *s)
{
    int order[256], n_el = 0;
    double key[256];
    double Gr = h[0], Hr = h[1];
    const double eps = 1e-10 * H;
    s->feature = -1;
    l2 += CAT_L2;
    for (int b = 1; b < nb; b++) {
        if (h[2 * b + 1] <= 0) continue;
        if (h[2 * b + 1] * cnt_factor < CAT_MIN_DATA) {
            Gr += h[2 * b];
            Hr += h[2 * b + 1];
            continue;
        }
        /* insertion sort on the ratio; ties keep bin order */
        double k = h[2 * b] / (h[2 * b + 1] + CAT_SMOOTH);
        int j = n_el++;
        while (j > 0 && key[j - 1] > k) {
            key[j] = key[j - 1];
            order[j] = order[j - 1];
            j--;
        }
        key[j] = k;
        order[j] = b;
    }
    double best = -(double)INFINITY;
    int best_dir = 0, best_k = 0;
    int kmax = SG_MIN(CAT_MAX_THRESHOLD, n_el);
    for (int dir = 0; dir < 2; dir++) {
        double GL = 0, HL = 0;
        for (int k = 0; k < kmax; k++) {
            int b = order[dir ? n_el - 1 - k : k];
            GL += h[2 * b];
            HL += h[2 * b + 1];
            for (int dl = 0; dl < 2; dl++) {
                if (dl && Hr <= 0) break;
                double gl = dl ? GL + Gr : GL, hl = dl ? HL + Hr : HL;
                double gr = G - gl, hr = H - hl;
                if (hl < mcw || hr < mcw || hl <= eps || hr <= eps) continue;
                double g = gl * gl / (hl + l2) + gr * gr / (hr + l2);
                if (g > best) {
                    best = g;
                    best_dir = dir;
                    best_k = k + 1;
                    s->default_left = dl;
                    s->GL = gl;
                    s->HL = hl;
                }
            }
        }
    }
    if (best == -(double)INFINITY) return;
    s->gain = best - G * G / (H + l2);
    s->feature = 0;
    s->bin = 0;
    memset(s->bits, 0, sizeof s->bits);
    if (s->default_left) {
        /* the rare group: bin 0, every non-eligible bin, and bins no training row reaches */
        uint8_t elig[256] = {0};
        for (int j = 0; j < n_el; j++) elig[order[j]] = 1;
        for (int b = 0; b < 256; b++)
            if (!elig[b]) bit_set(s->bits, b);
    }
    for (int k = 0; k < best_k; k++) bit_set(s->bits, order[best_dir ? n_el - 1 - k : k]);
}

static int leaf_splittable(const trainer *t, const leaf *lf)
{
    const sg_gbdt_params *p = t->p;
    if (p->max_depth > 0 && lf->depth >= p->max_depth) return 0;
    if (lf->end - lf->begin < 2) return 0;
    return lf->H >= 2.0 * (double)p->min_child_weight && lf->H > 0;
}

/* Best splits of n (1 or 2) leaves whose histograms are built, searched in one
 * pass over leaves x features; the first best feature wins. */
static void find_splits(trainer *t, leaf *const *lv, int n)
{
    const double l2 = (double)t->p->lambda_l2, mcw = (double)t->p->min_child_weight;
    const int nf = t->n_feats;
    int par = t->nt > 1 && n * nf >= 2 && (int64_t)n * t->total_bins >= 16384;
    (void)par;
    OMP(parallel for num_threads(t->nt) schedule(dynamic, 4) if (par))
    for (int q = 0; q < n * nf; q++) {
        const leaf *lf = lv[q / nf];
        int k = q % nf, f = t->feats[k];
        split *s = &t->fbest[q];
        if (t->p->free_feature >= 0 && f != t->p->free_feature && lf->path_feat >= 0 &&
            f != lf->path_feat) {
            s->feature = -1;
            continue;
        }
        const double *h = hist_at(t, lf->hist) + 2 * (size_t)t->foff[k];
        if (t->m->is_cat[f])
            find_categorical(h, t->nb[f], lf->G, lf->H, (double)(lf->end - lf->begin) / lf->H,
                             l2, mcw, s);
        else
            find_numeric(h, t->nb[f], lf->G, lf->H, l2, mcw, s);
        if (s->feature >= 0) s->feature = f;
    }
    for (int c = 0; c < n; c++) {
        leaf *lf = lv[c];
        const split *fb = t->fbest + (size_t)c * nf;
        lf->best.feature = -1;
        lf->best.gain = -INFINITY;
        for (int k = 0; k < nf; k++)
            if (fb[k].feature >= 0 && fb[k].gain > lf->best.gain) lf->best = fb[k];
        if (!(lf->best.feature >= 0 && lf->best.gain > (double)t->p->min_split_gain)) {
            /* never split: its histogram is not needed */
            hist_release(t, lf->hist);
            lf->hist = -1;
            lf->best.feature = -1;
        }
    }
}

/* ---------------------------------------------------------------- tree growth */

/* Stable partition of idx[b..e) by lut[bin of feature f]: rows going left first.
 * Returns the number of rows going left.  Large ranges are cut into blocks
 * that threads take dynamically; the result is the same stable partition. */
static int64_t partition(trainer *t, int64_t b, int64_t e, int f, const uint8_t lut[256])
{
    uint32_t *idx = t->idx, *tmp = t->tmp;
    const uint8_t *col = t->bins + f;
    const size_t D = (size_t)t->D;
    const int64_t n = e - b;
    if (t->nt <= 1 || n < 2 * PART_BLK) {
        int64_t nl = 0, nr = 0;
        for (int64_t i = b; i < e; i++) {
            uint32_t r = idx[i];
            if (i + PREFETCH_PART < e) PREFETCH_READ(col + idx[i + PREFETCH_PART] * D);
            int l = lut[col[r * D]];
            idx[b + nl] = r;   /* b + nl <= i: that slot was read already */
            tmp[nr] = r;
            nl += l;
            nr += 1 - l;
        }
        memcpy(idx + b + nl, tmp, (size_t)nr * sizeof *idx);
        return nl;
    }
    const int64_t n_blk = (n + PART_BLK - 1) / PART_BLK;
    int64_t *cnt = t->part_cnt, *rpre = t->part_cnt + n_blk, total_left = 0;
    OMP(parallel num_threads(t->nt))
    {
        OMP(for schedule(dynamic, 1))
        for (int64_t j = 0; j < n_blk; j++) {
            /* lefts fill tmp[ca..] forwards, rights tmp[..ce) backwards */
            int64_t ca = b + j * PART_BLK, ce = SG_MIN(e, ca + PART_BLK), nl = 0, nr = 0;
            for (int64_t i = ca; i < ce; i++) {
                uint32_t r = idx[i];
                if (i + PREFETCH_PART < ce) PREFETCH_READ(col + idx[i + PREFETCH_PART] * D);
                int l = lut[col[r * D]];
                tmp[ca + nl] = r;
                tmp[ce - 1 - nr] = r;
                nl += l;
                nr += 1 - l;
            }
            cnt[j] = nl;
        }
        OMP(single)
        {
            int64_t l = 0, r = 0;
            for (int64_t j = 0; j < n_blk; j++) {
                int64_t nl = cnt[j], nj = SG_MIN(e, b + (j + 1) * PART_BLK) - (b + j * PART_BLK);
                cnt[j] = l;
                rpre[j] = r;
                l += nl;
                r += nj - nl;
            }
            total_left = l;
        }
        OMP(for schedule(dynamic, 1))
        for (int64_t j = 0; j < n_blk; j++) {
            int64_t ca = b + j * PART_BLK, ce = SG_MIN(e, ca + PART_BLK);
            int64_t nl = (j + 1 < n_blk ? cnt[j + 1] : total_left) - cnt[j], nr = ce - ca - nl;
            memcpy(idx + b + cnt[j], tmp + ca, (size_t)nl * sizeof *idx);
            uint32_t *dst = idx + b + total_left + rpre[j];
            for (int64_t q = 0; q < nr; q++) dst[q] = tmp[ce - 1 - q];
        }
    }
    return total_left;
}

static double leaf_value(const trainer *t, double G, double H)
{
    double den = H + (double)t->p->lambda_l2;
    return den > 0 ? -G / den * (double)t->p->learning_rate : 0.0;
}

/* Split leaf 'li' on its best split: new nodes, partition, children's
 * histograms (smaller one built, larger one by subtraction) and best splits. */
static void split_leaf(trainer *t, int li, gbdt_node *tn, int *n_tn)
{
    sg_gbdt *m = t->m;
    leaf *lf = &t->leaves[li];
    const split s = lf->best;
    const int f = s.feature;
    int P = lf->hist;
    lf->hist = -1;

    gbdt_node *nd = &tn[lf->node];
    int ln = (*n_tn)++, rn = (*n_tn)++;
    nd->feature = f;
    nd->left = ln;
    nd->right = rn;
    nd->gain = s.gain;
    nd->value = 0;
    uint8_t lut[256];
    if (m->is_cat[f]) {
        int64_t c = m->n_bits++;
        memcpy(m->cat_bits + 8 * c, s.bits, sizeof s.bits);
        nd->cat = (int32_t)c;
        nd->threshold = 0;
        nd->bin = 0;
        nd->default_left = (uint8_t)bit_test(s.bits, 0);
        for (int b = 0; b < 256; b++) lut[b] = (uint8_t)bit_test(s.bits, b);
    } else {
        nd->cat = -1;
        nd->bin = (uint8_t)s.bin;
        nd->default_left = (uint8_t)s.default_left;
        nd->threshold = s.bin <= t->n_cuts[f] ? t->cuts[(size_t)f * 256 + s.bin - 1] : INFINITY;
        lut[0] = (uint8_t)s.default_left;
        for (int b = 1; b < 256; b++) lut[b] = b <= s.bin;
    }
    for (int c = 0; c < 2; c++) {
        gbdt_node *ch = &tn[c ? rn : ln];
        memset(ch, 0, sizeof *ch);
        ch->feature = -1;
        ch->left = ch->right = ch->cat = -1;
    }

    int64_t b = lf->begin, e = lf->end;
    int64_t nl = partition(t, b, e, f, lut);
    int pf = f == t->p->free_feature ? lf->path_feat : f;
    leaf L = {.node = ln, .depth = lf->depth + 1, .hist = -1, .begin = b, .end = b + nl,
              .G = s.GL, .H = s.HL, .path_feat = pf};
    leaf R = {.node = rn, .depth = lf->depth + 1, .hist = -1, .begin = b + nl, .end = e,
              .G = lf->G - s.GL, .H = lf->H - s.HL, .path_feat = pf};
    L.best.feature = R.best.feature = -1;
    L.best.gain = R.best.gain = -INFINITY;
    int ri = t->n_leaves++;
    t->leaves[li] = L;
    t->leaves[ri] = R;
    leaf *lc = &t->leaves[li], *rc = &t->leaves[ri];

    int last = t->n_leaves >= t->p->max_leaves;
    int need_l = !last && leaf_splittable(t, lc), need_r = !last && leaf_splittable(t, rc);
    leaf *small = (lc->end - lc->begin <= rc->end - rc->begin) ? lc : rc;
    leaf *large = small == lc ? rc : lc;
    int need_small = small == lc ? need_l : need_r, need_large = large == lc ? need_l : need_r;
    if (need_large && P >= 0) {
        int S = hist_acquire(t);
        double *hs = hist_at(t, S), *hp = hist_at(t, P);
        hist_build(t, hs, small->begin, small->end);
        for (int k = 0; k < t->n_feats; k++) {
            size_t a = 2 * (size_t)t->foff[k], z = a + 2 * (size_t)t->nb[t->feats[k]];
            for (size_t j = a; j < z; j++) hp[j] -= hs[j];
        }
        large->hist = P;
        if (need_small) small->hist = S;
        else hist_release(t, S);
    } else {
        if (need_small) {
            small->hist = P >= 0 ? P : hist_acquire(t);
            P = -1;
            hist_build(t, hist_at(t, small->hist), small->begin, small->end);
        }
        if (need_large) {
            large->hist = hist_acquire(t);
            hist_build(t, hist_at(t, large->hist), large->begin, large->end);
        }
        hist_release(t, P);
    }
    leaf *ch[2];
    int n_ch = 0;
    if (lc->hist >= 0) ch[n_ch++] = lc;
    if (rc->hist >= 0) ch[n_ch++] = rc;
    if (n_ch) find_splits(t, ch, n_ch);
}

/* Grow one tree on rows idx[0..n_bag) into the model (room reserved). */
static void grow_tree(trainer *t)
{
    sg_gbdt *m = t->m;
    const sg_gbdt_params *p = t->p;
    gbdt_node *tn = m->nodes + m->n_nodes;
    int n_tn = 1;
    memset(tn, 0, sizeof *tn);
    tn[0].feature = tn[0].left = tn[0].right = tn[0].cat = -1;

    t->n_free = 0;
    for (int h = t->n_pool - 1; h >= 0; h--) t->free_hist[t->n_free++] = h;
    t->n_leaves = 1;
    leaf *root = &t->leaves[0];
    memset(root, 0, sizeof *root);
    root->node = 0;
    root->hist = -1;
    root->begin = 0;
    root->end = t->n_bag;
    root->path_feat = -1;
    root->best.feature = -1;
    root->best.gain = -INFINITY;
    root->H = INFINITY;   /* provisional, so that leaf_splittable looks at the other limits */
    int can = leaf_splittable(t, root);
    if (can) {
        root->hist = hist_acquire(t);
        const double *h = hist_at(t, root->hist);
        hist_build(t, hist_at(t, root->hist), 0, t->n_bag);
        double G = 0, H = 0;
        const double *h0 = h + 2 * (size_t)t->foff[0];
        for (int b = 0; b < t->nb[t->feats[0]]; b++) {
            G += h0[2 * b];
            H += h0[2 * b + 1];
        }
        root->G = G;
        root->H = H;
        if (leaf_splittable(t, root)) find_splits(t, &root, 1);
    } else {
        double G = 0, H = 0;
        for (int64_t i = 0; i < t->n_bag; i++) {
            G += (double)t->gh[2 * (size_t)t->idx[i]];
            H += (double)t->gh[2 * (size_t)t->idx[i] + 1];
        }
        root->G = G;
        root->H = H;
    }
    while (t->n_leaves < p->max_leaves) {
        int best = -1;
        for (int l = 0; l < t->n_leaves; l++) {
            const split *s = &t->leaves[l].best;
            if (s->feature < 0 || !(s->gain > (double)p->min_split_gain)) continue;
            if (best < 0 || s->gain > t->leaves[best].best.gain) best = l;
        }
        if (best < 0) break;
        split_leaf(t, best, tn, &n_tn);
    }
    for (int l = 0; l < t->n_leaves; l++) {
        const leaf *lf = &t->leaves[l];
        tn[lf->node].value = leaf_value(t, lf->G, lf->H);
    }
    m->n_nodes += n_tn;
    m->tree_off[m->n_trees + 1] = m->n_nodes;
    m->n_trees++;
}

/* Add the newest tree to the training and validation margins. */
static void update_margins(trainer *t)
{
    const sg_gbdt *m = t->m;
    const gbdt_node *tr = m->nodes + m->tree_off[m->n_trees - 1];
    const int D = t->D;
    OMP(parallel for num_threads(t->nt) schedule(dynamic, 1) if (t->n_bag > PAR_MIN_WORK))
    for (int l = 0; l < t->n_leaves; l++) {
        const leaf *lf = &t->leaves[l];
        double v = tr[lf->node].value;
        for (int64_t i = lf->begin; i < lf->end; i++) t->F[t->idx[i]] += v;
    }
    if (t->n_bag < t->N) {
        OMP(parallel for num_threads(t->nt) schedule(dynamic, ROW_CHUNK) if (t->N > PAR_MIN_WORK))
        for (int64_t i = 0; i < t->N; i++)
            if (!t->in_bag[i]) t->F[i] += tree_predict_bins(m, tr, t->bins + (size_t)i * D);
    }
    OMP(parallel for num_threads(t->nt) schedule(dynamic, ROW_CHUNK) if (t->Nv > PAR_MIN_WORK))
    for (int64_t i = 0; i < t->Nv; i++)
        t->Fv[i] += tree_predict_bins(m, tr, t->vbins + (size_t)i * D);
}

/* Rows (positive weight, Bernoulli 'subsample') and features ('colsample') of the next tree. */
static void sample_tree(trainer *t)
{
    const float sub = t->p->subsample;
    int64_t n = 0;
    for (int64_t i = 0; i < t->N; i++) {
        int in = (!t->w || t->w[i] > 0.0f) &&
                 (sub >= 1.0f || sg_rng_uniform(&t->rng) < (double)sub);
        t->in_bag[i] = (uint8_t)in;
        if (in) t->idx[n++] = (uint32_t)i;
    }
    t->n_bag = n;
    const int D = t->D;
    int k = D;
    if (t->p->colsample < 1.0f) k = SG_MAX(1, (int)lround((double)t->p->colsample * D));
    for (int f = 0; f < D; f++) t->feats[f] = f;
    if (k < D) {
        for (int i = 0; i < k; i++) {   /* partial Fisher-Yates, then ascending order */
            int j = i + (int)sg_rng_below(&t->rng, (uint64_t)(D - i));
            int x = t->feats[i];
            t->feats[i] = t->feats[j];
            t->feats[j] = x;
        }
        for (int i = 1; i < k; i++) {
            int x = t->feats[i], j = i;
            while (j > 0 && t->feats[j - 1] > x) {
                t->feats[j] = t->feats[j - 1];
                j--;
            }
            t->feats[j] = x;
        }
    }
    t->n_feats = k;
    for (int i = 0; i < k; i++) {
        t->foff[i] = t->off[t->feats[i]];
        t->fbyte[i] = (int64_t)t->foff[i] * 2 * (int64_t)sizeof(double);
    }
}

/* ---------------------------------------------------------------- training */

static int check_inputs(sg_gbdt **out, const float *X, const float *y, const float *w, int64_t N,
                        int D, const float *Xv, const float *yv, int64_t Nv,
                        const sg_gbdt_params *p, double *wsum, sg_error *err)
{
    if (!out || !p) return sg_error_set(err, SG_EINVAL, "gbdt: 'out' and 'p' must not be NULL");
    int rc = check_params(p, SG_EINVAL, err);
    if (rc) {
        sg_error_prefix(err, "gbdt: ");
        return rc;
    }
    if (!X || !y) return sg_error_set(err, SG_EINVAL, "gbdt: X and y must not be NULL");
    if (N < 1 || N >= (int64_t)UINT32_MAX)
        return sg_error_set(err, SG_EINVAL, "gbdt: %lld training rows; need 1..%lld",
                            (long long)N, (long long)UINT32_MAX - 1);
    if (D < 1 || D > MAX_FEATURES)
        return sg_error_set(err, SG_EINVAL, "gbdt: %d features; need 1..%d", D, MAX_FEATURES);
    if (p->free_feature < -1 || p->free_feature >= D)
        return sg_error_set(err, SG_EINVAL, "gbdt: free_feature is %d; it must be a feature "
                            "0..%d, or -1 for trees without constraint", p->free_feature, D - 1);
    if (Nv < 0 || (Nv > 0 && (!Xv || !yv)))
        return sg_error_set(err, SG_EINVAL, "gbdt: validation set of %lld rows needs Xv and yv",
                            (long long)Nv);
    if (p->early_stopping > 0 && Nv == 0)
        return sg_error_set(err, SG_EINVAL, "gbdt: early_stopping = %d needs a validation set",
                            p->early_stopping);
    const int logloss = p->objective == SG_GBDT_LOGLOSS;
    for (int s = 0; s < 2; s++) {
        const float *lab = s ? yv : y;
        int64_t n = s ? Nv : N;
        for (int64_t i = 0; i < n; i++) {
            float v = lab[i];
            if (logloss && v != 0.0f && v != 1.0f)
                return sg_error_set(err, SG_EINVAL, "gbdt: %slabel at row %lld is %g; logloss "
                                    "needs 0 or 1", s ? "validation " : "", (long long)i,
                                    (double)v);
            if (!isfinite(v))
                return sg_error_set(err, SG_EINVAL, "gbdt: %slabel at row %lld is %g; labels "
                                    "must be finite", s ? "validation " : "", (long long)i,
                                    (double)v);
        }
    }
    double ws = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? (double)w[i] : 1.0;
        if (!(wi >= 0) || !isfinite(wi))
            return sg_error_set(err, SG_EINVAL, "gbdt: weight at row %lld is %g; weights must "
                                "be finite and >= 0", (long long)i, wi);
        ws += wi;
    }
    if (!(ws > 0)) return sg_error_set(err, SG_EINVAL, "gbdt: all sample weights are 0");
    *wsum = ws;
    return SG_OK;
}

static int trainer_init(trainer *t, sg_gbdt *m, const sg_gbdt_params *p, int64_t N, int D,
                        int64_t Nv)
{
    t->p = p;
    t->m = m;
    t->N = N;
    t->D = D;
    t->Nv = Nv;
    /* small data gains little from threads and loses the wake-ups: one thread
     * per VALUES_PER_THREAD values at most (the model does not depend on the count) */
    t->nt = (int)SG_MIN((int64_t)resolve_threads(p->n_threads),
                        SG_MAX((int64_t)1, N * D / values_per_thread));
    const size_t n = (size_t)N, d = (size_t)D, L = (size_t)p->max_leaves;
    int64_t chunks = (SG_MAX(N, Nv) + LOSS_CHUNK - 1) / LOSS_CHUNK;
    t->bins = sg_malloc_array(n, d);
    t->vbins = sg_malloc_array((size_t)SG_MAX(Nv, 1), d);
    t->cuts = sg_malloc_array(d * 256, sizeof *t->cuts);
    t->n_cuts = sg_calloc(d, sizeof *t->n_cuts);
    t->nb = sg_calloc(d, sizeof *t->nb);
    t->off = sg_calloc(d, sizeof *t->off);
    t->gh = sg_malloc_array(2 * n, sizeof *t->gh);
    t->F = sg_malloc_array(n, sizeof *t->F);
    t->Fv = sg_malloc_array((size_t)SG_MAX(Nv, 1), sizeof *t->Fv);
    t->idx = sg_malloc_array(n, sizeof *t->idx);
    t->tmp = sg_malloc_array(n, sizeof *t->tmp);
    t->in_bag = sg_malloc(n);
    t->feats = sg_malloc_array(d, sizeof *t->feats);
    t->foff = sg_malloc_array(d, sizeof *t->foff);
    t->fbyte = sg_malloc_array(d, sizeof *t->fbyte);
    t->leaves = sg_malloc_array(L, sizeof *t->leaves);
    t->fbest = sg_malloc_array(2 * d, sizeof *t->fbest);
    t->partial = sg_malloc_array((size_t)chunks, sizeof *t->partial);
    t->part_cnt = sg_malloc_array(2 * (size_t)(N / PART_BLK + 2), sizeof *t->part_cnt);
    if (!t->bins || !t->vbins || !t->cuts || !t->n_cuts || !t->nb || !t->off || !t->gh ||
        !t->F || !t->Fv || !t->idx || !t->tmp || !t->in_bag || !t->feats || !t->foff ||
        !t->fbyte || !t->leaves || !t->fbest || !t->partial || !t->part_cnt)
        return SG_ENOMEM;
    return SG_OK;
}

/* The histogram pool, once the bins per feature are known. */
static int trainer_pool(trainer *t)
{
    size_t hist_bytes = (size_t)t->total_bins * 2 * sizeof(double);
    size_t n = SG_MAX((size_t)3, hist_pool_bytes / SG_MAX(hist_bytes, (size_t)1));
    n = SG_MIN(n, (size_t)t->p->max_leaves + 1);
    t->n_pool = (int)n;
    t->pool = sg_malloc_array(n, hist_bytes);
    t->free_hist = sg_malloc_array(n, sizeof *t->free_hist);
    /* partial histograms of large leaves: a fixed count, whatever the thread count */
    size_t nblk = SG_MIN(HIST_BLK_BYTES / SG_MAX(hist_bytes, (size_t)1), (size_t)MAX_HIST_BLK);
    nblk = SG_MIN(nblk, (size_t)(t->N / HIST_BLK_ROWS));
    t->max_blk = (int)SG_MAX(nblk, (size_t)1);
    if (t->max_blk > 1) t->blk = sg_malloc_array((size_t)t->max_blk - 1, hist_bytes);
    return t->pool && t->free_hist && (t->max_blk == 1 || t->blk) ? SG_OK : SG_ENOMEM;
}

int sg_gbdt_train(sg_gbdt **out, const float *X, const float *y, const float *w, int64_t N,
                  int D, const uint8_t *is_cat, const float *Xv, const float *yv, int64_t Nv,
                  const sg_gbdt_params *p, sg_error *err)
{
    return sg_gbdt_train_offset(out, X, y, w, NULL, N, D, is_cat, Xv, yv, NULL, Nv, p, err);
}

int sg_gbdt_train_offset(sg_gbdt **out, const float *X, const float *y, const float *w,
                         const double *off, int64_t N, int D, const uint8_t *is_cat,
                         const float *Xv, const float *yv, const double *offv, int64_t Nv,
                         const sg_gbdt_params *p, sg_error *err)
{
    double wsum = 0;
    int rc = check_inputs(out, X, y, w, N, D, Xv, yv, Nv, p, &wsum, err);
    if (rc) return rc;
    if (off && Nv > 0 && !offv)
        return sg_error_set(err, SG_EINVAL, "gbdt: training offsets need validation offsets too");
    for (int s = 0; off && s < 2; s++) {
        const double *o = s ? offv : off;
        int64_t n = s ? Nv : N;
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(o[i]))
                return sg_error_set(err, SG_EINVAL, "gbdt: %soffset at row %lld is %g; offsets "
                                    "must be finite", s ? "validation " : "", (long long)i, o[i]);
    }
    const double t0 = now_s();
    const int logloss = p->objective == SG_GBDT_LOGLOSS;
    const char *loss_name = logloss ? "logloss" : "rmse";
    trainer t;
    memset(&t, 0, sizeof t);
    sg_gbdt *m = model_new(D);
    if (!m || trainer_init(&t, m, p, N, D, Nv)) {
        rc = sg_error_set(err, SG_ENOMEM, "gbdt: out of memory allocating training buffers "
                          "for %lld x %d rows", (long long)N, D);
        goto fail;
    }
    m->params = *p;
    t.y = y;
    t.w = w;
    t.yv = yv;
    t.wsum = wsum;
    sg_rng_init(&t.rng, p->seed);
    int n_cat = 0;
    for (int f = 0; f < D; f++) {
        m->is_cat[f] = is_cat && is_cat[f];
        n_cat += m->is_cat[f];
    }
    SG_LOG(p->verbose > 0 ? SG_LOG_INFO : SG_LOG_DEBUG, "gbdt", "training on %lld rows x %d features (%d categorical), %lld "
           "validation rows: %s, %d trees, learning_rate %g, max_leaves %d, max_depth %d, "
           "lambda_l2 %g, min_child_weight %g, subsample %g, colsample %g, max_bins %d, "
           "early_stopping %d, %d threads, seed %llu",
           (long long)N, D, n_cat, (long long)Nv, loss_name, p->n_trees,
           (double)p->learning_rate, p->max_leaves, p->max_depth, (double)p->lambda_l2,
           (double)p->min_child_weight, (double)p->subsample, (double)p->colsample,
           p->max_bins, p->early_stopping, t.nt, (unsigned long long)p->seed);

    rc = build_bins(&t, X, Xv, err);
    if (rc) goto fail;
    if (trainer_pool(&t)) {
        rc = sg_error_set(err, SG_ENOMEM, "gbdt: out of memory allocating histograms");
        goto fail;
    }
    SG_LOG(p->verbose > 0 ? SG_LOG_INFO : SG_LOG_DEBUG, "gbdt", "binned %d features into %lld bins in %.1f ms", D,
           (long long)t.total_bins, 1e3 * (now_s() - t0));

    /* base score: (weighted) mean label, as log-odds for logloss; with offsets the
     * trees start from them and the base score is 0 */
    double sy = 0;
    for (int64_t i = 0; i < N; i++) sy += (w ? (double)w[i] : 1.0) * (double)y[i];
    double mean = sy / wsum;
    if (logloss) {
        mean = fmin(fmax(mean, 1e-6), 1.0 - 1e-6);
        m->base_score = log(mean / (1.0 - mean));
    } else {
        m->base_score = mean;
    }
    if (off) m->base_score = 0;
    for (int64_t i = 0; i < N; i++) t.F[i] = m->base_score + (off ? off[i] : 0.0);
    for (int64_t i = 0; i < Nv; i++) t.Fv[i] = m->base_score + (off ? offv[i] : 0.0);

    double loss = grad_loss(&t, 1), vloss = Nv > 0 ? valid_loss(&t) : (double)NAN;
    if (!isfinite(loss) || (Nv > 0 && !isfinite(vloss))) {
        rc = sg_error_set(err, SG_ENUMERIC, "gbdt: the initial %s is not finite (train %g, "
                          "valid %g)", loss_name, loss, vloss);
        goto fail;
    }
    double best_loss = INFINITY, t_round = now_s();
    int best_round = -1, n_rounds = 0;
    for (int r = 0; r < p->n_trees; r++) {
        if (model_reserve(m, p->max_leaves)) {
            rc = sg_error_set(err, SG_ENOMEM, "gbdt: round %d: out of memory growing the model",
                              r + 1);
            goto fail;
        }
        sample_tree(&t);
        grow_tree(&t);
        update_margins(&t);
        int log_now = p->verbose > 0 && (r + 1) % p->verbose == 0;
        double tl = grad_loss(&t, log_now);
        if (log_now) loss = tl;
        if (Nv > 0) vloss = valid_loss(&t);
        n_rounds = r + 1;
        if (!isfinite(tl) || (Nv > 0 && !isfinite(vloss))) {
            rc = sg_error_set(err, SG_ENUMERIC, "gbdt: round %d: the %s %s is not finite "
                              "(%g); try a smaller learning_rate", r + 1,
                              isfinite(tl) ? "validation" : "training", loss_name,
                              isfinite(tl) ? vloss : tl);
            goto fail;
        }
        if (Nv > 0 && vloss < best_loss) {
            best_loss = vloss;
            best_round = r;
        }
        if (log_now) {
            double tn = now_s();
            if (Nv > 0)
                SG_LOG(SG_LOG_INFO, "gbdt", "round %d/%d: train %s %.6f, valid %s %.6f, "
                       "%.2f ms/tree", r + 1, p->n_trees, loss_name, loss, loss_name, vloss,
                       1e3 * (tn - t_round) / p->verbose);
            else
                SG_LOG(SG_LOG_INFO, "gbdt", "round %d/%d: train %s %.6f, %.2f ms/tree", r + 1,
                       p->n_trees, loss_name, loss, 1e3 * (tn - t_round) / p->verbose);
            t_round = tn;
        }
        if (p->early_stopping > 0 && r - best_round >= p->early_stopping) break;
    }
    if (p->early_stopping > 0 && best_round + 1 < m->n_trees) {
        /* keep the best round: drop later trees and their categorical bitsets */
        m->n_trees = best_round + 1;
        m->n_nodes = m->tree_off[m->n_trees];
        int64_t nbits = 0;
        for (int64_t k = 0; k < m->n_nodes; k++)
            if (m->nodes[k].cat >= 0) nbits = SG_MAX(nbits, (int64_t)m->nodes[k].cat + 1);
        m->n_bits = nbits;
    }
    if (!(p->verbose > 0 && n_rounds % p->verbose == 0) && sg_log_get_level() <= (p->verbose > 0 ? SG_LOG_INFO : SG_LOG_DEBUG))
        loss = grad_loss(&t, 1);   /* for the summary line */
    if (Nv > 0)
        SG_LOG(p->verbose > 0 ? SG_LOG_INFO : SG_LOG_DEBUG, "gbdt", "trained %d rounds in %.2f s, kept %d trees: train %s %.6f, "
               "best valid %s %.6f at round %d", n_rounds, now_s() - t0, m->n_trees, loss_name,
               loss, loss_name, best_loss, best_round + 1);
    else
        SG_LOG(p->verbose > 0 ? SG_LOG_INFO : SG_LOG_DEBUG, "gbdt", "trained %d trees in %.2f s: train %s %.6f", m->n_trees,
               now_s() - t0, loss_name, loss);
    trainer_deinit(&t);
    *out = m;
    return SG_OK;
fail:
    trainer_deinit(&t);
    sg_gbdt_free(m);
    return rc;
}

/* ---------------------------------------------------------------- prediction */

/* Add one tree's leaf value under every value v < K of feature f to out
 * (K per row) for one row x, whose own x[f] is not read.  One walk: a split on
 * f divides the set of values still travelling together (a bit mask), any
 * other split sends the whole set one way; a leaf adds its value to the set. */
static void tree_sweep_row(const sg_gbdt *m, const gbdt_node *tr, const float *x, int f, int K,
                           double *out)
{
    int32_t node[SWEEP_MAX_K];
    uint64_t set[SWEEP_MAX_K];
    int top = 1;
    node[0] = 0;
    set[0] = K == 64 ? ~(uint64_t)0 : ((uint64_t)1 << K) - 1;
    while (top > 0) {
        top--;
        const gbdt_node *nd = &tr[node[top]];
        uint64_t s = set[top];
        if (nd->feature < 0) {
            for (; s; s &= s - 1) out[__builtin_ctzll(s)] += nd->value;
            continue;
        }
        if (nd->feature != f) {
            int g = nd->feature, left;
            float v = x[g];
            if (nd->cat >= 0)
                left = bit_test(m->cat_bits + 8 * (size_t)nd->cat, cat_bin(v, m->cat_k[g]));
            else
                left = (v <= nd->threshold) | ((v != v) & nd->default_left);
            node[top] = left ? nd->left : nd->right;
            set[top] = s;
            top++;
            continue;
        }
        uint64_t ls = 0;
        for (uint64_t r = s; r; r &= r - 1) {
            int v = __builtin_ctzll(r);
            int left = nd->cat >= 0 ? bit_test(m->cat_bits + 8 * (size_t)nd->cat,
                                               cat_bin((float)v, m->cat_k[f]))
                                    : (float)v <= nd->threshold;
            if (left) ls |= (uint64_t)1 << v;
        }
        /* each push takes values off the set, so the stack never holds more
         * entries than there are values */
        if (s & ~ls) {
            node[top] = nd->right;
            set[top++] = s & ~ls;
        }
        if (ls) {
            node[top] = nd->left;
            set[top++] = ls;
        }
    }
}

/* Margins (or probabilities) of N rows: K = 0, out (N), the rows as given;
 * K > 0, out (N, K), each row under every value of feature f (tree_sweep_row).
 * Rows go PRED_BLK at a time through every tree, so a block stays in cache. */
static int predict_rows(const sg_gbdt *m, const float *X, int64_t N, int f, int K, int margin,
                        double *out, sg_error *err)
{
    if (!m) return sg_error_set(err, SG_EINVAL, "gbdt predict: model is NULL");
    if (N < 0 || (N > 0 && (!X || !out)))
        return sg_error_set(err, SG_EINVAL, "gbdt predict: %lld rows need X and out",
                            (long long)N);
    const int nt = resolve_threads(m->params.n_threads), D = m->D, W = K > 0 ? K : 1;
    (void)nt;
    const int logloss = m->params.objective == SG_GBDT_LOGLOSS;
    const int64_t n_blk = (N + PRED_BLK - 1) / PRED_BLK;
    OMP(parallel for num_threads(nt) schedule(dynamic, 16) if (N * m->n_trees > 100000))
    for (int64_t c = 0; c < n_blk; c++) {
        int64_t a = c * PRED_BLK, z = SG_MIN(N, a + PRED_BLK);
        for (int64_t q = a * W; q < z * W; q++) out[q] = m->base_score;
        for (int k = 0; k < m->n_trees; k++) {
            const gbdt_node *tr = m->nodes + m->tree_off[k];
            if (K == 0) {
                tree_predict_block(m, tr, X + (size_t)a * D, z - a, D, out + a);
                continue;
            }
            for (int64_t i = a; i < z; i++)
                tree_sweep_row(m, tr, X + (size_t)i * D, f, K, out + i * K);
        }
        if (!margin && logloss)
            for (int64_t q = a * W; q < z * W; q++) out[q] = 1.0 / (1.0 + exp(-out[q]));
    }
    return SG_OK;
}

int sg_gbdt_predict(const sg_gbdt *m, const float *X, int64_t N, int margin, double *out,
                    sg_error *err)
{
    return predict_rows(m, X, N, -1, 0, margin, out, err);
}

int sg_gbdt_predict_sweep(const sg_gbdt *m, const float *X, int64_t N, int f, int K, int margin,
                          double *out, sg_error *err)
{
    if (m && (f < 0 || f >= m->D))
        return sg_error_set(err, SG_EINVAL, "gbdt predict: swept feature %d outside 0..%d", f,
                            m->D - 1);
    if (K < 1 || K > SWEEP_MAX_K)
        return sg_error_set(err, SG_EINVAL, "gbdt predict: %d swept values (1..%d)", K,
                            SWEEP_MAX_K);
    return predict_rows(m, X, N, f, K, margin, out, err);
}

int sg_gbdt_n_trees(const sg_gbdt *m) { return m ? m->n_trees : 0; }
int sg_gbdt_n_features(const sg_gbdt *m) { return m ? m->D : 0; }
const sg_gbdt_params *sg_gbdt_get_params(const sg_gbdt *m) { return m ? &m->params : NULL; }

void sg_gbdt_importance(const sg_gbdt *m, double *gain)
{
    if (!m || !gain) return;
    for (int f = 0; f < m->D; f++) gain[f] = 0;
    for (int64_t k = 0; k < m->n_nodes; k++)
        if (m->nodes[k].feature >= 0) gain[m->nodes[k].feature] += m->nodes[k].gain;
}

/* ---------------------------------------------------------------- serialisation */

/* Layout (little-endian): u32 magic "GBDT", u32 version, the parameters (without
 * n_threads and verbose, which are run-time settings), i32 D, u8 is_cat (D),
 * i32 cat_k (D), f64 base score, i64 trees, i64 nodes, i64 bitsets, i32 nodes
 * per tree (trees), nodes of NODE_BYTES each, u32 bitsets (bitsets, 8), and a
 * CRC-32 of everything before it. */
int sg_gbdt_save(const sg_gbdt *m, unsigned char **buf, size_t *len, sg_error *err)
{
    if (!m || !buf || !len)
        return sg_error_set(err, SG_EINVAL, "gbdt save: model, buf and len must not be NULL");
    sg_wbuf w;
    sg_wbuf_init(&w);
    const sg_gbdt_params *p = &m->params;
    sg_wbuf_u32(&w, GBDT_MAGIC);
    sg_wbuf_u32(&w, GBDT_VERSION);
    sg_wbuf_i32(&w, p->objective);
    sg_wbuf_i32(&w, p->n_trees);
    sg_wbuf_i32(&w, p->max_depth);
    sg_wbuf_i32(&w, p->max_leaves);
    sg_wbuf_f32(&w, p->learning_rate);
    sg_wbuf_f32(&w, p->min_child_weight);
    sg_wbuf_f32(&w, p->min_split_gain);
    sg_wbuf_f32(&w, p->lambda_l2);
    sg_wbuf_f32(&w, p->subsample);
    sg_wbuf_f32(&w, p->colsample);
    sg_wbuf_i32(&w, p->max_bins);
    sg_wbuf_i32(&w, p->early_stopping);
    sg_wbuf_u64(&w, p->seed);
    sg_wbuf_i32(&w, m->D);
    sg_wbuf_put(&w, m->is_cat, (size_t)m->D);
    for (int f = 0; f < m->D; f++) sg_wbuf_i32(&w, m->cat_k[f]);
    sg_wbuf_f64(&w, m->base_score);
    sg_wbuf_i64(&w, m->n_trees);
    sg_wbuf_i64(&w, m->n_nodes);
    sg_wbuf_i64(&w, m->n_bits);
    for (int k = 0; k < m->n_trees; k++)
        sg_wbuf_i32(&w, (int32_t)(m->tree_off[k + 1] - m->tree_off[k]));
    for (int64_t k = 0; k < m->n_nodes; k++) {
        const gbdt_node *nd = &m->nodes[k];
        sg_wbuf_i32(&w, nd->feature);
        sg_wbuf_i32(&w, nd->left);
        sg_wbuf_i32(&w, nd->right);
        sg_wbuf_i32(&w, nd->cat);
        sg_wbuf_f32(&w, nd->threshold);
        sg_wbuf_u32(&w, nd->default_left);
        sg_wbuf_f64(&w, nd->value);
        sg_wbuf_f64(&w, nd->gain);
    }
    for (int64_t k = 0; k < 8 * m->n_bits; k++) sg_wbuf_u32(&w, m->cat_bits[k]);
    if (!w.failed) sg_wbuf_u32(&w, sg_crc32(0, w.data, w.len));
    int rc = sg_wbuf_status(&w, err);
    if (rc) {
        sg_wbuf_deinit(&w);
        sg_error_prefix(err, "gbdt save: ");
        return rc;
    }
    *buf = w.data;
    *len = w.len;
    return SG_OK;
}

static int parse_error(sg_error *err, int rc)
{
    if (rc == SG_EPARSE) sg_error_prefix(err, "gbdt load: ");
    return rc;
}

int sg_gbdt_load(sg_gbdt **out, const unsigned char *buf, size_t len, sg_error *err)
{
    if (!out || (!buf && len))
        return sg_error_set(err, SG_EINVAL, "gbdt load: 'out' and 'buf' must not be NULL");
    if (len < 12)
        return sg_error_set(err, SG_EPARSE, "gbdt load: %zu bytes are too few for a model", len);
    uint32_t magic, version, crc;
    memcpy(&magic, buf, 4);
    memcpy(&version, buf + 4, 4);
    memcpy(&crc, buf + len - 4, 4);
    if (magic != GBDT_MAGIC)
        return sg_error_set(err, SG_EPARSE, "gbdt load: not a gbdt model (bad magic 0x%08x)",
                            magic);
    if (version != GBDT_VERSION)
        return sg_error_set(err, SG_EPARSE, "gbdt load: model format version %u; this build "
                            "reads version %u (retrain the model)", version, GBDT_VERSION);
    if (sg_crc32(0, buf, len - 4) != crc)
        return sg_error_set(err, SG_EPARSE, "gbdt load: checksum mismatch: the model is "
                            "truncated or corrupt");
    sg_rbuf r;
    sg_rbuf_init(&r, buf + 8, len - 12);
    sg_gbdt *m = NULL;
    sg_gbdt_params p;
    sg_gbdt_params_default(&p);
    int rc;
    int32_t i32[4];
    float f32[6];
    if ((rc = sg_rbuf_i32(&r, &i32[0], "objective", err)) ||
        (rc = sg_rbuf_i32(&r, &i32[1], "n_trees", err)) ||
        (rc = sg_rbuf_i32(&r, &i32[2], "max_depth", err)) ||
        (rc = sg_rbuf_i32(&r, &i32[3], "max_leaves", err)))
        return parse_error(err, rc);
    for (int k = 0; k < 6; k++)
        if ((rc = sg_rbuf_f32(&r, &f32[k], "a float parameter", err))) return parse_error(err, rc);
    p.objective = i32[0];
    p.n_trees = i32[1];
    p.max_depth = i32[2];
    p.max_leaves = i32[3];
    p.learning_rate = f32[0];
    p.min_child_weight = f32[1];
    p.min_split_gain = f32[2];
    p.lambda_l2 = f32[3];
    p.subsample = f32[4];
    p.colsample = f32[5];
    int32_t D;
    if ((rc = sg_rbuf_i32(&r, &p.max_bins, "max_bins", err)) ||
        (rc = sg_rbuf_i32(&r, &p.early_stopping, "early_stopping", err)) ||
        (rc = sg_rbuf_u64(&r, &p.seed, "seed", err)) ||
        (rc = sg_rbuf_i32(&r, &D, "the feature count", err)))
        return parse_error(err, rc);
    p.n_threads = 0;
    p.verbose = 0;
    if ((rc = check_params(&p, SG_EPARSE, err))) return parse_error(err, rc);
    if (D < 1 || D > MAX_FEATURES || (size_t)D * 5 > len)
        return sg_error_set(err, SG_EPARSE, "gbdt load: implausible feature count %d", D);
    m = model_new(D);
    if (!m) return sg_error_set(err, SG_ENOMEM, "gbdt load: out of memory");
    m->params = p;
    int64_t n_trees, n_nodes, n_bits;
    if ((rc = sg_rbuf_get(&r, m->is_cat, (size_t)D, "categorical flags", err))) goto fail;
    for (int f = 0; f < D; f++) {
        if (m->is_cat[f] > 1) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt data: categorical flag of feature %d is %d",
                              f, m->is_cat[f]);
            goto fail;
        }
        if ((rc = sg_rbuf_i32(&r, &m->cat_k[f], "category counts", err))) goto fail;
        if (m->cat_k[f] < 0 || m->cat_k[f] > 255 || (!m->is_cat[f] && m->cat_k[f] != 0)) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt data: feature %d has %d categories", f,
                              m->cat_k[f]);
            goto fail;
        }
    }
    if ((rc = sg_rbuf_f64(&r, &m->base_score, "base score", err))) goto fail;
    if (!isfinite(m->base_score)) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt data: base score is %g", m->base_score);
        goto fail;
    }
    size_t left = r.len - r.pos;
    if ((rc = sg_rbuf_count(&r, &n_trees, SG_MIN((int64_t)MAX_TREES, (int64_t)(left / 4)),
                            "tree count", err)) ||
        (rc = sg_rbuf_count(&r, &n_nodes, (int64_t)(left / NODE_BYTES), "node count", err)) ||
        (rc = sg_rbuf_count(&r, &n_bits, (int64_t)(left / 32), "bitset count", err)))
        goto fail;
    int64_t *toff = sg_realloc(m->tree_off, (size_t)(n_trees + 1) * sizeof *toff);
    if (toff) m->tree_off = toff;
    m->nodes = sg_malloc_array((size_t)SG_MAX(n_nodes, 1), sizeof *m->nodes);
    m->cat_bits = sg_malloc_array((size_t)SG_MAX(n_bits, 1) * 8, sizeof *m->cat_bits);
    if (!toff || !m->nodes || !m->cat_bits) {
        rc = sg_error_set(err, SG_ENOMEM, "gbdt load: out of memory for %lld nodes",
                          (long long)n_nodes);
        goto fail;
    }
    m->tree_off[0] = 0;
    for (int64_t k = 0; k < n_trees; k++) {
        int32_t c;
        if ((rc = sg_rbuf_i32(&r, &c, "tree sizes", err))) goto fail;
        if (c < 1 || c > 2 * MAX_LEAVES || c > n_nodes - m->tree_off[k]) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt data: tree %lld has %d nodes",
                              (long long)k, c);
            goto fail;
        }
        m->tree_off[k + 1] = m->tree_off[k] + c;
    }
    if (m->tree_off[n_trees] != n_nodes) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt data: trees hold %lld nodes, header says %lld",
                          (long long)m->tree_off[n_trees], (long long)n_nodes);
        goto fail;
    }
    for (int64_t t = 0; t < n_trees; t++) {
        int64_t a = m->tree_off[t], sz = m->tree_off[t + 1] - a;
        for (int64_t k = 0; k < sz; k++) {
            gbdt_node *nd = &m->nodes[a + k];
            uint32_t dl;
            memset(nd, 0, sizeof *nd);
            if ((rc = sg_rbuf_i32(&r, &nd->feature, "node feature", err)) ||
                (rc = sg_rbuf_i32(&r, &nd->left, "node child", err)) ||
                (rc = sg_rbuf_i32(&r, &nd->right, "node child", err)) ||
                (rc = sg_rbuf_i32(&r, &nd->cat, "node category set", err)) ||
                (rc = sg_rbuf_f32(&r, &nd->threshold, "node threshold", err)) ||
                (rc = sg_rbuf_u32(&r, &dl, "node default direction", err)) ||
                (rc = sg_rbuf_f64(&r, &nd->value, "node value", err)) ||
                (rc = sg_rbuf_f64(&r, &nd->gain, "node gain", err)))
                goto fail;
            nd->default_left = (uint8_t)dl;
            const char *bad = NULL;
            if (nd->feature == -1) {
                if (nd->left != -1 || nd->right != -1 || nd->cat != -1) bad = "leaf with children";
                else if (!isfinite(nd->value)) bad = "non-finite leaf value";
            } else if (nd->feature < 0 || nd->feature >= D) {
                bad = "feature out of range";
            } else if (nd->left <= k || nd->left >= sz || nd->right <= k || nd->right >= sz) {
                bad = "child index out of range";
            } else if (dl > 1) {
                bad = "bad default direction";
            } else if (m->is_cat[nd->feature] ? nd->cat < 0 || nd->cat >= n_bits : nd->cat != -1) {
                bad = "bad category set";
            } else if (isnan(nd->threshold)) {
                bad = "NaN threshold";
            } else if (!isfinite(nd->gain)) {
                bad = "non-finite gain";
            }
            if (bad) {
                rc = sg_error_set(err, SG_EPARSE, "corrupt data: tree %lld node %lld: %s",
                                  (long long)t, (long long)k, bad);
                goto fail;
            }
        }
    }
    for (int64_t k = 0; k < 8 * n_bits; k++)
        if ((rc = sg_rbuf_u32(&r, &m->cat_bits[k], "category sets", err))) goto fail;
    if (r.pos != r.len) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt data: %zu unexpected bytes after the model",
                          r.len - r.pos);
        goto fail;
    }
    m->n_trees = (int)n_trees;
    m->n_nodes = n_nodes;
    m->n_bits = n_bits;
    m->cap_trees = n_trees + 1;
    m->cap_nodes = SG_MAX(n_nodes, 1);
    m->cap_bits = SG_MAX(n_bits, 1);
    *out = m;
    return SG_OK;
fail:
    sg_gbdt_free(m);
    return parse_error(err, rc);
}
