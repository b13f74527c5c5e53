/* bench_csv.c -- time sg_table_load_csv on one file: MB/s and peak RSS.
 *
 *   bench_csv FILE [--id COL] [--repeat N]
 *
 * Prints one line "ours: MB/s=... seconds=... cpu_s=... rows=... cols=...
 * peak_rss_mb=..." (the best of N loads by wall time, with the CPU seconds,
 * user + system, of that load; peak RSS is getrusage's ru_maxrss over the whole
 * run), then the inferred type of each column.  See LICENSE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "stratagem/error.h"
#include "stratagem/table.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void on_error(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "bench_csv: %s\n", msg);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *id = NULL;
    int repeat = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) id = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (!path) path = argv[i];
        else {
            fprintf(stderr, "bench_csv: unrecognized option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path || repeat < 1) {
        fprintf(stderr, "Usage: bench_csv FILE [--id COL] [--repeat N]\n");
        return 2;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = id;
    o.on_error = on_error;
    double best = 1e30, best_cpu = 0;
    sg_table *t = NULL;
    for (int r = 0; r < repeat; r++) {
        sg_table_free(t);
        t = NULL;
        sg_error err;
        double c0 = cpu_seconds(), t0 = now();
        int rc = sg_table_load_csv(&t, path, &o, &err);
        double dt = now() - t0, dc = cpu_seconds() - c0;
        if (rc != SG_OK) {
            fprintf(stderr, "bench_csv: %s\n", err.msg);
            return 1;
        }
        if (dt < best) {
            best = dt;
            best_cpu = dc;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mb = (double)st.st_size / 1e6;
    printf("ours: MB/s=%.1f seconds=%.3f cpu_s=%.3f rows=%lld cols=%d file_mb=%.1f "
           "peak_rss_mb=%.1f\n", mb / best, best, best_cpu, (long long)sg_table_n_rows(t),
           sg_table_n_cols(t), mb, (double)ru.ru_maxrss / 1024.0);
    for (int j = 0; j < sg_table_n_cols(t); j++)
        printf("  %-18s %-8s missing=%lld labels=%d\n", sg_table_col_name(t, j),
               sg_coltype_name(sg_table_col_type(t, j)), (long long)sg_table_n_missing(t, j),
               (int)sg_table_n_labels(t, j));
    sg_table_free(t);
    return 0;
}
