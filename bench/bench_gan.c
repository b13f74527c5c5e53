/* bench_gan.c -- our side of bench/gan.sh: CTGAN epochs on a customer table.
 *
 * Usage: bench_gan FILE [EPOCHS] [ID_COL] [IGNORE_COL]
 * Trains sg_synth (CTGAN defaults: batch 500, pac 10, noise 128, generator and
 * critic 256-256, one critic step per generator step) for EPOCHS epochs (default
 * 3) on 80% of the rows, with no validation checks, and prints
 *   ours rows <n_train> data_dim <Dd> cond_dim <Cc> epochs <E> epoch_s <s> cpu_s <s>
 * where epoch_s is the wall time per epoch (steps = n_train / 500, each a critic
 * update with its gradient penalty and a generator update; the column transformer
 * is not included) and cpu_s the process CPU time per epoch over the same span,
 * the steadier figure on a shared machine.  Threads: OMP_NUM_THREADS and
 * OPENBLAS_NUM_THREADS (gan.sh sets both). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stratagem/log.h"
#include "stratagem/synth.h"
#include "stratagem/table.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_epoch(void *ud, const char *stage, int done, int total)
{
    (void)stage;
    (void)total;
    double *t = ud;
    if (done == 1) {   /* the transformer is fitted before the first epoch ends */
        t[0] = cpu_now();
        t[1] = wall_now();
    }
    t[2] = cpu_now();
    t[3] = wall_now();
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_gan FILE [EPOCHS] [ID_COL] [IGNORE_COL]\n");
        return 2;
    }
    sg_log_set_level(SG_LOG_WARN);
    int epochs = argc > 2 ? atoi(argv[2]) : 3;
    const char *id = argc > 3 && argv[3][0] ? argv[3] : NULL;
    const char *ignore[2] = {argc > 4 && argv[4][0] ? argv[4] : NULL, NULL};
    sg_error err;
    sg_table *t = NULL;
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.id_col = id;
    if (sg_table_load_csv(&t, argv[1], &lo, &err)) {
        fprintf(stderr, "bench_gan: %s\n", err.msg);
        return 1;
    }
    sg_synth_opts o;
    sg_synth_opts_default(&o);
    o.model = SG_SYNTH_GAN;
    o.id = id;
    o.ignore = ignore[0] ? ignore : NULL;
    o.epochs = epochs + 1;   /* the first epoch is the warm-up, timed from its end */
    o.valid = 0;
    o.holdout = 0.2;
    o.patience = 0;
    double tm[4] = {0, 0, 0, 0};
    o.on_progress = on_epoch;
    o.ud = tm;
    sg_synth *m = NULL;
    sg_synth_train_report rep;
    if (sg_synth_train(&m, t, &o, &rep, &err)) {
        fprintf(stderr, "bench_gan: %s\n", err.msg);
        return 1;
    }
    printf("ours rows %lld data_dim %d cond_dim %d epochs %d epoch_s %.4f cpu_s %.4f\n",
           (long long)rep.n_train, rep.data_dim, rep.cond_dim, epochs,
           (tm[3] - tm[1]) / epochs, (tm[2] - tm[0]) / epochs);
    sg_synth_free(m);
    sg_table_free(t);
    return 0;
}
