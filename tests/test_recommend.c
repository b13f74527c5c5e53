/* test_recommend.c -- Mult-VAE, Mult-DAE, EASE and popularity (src/models/recommend.c,
 * vae.c, ease.c): metrics on hand-computed lists, EASE against a numpy reference,
 * the assembled network's gradient against central differences, learning on a
 * tiny clustered data set, files, determinism, exclusions, allocation failures.
 *
 * The tiny data set: 120 users in 4 taste groups over 40 items; a user has 8 of
 * the 10 items of her group and 1 random item; the 4 most popular items overall
 * come from one group, so popularity ranks wrongly for 3 users in 4. */
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

#ifdef _OPENMP
#include <omp.h>
#endif

#include "models/recommend_private.h"
#include "stratagem/error.h"
#include "stratagem/interactions.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "stratagem/recommend.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

#define N_GROUPS 4
#define GROUP_ITEMS 10
#define N_ITEMS (N_GROUPS * GROUP_ITEMS)
#define N_USERS 120

/* ---------------------------------------------------------------------------
 * helpers */

static void quiet_log(int level, const char *module, const char *msg, void *ud)
{
    (void)level;
    (void)module;
    (void)msg;
    (void)ud;
}

static sg_interactions *ia_from_csv(const char *csv, const sg_interactions *iv,
                                    const sg_interactions *uv)
{
    sg_table *t = NULL;
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    const char *cats[] = {"user", "item", NULL};
    lo.categorical = cats;
    sg_error err;
    int rc = sg_table_load_mem(&t, "mem.csv", csv, strlen(csv), &lo, &err);
    if (rc) print_error("load: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    sg_interactions_opts o;
    sg_interactions_opts_default(&o);
    o.user_col = "user";
    o.item_col = "item";
    o.item_vocab = iv;
    o.user_vocab = uv;
    sg_interactions *x = NULL;
    rc = sg_interactions_from_table(&x, t, &o, NULL, &err);
    if (rc) print_error("build: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    sg_table_free(t);
    return x;
}

/* The clustered data set (see the file comment), as CSV text (owned). */
static char *clustered_csv(int n_users, uint64_t seed, int first_user)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    size_t cap = (size_t)n_users * 16 * 16 + 64, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv + len, cap - len, "user,item\n");
    for (int u = 0; u < n_users; u++) {
        int g = (u % 3 == 0) ? 0 : 1 + (int)sg_rng_below(&r, N_GROUPS - 1);
        int base = g * GROUP_ITEMS;
        /* 8 of the group's 10 items */
        int skip1 = (int)sg_rng_below(&r, GROUP_ITEMS), skip2 = (int)sg_rng_below(&r, GROUP_ITEMS);
        for (int j = 0; j < GROUP_ITEMS; j++) {
            if (j == skip1 || j == skip2) continue;
            len += (size_t)snprintf(csv + len, cap - len, "u%d,i%d\n", first_user + u, base + j);
        }
        len += (size_t)snprintf(csv + len, cap - len, "u%d,i%d\n", first_user + u,
                                (int)sg_rng_below(&r, N_ITEMS));
    }
    return csv;
}

static sg_interactions *clustered(int n_users, uint64_t seed)
{
    char *csv = clustered_csv(n_users, seed, 0);
    sg_interactions *x = ia_from_csv(csv, NULL, NULL);
    free(csv);
    return x;
}

/* Small fast settings for the networks. */
static void small_opts(sg_rec_opts *o, int kind)
{
    sg_rec_opts_default(o, kind);
    o->seed = 7;
    o->epochs = 30;
    o->batch = 32;
    o->hidden = 24;
    o->latent = 8;
    o->lr = 1e-2f;
    o->val_users = 0.0;
    o->anneal_steps = 200;
    o->enc_passes = 0;   /* the Mult-VAE training unless a test says otherwise */
    o->ema = 0.0f;
    o->ensemble = 1;
    o->min_item_users = 1;   /* every item in the network (recommend-5.3 tests fewer) */
}

