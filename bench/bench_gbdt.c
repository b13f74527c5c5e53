/* bench_gbdt.c -- our side of bench/gbdt.sh: train sg_gbdt on CoIL 2000 and on
 * the generated 1M x 20 table, print AUC on the held-out rows and seconds.
 *
 * Usage: bench_gbdt [coil] [1m]     (both by default; data from bench/gbdt_gen.py)
 * Prints "ours <name> auc <AUC> seconds <wall> cpu <cpu>" per data set, where
 * the time covers sg_gbdt_train (binning included), as gbdt_peer.py times
 * DMatrix construction plus xgb.train.  It reads raw float32 files and parses
 * the CoIL CSV by hand: no dependency on the table/CSV modules.  Settings:
 * max_leaves 64, max_depth 6 (xgboost: depthwise, max_depth 6), learning_rate
 * 0.1, lambda_l2 1, min_child_weight 1, max_bins 255, GBDT_THREADS threads
 * (default 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stratagem/error.h"
#include "stratagem/gbdt.h"
#include "stratagem/log.h"

#define COIL "/work/shared/data/coil2000-ticdata/ticdata.csv"

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_gbdt: cannot open %s (run bench/gbdt_gen.py)\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_gbdt: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    ((char *)p)[n] = 0;
    *len = (size_t)n;
    return p;
}

static const double *g_score;

static int by_score(const void *a, const void *b)
{
    double x = g_score[*(const int64_t *)a], y = g_score[*(const int64_t *)b];
    return (x > y) - (x < y);
}

/* AUC with tied scores sharing their average rank. */
static double auc(const float *y, const double *s, int64_t n)
{
    int64_t *o = malloc((size_t)n * sizeof *o);
    for (int64_t i = 0; i < n; i++) o[i] = i;
    g_score = s;
    qsort(o, (size_t)n, sizeof *o, by_score);
    double rank_pos = 0, npos = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && s[o[j]] == s[o[i]]) j++;
        double avg = 0.5 * (double)(i + 1 + j);
        for (int64_t k = i; k < j; k++)
            if (y[o[k]] > 0.5f) {
                rank_pos += avg;
                npos++;
            }
        i = j;
    }
    free(o);
    double nneg = (double)n - npos;
    return (rank_pos - npos * (npos + 1) / 2) / (npos * nneg);
}

static void run(const char *name, const float *Xtr, const float *ytr, int64_t ntr,
                const float *Xte, const float *yte, int64_t nte, int D, int rounds)
{
    sg_gbdt_params p;
    sg_gbdt_params_default(&p);
    p.n_trees = rounds;
    p.max_leaves = 64;
    p.max_depth = 6;
    p.learning_rate = 0.1f;
    p.lambda_l2 = 1.0f;
    p.min_child_weight = 1.0f;
    p.max_bins = 255;
    p.n_threads = getenv("GBDT_THREADS") ? atoi(getenv("GBDT_THREADS")) : 2;
    p.verbose = getenv("GBDT_VERBOSE") ? atoi(getenv("GBDT_VERBOSE")) : 0;
    sg_gbdt *m = NULL;
    sg_error err;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    int rc = sg_gbdt_train(&m, Xtr, ytr, NULL, ntr, D, NULL, NULL, NULL, 0, &p, &err);
    double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (rc) {
        fprintf(stderr, "bench_gbdt: %s: %s\n", name, err.msg);
        exit(1);
    }
    double *pred = malloc((size_t)nte * sizeof *pred);
    sg_gbdt_predict(m, Xte, nte, 0, pred, NULL);
    double w2 = now(CLOCK_MONOTONIC);
    printf("ours %s auc %.6f seconds %.3f cpu %.3f predict %.3f\n", name, auc(yte, pred, nte),
           w1 - w0, c1 - c0, w2 - w1);
    fflush(stdout);
    free(pred);
    sg_gbdt_free(m);
}

