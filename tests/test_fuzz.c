/* test_fuzz.c -- mutation fuzzing of every reader of outside input: CSV and JSON
 * tables, interactions, and the payload of every kind of model file (the HTTP
 * service's request bodies: test_server.c, serve-1.14).
 *
 * Each target starts from a valid input, damages it many ways (bits
 * flipped, bytes changed to separators, quotes, NUL or extreme integers, ranges
 * deleted, repeated or cut off) and reads it back.  A read must either succeed
 * or fail with an error code and a message; what it accepts is then used (rows
 * counted, a model asked for predictions, a plan, samples) so that damage the
 * reader let through cannot crash what comes after.  Model payloads are
 * rewrapped with a correct checksum, so the parsers behind the checksum meet
 * the damage, as they would with a file written by a buggy or hostile program.
 * Run under ASan+UBSan by `make test`; SG_FUZZ_ITERS (default 150) sets the
 * mutations per target and SG_FUZZ_SEED the stream, for longer runs by hand. */
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

#include "io/serial.h"
#include "stratagem/budget.h"
#include "stratagem/creative.h"
#include "stratagem/gbdt.h"
#include "stratagem/interactions.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/promo.h"
#include "stratagem/recommend.h"
#include "stratagem/response.h"
#include "stratagem/rng.h"
#include "stratagem/simulator.h"
#include "stratagem/synth.h"
#include "stratagem/table.h"
#include "stratagem/uplift.h"
#include "mutate.h"

static char g_dir[] = "/tmp/sg_fuzz_XXXXXX";
static int g_iters = 150;
static uint64_t g_seed = 1;

/* Every failure must carry a code and a message. */
static void check_failure(int rc, const sg_error *err, const char *target)
{
    if (rc == SG_OK) return;
    if (rc > 0 || err->code != rc || err->msg[0] == '\0')
        fail_msg("%s: rc %d with message '%s'", target, rc, err->msg);
}

static int iters_from_env(void)
{
    const char *s = getenv("SG_FUZZ_ITERS");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : 150;
}

/* ------------------------------------------------------------------ CSV tables */

static const struct { const char *name, *text; } TABLE_SEEDS[] = {
    {"fuzz.csv", "id,age,region,spend,joined\n1,34,north,12.5,2024-01-02\n2,,\"south, east\",0,"
                 "2024-02-29\n3,51,west,1e3,2023-12-31\n4,29,\"say \"\"hi\"\"\",-4.25,\n"},
    {"fuzz.csv", "user,item,rating\r\nu1,i1,4.5\r\nu1,i2,3\r\nu2,i1,5\r\nu3,i3,\r\n"},
    {"fuzz.csv", "a,b\n\"multi\nline\",1\nx,2\n"},
    {"fuzz.jsonl", "{\"id\": 1, \"age\": 34, \"region\": \"north\", \"spend\": 12.5}\n"
                   "{\"id\": 2, \"region\": \"s\\u00e9\", \"spend\": null, \"vip\": true}\n\n"
                   "{\"id\": 3, \"age\": 5e1, \"joined\": \"2024-01-02\"}\n"},
    {"fuzz.json", "[\n {\"user\": \"u1\", \"item\": \"i1\", \"rating\": 4.5},\n"
                  " {\"user\": \"u2\", \"item\": \"i1\", \"rating\": 3}, {\"user\": \"u3\", "
                  "\"item\": \"i3\"}\n]\n"},
};

static void exercise_table(const sg_table *t)
{
    int64_t n = sg_table_n_rows(t);
    int nc = sg_table_n_cols(t);
    assert_true(n >= 0 && nc > 0);
    for (int j = 0; j < nc; j++) {
        assert_non_null(sg_table_col_name(t, j));
        assert_true(sg_table_n_missing(t, j) <= n);
        assert_int_equal(sg_table_find(t, sg_table_col_name(t, j)), j);
    }
}

/* fuzz-1.1: damaged CSV and JSON text is read or refused with a message, never a
 * crash; the same with an id column, de-duplication and forced column types */