static sg_recommender *train_ok(const sg_interactions *x, const sg_rec_opts *o,
                                sg_rec_report *rep)
{
    sg_recommender *m = NULL;
    sg_error err;
    int rc = sg_recommender_train(&m, x, NULL, NULL, o, rep, &err);
    if (rc) print_error("train: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return m;
}

static unsigned char *payload(const sg_recommender *m, size_t *len)
{
    unsigned char *buf = NULL;
    sg_error err;
    int rc = sg_recommender_save_mem(m, &buf, len, &err);
    if (rc) print_error("save: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return buf;
}

/* Strong-generalisation metrics of m on fresh clustered users. */
static sg_rec_metrics eval_fresh(const sg_recommender *m, uint64_t seed)
{
    const sg_interactions *d = sg_recommender_data(m);
    sg_interactions *x = NULL;
    char *csv = clustered_csv(60, seed, 1000);
    x = ia_from_csv(csv, d, NULL);
    free(csv);
    sg_split_opts so;
    sg_split_opts_default(&so);
    so.test_users = 0.5;
    so.val_users = 0.0;
    so.heldout = 0.3;
    so.seed = seed;
    sg_user_split sp;
    assert_int_equal(sg_interactions_split(&sp, x, &so, NULL), SG_OK);
    sg_rec_metrics met;
    sg_error err;
    int rc = sg_recommender_evaluate(m, sp.test_foldin, sp.test_heldout, &met, &err);
    if (rc) print_error("evaluate: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_int_equal(met.n_users, 30);
    sg_user_split_deinit(&sp);
    sg_interactions_free(x);
    return met;
}

/* ---------------------------------------------------------------------------
 * metrics */

/* recommend-1.1: Recall@k and NDCG@k on hand-computed lists (Liang's definitions) */
static void metrics_hand(void **state)
{
    (void)state;
    int32_t ranked[] = {5, 3, 9, 1, 7, -1, -1};
    int32_t held[] = {1, 3, 4};   /* sorted */
    /* top 2: {5,3}: 1 hit / min(2,3) = 0.5 */
    assert_true(fabs(sg_recall_at_k(ranked, 7, held, 3, 2) - 0.5) < 1e-12);
    /* top 5: hits 3 and 1 = 2 / min(5,3) = 2/3 */
    assert_true(fabs(sg_recall_at_k(ranked, 7, held, 3, 5) - 2.0 / 3.0) < 1e-12);
    /* NDCG@5: DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4) */
    double dcg = 1.0 / log2(3.0) + 1.0 / log2(5.0);
    double idcg = 1.0 + 1.0 / log2(3.0) + 0.5;
    assert_true(fabs(sg_ndcg_at_k(ranked, 7, held, 3, 5) - dcg / idcg) < 1e-12);
    /* k larger than the list: the -1 padding is never a hit */
    assert_true(fabs(sg_ndcg_at_k(ranked, 7, held, 3, 100) - dcg / idcg) < 1e-12);
    /* one held-out item at rank 1: recall 1, ndcg 1 */
    int32_t one[] = {5};
    assert_true(fabs(sg_recall_at_k(ranked, 7, one, 1, 20) - 1.0) < 1e-12);
    assert_true(fabs(sg_ndcg_at_k(ranked, 7, one, 1, 100) - 1.0) < 1e-12);
    /* a perfect list of 2 */
    int32_t perfect[] = {3, 1, 8};
    int32_t h2[] = {1, 3};
    assert_true(fabs(sg_ndcg_at_k(perfect, 3, h2, 2, 100) - 1.0) < 1e-12);
    /* two users; the second without held-out items is skipped */
    int32_t lists[] = {5, 3, 9, 1, 7, 2, 2, 2, 2, 2};
    int64_t hrp[] = {0, 3, 3};
    sg_rec_metrics met;
    assert_int_equal(sg_rank_metrics(lists, 5, hrp, held, 2, &met), 1);
    assert_true(fabs(met.recall20 - 2.0 / 3.0) < 1e-12);
    assert_true(fabs(met.ndcg100 - dcg / idcg) < 1e-12);
}

/* recommend-1.2: kind names round trip */
static void kind_names(void **state)
{
    (void)state;
    for (int k = 0; k <= SG_REC_DAE; k++) {
        assert_int_equal(sg_rec_kind_parse(sg_rec_kind_name(k)), k);
    }
    assert_int_equal(sg_rec_kind_parse("lstm"), -1);
    assert_string_equal(sg_rec_kind_name(9), "unknown");
}

/* ---------------------------------------------------------------------------
 * EASE */

/* recommend-2.1: EASE weights equal the numpy closed form (tests/gen/gen_ease.py) */
static void ease_reference(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/ease_tiny.csv", "rb");
    assert_non_null(f);
    char csv[4096];
    size_t n = fread(csv, 1, sizeof csv - 1, f);
    fclose(f);
    csv[n] = '\0';
    sg_interactions *x = ia_from_csv(csv, NULL, NULL);
    sg_rec_opts o;
    sg_rec_opts_default(&o, SG_REC_EASE);
    f = fopen("tests/data/ease_tiny_b.txt", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lf", &o.lambda), 1);
    sg_recommender *m = train_ok(x, &o, NULL);
    int I = sg_interactions_n_items(x);
    double worst = 0.0;
    char a[32], b[32];
    double want;
    int cnt = 0;
    while (fscanf(f, "%31s %31s %lf", a, b, &want) == 3) {
        int i = sg_interactions_find_item(x, a), j = sg_interactions_find_item(x, b);
        assert_true(i >= 0 && j >= 0);
        double got = (double)m->ease_b[(size_t)i * I + j];
        worst = fmax(worst, fabs(got - want));
        cnt++;
    }
    fclose(f);
    assert_int_equal(cnt, I * I);
    if (worst > 1e-5) print_error("max |B - B_ref| = %g\n", worst);
    assert_true(worst <= 1e-5);
    /* scores = x B: user u0 has it5 and it14 */
    int u = sg_interactions_find_user(x, "u0");
    float s[16];
    const int64_t *rp = sg_interactions_row_ptr(x);
    assert_int_equal(sg_recommender_score(m, rp + u, sg_interactions_col_idx(x), 1, s, NULL),
                     SG_OK);
    int i5 = sg_interactions_find_item(x, "it5"), i14 = sg_interactions_find_item(x, "it14");
    for (int j = 0; j < I; j++) {
        float e = m->ease_b[(size_t)i5 * I + j] + m->ease_b[(size_t)i14 * I + j];
        assert_true(fabsf(s[j] - e) < 1e-6f);
    }
    sg_recommender_free(m);
    sg_interactions_free(x);
}

/* recommend-2.3: the SPD inverse behind EASE: LAPACK and the naive reference
 * agree, in float and double, and A A^-1 = I; a non-SPD matrix names its pivot */
static void posinv_kernels(void **state)
{
    (void)state;
    enum { N = 23, K = 40 };
    static double A[N * N], Ad[N * N], Adr[N * N], X[K * N];
    static float Af[N * N], Afr[N * N];
    sg_rng r;
    sg_rng_init(&r, 17);
    for (int i = 0; i < K * N; i++) X[i] = sg_rng_uniform(&r) < 0.4 ? 1.0 : 0.0;
    sg_dsyrk_t(N, K, 1.0, X, 0.0, A);
    for (int i = 0; i < N; i++) A[i * N + i] += 2.0;
    for (int i = 0; i < N * N; i++) {
        Ad[i] = Adr[i] = A[i];
        Af[i] = Afr[i] = (float)A[i];
    }
    assert_int_equal(sg_dposinv(N, Ad), 0);
    assert_int_equal(sg_dposinv_ref(N, Adr), 0);
    assert_int_equal(sg_sposinv(N, Af), 0);
    assert_int_equal(sg_sposinv_ref(N, Afr), 0);
    double e_id = 0.0, e_d = 0.0, e_f = 0.0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < N; k++) s += A[i * N + k] * Ad[k * N + j];
            e_id = fmax(e_id, fabs(s - (i == j)));
            e_d = fmax(e_d, fabs(Ad[i * N + j] - Adr[i * N + j]));
            e_f = fmax(e_f, fabs((double)Af[i * N + j] - (double)Afr[i * N + j]));
            e_f = fmax(e_f, fabs((double)Af[i * N + j] - Ad[i * N + j]));
        }
    }
    if (e_id > 1e-10 || e_d > 1e-12 || e_f > 1e-5)
        print_error("|A A^-1 - I| %g, double vs ref %g, float %g\n", e_id, e_d, e_f);
    assert_true(e_id <= 1e-10 && e_d <= 1e-12 && e_f <= 1e-5);
    /* not positive definite: the pivot of the failing column */
    double B2[4] = {1, 2, 2, 1};
    float F2[4] = {1, 2, 2, 1};
    assert_int_equal(sg_dposinv(2, B2), 2);
    assert_int_equal(sg_sposinv_ref(2, F2), 2);
}

/* recommend-2.2: EASE chooses lambda on validation users and beats popularity */
static void ease_learns(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 3);
    sg_rec_opts o;
    sg_rec_opts_default(&o, SG_REC_EASE);
    o.val_users = 0.25;
    sg_rec_report rep;
    sg_recommender *m = train_ok(x, &o, &rep);
    assert_true(rep.lambda > 0);
    assert_true(rep.n_val_users > 0);
    assert_int_equal(rep.refitted, 1);
    sg_rec_opts_default(&o, SG_REC_POP);
    sg_recommender *p = train_ok(x, &o, NULL);
    sg_rec_metrics me = eval_fresh(m, 21), mp = eval_fresh(p, 21);
    if (!(me.ndcg100 > mp.ndcg100 + 0.1))
        print_error("ease ndcg %.4f, pop %.4f\n", me.ndcg100, mp.ndcg100);
    assert_true(me.ndcg100 > mp.ndcg100 + 0.1);
    sg_recommender_free(m);
    sg_recommender_free(p);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * networks */

typedef struct gc_ctx {
    sg_recommender *m;
    const int64_t *rp;
    const int32_t *ci;
    int B;
    float beta;
    const float *old;   /* composite prior: the old encoder */
} gc_ctx;

static double gc_loss(gc_ctx *c)
{
    double loss;
    assert_int_equal(
        sg_vae_batch_loss(c->m, c->rp, c->ci, c->B, c->beta, 99, c->old, 0, &loss, NULL), SG_OK);
    return loss;
}

/* Whole-network gradient check on tiny shapes; returns the worst relative error.
 * 'gamma' and 'prior' set RecVAE's per-user KL weight and prior (vae), 'encoder'
 * its encoder (dense: 3 layers, differences of 5e-3 rather than 1e-2, where the
 * composite prior's curvature costs 4%). */
static double network_grad_check(int kind, float l2, float gamma, int prior, int encoder)
{
    sg_interactions *x = clustered(6, 5);
    sg_recommender m;
    memset(&m, 0, sizeof m);
    sg_rec_opts_default(&m.opts, kind);
    m.kind = kind;
    m.opts.hidden = 5;
    m.opts.latent = 3;
    m.opts.seed = 3;
    m.opts.l2 = l2;
    m.opts.gamma = gamma;
    m.opts.prior = prior;
    m.opts.encoder = encoder;
    m.opts.enc_layers = 3;
    m.n_items = sg_interactions_n_items(x);
    assert_int_equal(sg_vae_build(&m, 1, 1, NULL), SG_OK);
    /* larger weights than the init so the check is not all near zero (the dense
     * encoder's layer norms give O(1) values already: scaled by 3 they make the loss
     * too curved for differences of 1e-2; its layer norm gains and shifts move off
     * 1 and 0) */
    float *w = sg_params_data(m.params);
    size_t n = sg_params_count(m.params);
    float up = encoder == SG_REC_ENCODER_DENSE ? 1.0f : 3.0f;
    for (size_t i = 0; i < n; i++) w[i] *= up;
    sg_rng r;
    sg_rng_init(&r, 5);
    for (int t = 0; t < sg_params_n_tensors(m.params); t++) {
        if (!strstr(sg_params_name(m.params, t), ".ln")) continue;
        float *v = sg_params_tensor(m.params, t);
        for (size_t i = 0; i < sg_params_size(m.params, t); i++)
            v[i] += 0.5f * (float)sg_rng_normal(&r);
    }
    /* the old encoder: the current one moved a little (its outputs are constants) */
    float *old = calloc(n, sizeof *old);
    assert_non_null(old);
    for (size_t i = 0; i < n; i++) old[i] = w[i] + 0.3f * (float)sg_rng_normal(&r);
    gc_ctx c = {&m, sg_interactions_row_ptr(x), sg_interactions_col_idx(x), 4, 0.7f, old};
    double loss;
    assert_int_equal(sg_vae_batch_loss(&m, c.rp, c.ci, c.B, c.beta, 99, c.old, 1, &loss, NULL),
                     SG_OK);
    const float *g = sg_params_grads(m.params);
    double worst = 0.0;
    /* every parameter the batch touches: columns of items nobody has get a zero
     * gradient for enc.w0, and are checked too (both sides must agree) */
    float h = encoder == SG_REC_ENCODER_DENSE ? 5e-3f : 1e-2f;
    for (size_t i = 0; i < n; i++) {
        float x0 = w[i];
        w[i] = x0 + h;
        double fp = gc_loss(&c);
        w[i] = x0 - h;
        double fm = gc_loss(&c);
        w[i] = x0;
        double num = (fp - fm) / (2.0 * (double)h);
        double den = fmax(fmax(fabs(num), fabs((double)g[i])), 1e-2);
        double rel = fabs(num - (double)g[i]) / den;
        if (rel > worst) worst = rel;
    }
    sg_params_free(m.params);
    sg_interactions_free(x);
    free(old);
    return worst;
}

/* recommend-3.1: the assembled vae and dae backward match central differences
 * (loss of one batch: multinomial NLL + beta KL, + l2 for the dae; the vae also
 * with RecVAE's per-user KL weight gamma |x_u| and with its composite prior) */
static void network_gradients(void **state)
{
    (void)state;
    const int mlp = SG_REC_ENCODER_MLP;
    double v = network_grad_check(SG_REC_VAE, 0.0f, 0.0f, SG_REC_PRIOR_NORMAL, mlp);
    double d = network_grad_check(SG_REC_DAE, 0.01f, 0.0f, SG_REC_PRIOR_NORMAL, mlp);
    double vg = network_grad_check(SG_REC_VAE, 0.0f, 0.2f, SG_REC_PRIOR_NORMAL, mlp);
    double vc = network_grad_check(SG_REC_VAE, 0.0f, 0.0f, SG_REC_PRIOR_COMPOSITE, mlp);
    double vgc = network_grad_check(SG_REC_VAE, 0.0f, 0.2f, SG_REC_PRIOR_COMPOSITE, mlp);
    if (v > 2e-2 || d > 2e-2 || vg > 2e-2 || vc > 2e-2 || vgc > 2e-2)
        print_error("worst relative error: vae %.4g, dae %.4g, gamma %.4g, composite %.4g, "
                    "both %.4g\n", v, d, vg, vc, vgc);
    assert_true(v <= 2e-2);
    assert_true(d <= 2e-2);
    assert_true(vg <= 2e-2);
    assert_true(vc <= 2e-2);
    assert_true(vgc <= 2e-2);
}

static sg_rec_progress last_epochs[2];
static double first_loss, last_loss;

static void record(void *ud, const sg_rec_progress *p)
{
    (void)ud;
    if (p->epoch == 1) first_loss = p->loss;
    last_loss = p->loss;
    last_epochs[0] = last_epochs[1];
    last_epochs[1] = *p;
}

/* recommend-3.2: the plain Mult-VAE's loss falls (no gamma, joint updates), and
 * it ranks far better than popularity for new users; embeddings are the encoder
 * mean */
static void vae_learns(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 1);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.gamma = 0.0f;
    o.enc_passes = 0;
    o.on_progress = record;
    sg_rec_report rep;
    sg_recommender *m = train_ok(x, &o, &rep);
    if (!(last_loss < 0.85 * first_loss))
        print_error("loss %.4f -> %.4f\n", first_loss, last_loss);
    assert_true(last_loss < 0.85 * first_loss);
    assert_int_equal(rep.best_epoch, o.epochs);
    assert_true(isnan(rep.best_val_ndcg));
    sg_rec_opts po;
    sg_rec_opts_default(&po, SG_REC_POP);
    sg_recommender *p = train_ok(x, &po, NULL);
    sg_rec_metrics mv = eval_fresh(m, 22), mp = eval_fresh(p, 22);
    if (!(mv.ndcg100 > mp.ndcg100 + 0.1 && mv.recall20 > mp.recall20))
        print_error("vae ndcg %.4f recall %.4f; pop ndcg %.4f recall %.4f\n", mv.ndcg100,
                    mv.recall20, mp.ndcg100, mp.recall20);
    assert_true(mv.ndcg100 > mp.ndcg100 + 0.1);
    assert_true(mv.recall20 > mp.recall20);
    /* embeddings: latent-sized, finite, and different for users of different groups */
    assert_int_equal(sg_recommender_embed_dim(m), 8);
    float z[3 * 8];
    const int64_t *rp = sg_interactions_row_ptr(x);
    assert_int_equal(sg_recommender_embed(m, rp, sg_interactions_col_idx(x), 3, z, NULL), SG_OK);
    double diff = 0.0;
    for (int j = 0; j < 8; j++) {
        assert_true(isfinite(z[j]));
        diff += fabs((double)z[j] - (double)z[8 + j]);
    }
    assert_true(diff > 1e-3);
    assert_int_equal(sg_recommender_embed(p, rp, sg_interactions_col_idx(x), 3, z, NULL),
                     SG_EINVAL);
    sg_recommender_free(m);
    sg_recommender_free(p);
    sg_interactions_free(x);
}

