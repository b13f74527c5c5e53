/* bench_dcgan.c -- time stratagem's class-conditional DCGAN on Fashion-MNIST.
 *
 * Trains the default network (z 64, G 128x7x7 -> 64x14x14 -> 1x28x28, D 64 -> 128
 * with a projection head; creative.h) with batch 64 for a fixed number of steps
 * on the real training images, after 10 untimed warm-up steps, and prints
 *   ours steps=N seconds=S ms_per_step=M d_loss=.. g_loss=.. params_g=.. params_d=..
 * The timed call is one sg_dcgan_train_epoch over N*64 images, which also shuffles
 * the index (60k entries) and re-estimates the generator's batch-norm statistics
 * at its end (16 generator forwards, about 2 steps' worth of work at N = 200).
 *
 * Usage: bench_dcgan DATA_DIR [steps (default 200)] [threads (default 2)] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "stratagem/creative.h"
#include "stratagem/idx.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_dcgan DATA_DIR [steps] [threads]\n");
        return 2;
    }
    int steps = argc > 2 ? atoi(argv[2]) : 200, threads = argc > 3 ? atoi(argv[3]) : 2;
    if (steps < 1 || threads < 1) {
        fprintf(stderr, "bench_dcgan: steps and threads must be positive\n");
        return 2;
    }
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    sg_blas_set_threads(threads);
    sg_log_set_level(SG_LOG_WARN);
    sg_error err = {0};
    sg_image_data tr;
    if (sg_image_data_load(&tr, argv[1], "train", 10, &err)) {
        fprintf(stderr, "bench_dcgan: %s\n", err.msg);
        return 1;
    }
    sg_dcgan_opts o;
    sg_dcgan_opts_default(&o);
    sg_dcgan *g = NULL;
    sg_dcgan_stats st;
    int rc = sg_dcgan_new(&g, &o, tr.rows, tr.cols, 10, NULL, &err);
    if (!rc) rc = sg_dcgan_train_epoch(g, &tr, 10 * (int64_t)o.batch_size, &st, &err);
    double t0 = now();
    if (!rc) rc = sg_dcgan_train_epoch(g, &tr, (int64_t)steps * o.batch_size, &st, &err);
    double dt = now() - t0;
    if (rc) {
        fprintf(stderr, "bench_dcgan: %s\n", err.msg);
        sg_dcgan_free(g);
        sg_image_data_deinit(&tr);
        return 1;
    }
    size_t ng, nd;
    sg_dcgan_n_params(g, &ng, &nd);
    printf("ours steps=%lld seconds=%.3f ms_per_step=%.2f d_loss=%.4f g_loss=%.4f params_g=%zu "
           "params_d=%zu blas=\"%s\"\n", (long long)st.steps, dt, 1000.0 * dt / (double)st.steps,
           st.d_loss, st.g_loss, ng, nd, sg_blas_info());
    sg_dcgan_free(g);
    sg_image_data_deinit(&tr);
    return 0;
}