static void csv_tables(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, g_seed);
    static const char *const CAT[] = {"region", NULL}, *const NUM[] = {"age", NULL};
    int loaded = 0;
    for (int s = 0; s < (int)(sizeof TABLE_SEEDS / sizeof *TABLE_SEEDS); s++) {
        size_t n = strlen(TABLE_SEEDS[s].text);
        unsigned char *buf = malloc(n + 256);
        for (int it = 0; it < g_iters * 4; it++) {
            size_t len = mutate(&r, (const unsigned char *)TABLE_SEEDS[s].text, n, buf, 1);
            sg_load_opts o;
            sg_load_opts_default(&o);
            if (s == 0 && (it & 1)) {
                o.id_col = "id";
                o.dedup = SG_DEDUP_LAST;
                o.categorical = CAT;
                o.numeric = NUM;
            }
            sg_table *t = NULL;
            sg_error err = {0};
            int rc = sg_table_load_mem(&t, TABLE_SEEDS[s].name, (const char *)buf, len, &o, &err);
            check_failure(rc, &err, TABLE_SEEDS[s].name);
            if (rc == SG_OK) {
                exercise_table(t);
                loaded++;
                if (s == 1 || s == 4) {   /* the interactions built from it */
                    sg_interactions_opts io;
                    sg_interactions_opts_default(&io);
                    io.user_col = "user";
                    io.item_col = "item";
                    io.rating_col = (it & 1) ? "rating" : NULL;
                    io.min_rating = 3.5;
                    sg_interactions *x = NULL;
                    sg_error e2 = {0};
                    int rc2 = sg_interactions_from_table(&x, t, &io, NULL, &e2);
                    check_failure(rc2, &e2, "interactions");
                    if (rc2 == SG_OK)
                        assert_true(sg_interactions_nnz(x) <= sg_table_n_rows(t));
                    sg_interactions_free(x);
                }
            }
            sg_table_free(t);
        }
        free(buf);
    }
    assert_true(loaded > 0);   /* some damage is harmless: the readers were reached */
}

/* ------------------------------------------------------------------ models */

/* A model file's payload, damaged and rewrapped with a valid checksum. */
typedef int (*load_fn)(const char *path, void *ctx, sg_error *err);

static void write_wrapped(const char *path, int task, const unsigned char *p, size_t n)
{
    unsigned char hdr[20];
    uint32_t version = SG_MODEL_FORMAT_VERSION, t = (uint32_t)task;
    uint64_t len = n;
    memcpy(hdr, "SGM1", 4);
    memcpy(hdr + 4, &version, 4);
    memcpy(hdr + 8, &t, 4);
    memcpy(hdr + 12, &len, 8);
    uint32_t crc = sg_crc32(sg_crc32(0, hdr, sizeof hdr), p, n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(hdr, 1, sizeof hdr, f), sizeof hdr);
    if (n) assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fwrite(&crc, 1, 4, f), 4);
    assert_int_equal(fclose(f), 0);
}

/* Damage the payload of the model file 'good' g_iters times; 'load' loads and
 * exercises the file.  Returns how many damaged files loaded. */
static int fuzz_model(const char *good, int task, load_fn load, void *ctx, const char *target)
{
    unsigned char *payload = NULL;
    size_t n = 0;
    int got_task = 0;
    sg_error err = {0};
    assert_int_equal(sg_modelfile_read(good, task, &got_task, &payload, &n, &err), SG_OK);
    /* the undamaged payload, rewrapped, loads */
    char path[256];
    snprintf(path, sizeof path, "%s/fuzz_%s.sgm", g_dir, target);
    write_wrapped(path, task, payload, n);
    if (load(path, ctx, &err) != SG_OK) fail_msg("%s: the undamaged model: %s", target, err.msg);

    sg_rng r;
    sg_rng_init(&r, g_seed ^ (uint64_t)task * 0x9E3779B97F4A7C15ull);
    unsigned char *buf = malloc(n + 256);
    int loaded = 0;
    for (int it = 0; it < g_iters; it++) {
        size_t len = mutate(&r, payload, n, buf, 0);
        write_wrapped(path, task, buf, len);
        memset(&err, 0, sizeof err);
        int rc = load(path, ctx, &err);
        check_failure(rc, &err, target);
        loaded += rc == SG_OK;
    }
    free(buf);
    sg_free(payload);
    unlink(path);
    if (getenv("SG_FUZZ_ITERS"))
        printf("%s: %zu payload bytes, %d of %d damaged files loaded\n", target, n, loaded,
               g_iters);
    return loaded;
}

