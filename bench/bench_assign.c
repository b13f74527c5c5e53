/* bench_assign.c -- time and memory of sg_assign_solve on a synthetic campaign.
 *
 * Usage: bench_assign N A BUDGET_FRAC [INSTANCE.bin] [CAP_FRAC]
 * Generates N customers x A arms (seed 1), solves with the budget set to
 * BUDGET_FRAC of what giving everyone their best arm would cost, prints one
 * "ours:" line (seconds, value, cost, bound, gap, peak memory) and the two
 * baselines.  With INSTANCE.bin it also writes the instance for the peer
 * (bench/assign_peer.py): int64 N, int64 A, double budget, int64 caps (A),
 * then gain (N x A) and cost (N x A) as little-endian doubles.  CAP_FRAC > 0
 * caps every arm at that share of N.  See LICENSE for copyright. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stratagem/assign.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* peak resident set size of this process, MiB (VmHWM) */
static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = atof(line + 6);
    fclose(f);
    return kb / 1024.0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_assign N A BUDGET_FRAC [INSTANCE.bin] [CAP_FRAC]\n");
        return 2;
    }
    int64_t N = atoll(argv[1]);
    int A = atoi(argv[2]);
    double frac = atof(argv[3]);
    const char *path = argc > 4 && strcmp(argv[4], "-") != 0 ? argv[4] : NULL;
    double cap_frac = argc > 5 ? atof(argv[5]) : 0;
    sg_log_set_level(SG_LOG_WARN);

    double *gain = malloc((size_t)N * A * sizeof *gain);
    double *cost = malloc((size_t)N * A * sizeof *cost);
    int32_t *arm = malloc((size_t)N * sizeof *arm);
    int64_t *cap = malloc((size_t)A * sizeof *cap);
    if (!gain || !cost || !arm || !cap) return 1;
    /* a shop: basket value lognormal, conversion ~8%; arm a is a stronger and
     * dearer incentive than arm a-1, with customer-specific response */
    sg_rng rng;
    sg_rng_init(&rng, 1);
    double full = 0;
    for (int64_t i = 0; i < N; i++) {
        double basket = exp(3.5 + 0.8 * sg_rng_normal(&rng));
        double p_buy = 0.02 + 0.12 * sg_rng_uniform(&rng);
        double sens = sg_rng_normal(&rng);
        double best_net = 0, best_c = 0;
        gain[i * A] = cost[i * A] = 0;
        for (int a = 1; a < A; a++) {
            double strength = (double)a / (A - 1);
            double tau = p_buy * (0.05 + 0.4 * strength) * (1 + 0.8 * sens) +
                         0.01 * sg_rng_normal(&rng);
            double p_t = p_buy + tau;
            gain[i * A + a] = 0.3 * basket * tau;                    /* margin 30% */
            cost[i * A + a] = 0.02 + strength * 0.15 * basket * (p_t > 0 ? p_t : 0);
            double net = gain[i * A + a] - cost[i * A + a];
            if (net > best_net) {
                best_net = net;
                best_c = cost[i * A + a];
            }
        }
        full += best_c;
    }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    p.budget = frac * full;
    cap[0] = -1;
    for (int a = 1; a < A; a++) cap[a] = cap_frac > 0 ? (int64_t)(cap_frac * (double)N) : -1;
    if (cap_frac > 0) p.cap = cap;
    if (path) {
        FILE *f = fopen(path, "wb");
        int64_t hdr[2] = {N, A};
        if (!f || fwrite(hdr, sizeof hdr, 1, f) != 1 || fwrite(&p.budget, 8, 1, f) != 1 ||
            fwrite(cap, 8, (size_t)A, f) != (size_t)A ||
            fwrite(gain, 8, (size_t)(N * A), f) != (size_t)(N * A) ||
            fwrite(cost, 8, (size_t)(N * A), f) != (size_t)(N * A) || fclose(f) != 0) {
            fprintf(stderr, "bench_assign: cannot write %s\n", path);
            return 1;
        }
    }
    double rss0 = peak_rss_mib();
    sg_error err;
    sg_assign_stats st;
    double t0 = now();
    int rc = sg_assign_solve(&p, NULL, arm, &st, &err);
    double t1 = now();
    if (rc != SG_OK) {
        fprintf(stderr, "bench_assign: %s\n", err.msg);
        return 1;
    }
    double rss1 = peak_rss_mib();
    printf("instance: N=%lld A=%d budget=%.6g (%.0f%% of treating everyone's best arm)%s\n",
           (long long)N, A, p.budget, 100 * frac, cap_frac > 0 ? " with caps" : "");
    printf("ours: time_s=%.3f value=%.6f cost=%.6f treated=%lld bound=%.6f gap_pct=%.5f "
           "rounds=%d nodes=%lld peak_rss_mib=%.1f solver_extra_mib=%.1f\n",
           t1 - t0, st.value, st.cost, (long long)st.n_treated, st.bound,
           st.bound > 0 ? 100 * (st.bound - st.value) / st.bound : 0.0, st.rounds,
           (long long)st.nodes, rss1, rss1 - rss0);
    sg_assign_stats b1, b2;
    sg_rng_init(&rng, 2);
    if (sg_assign_single_arm(&p, -1, &rng, arm, &b1, &err) != SG_OK ||
        sg_assign_random(&p, &rng, arm, &b2, &err) != SG_OK) {
        fprintf(stderr, "bench_assign: %s\n", err.msg);
        return 1;
    }
    printf("baselines: single_best_arm_value=%.6f random_value=%.6f\n", b1.value, b2.value);
    free(gain);
    free(cost);
    free(arm);
    free(cap);
    return 0;
}
