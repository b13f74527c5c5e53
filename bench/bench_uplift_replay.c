/* bench_uplift_replay.c -- the rule a plan's forecast replays on the training log.
 *
 *   bench_uplift_replay MODEL CONTACTS COST > replay.csv
 *
 * Rebuilds, from an uplift model's out-of-fold effects on its own training log,
 * the rule that `plan` replays there to correct its forecast (equal costs, no
 * caps: each row's best arm by effect - COST, the CONTACTS rows with the largest
 * positive net gain), writes it as "row,action" (row = 0-based data row of the
 * log, all rows having an outcome), and prints on stderr the rule's value per
 * log row as the forecast estimates it (doubly robust, from the model's
 * out-of-fold outcome predictions and the logged outcomes and propensities) and
 * as the model alone (direct method).  bench/uplift_replay.sh scores the same
 * rule against the world's truth: the two must agree if the forecast is honest.
 * See LICENSE for copyright. */
#include <stdio.h>
#include <stdlib.h>

#include "stratagem/error.h"
#include "stratagem/uplift.h"

static const double *g_key;

static int by_key_desc(const void *a, const void *b)
{
    double x = g_key[*(const long *)a], y = g_key[*(const long *)b];
    return x < y ? 1 : x > y ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_uplift_replay MODEL CONTACTS COST\n");
        return 2;
    }
    sg_uplift *m = NULL;
    sg_error err;
    if (sg_uplift_load(&m, argv[1], &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        return 1;
    }
    long K = atol(argv[2]);
    double cost = atof(argv[3]);
    const int32_t *act;
    const float *y, *p, *mu, *tau;
    if (sg_uplift_oof(m, SG_UPLIFT_VALUE, &act, &y, &p, &mu, &tau, &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        sg_uplift_free(m);
        return 1;
    }
    long L = (long)sg_uplift_n_log(m);
    int A = sg_uplift_n_arms(m);
    double *key = malloc(sizeof *key * (size_t)L);
    int *best = malloc(sizeof *best * (size_t)L), *pol = calloc((size_t)L, sizeof *pol);
    long *ord = malloc(sizeof *ord * (size_t)L);
    if (!key || !best || !pol || !ord) return 1;
    for (long i = 0; i < L; i++) {
        best[i] = 0;
        key[i] = 0;
        ord[i] = i;
        for (int a = 1; a < A; a++) {
            double g = tau[i * A + a] - cost;
            if (g > key[i]) {
                key[i] = g;
                best[i] = a;
            }
        }
    }
    g_key = key;
    qsort(ord, (size_t)L, sizeof *ord, by_key_desc);
    for (long q = 0; q < K && q < L; q++)
        if (key[ord[q]] > 0) pol[ord[q]] = best[ord[q]];
    double dm = 0, dr = 0;
    for (long i = 0; i < L; i++) {
        int a = pol[i];
        if (!a) continue;
        double g = mu[i * A + a] - mu[i * A];
        dm += g;
        dr += g;
        if (act[i] == a) dr += (y[i] - mu[i * A + a]) / p[i];
        else if (act[i] == 0) dr -= (y[i] - mu[i * A]) / p[i];
    }
    fprintf(stderr, "replayed rule on %ld log rows: doubly robust %.5f, model alone %.5f "
            "per row\n", L, dr / (double)L, dm / (double)L);
    printf("row,action\n");
    for (long i = 0; i < L; i++) printf("%ld,%s\n", i, sg_uplift_arm_label(m, pol[i]));
    free(key);
    free(best);
    free(pol);
    free(ord);
    sg_uplift_free(m);
    return 0;
}