static sg_table *table_from(const char *csv, const char *name)
{
    sg_table *t = NULL;
    sg_error err = {0};
    if (sg_table_load_mem(&t, name, csv, strlen(csv), NULL, &err) != SG_OK)
        fail_msg("%s: %s", name, err.msg);
    return t;
}

/* A campaign log: id, x1, x2, seg, arm (ctl/a/b), prop, y (a money outcome). */
static char *log_csv(int n, uint64_t seed)
{
    size_t cap = (size_t)n * 80 + 64, off = 0;
    char *s = malloc(cap);
    off += (size_t)snprintf(s, cap, "cid,x1,x2,seg,arm,prop,y\n");
    sg_rng r;
    sg_rng_init(&r, seed);
    static const char *ARMS[] = {"ctl", "a", "b"}, *SEGS[] = {"n", "s", "w"};
    for (int i = 0; i < n; i++) {
        double x1 = sg_rng_normal(&r), x2 = sg_rng_normal(&r);
        int a = (int)sg_rng_below(&r, 3), g = (int)sg_rng_below(&r, 3);
        double p = 1 / (1 + exp(1.0 - 0.5 * x1 - (a == 1 ? 0.8 * (x2 > 0) : a == 2 ? 0.4 : 0)));
        double y = sg_rng_uniform(&r) < p ? exp(1 + 0.3 * x1 + 0.5 * sg_rng_normal(&r)) : 0;
        off += (size_t)snprintf(s + off, cap - off, "c%d,%.4f,%.4f,%s,%s,0.3333,%.4f\n", i, x1,
                                x2, SEGS[g], ARMS[a], y);
    }
    return s;
}

static sg_table *g_log;    /* the campaign log (uplift, response, simulator) */

static int load_uplift(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_uplift *m = NULL;
    int rc = sg_uplift_load(&m, path, err);
    if (rc) return rc;
    int64_t rows[3] = {0, 1, 2};
    double eff[3 * 8], se[3 * 8], mu[3 * 8];
    sg_error e2 = {0};
    if (sg_uplift_n_arms(m) <= 8) {
        int rc2 = sg_uplift_predict(m, g_log, rows, 3, SG_UPLIFT_VALUE, mu, eff, se, &e2);
        check_failure(rc2, &e2, "uplift predict");
    }
    sg_uplift_free(m);
    return SG_OK;
}

static int load_response(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_response *m = NULL;
    int rc = sg_response_load(&m, path, err);
    if (rc) return rc;
    double out[5];
    int64_t rows[5] = {0, 1, 2, 3, 4};
    sg_error e2 = {0};
    check_failure(sg_response_predict(m, g_log, rows, 5, out, &e2), &e2, "response predict");
    sg_response_free(m);
    return SG_OK;
}