/* recommend-3.3: the dae learns too; validation picks an epoch and the model
 * is refitted on all users */
static void dae_learns(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 2);
    sg_rec_opts o;
    small_opts(&o, SG_REC_DAE);
    o.val_users = 0.2;
    o.epochs = 25;
    o.on_progress = record;
    sg_rec_report rep;
    sg_recommender *m = train_ok(x, &o, &rep);
    assert_true(rep.n_val_users > 0);
    assert_true(rep.best_epoch >= 1 && rep.best_epoch <= 25);
    assert_true(rep.best_val_ndcg > 0.3);
    assert_int_equal(rep.refitted, 1);
    assert_string_equal(last_epochs[1].stage, "refit");
    assert_int_equal(last_epochs[1].epoch, rep.best_epoch);
    sg_rec_opts po;
    sg_rec_opts_default(&po, SG_REC_POP);
    sg_recommender *p = train_ok(x, &po, NULL);
    sg_rec_metrics md = eval_fresh(m, 23), mp = eval_fresh(p, 23);
    if (!(md.ndcg100 > mp.ndcg100 + 0.1))
        print_error("dae ndcg %.4f; pop ndcg %.4f\n", md.ndcg100, mp.ndcg100);
    assert_true(md.ndcg100 > mp.ndcg100 + 0.1);
    sg_recommender_free(m);
    sg_recommender_free(p);
    sg_interactions_free(x);
}