/* CoIL 2000: rows with is_test == 0, target CARAVAN, id and is_test dropped. */
static void bench_coil(int rounds)
{
    size_t len, mlen;
    char *text = read_file(COIL, &len);
    unsigned char *mask = read_file("bench/out/coil_split.u8", &mlen);
    char *line = strtok(text, "\n");
    int n_cols = 1, c_id = -1, c_y = -1, c_test = -1;
    for (const char *q = line; *q; q++) n_cols += *q == ',';
    char *hdr = strdup(line), *save = NULL;
    int c = 0;
    for (char *tok = strtok_r(hdr, ",\r", &save); tok; tok = strtok_r(NULL, ",\r", &save), c++) {
        if (!strcmp(tok, "\"id\"") || !strcmp(tok, "id")) c_id = c;
        if (!strcmp(tok, "\"CARAVAN\"") || !strcmp(tok, "CARAVAN")) c_y = c;
        if (!strcmp(tok, "\"is_test\"") || !strcmp(tok, "is_test")) c_test = c;
    }
    free(hdr);
    if (c_id < 0 || c_y < 0 || c_test < 0) {
        fprintf(stderr, "bench_gbdt: %s: missing id/CARAVAN/is_test columns\n", COIL);
        exit(1);
    }
    const int D = n_cols - 3;
    int64_t cap = 10000, n = 0;
    float *X = malloc((size_t)cap * D * sizeof *X), *y = malloc((size_t)cap * sizeof *y);
    double *vals = malloc((size_t)n_cols * sizeof *vals);
    while ((line = strtok(NULL, "\n"))) {
        char *q = line;
        for (int k = 0; k < n_cols; k++) {
            char *end;
            vals[k] = strtod(q, &end);
            if (end == q) vals[k] = NAN;   /* NA */
            q = strchr(q, ',');
            if (!q) break;
            q++;
        }
        if (vals[c_test] != 0) continue;
        if (n == cap) {
            fprintf(stderr, "bench_gbdt: too many rows\n");
            exit(1);
        }
        int d = 0;
        for (int k = 0; k < n_cols; k++)
            if (k != c_id && k != c_y && k != c_test) X[n * D + d++] = (float)vals[k];
        y[n++] = (float)vals[c_y];
    }
    if ((size_t)n != mlen) {
        fprintf(stderr, "bench_gbdt: %lld CoIL rows but a split of %zu\n", (long long)n, mlen);
        exit(1);
    }
    float *Xtr = malloc((size_t)n * D * sizeof *Xtr), *Xte = malloc((size_t)n * D * sizeof *Xte);
    float *ytr = malloc((size_t)n * sizeof *ytr), *yte = malloc((size_t)n * sizeof *yte);
    int64_t ntr = 0, nte = 0;
    for (int64_t i = 0; i < n; i++) {
        if (mask[i]) {
            memcpy(Xte + nte * D, X + i * D, (size_t)D * sizeof *X);
            yte[nte++] = y[i];
        } else {
            memcpy(Xtr + ntr * D, X + i * D, (size_t)D * sizeof *X);
            ytr[ntr++] = y[i];
        }
    }
    run("coil2000", Xtr, ytr, ntr, Xte, yte, nte, D, rounds);
    free(X), free(y), free(vals), free(Xtr), free(Xte), free(ytr), free(yte), free(text);
    free(mask);
}

static void bench_table(int rounds)
{
    size_t len;
    char *meta = read_file("bench/out/gbdt_1m.meta", &len);
    long long N = 0, T = 0;
    int D = 0;
    if (sscanf(meta, "rows %lld cols %d train_rows %lld", &N, &D, &T) != 3) {
        fprintf(stderr, "bench_gbdt: bad bench/out/gbdt_1m.meta\n");
        exit(1);
    }
    free(meta);
    size_t xl, yl;
    float *X = read_file("bench/out/gbdt_1m.X.f32", &xl);
    float *y = read_file("bench/out/gbdt_1m.y.f32", &yl);
    if (xl != (size_t)N * D * 4 || yl != (size_t)N * 4) {
        fprintf(stderr, "bench_gbdt: table files do not match the meta file\n");
        exit(1);
    }
    run("table1m", X, y, T, X + (size_t)T * D, y + T, N - T, D, rounds);
    free(X);
    free(y);
}

int main(int argc, char **argv)
{
    int coil = argc < 2, table = argc < 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "coil")) coil = 1;
        else if (!strcmp(argv[i], "1m")) table = 1;
        else {
            fprintf(stderr, "bench_gbdt: unknown argument '%s' (coil, 1m)\n", argv[i]);
            return 2;
        }
    }
    if (!getenv("GBDT_VERBOSE")) sg_log_set_level(SG_LOG_WARN);
    if (coil) bench_coil(getenv("COIL_ROUNDS") ? atoi(getenv("COIL_ROUNDS")) : 100);
    if (table) bench_table(getenv("TABLE_ROUNDS") ? atoi(getenv("TABLE_ROUNDS")) : 200);
    return 0;
}