/* fuzz-2.1: uplift and response model files (schema, GBDT and linear parts) */
static void uplift_response_files(void **state)
{
    (void)state;
    char *csv = log_csv(600, 3);
    g_log = table_from(csv, "log.csv");
    free(csv);
    for (int base = 0; base < 2; base++) {
        sg_uplift_opts o;
        sg_uplift_opts_default(&o);
        o.treatment = "arm";
        o.control = "ctl";
        o.outcome = "y";
        o.propensity = "prop";
        o.id = "cid";
        o.cv_folds = 2;
        o.repeats = 1;
        o.base = base ? SG_LEARNER_LINEAR : SG_LEARNER_GBDT;
        o.gbdt.n_trees = 8;
        o.gbdt.n_threads = 1;
        sg_uplift *m = NULL;
        sg_error err = {0};
        if (sg_uplift_train(&m, g_log, &o, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
        char path[256];
        snprintf(path, sizeof path, "%s/uplift%d.sgm", g_dir, base);
        assert_int_equal(sg_uplift_save(m, path, &err), SG_OK);
        sg_uplift_free(m);
        fuzz_model(path, SG_TASK_UPLIFT, load_uplift, NULL, base ? "uplift_linear" : "uplift");

        sg_response_opts ro;
        sg_response_opts_default(&ro);
        ro.target = "y";
        ro.id = "cid";
        static const char *const IGN[] = {"arm", "prop", NULL};
        ro.ignore = IGN;
        ro.learner = base ? SG_LEARNER_LINEAR : SG_LEARNER_GBDT;
        ro.gbdt.n_trees = 8;
        ro.gbdt.n_threads = 1;
        sg_response *rm = NULL;
        if (sg_response_train(&rm, g_log, &ro, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
        snprintf(path, sizeof path, "%s/response%d.sgm", g_dir, base);
        assert_int_equal(sg_response_save(rm, path, &err), SG_OK);
        sg_response_free(rm);
        fuzz_model(path, SG_TASK_RESPONSE, load_response, NULL,
                   base ? "response_linear" : "response");
    }
    sg_table_free(g_log);
    g_log = NULL;
}

/* ------------------------------------------------------------------ budget, promo */

static sg_table *g_next;   /* periods after a budget model's series */

static int load_budget(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_budget *m = NULL;
    int rc = sg_budget_load(&m, path, err);
    if (rc) return rc;
    for (int c = 0; c < sg_budget_n_channels(m); c++) {
        sg_budget_channel ch;
        sg_budget_channel_get(m, c, &ch);
        assert_non_null(sg_budget_channel_name(m, c));
    }
    double mean[4], lo[4], hi[4];
    sg_error e2 = {0};
    check_failure(sg_budget_predict(m, g_next, 1, mean, lo, hi, &e2), &e2, "budget predict");
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = 2000;
    po.weeks = 4;
    po.steps = 40;
    sg_budget_plan p;
    memset(&e2, 0, sizeof e2);
    check_failure(sg_budget_plan_make(m, &po, &p, &e2), &e2, "budget plan");
    sg_budget_plan_deinit(&p);
    sg_budget_free(m);
    return SG_OK;
}

static sg_table *g_panel;

static int load_promo(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_promo *m = NULL;
    int rc = sg_promo_load(&m, path, err);
    if (rc) return rc;
    for (int p = 0; p < sg_promo_n_products(m); p++) {
        sg_promo_coef c;
        sg_promo_coef_get(m, p, &c);
        assert_non_null(sg_promo_product_label(m, p));
    }
    double *out = malloc((size_t)sg_table_n_rows(g_panel) * sizeof *out);
    sg_error e2 = {0};
    check_failure(sg_promo_predict(m, g_panel, out, NULL, &e2), &e2, "promo predict");
    free(out);
    sg_promo_free(m);
    return SG_OK;
}

/* fuzz-2.2: media-mix (budget) and price-response (promo) model files */
static void budget_promo_files(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 5);
    size_t cap = 64 * 80, off = 0;
    char *csv = malloc(cap), *next = malloc(512);
    off += (size_t)snprintf(csv, cap, "week,price,tv,search,sales\n");
    size_t k = (size_t)snprintf(next, 512, "week,price,tv,search,sales\n");
    for (int t = 0; t < 64; t++) {
        double price = 2 + 0.2 * sg_rng_normal(&r), tv = 100 * sg_rng_uniform(&r),
               se = 50 + 30 * sg_rng_uniform(&r);
        double y = 5000 - 800 * price + 900 * tv / (tv + 40) + 2 * se + 50 * sg_rng_normal(&r);
        if (t < 60)
            off += (size_t)snprintf(csv + off, cap - off, "%d,%.4f,%.3f,%.3f,%.3f\n", t + 1,
                                    price, tv, se, y);
        else
            k += (size_t)snprintf(next + k, 512 - k, "%d,%.4f,%.3f,%.3f,%.3f\n", t + 1, price, tv,
                                  se, y);
    }
    sg_table *series = table_from(csv, "series.csv");
    g_next = table_from(next, "next.csv");
    free(csv);
    free(next);
    static const char *const CH[] = {"tv", "search"}, *const CTL[] = {"price"};
    sg_budget_opts bo;
    sg_budget_opts_default(&bo);
    bo.period = "week";
    bo.outcome = "sales";
    bo.channels = CH;
    bo.n_channels = 2;
    bo.controls = CTL;
    bo.n_controls = 1;
    bo.folds = 3;
    bo.n_draws = 10;
    sg_budget *bm = NULL;
    sg_error err = {0};
    if (sg_budget_train(&bm, series, &bo, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
    char path[256];
    snprintf(path, sizeof path, "%s/budget.sgm", g_dir);
    assert_int_equal(sg_budget_save(bm, path, &err), SG_OK);
    sg_budget_free(bm);
    fuzz_model(path, SG_TASK_BUDGET, load_budget, NULL, "budget");
    sg_table_free(series);
    sg_table_free(g_next);
    g_next = NULL;

    /* a panel: 3 stores x 2 products x 30 weeks */
    cap = 3 * 2 * 30 * 64 + 64;
    csv = malloc(cap);
    off = (size_t)snprintf(csv, cap, "store,product,week,units,price,deal\n");
    for (int w = 0; w < 30; w++)
        for (int s = 0; s < 3; s++)
            for (int p = 0; p < 2; p++) {
                double lp = log(2.0 + p) + 0.15 * sg_rng_normal(&r);
                int deal = sg_rng_uniform(&r) < 0.3;
                double u = exp(5 + 0.2 * s - 2 * lp + 0.2 * deal + 0.1 * sg_rng_normal(&r));
                off += (size_t)snprintf(csv + off, cap - off, "s%d,p%d,%d,%.4f,%.4f,%d\n", s, p,
                                        w + 1, u, exp(lp), deal);
            }
    g_panel = table_from(csv, "panel.csv");
    free(csv);
    sg_promo_opts po;
    sg_promo_opts_default(&po);
    po.store = "store";
    po.product = "product";
    po.week = "week";
    po.units = "units";
    po.price = "price";
    po.deal = "deal";
    po.valid_weeks = 6;
    po.recent_weeks = 4;
    po.n_draws = 10;
    sg_promo *pm = NULL;
    if (sg_promo_train(&pm, g_panel, &po, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/promo.sgm", g_dir);
    assert_int_equal(sg_promo_save(pm, path, &err), SG_OK);
    sg_promo_free(pm);
    fuzz_model(path, SG_TASK_PROMO, load_promo, NULL, "promo");
    sg_table_free(g_panel);
    g_panel = NULL;
}

/* ------------------------------------------------------------------ recommenders */

static int load_recommender(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_recommender *m = NULL;
    int rc = sg_recommender_load(&m, path, err);
    if (rc) return rc;
    int I = sg_recommender_n_items(m);
    if (I > 0 && I < 100000) {
        int64_t rp[3] = {0, 2, 3};
        int32_t ci[3] = {0, I > 1 ? 1 : 0, 0};
        int32_t items[2 * 5];
        float sc[2 * 5];
        sg_error e2 = {0};
        check_failure(sg_recommender_recommend(m, rp, ci, 2, 5, NULL, items, sc, &e2), &e2,
                      "recommend");
        int d = sg_recommender_embed_dim(m);
        if (d > 0 && d < 100000) {
            float *z = malloc((size_t)2 * (size_t)d * sizeof *z);
            memset(&e2, 0, sizeof e2);
            check_failure(sg_recommender_embed(m, rp, ci, 2, z, &e2), &e2, "embed");
            free(z);
        }
    }
    sg_recommender_free(m);
    return SG_OK;
}

/* fuzz-2.3: recommender files of every kind (the training interactions, the
 * network's weights, the ensemble, the item filter) */
static void recommender_files(void **state)
{
    (void)state;
    int U = 60, I = 25;
    int64_t *rp = malloc((size_t)(U + 1) * sizeof *rp);
    int32_t *ci = malloc((size_t)U * (size_t)I * sizeof *ci);
    sg_rng r;
    sg_rng_init(&r, 9);
    rp[0] = 0;
    for (int u = 0; u < U; u++) {
        int64_t k = rp[u];
        for (int i = 0; i < I; i++)
            if (sg_rng_uniform(&r) < (i % 5 == u % 5 ? 0.6 : 0.08)) ci[k++] = i;
        if (k == rp[u]) ci[k++] = u % I;
        rp[u + 1] = k;
    }
    sg_interactions *x = NULL;
    sg_error err = {0};
    assert_int_equal(sg_interactions_from_csr(&x, NULL, I, U, rp, ci, NULL, &err), SG_OK);
    static const char *KINDS[] = {"vae", "dae", "ease", "pop"};
    for (int k = 0; k < 4; k++) {
        int kind = sg_rec_kind_parse(KINDS[k]);
        sg_rec_opts o;
        sg_rec_opts_default(&o, kind);
        o.epochs = 3;
        o.batch = 16;
        o.hidden = 8;
        o.latent = 4;
        o.val_users = 0;
        o.ensemble = kind == sg_rec_kind_parse("vae") ? 2 : 1;
        o.min_item_users = kind == sg_rec_kind_parse("vae") ? 2 : 1;
        o.lambda = 10;
        sg_recommender *m = NULL;
        if (sg_recommender_train(&m, x, NULL, NULL, &o, NULL, &err) != SG_OK)
            fail_msg("%s", err.msg);
        char path[256];
        snprintf(path, sizeof path, "%s/rec_%s.sgm", g_dir, KINDS[k]);
        assert_int_equal(sg_recommender_save(m, path, &err), SG_OK);
        sg_recommender_free(m);
        char target[32];
        snprintf(target, sizeof target, "recommend_%s", KINDS[k]);
        fuzz_model(path, SG_TASK_RECOMMEND, load_recommender, NULL, target);
    }
    sg_interactions_free(x);
    free(rp);
    free(ci);
}

/* ------------------------------------------------------------------ generative models */

static int load_synth(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_synth *m = NULL;
    int rc = sg_synth_load(&m, path, err);
    if (rc) return rc;
    int nc = sg_synth_n_cols(m);
    if (nc > 0 && nc < 10000) {
        float *X = malloc((size_t)4 * (size_t)nc * sizeof *X);
        sg_error e2 = {0};
        check_failure(sg_synth_sample(m, 4, 1, -1, 0, X, NULL, &e2), &e2, "synth sample");
        char buf[64];
        for (int j = 0; j < nc; j++) sg_synth_format(m, j, X[j], buf, sizeof buf);
        free(X);
    }
    sg_synth_free(m);
    return SG_OK;
}

static int load_simulator(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    sg_simulator *m = NULL;
    int rc = sg_simulator_load(&m, path, err);
    if (rc) return rc;
    int32_t arm[4] = {0, 1, 2, 1};
    int64_t rows[4] = {0, 1, 2, 3};
    sg_sim_result res;
    memset(&res, 0, sizeof res);
    sg_error e2 = {0};
    check_failure(sg_simulator_run(m, g_log, rows, 4, arm, 2, 1, 1, &res, &e2), &e2,
                  "simulate");
    sg_sim_result_deinit(&res);
    sg_simulator_free(m);
    return SG_OK;
}

/* fuzz-2.4: synthetic-customer (GAN and TVAE) and simulator files */
static void generative_files(void **state)
{
    (void)state;
    char *csv = log_csv(300, 4);
    g_log = table_from(csv, "log.csv");
    free(csv);
    char path[256];
    sg_error err = {0};
    for (int model = 0; model < 2; model++) {
        sg_synth_opts o;
        sg_synth_opts_default(&o);
        o.model = model ? SG_SYNTH_TVAE : SG_SYNTH_GAN;
        o.id = "cid";
        o.target = "arm";
        o.epochs = 2;
        o.batch = 50;
        o.pac = 5;
        o.embedding = 8;
        o.hidden = 16;
        o.eval_every = 1;
        sg_synth *m = NULL;
        if (sg_synth_train(&m, g_log, &o, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
        snprintf(path, sizeof path, "%s/synth%d.sgm", g_dir, model);
        assert_int_equal(sg_synth_save(m, path, &err), SG_OK);
        sg_synth_free(m);
        fuzz_model(path, SG_TASK_SYNTH, load_synth, NULL, model ? "synth_tvae" : "synth_gan");
    }
    sg_sim_opts so;
    sg_sim_opts_default(&so);
    so.treatment = "arm";
    so.control = "ctl";
    static const char *const OUT[] = {"y", NULL};
    so.outcomes = OUT;
    so.id = "cid";
    so.propensity = "prop";
    so.n_models = 2;
    so.hidden = 8;
    so.epochs = 2;
    sg_simulator *sm = NULL;
    if (sg_simulator_train(&sm, g_log, &so, NULL, &err) != SG_OK) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/sim.sgm", g_dir);
    assert_int_equal(sg_simulator_save(sm, path, &err), SG_OK);
    sg_simulator_free(sm);
    fuzz_model(path, SG_TASK_SIMULATE, load_simulator, NULL, "simulate");
    sg_table_free(g_log);
    g_log = NULL;
}

static int load_creative(const char *path, void *ctx, sg_error *err)
{
    (void)ctx;
    int kind = 0;
    int rc = sg_creative_model_kind(path, &kind, err);
    if (rc) return rc;
    sg_error e2 = {0};
    if (kind == SG_CREATIVE_GAN) {
        sg_dcgan *g = NULL;
        rc = sg_dcgan_load(&g, path, err);
        if (rc) return rc;
        int R = sg_dcgan_rows(g), C = sg_dcgan_cols(g);
        float *img = malloc((size_t)R * (size_t)C * sizeof *img);
        int label = 0;
        sg_rng r;
        sg_rng_init(&r, 1);
        check_failure(sg_dcgan_generate(g, img, &label, 1, &r, &e2), &e2, "generate");
        for (int i = 0; i < sg_dcgan_n_classes(g); i++) assert_non_null(sg_dcgan_class_name(g, i));
        free(img);
        sg_dcgan_free(g);
    } else {
        sg_cnn *m = NULL;
        rc = sg_cnn_load(&m, path, err);
        if (rc) return rc;
        float img[8 * 8] = {0};
        int pred = -1;
        check_failure(sg_cnn_classify(m, img, 1, &pred, NULL, &e2), &e2, "classify");
        sg_cnn_free(m);
    }
    return SG_OK;
}

/* fuzz-2.5: product-image GAN and classifier files (untrained: the format is the same) */
static void creative_files(void **state)
{
    (void)state;
    char path[256];
    sg_error err = {0};
    sg_dcgan_opts o;
    sg_dcgan_opts_default(&o);
    o.z_dim = 4;
    o.g_channels = 4;
    o.d_channels = 4;
    static const char *const NAMES[] = {"shirt", "shoe"};
    sg_dcgan *g = NULL;
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 2, NAMES, &err), SG_OK);
    snprintf(path, sizeof path, "%s/gan.sgm", g_dir);
    assert_int_equal(sg_dcgan_save(g, path, &err), SG_OK);
    sg_dcgan_free(g);
    fuzz_model(path, SG_TASK_CREATIVE, load_creative, NULL, "creative_gan");

    sg_cnn_opts co;
    sg_cnn_opts_default(&co);
    co.c1 = 2;
    co.c2 = 4;
    co.hidden = 8;
    sg_cnn *m = NULL;
    assert_int_equal(sg_cnn_new(&m, &co, 8, 8, 2, &err), SG_OK);
    snprintf(path, sizeof path, "%s/cnn.sgm", g_dir);
    assert_int_equal(sg_cnn_save(m, path, &err), SG_OK);
    sg_cnn_free(m);
    fuzz_model(path, SG_TASK_CREATIVE, load_creative, NULL, "creative_cnn");
}

/* ------------------------------------------------------------------ main */

static int setup(void **state)
{
    (void)state;
    sg_log_set_level(SG_LOG_ERROR);
    g_iters = iters_from_env();
    const char *s = getenv("SG_FUZZ_SEED");
    if (s) g_seed = strtoull(s, NULL, 10);
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_tables),
        cmocka_unit_test(uplift_response_files),
        cmocka_unit_test(budget_promo_files),
        cmocka_unit_test(recommender_files),
        cmocka_unit_test(generative_files),
        cmocka_unit_test(creative_files),
    };
    return cmocka_run_group_tests_name("fuzz", tests, setup, teardown);
}