/* recommend-3.4: same seed, same model bytes (also with 1 and 2 threads); another
 * seed, other bytes */
static void deterministic(void **state)
{
    (void)state;
    sg_interactions *x = clustered(60, 4);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 4;
    size_t la, lb, lc;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    sg_recommender *a = train_ok(x, &o, NULL);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    sg_recommender *b = train_ok(x, &o, NULL);
    o.seed = 8;
    sg_recommender *c = train_ok(x, &o, NULL);
    unsigned char *pa = payload(a, &la), *pb = payload(b, &lb), *pc = payload(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    assert_int_equal(la, lc);
    assert_true(memcmp(pa, pc, la) != 0);
    sg_free(pa);
    sg_free(pb);
    sg_free(pc);
    sg_recommender_free(a);
    sg_recommender_free(b);
    sg_recommender_free(c);
    sg_interactions_free(x);
}

/* Train with 1 thread, then with 2: the training loss must fall by 15% and the
 * two models must be the same bytes.  Returns the second model, its bytes in *pm. */
static sg_recommender *train_learns_1_2_threads(const sg_interactions *x, const sg_rec_opts *o,
                                               unsigned char **pm, size_t *lm)
{
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    sg_recommender *a = train_ok(x, o, NULL);
    double first = first_loss, last = last_loss;
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    sg_recommender *m = train_ok(x, o, NULL);
    if (!(last < 0.85 * first)) print_error("loss %.4f -> %.4f\n", first, last);
    assert_true(last < 0.85 * first);
    size_t la;
    unsigned char *pa = payload(a, &la);
    *pm = payload(m, lm);
    assert_int_equal(la, *lm);
    assert_memory_equal(pa, *pm, la);
    sg_free(pa);
    sg_recommender_free(a);
    return m;
}

/* recommend-3.5: RecVAE's training (gamma |x_u| KL weight, composite prior,
 * alternating encoder / decoder passes) learns, beats popularity, is the same
 * bytes with 1 and 2 threads, and keeps its options through a save / load */
static void recvae_learns(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 1);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.gamma = 0.005f;
    o.prior = SG_REC_PRIOR_COMPOSITE;
    o.enc_passes = 2;
    o.epochs = 15;
    o.on_progress = record;
    size_t lm;
    unsigned char *pm = NULL;
    sg_recommender *m = train_learns_1_2_threads(x, &o, &pm, &lm);
    assert_true(last_epochs[1].beta > 0.0);   /* mean gamma |x_u| */
    sg_recommender *n = NULL;
    assert_int_equal(sg_recommender_load_mem(&n, pm, lm, NULL), SG_OK);
    const sg_rec_opts *on = sg_recommender_opts(n);
    assert_true(on->gamma == 0.005f);
    assert_int_equal(on->prior, SG_REC_PRIOR_COMPOSITE);
    assert_int_equal(on->enc_passes, 2);
    sg_rec_opts po;
    sg_rec_opts_default(&po, SG_REC_POP);
    sg_recommender *p = train_ok(x, &po, NULL);
    sg_rec_metrics mv = eval_fresh(m, 22), mp = eval_fresh(p, 22);
    if (!(mv.ndcg100 > mp.ndcg100 + 0.1))
        print_error("recvae ndcg %.4f; pop ndcg %.4f\n", mv.ndcg100, mp.ndcg100);
    assert_true(mv.ndcg100 > mp.ndcg100 + 0.1);
    /* bad options are refused */
    sg_recommender *bad = NULL;
    o.prior = 7;
    assert_int_equal(sg_recommender_train(&bad, x, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    o.prior = SG_REC_PRIOR_NORMAL;
    o.gamma = -1.0f;
    assert_int_equal(sg_recommender_train(&bad, x, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    assert_null(bad);
    sg_free(pm);
    sg_recommender_free(m);
    sg_recommender_free(n);
    sg_recommender_free(p);
    sg_interactions_free(x);
}

/* recommend-3.8: the moving average of the weights (--ema).  With validation
 * users the weights kept are the averaged ones that were scored (the model
 * returned scores the reported best validation NDCG); a decay that rounds to the
 * last weights gives the bytes of training without it, so swapping the average
 * in and out for validation leaves training alone; a real decay changes the
 * model, still learns, and is the same bytes with 1 and 2 threads */
static void ema_weights(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 3);
    sg_split_opts so;
    sg_split_opts_default(&so);
    so.test_users = 0.0;
    so.val_users = 0.25;
    so.seed = 3;
    sg_user_split sp;
    assert_int_equal(sg_interactions_split(&sp, x, &so, NULL), SG_OK);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 12;
    sg_error err;
    sg_recommender *m[4] = {NULL, NULL, NULL, NULL};
    sg_rec_report rep[4];
    float decay[4] = {0.0f, 1e-30f, 0.9f, 0.9f};
    for (int k = 0; k < 4; k++) {
#ifdef _OPENMP
        omp_set_num_threads(k == 3 ? 1 : 2);
#endif
        o.ema = decay[k];
        int rc = sg_recommender_train(&m[k], sp.train, sp.val_foldin, sp.val_heldout, &o,
                                      &rep[k], &err);
        if (rc) print_error("train: %s\n", err.msg);
        assert_int_equal(rc, SG_OK);
        sg_rec_metrics met;
        assert_int_equal(sg_recommender_evaluate(m[k], sp.val_foldin, sp.val_heldout, &met,
                                                 &err), SG_OK);
        if (met.ndcg100 != rep[k].best_val_ndcg)
            print_error("decay %g: kept weights score %.6f, reported best %.6f\n",
                        (double)decay[k], met.ndcg100, rep[k].best_val_ndcg);
        assert_true(met.ndcg100 == rep[k].best_val_ndcg);
    }
    size_t l[4];
    unsigned char *b[4];
    for (int k = 0; k < 4; k++) b[k] = payload(m[k], &l[k]);
    assert_int_equal(l[0], l[1]);
    assert_memory_equal(b[0], b[1], l[0]);
    assert_int_equal(l[0], l[2]);
    assert_true(memcmp(b[0], b[2], l[0]) != 0);
    assert_int_equal(l[2], l[3]);
    assert_memory_equal(b[2], b[3], l[2]);
    assert_true(rep[2].best_val_ndcg > 0.3);
    /* a decay outside [0, 1) is refused */
    sg_recommender *bad = NULL;
    o.ema = 1.0f;
    assert_int_equal(sg_recommender_train(&bad, sp.train, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    assert_null(bad);
    for (int k = 0; k < 4; k++) {
        sg_free(b[k]);
        sg_recommender_free(m[k]);
    }
    sg_user_split_deinit(&sp);
    sg_interactions_free(x);
}

/* recommend-3.9: an ensemble of 3 vae networks: its first network is the model
 * trained alone (with selection and refit), without selection its scores are the
 * mean of the logits of the models trained alone from seeds s, s+1, s+2, its
 * embeddings the first network's; a save / load keeps every network (version 4),
 * and a damaged ensemble count or a cut in the last network is SG_EPARSE */
static void ensemble(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 5);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    enum { B = 10 };
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 6;
    o.val_users = 0.25;
    sg_rec_report r1, r3;
    sg_recommender *one = train_ok(x, &o, &r1);
    o.ensemble = 3;
    sg_recommender *ens = train_ok(x, &o, &r3);
    assert_int_equal(r1.best_epoch, r3.best_epoch);
    assert_true(r1.best_val_ndcg == r3.best_val_ndcg);
    assert_int_equal(ens->n_more, 2);
    float *za = malloc(sizeof(float) * B * 8), *zb = malloc(sizeof(float) * B * 8);
    assert_int_equal(sg_recommender_embed(one, rp, ci, B, za, NULL), SG_OK);
    assert_int_equal(sg_recommender_embed(ens, rp, ci, B, zb, NULL), SG_OK);
    assert_memory_equal(za, zb, sizeof(float) * B * 8);
    assert_memory_equal(sg_params_data(one->params), sg_params_data(ens->params),
                        sg_params_count(one->params) * sizeof(float));
    sg_recommender_free(one);
    sg_recommender_free(ens);

    /* without selection: the mean of three models trained alone */
    o.val_users = 0.0;
    ens = train_ok(x, &o, NULL);
    float *s = malloc(sizeof(float) * B * N_ITEMS), *t = malloc(sizeof(float) * B * N_ITEMS);
    float *mean = calloc(B * N_ITEMS, sizeof(float));
    assert_int_equal(sg_recommender_score(ens, rp, ci, B, s, NULL), SG_OK);
    o.ensemble = 1;
    for (int k = 0; k < 3; k++) {
        o.seed = 7 + (uint64_t)k;
        sg_recommender *m = train_ok(x, &o, NULL);
        assert_int_equal(sg_recommender_score(m, rp, ci, B, t, NULL), SG_OK);
        for (int i = 0; i < B * N_ITEMS; i++) mean[i] += t[i] / 3.0f;
        if (k > 0) assert_true(memcmp(sg_params_data(m->params), sg_params_data(ens->params),
                                      sg_params_count(m->params) * sizeof(float)) != 0);
        sg_recommender_free(m);
    }
    for (int i = 0; i < B * N_ITEMS; i++) assert_float_equal(s[i], mean[i], 1e-4);

    /* files */
    size_t len, len2;
    unsigned char *buf = payload(ens, &len);
    uint32_t v;
    memcpy(&v, buf + 4, 4);
    assert_int_equal(v, 4);
    sg_recommender *n = NULL;
    sg_error err;
    assert_int_equal(sg_recommender_load_mem(&n, buf, len, &err), SG_OK);
    assert_int_equal(sg_recommender_opts(n)->ensemble, 3);
    unsigned char *buf2 = payload(n, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    assert_int_equal(sg_recommender_score(n, rp, ci, B, t, NULL), SG_OK);
    assert_memory_equal(s, t, sizeof(float) * B * N_ITEMS);
    sg_recommender_free(n);
    n = NULL;
    /* the count after the options: magic, version, kind, seed (20 bytes), then
     * 68 + 12 + 8 bytes of options */
    const size_t at = 20 + 68 + 12 + 8;
    int32_t cnt;
    memcpy(&cnt, buf + at, 4);
    assert_int_equal(cnt, 3);
    int64_t live = sg_mem_live_bytes();
    int32_t bad[3] = {0, 1001, 4};
    for (int k = 0; k < 3; k++) {
        memcpy(buf + at, &bad[k], 4);
        assert_int_equal(sg_recommender_load_mem(&n, buf, len, &err), SG_EPARSE);
        assert_null(n);
        if (k < 2) assert_non_null(strstr(err.msg, "ensemble"));
    }
    memcpy(buf + at, &cnt, 4);
    assert_int_equal(sg_recommender_load_mem(&n, buf, len - 5, &err), SG_EPARSE);
    assert_null(n);
    assert_int_equal(sg_mem_live_bytes(), live);
    /* a size outside 1..1000 is refused at training */
    o.ensemble = 0;
    assert_int_equal(sg_recommender_train(&n, x, NULL, NULL, &o, NULL, &err), SG_EINVAL);
    assert_null(n);
    sg_free(buf);
    sg_free(buf2);
    free(za);
    free(zb);
    free(s);
    free(t);
    free(mean);
    sg_recommender_free(ens);
    sg_interactions_free(x);
}

/* recommend-3.6: the vae with RecVAE's dense encoder (3 layers: sums of earlier
 * layers, swish, layer norm) matches central differences, with the normal prior,
 * gamma, and the composite prior (whose old encoder has the dense layers too) */
static void dense_encoder_gradients(void **state)
{
    (void)state;
    const int dense = SG_REC_ENCODER_DENSE;
    double v = network_grad_check(SG_REC_VAE, 0.0f, 0.0f, SG_REC_PRIOR_NORMAL, dense);
    double vg = network_grad_check(SG_REC_VAE, 0.0f, 0.2f, SG_REC_PRIOR_NORMAL, dense);
    double vgc = network_grad_check(SG_REC_VAE, 0.0f, 0.2f, SG_REC_PRIOR_COMPOSITE, dense);
    if (v > 2e-2 || vg > 2e-2 || vgc > 2e-2)
        print_error("worst relative error, dense encoder: %.4g, gamma %.4g, composite %.4g\n",
                    v, vg, vgc);
    assert_true(v <= 2e-2);
    assert_true(vg <= 2e-2);
    assert_true(vgc <= 2e-2);
}

/* recommend-3.7: the dense encoder learns and beats popularity, is the same bytes
 * with 1 and 2 threads, saves as format version 3 and loads with its options; the
 * default (mlp) model is still written as version 2; dense is refused for the dae */
static void dense_encoder_learns(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 1);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.encoder = SG_REC_ENCODER_DENSE;
    o.enc_layers = 3;
    o.epochs = 15;
    o.on_progress = record;
    size_t lm;
    unsigned char *pm = NULL;
    sg_recommender *m = train_learns_1_2_threads(x, &o, &pm, &lm);
    uint32_t v;
    memcpy(&v, pm + 4, 4);
    assert_int_equal(v, 3);
    sg_recommender *n = NULL;
    assert_int_equal(sg_recommender_load_mem(&n, pm, lm, NULL), SG_OK);
    const sg_rec_opts *on = sg_recommender_opts(n);
    assert_int_equal(on->encoder, SG_REC_ENCODER_DENSE);
    assert_int_equal(on->enc_layers, 3);
    sg_rec_metrics mn = eval_fresh(n, 22), mv = eval_fresh(m, 22);
    assert_true(mn.ndcg100 == mv.ndcg100);
    sg_rec_opts po;
    sg_rec_opts_default(&po, SG_REC_POP);
    sg_recommender *p = train_ok(x, &po, NULL);
    sg_rec_metrics mp = eval_fresh(p, 22);
    if (!(mv.ndcg100 > mp.ndcg100 + 0.1))
        print_error("dense encoder ndcg %.4f; pop ndcg %.4f\n", mv.ndcg100, mp.ndcg100);
    assert_true(mv.ndcg100 > mp.ndcg100 + 0.1);
    /* the default encoder keeps the version-2 bytes */
    small_opts(&o, SG_REC_VAE);
    o.epochs = 1;
    sg_recommender *d = train_ok(x, &o, NULL);
    size_t ld;
    unsigned char *pd = payload(d, &ld);
    memcpy(&v, pd + 4, 4);
    assert_int_equal(v, 2);
    /* bad options are refused */
    sg_recommender *bad = NULL;
    o.encoder = 2;
    assert_int_equal(sg_recommender_train(&bad, x, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    o.encoder = SG_REC_ENCODER_DENSE;
    o.enc_layers = 0;
    assert_int_equal(sg_recommender_train(&bad, x, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    small_opts(&o, SG_REC_DAE);
    o.encoder = SG_REC_ENCODER_DENSE;
    assert_int_equal(sg_recommender_train(&bad, x, NULL, NULL, &o, NULL, NULL), SG_EINVAL);
    assert_null(bad);
    sg_free(pm);
    sg_free(pd);
    sg_recommender_free(m);
    sg_recommender_free(n);
    sg_recommender_free(p);
    sg_recommender_free(d);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * files */

/* recommend-4.1: save / load gives the same recommendations and the same bytes,
 * for every kind; the file round trip too */
static void save_load(void **state)
{
    (void)state;
    sg_interactions *x = clustered(40, 6);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    for (int kind = 0; kind <= SG_REC_DAE; kind++) {
        sg_rec_opts o;
        small_opts(&o, kind);
        o.epochs = 3;
        o.lambda = 10;
        sg_recommender *m = train_ok(x, &o, NULL), *n = NULL;
        size_t len, len2;
        unsigned char *buf = payload(m, &len);
        sg_error err;
        assert_int_equal(sg_recommender_load_mem(&n, buf, len, &err), SG_OK);
        unsigned char *buf2 = payload(n, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        int32_t ra[40 * 10], rb[40 * 10];
        float sa[40 * 10], sb[40 * 10];
        assert_int_equal(sg_recommender_recommend(m, rp, ci, 40, 10, NULL, ra, sa, NULL), SG_OK);
        assert_int_equal(sg_recommender_recommend(n, rp, ci, 40, 10, NULL, rb, sb, NULL), SG_OK);
        assert_memory_equal(ra, rb, sizeof ra);
        assert_memory_equal(sa, sb, sizeof sa);
        assert_int_equal(sg_recommender_kind(n), kind);
        sg_recommender_free(n);
        n = NULL;
        const char *path = "/tmp/sg_test_recommend.sgm";
        assert_int_equal(sg_recommender_save(m, path, &err), SG_OK);
        assert_int_equal(sg_recommender_load(&n, path, &err), SG_OK);
        assert_int_equal(sg_recommender_recommend(n, rp, ci, 40, 10, NULL, rb, sb, NULL), SG_OK);
        assert_memory_equal(ra, rb, sizeof ra);
        remove(path);
        sg_free(buf);
        sg_free(buf2);
        sg_recommender_free(m);
        sg_recommender_free(n);
    }
    sg_interactions_free(x);
}

/* recommend-4.2: a truncated or corrupt model is a clear SG_EPARSE, never a crash
 * or a leak */
static void corrupt_model(void **state)
{
    (void)state;
    sg_interactions *x = clustered(20, 9);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 1;
    sg_recommender *m = train_ok(x, &o, NULL), *n = NULL;
    size_t len;
    unsigned char *buf = payload(m, &len);
    int64_t live = sg_mem_live_bytes();
    sg_error err;
    for (size_t cut = 0; cut < len; cut += (cut < 600 ? 1 : 97)) {
        assert_int_equal(sg_recommender_load_mem(&n, buf, cut, &err), SG_EPARSE);
        assert_null(n);
        assert_true(err.msg[0] != '\0');
    }
    assert_int_equal(sg_recommender_load_mem(&n, buf, len - 1, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "truncated"));
    buf[0] ^= 0xff;
    assert_int_equal(sg_recommender_load_mem(&n, buf, len, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "not a recommender"));
    buf[0] ^= 0xff;
    assert_int_equal(sg_mem_live_bytes(), live);
    /* in a file: one flipped byte fails the checksum, a cut file says truncated */
    const char *path = "/tmp/sg_test_recommend_bad.sgm";
    assert_int_equal(sg_recommender_save(m, path, &err), SG_OK);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 200, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(ch ^ 0x10, f);
    fclose(f);
    assert_int_equal(sg_recommender_load(&n, path, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "checksum"));
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(sg_recommender_load(&n, path, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "truncated"));
    remove(path);
    assert_int_equal(sg_recommender_load(&n, path, &err), SG_EIO);
    sg_free(buf);
    sg_recommender_free(m);
    sg_interactions_free(x);
}

/* recommend-4.3: a version-1 payload (before the RecVAE options) still loads,
 * with those options off; a newer version is a clear SG_EPARSE */
static void old_version(void **state)
{
    (void)state;
    sg_interactions *x = clustered(20, 9);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 1;
    o.gamma = 0.01f;
    sg_recommender *m = train_ok(x, &o, NULL), *n = NULL;
    size_t len;
    unsigned char *buf = payload(m, &len);
    /* version 1: the same bytes without the 12 option bytes after max_items
     * (magic, version, kind, seed = 20 bytes, then 68 bytes of options) */
    const size_t at = 20 + 68;
    uint32_t v;
    memcpy(&v, buf + 4, 4);
    assert_int_equal(v, 2);
    unsigned char *old = malloc(len - 12);
    assert_non_null(old);
    memcpy(old, buf, at);
    memcpy(old + at, buf + at + 12, len - at - 12);
    v = 1;
    memcpy(old + 4, &v, 4);
    sg_error err;
    int rc = sg_recommender_load_mem(&n, old, len - 12, &err);
    if (rc) print_error("load v1: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_true(sg_recommender_opts(n)->gamma == 0.0f);
    assert_int_equal(sg_recommender_opts(n)->enc_passes, 0);
    assert_int_equal(sg_recommender_opts(n)->epochs, 1);
    sg_recommender_free(n);
    n = NULL;
    v = 6;
    memcpy(buf + 4, &v, 4);
    assert_int_equal(sg_recommender_load_mem(&n, buf, len, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "version 6"));
    assert_null(n);
    free(old);
    sg_free(buf);
    sg_recommender_free(m);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * serving */

/* recommend-5.1: own and excluded items never come back; short lists are padded;
 * lists are sorted, ties by item index */
static void exclusions(void **state)
{
    (void)state;
    sg_interactions *x = clustered(N_USERS, 10);
    assert_int_equal(sg_interactions_n_items(x), N_ITEMS);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    unsigned char ex[N_ITEMS] = {0};
    for (int i = 0; i < N_ITEMS; i += 3) ex[i] = 1;
    for (int kind = 0; kind <= SG_REC_DAE; kind++) {
        sg_rec_opts o;
        small_opts(&o, kind);
        o.epochs = 3;
        o.lambda = 10;
        sg_recommender *m = train_ok(x, &o, NULL);
        int k = N_ITEMS;
        int32_t *items = malloc((size_t)N_USERS * k * sizeof *items);
        float *sc = malloc((size_t)N_USERS * k * sizeof *sc);
        assert_int_equal(sg_recommender_recommend(m, rp, ci, N_USERS, k, ex, items, sc, NULL),
                         SG_OK);
        for (int u = 0; u < N_USERS; u++) {
            int n_valid = 0;
            for (int r = 0; r < k; r++) {
                int32_t i = items[(size_t)u * k + r];
                if (i < 0) {
                    assert_true(isinf(sc[(size_t)u * k + r]));
                    continue;
                }
                assert_true(n_valid == r);   /* padding only at the end */
                n_valid++;
                assert_false(ex[i]);
                for (int64_t q = rp[u]; q < rp[u + 1]; q++) assert_int_not_equal(ci[q], i);
                if (r > 0) {
                    float prev = sc[(size_t)u * k + r - 1], cur = sc[(size_t)u * k + r];
                    assert_true(prev > cur || (prev == cur && items[(size_t)u * k + r - 1] < i));
                }
            }
            /* exactly the allowed items are listed */
            int allowed = 0;
            for (int i = 0; i < N_ITEMS; i++) {
                int own = 0;
                for (int64_t q = rp[u]; q < rp[u + 1]; q++) own |= ci[q] == i;
                allowed += !ex[i] && !own;
            }
            assert_int_equal(n_valid, allowed);
        }
        free(items);
        free(sc);
        sg_recommender_free(m);
    }
    sg_interactions_free(x);
}

/* recommend-5.3: items fewer training users have than min_item_users are left
 * out of the network: scored -INFINITY, never recommended, ignored in a user's
 * items; the report counts the rest; a file keeps the setting */
static void items_outside_network(void **state)
{
    (void)state;
    char *csv = clustered_csv(N_USERS, 11, 0);
    size_t n = strlen(csv);
    char *csv2 = malloc(n + 64);
    assert_non_null(csv2);
    memcpy(csv2, csv, n);
    strcpy(csv2 + n, "u0,solo1\nu5,solo2\n");   /* two items one user each has */
    sg_interactions *x = ia_from_csv(csv2, NULL, NULL);
    free(csv);
    free(csv2);
    int I = sg_interactions_n_items(x);
    int64_t cnt[N_ITEMS + 2];
    assert_true(I <= N_ITEMS + 2);
    sg_interactions_item_counts(x, cnt);
    int solo1 = sg_interactions_find_item(x, "solo1"), solo2 = sg_interactions_find_item(x, "solo2");
    assert_true(solo1 >= 0 && solo2 >= 0);
    int in = 0;
    for (int i = 0; i < I; i++) in += cnt[i] >= 2;
    assert_true(in < I);
    sg_rec_opts o;
    small_opts(&o, SG_REC_VAE);
    o.epochs = 5;
    o.min_item_users = 0;
    sg_recommender *m = NULL;
    sg_error err;
    assert_int_equal(sg_recommender_train(&m, x, NULL, NULL, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "min item users"));
    o.min_item_users = 2;
    sg_rec_report rep;
    m = train_ok(x, &o, &rep);
    assert_int_equal(rep.net_items, in);
    /* scores: -INFINITY exactly for the items outside */
    float *sc = malloc((size_t)N_USERS * I * sizeof *sc);
    assert_non_null(sc);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    assert_int_equal(sg_recommender_score(m, rp, ci, N_USERS, sc, &err), SG_OK);
    for (int u = 0; u < N_USERS; u++) {
        for (int i = 0; i < I; i++) {
            float v = sc[(size_t)u * I + i];
            if (cnt[i] >= 2) assert_true(isfinite(v));
            else assert_true(isinf(v) && v < 0);
        }
    }
    /* a user's item outside the network changes nothing: {solo1, a} scores as {a} */
    int a = ci[rp[1]];
    int64_t rp2[3] = {0, 2, 3};
    int32_t ci2[3] = {a < solo1 ? a : solo1, a < solo1 ? solo1 : a, a};
    float s2[2 * (N_ITEMS + 2)];
    assert_int_equal(sg_recommender_score(m, rp2, ci2, 2, s2, &err), SG_OK);
    for (int i = 0; i < I; i++) {
        if (isinf(s2[i])) assert_true(isinf(s2[I + i]));
        else assert_true(fabsf(s2[i] - s2[I + i]) <= 1e-5f * (1.0f + fabsf(s2[i])));
    }
    /* never recommended, even when every other item is asked for */
    int32_t items[N_ITEMS + 2];
    float top[N_ITEMS + 2];
    int64_t rp0[2] = {0, 0};
    assert_int_equal(sg_recommender_recommend(m, rp0, NULL, 1, I, NULL, items, top, &err), SG_OK);
    for (int r = 0; r < I; r++) {
        if (r < in) assert_true(items[r] >= 0 && cnt[items[r]] >= 2);
        else assert_int_equal(items[r], -1);
    }
    /* the file keeps the setting (format version 5) and the same scores */
    size_t len;
    unsigned char *buf = payload(m, &len);
    uint32_t v;
    memcpy(&v, buf + 4, 4);
    assert_int_equal(v, 5);
    sg_recommender *m2 = NULL;
    assert_int_equal(sg_recommender_load_mem(&m2, buf, len, &err), SG_OK);
    assert_int_equal(sg_recommender_opts(m2)->min_item_users, 2);
    float *sc2 = malloc((size_t)N_USERS * I * sizeof *sc2);
    assert_non_null(sc2);
    assert_int_equal(sg_recommender_score(m2, rp, ci, N_USERS, sc2, &err), SG_OK);
    assert_memory_equal(sc, sc2, (size_t)N_USERS * I * sizeof *sc);
    free(sc);
    free(sc2);
    sg_free(buf);
    sg_recommender_free(m);
    sg_recommender_free(m2);
    sg_interactions_free(x);
}

/* recommend-5.2: bad rows and k are refused */
static void bad_arguments(void **state)
{
    (void)state;
    sg_interactions *x = clustered(20, 12);
    sg_rec_opts o;
    sg_rec_opts_default(&o, SG_REC_POP);
    sg_recommender *m = train_ok(x, &o, NULL);
    int64_t rp[] = {0, 2};
    int32_t ci[] = {1, 400};
    int32_t items[5];
    sg_error err;
    assert_int_equal(sg_recommender_recommend(m, rp, ci, 1, 5, NULL, items, NULL, &err),
                     SG_EINVAL);
    assert_non_null(strstr(err.msg, "column 400"));
    ci[1] = 2;
    assert_int_equal(sg_recommender_recommend(m, rp, ci, 1, 0, NULL, items, NULL, &err),
                     SG_EINVAL);
    assert_int_equal(sg_recommender_recommend(m, rp, ci, 1, 5, NULL, items, NULL, &err), SG_OK);
    /* options */
    sg_recommender *n = NULL;
    small_opts(&o, SG_REC_VAE);
    o.dropout = 1.0f;
    assert_int_equal(sg_recommender_train(&n, x, NULL, NULL, &o, NULL, &err), SG_EINVAL);
    small_opts(&o, SG_REC_VAE);
    o.lr = 1e9f;   /* diverges */
    o.epochs = 20;
    int rc = sg_recommender_train(&n, x, NULL, NULL, &o, NULL, &err);
    if (rc != SG_OK) {
        assert_int_equal(rc, SG_ENUMERIC);
        assert_non_null(strstr(err.msg, "not finite"));
    } else {
        sg_recommender_free(n);
    }
    sg_recommender_free(m);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * evaluation through interactions files */

/* recommend-6.1: sg_recommender_evaluate on hand-made fold-in / held-out users
 * with a popularity model: hits computed by hand */
static void evaluate_pop(void **state)
{
    (void)state;
    /* item popularity: a 4, b 3, c 2, d 1 */
    sg_interactions *x = ia_from_csv("user,item\n1,a\n1,b\n1,c\n1,d\n2,a\n2,b\n2,c\n3,a\n3,b\n"
                                     "4,a\n", NULL, NULL);
    sg_rec_opts o;
    sg_rec_opts_default(&o, SG_REC_POP);
    sg_recommender *m = train_ok(x, &o, NULL);
    const sg_interactions *d = sg_recommender_data(m);
    /* u9 has a folded in -> ranking b c d: held-out c at rank 2 */
    /* u8 has nothing folded in -> ranking a b c d: held-out d at rank 4, a at rank 1 */
    sg_interactions *f = ia_from_csv("user,item\nu9,a\n", d, NULL);
    sg_interactions *h = ia_from_csv("user,item\nu9,c\nu8,d\nu8,a\nu8,zz\n", d, f);
    sg_rec_metrics met;
    sg_error err;
    assert_int_equal(sg_recommender_evaluate(m, f, h, &met, &err), SG_OK);
    assert_int_equal(met.n_users, 2);
    assert_int_equal(met.n_no_foldin, 1);
    double n9 = (1.0 / log2(3.0)) / 1.0;
    double n8 = (1.0 + 1.0 / log2(5.0)) / (1.0 + 1.0 / log2(3.0));
    assert_true(fabs(met.ndcg100 - (n9 + n8) / 2) < 1e-12);
    assert_true(fabs(met.recall20 - 1.0) < 1e-12);
    /* mismatched users are refused */
    sg_interactions *h2 = ia_from_csv("user,item\nu7,c\n", d, NULL);
    assert_int_equal(sg_recommender_evaluate(m, f, h2, &met, &err), SG_EINVAL);
    sg_interactions_free(f);
    sg_interactions_free(h);
    sg_interactions_free(h2);
    sg_recommender_free(m);
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * allocation failures */

/* recommend-7.1: every allocation failure in training (vae with validation and
 * refit, items left out of its network, dae, ease with its lambda grid, pop),
 * saving and loading is a clean SG_ENOMEM without leaks */
static void alloc_failures(void **state)
{
    (void)state;
    sg_interactions *x = clustered(20, 13);
    int64_t live = sg_mem_live_bytes();
    for (int k = 0; k <= SG_REC_DAE + 2; k++) {
        /* the last rounds: a vae with RecVAE's training, a dae ensemble */
        int kind = k == SG_REC_DAE + 1 ? SG_REC_VAE : k > SG_REC_DAE ? SG_REC_DAE : k;
        sg_rec_opts o;
        small_opts(&o, kind);
        if (k == SG_REC_DAE + 1) {
            o.gamma = 0.01f;
            o.prior = SG_REC_PRIOR_COMPOSITE;
            o.enc_passes = 2;
            o.min_item_users = 4;   /* some items left out of the network */
        }
        if (k == SG_REC_DAE + 2) o.ensemble = 3;
        o.epochs = 2;
        o.batch = 8;
        o.hidden = 6;
        o.latent = 3;
        o.val_users = 0.25;
        int ok = 0;
        for (int64_t n = 0; n < 20000 && !ok; n++) {
            sg_recommender *m = NULL, *l = NULL;
            unsigned char *buf = NULL;
            size_t len = 0;
            sg_error err;
            sg_mem_fail_after(n);
            int rc = sg_recommender_train(&m, x, NULL, NULL, &o, NULL, &err);
            if (rc == SG_OK) rc = sg_recommender_save_mem(m, &buf, &len, &err);
            if (rc == SG_OK) rc = sg_recommender_load_mem(&l, buf, len, &err);
            sg_mem_fail_after(-1);
            if (rc == SG_OK) {
                ok = 1;
                assert_true(n > 3);
            } else {
                if (rc != SG_ENOMEM)
                    print_error("round %d, n %lld: %s\n", k, (long long)n, err.msg);
                assert_int_equal(rc, SG_ENOMEM);
                assert_null(l);
            }
            sg_free(buf);
            sg_recommender_free(m);
            sg_recommender_free(l);
            assert_int_equal(sg_mem_live_bytes(), live);
        }
        assert_true(ok);
    }
    sg_interactions_free(x);
}

/* ---------------------------------------------------------------------------
 * the fused softmax against the nn reference */

/* recommend-8.1: the vae's fused softmax + multinomial loss gives the nn core's
 * loss and gradient (sg_multinomial_nll_sparse_*), through the batch loss of a
 * dae whose output layer is all there is to compare: checked by the gradient
 * of the output bias, which equals the logit gradient summed over the batch */
static void fused_softmax(void **state)
{
    (void)state;
    sg_interactions *x = clustered(8, 14);
    sg_recommender m;
    memset(&m, 0, sizeof m);
    sg_rec_opts_default(&m.opts, SG_REC_DAE);
    m.kind = SG_REC_DAE;
    m.opts.hidden = 6;
    m.opts.latent = 4;
    m.opts.l2 = 0.0f;
    m.n_items = sg_interactions_n_items(x);
    int I = m.n_items, B = 8, H = 6, Z = 4;
    assert_int_equal(sg_vae_build(&m, 1, 1, NULL), SG_OK);
    float *w = sg_params_data(m.params);
    for (size_t i = 0; i < sg_params_count(m.params); i++) w[i] *= 20.0f;   /* wide logits */
    double loss;
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    assert_int_equal(sg_vae_batch_loss(&m, rp, ci, B, 0.0f, 1, NULL, 1, &loss, NULL), SG_OK);
    /* reference: the same forward by hand with nn kernels */
    float *vals = calloc((size_t)rp[B], sizeof *vals);
    float *code = calloc((size_t)B * Z, sizeof *code), *h2 = calloc((size_t)B * H, sizeof *h2);
    float *logits = calloc((size_t)B * I, sizeof *logits), *dl = calloc((size_t)B * I, 4);
    for (int64_t k = 0; k < rp[B]; k++) vals[k] = 1.0f;
    sg_csr_l2_normalize(vals, rp, B);
    int t = sg_params_find(m.params, "enc.w0");
    sg_sparse_dense_forward(code, rp, ci, vals, sg_params_tensor(m.params, t),
                            sg_params_tensor(m.params, t + 1), B, I, Z);
    sg_tanh_forward(code, code, (size_t)B * Z);
    t = sg_params_find(m.params, "dec.w0");
    sg_dense_forward(h2, code, sg_params_tensor(m.params, t), sg_params_tensor(m.params, t + 1), B,
                     Z, H);
    sg_tanh_forward(h2, h2, (size_t)B * H);
    t = sg_params_find(m.params, "dec.w1");
    sg_dense_forward(logits, h2, sg_params_tensor(m.params, t), sg_params_tensor(m.params, t + 1),
                     B, H, I);
    double ref = sg_multinomial_nll_sparse_forward(logits, logits, rp, ci, NULL, B, I, 1.0f / B);
    sg_multinomial_nll_sparse_backward(dl, logits, rp, ci, NULL, B, I, 1.0f / B);
    if (fabs(loss - ref) > 1e-4 * fabs(ref)) print_error("loss %.8g, reference %.8g\n", loss, ref);
    assert_true(fabs(loss - ref) <= 1e-4 * fabs(ref));
    const float *db = sg_params_grad(m.params, sg_params_find(m.params, "dec.b1"));
    for (int i = 0; i < I; i++) {
        double s = 0.0;
        for (int b = 0; b < B; b++) s += (double)dl[(size_t)b * I + i];
        assert_true(fabs((double)db[i] - s) < 1e-5);
    }
    free(vals);
    free(code);
    free(h2);
    free(logits);
    free(dl);
    sg_params_free(m.params);
    sg_interactions_free(x);
}

int main(void)
{
    sg_log_set(quiet_log, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_hand),      cmocka_unit_test(kind_names),
        cmocka_unit_test(ease_reference),    cmocka_unit_test(posinv_kernels),
        cmocka_unit_test(ease_learns),
        cmocka_unit_test(network_gradients), cmocka_unit_test(vae_learns),
        cmocka_unit_test(dae_learns),        cmocka_unit_test(deterministic),
        cmocka_unit_test(recvae_learns),     cmocka_unit_test(dense_encoder_gradients),
        cmocka_unit_test(dense_encoder_learns),
        cmocka_unit_test(ema_weights),       cmocka_unit_test(ensemble),
        cmocka_unit_test(old_version),
        cmocka_unit_test(save_load),         cmocka_unit_test(corrupt_model),
        cmocka_unit_test(exclusions),        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(items_outside_network),
        cmocka_unit_test(evaluate_pop),      cmocka_unit_test(alloc_failures),
        cmocka_unit_test(fused_softmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
