/* bench_vae.c -- time Mult-VAE training epochs on a CSR file (the peer: vae_peer.py).
 *
 *   bench_vae DATA.csr [--epochs N] [--threads T] [--batch B] [--seed S]
 *
 * Reads the file bench/vae_gen.py writes, trains stratagem's vae (the paper's
 * [I-600-200-600-I], batch 500, dropout 0.5, Adam 1e-3, KL annealed over 100
 * epochs' worth of steps up to 0.2, as the peer) for N epochs without
 * validation, and prints the time of each epoch (the training loop only, as
 * the peer times it) and 'ours: epoch_s=<median>'.  Uses only the public API. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "stratagem/interactions.h"
#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/recommend.h"

static double times[1000];
static int n_times;

static void on_epoch(void *ud, const sg_rec_progress *p)
{
    (void)ud;
    if (n_times < 1000) times[n_times++] = p->seconds;
    printf("ours epoch %d: %.3f s, loss %.4f\n", p->epoch, p->seconds, p->loss);
    fflush(stdout);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_vae DATA.csr [--epochs N] [--threads T] [--batch B]\n");
        return 2;
    }
    int epochs = 3, threads = 2, batch = 500;
    uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--epochs")) epochs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    }
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    sg_blas_set_threads(threads);
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    int64_t hdr[3];
    if (fread(hdr, 8, 3, f) != 3) return 1;
    int n_users = (int)hdr[0], n_items = (int)hdr[1];
    int64_t nnz = hdr[2];
    int64_t *rp = malloc(((size_t)n_users + 1) * 8);
    int32_t *ci = malloc((size_t)nnz * 4);
    if (!rp || !ci || fread(rp, 8, (size_t)n_users + 1, f) != (size_t)n_users + 1 ||
        fread(ci, 4, (size_t)nnz, f) != (size_t)nnz) {
        fprintf(stderr, "%s: short file\n", argv[1]);
        return 1;
    }
    fclose(f);
    sg_error err;
    sg_interactions *x = NULL;
    if (sg_interactions_from_csr(&x, NULL, n_items, n_users, rp, ci, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    sg_rec_opts o;
    sg_rec_opts_default(&o, SG_REC_VAE);
    o.seed = seed;
    o.epochs = epochs;
    o.batch = batch;
    o.val_users = 0.0;
    o.enc_passes = 0;   /* the Mult-VAE epoch the peer implements: joint updates, */
    o.ema = 0.0f;       /* last weights, */
    o.ensemble = 1;     /* one network, */
    o.dropout = 0.5f;   /* the paper's input dropout */
    o.anneal_steps = (int64_t)(((n_users + batch - 1) / batch) * 100 / 0.2);
    o.on_progress = on_epoch;
    sg_recommender *m = NULL;
    if (sg_recommender_train(&m, x, NULL, NULL, &o, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    qsort(times, (size_t)n_times, sizeof *times, cmp_d);
    printf("ours: epoch_s=%.4f threads=%d users=%d items=%d blas=%s\n", times[n_times / 2],
           threads, n_users, n_items, sg_blas_info());
    sg_recommender_free(m);
    sg_interactions_free(x);
    free(rp);
    free(ci);
    return 0;
}
