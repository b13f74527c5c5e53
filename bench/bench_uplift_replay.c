/* bench_uplift_replay.c -- the rule a plan's forecast replays on the training log.
 *
 *   bench_uplift_replay MODEL BUDGET COST > replay.csv
 *
 * Rebuilds, from an uplift model's out-of-fold effects on its own training log,
 * the rule that `plan` replays there to correct its forecast: the same solver
 * (sg_assign_solve) on the log rows' rank scores (sg_uplift_rank, where an arm's
 * effect beats its cost; else the effect), every arm costing COST, within
 * BUDGET (the plan's budget scaled to the log's size); writes it as
 * "row,action" (row = 0-based data row of the log, all rows having an outcome),
 * and prints on stderr the rule's value per log row as the forecast estimates
 * it (doubly robust, from the model's out-of-fold outcome predictions and the
 * logged outcomes and propensities) and as the model alone (direct method).  bench/uplift_replay.sh scores the same
 * rule against the world's truth: the two must agree if the forecast is honest.
 * See LICENSE for copyright. */
#include <stdio.h>
#include <stdlib.h>

#include "stratagem/assign.h"
#include "stratagem/error.h"
#include "stratagem/uplift.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_uplift_replay MODEL BUDGET COST\n");
        return 2;
    }
    sg_uplift *m = NULL;
    sg_error err;
    if (sg_uplift_load(&m, argv[1], &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        return 1;
    }
    double budget = atof(argv[2]), cost = atof(argv[3]);
    const int32_t *act;
    const float *y, *p, *mu, *tau;
    if (sg_uplift_oof(m, SG_UPLIFT_VALUE, &act, &y, &p, &mu, &tau, &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        sg_uplift_free(m);
        return 1;
    }
    long L = (long)sg_uplift_n_log(m);
    int A = sg_uplift_n_arms(m);
    double *gain = malloc(sizeof *gain * (size_t)L * (size_t)A);
    double *eff = malloc(sizeof *eff * (size_t)L * (size_t)A);
    double *arm_cost = malloc(sizeof *arm_cost * (size_t)A);
    int32_t *pol = malloc(sizeof *pol * (size_t)L);
    if (!gain || !eff || !arm_cost || !pol) return 1;
    for (long q = 0; q < L * A; q++) eff[q] = tau[q];
    if (sg_uplift_rank(m, SG_UPLIFT_VALUE, eff, L, gain, &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        sg_uplift_free(m);
        return 1;
    }
    for (long q = 0; q < L * A; q++)
        if (q % A && !(eff[q] - cost > 0)) gain[q] = eff[q];   /* as plan: both must pass */
    for (int a = 0; a < A; a++) arm_cost[a] = a ? cost : 0.0;
    sg_assign_problem pb;
    sg_assign_problem_init(&pb);
    pb.N = L;
    pb.A = A;
    pb.gain = gain;
    pb.arm_cost = arm_cost;
    pb.budget = budget;
    if (sg_assign_solve(&pb, NULL, pol, NULL, &err)) {
        fprintf(stderr, "bench_uplift_replay: %s\n", err.msg);
        sg_uplift_free(m);
        return 1;
    }
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
    free(gain);
    free(eff);
    free(arm_cost);
    free(pol);
    sg_uplift_free(m);
    return 0;
}
