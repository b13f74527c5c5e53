/* bench_linear.c -- time stratagem's logistic regression on the bench tables.
 *
 * Fits L2 logistic regression (l2 = 1, i.e. scikit-learn C = 1) on
 *   synth: bench/out/linear_1m_{X,y}.f32 (bench/linear_gen.py), 1M x 20;
 *   coil:  the 5,822 CoIL 2000 training rows (is_test == 0), target CARAVAN,
 *          every other column except id/is_test as a number (85 features).
 * Neither table is standardised (the peer does the same).  Prints one line per
 * table: "<name> rows=N features=D loss=L time=S iters=K", S the best of
 * 'repeats' wall-clock fits of sg_linear_train alone.
 *
 * Usage: bench_linear [repeats (default 3)] [coil csv path] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stratagem/linalg.h"
#include "stratagem/linear.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) ((char *)buf)[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* CoIL training rows: a tiny parser for this one file (unquoted numbers,
 * quoted header names, "NA" only in CARAVAN of the test rows). */
static int load_coil(const char *path, float **X_out, float **y_out, int *N_out, int *D_out)
{
    size_t len;
    char *text = read_all(path, &len);
    if (!text) return -1;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int n_cols = 0, c_id = -1, c_test = -1, c_y = -1;
    char *hs = NULL;
    for (char *h = strtok_r(line, ",", &hs); h; h = strtok_r(NULL, ",", &hs), n_cols++) {
        if (strstr(h, "\"id\"")) c_id = n_cols;
        if (strstr(h, "is_test")) c_test = n_cols;
        if (strstr(h, "CARAVAN")) c_y = n_cols;
    }
    if (c_id < 0 || c_test < 0 || c_y < 0) {
        free(text);
        return -1;
    }
    int D = n_cols - 3, N = 0, cap = 8192;
    float *X = malloc((size_t)cap * D * sizeof *X), *y = malloc((size_t)cap * sizeof *y);
    float *row = malloc((size_t)n_cols * sizeof *row);
    while ((line = strtok_r(NULL, "\n", &save)) && N < cap) {
        char *p = line;
        for (int c = 0; c < n_cols; c++) {
            char *end;
            row[c] = strtof(p, &end);
            if (end == p) row[c] = NAN; /* NA */
            p = strchr(end, ',');
            p = p ? p + 1 : end;
        }
        if (row[c_test] != 0.0f) continue;
        int k = 0;
        for (int c = 0; c < n_cols; c++)
            if (c != c_id && c != c_test && c != c_y) X[(size_t)N * D + k++] = row[c];
        y[N++] = row[c_y];
    }
    free(row);
    free(text);
    *X_out = X;
    *y_out = y;
    *N_out = N;
    *D_out = D;
    return 0;
}

static int run(const char *name, const float *X, const float *y, int64_t N, int D, int repeats)
{
    sg_linear_params p;
    sg_linear_params_default(&p);
    p.l2 = 1.0;
    double best = INFINITY, loss = 0.0;
    int iters = 0;
    for (int r = 0; r < repeats; r++) {
        sg_linear *m = NULL;
        sg_error err;
        double t0 = now();
        int rc = sg_linear_train(&m, X, y, NULL, N, D, &p, &err);
        double t = now() - t0;
        if (rc) {
            fprintf(stderr, "bench_linear: %s: %s\n", name, err.msg);
            return 1;
        }
        if (t < best) best = t;
        loss = sg_linear_loss(m);
        iters = sg_linear_iterations(m);
        sg_linear_free(m);
    }
    printf("%s rows=%lld features=%d loss=%.15g time=%.4f iters=%d\n", name, (long long)N, D,
           loss, best, iters);
    return 0;
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 3;
    const char *coil = argc > 2 ? argv[2] : "/work/shared/data/coil2000-ticdata/ticdata.csv";
    sg_log_set_level(SG_LOG_WARN);
    fprintf(stderr, "bench_linear: BLAS %s\n", sg_blas_info());
    int rc = 0;

    size_t nx, ny;
    float *X = read_all("bench/out/linear_1m_X.f32", &nx);
    float *y = read_all("bench/out/linear_1m_y.f32", &ny);
    if (!X || !y) {
        fprintf(stderr, "bench_linear: run bench/linear_gen.py first\n");
        return 1;
    }
    int64_t N = (int64_t)(ny / sizeof(float));
    int D = (int)(nx / sizeof(float) / (size_t)N);
    rc |= run("synth", X, y, N, D, repeats);
    free(X);
    free(y);

    float *Xc, *yc;
    int Nc, Dc;
    if (load_coil(coil, &Xc, &yc, &Nc, &Dc) != 0) {
        fprintf(stderr, "bench_linear: cannot read %s\n", coil);
        return 1;
    }
    rc |= run("coil", Xc, yc, Nc, Dc, repeats * 5);
    free(Xc);
    free(yc);
    return rc;
}
