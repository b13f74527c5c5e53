/* uplift_private.h -- the uplift model's layout, shared by uplift.c and uplift_plan.c. */
#ifndef SG_UPLIFT_PRIVATE_H
#define SG_UPLIFT_PRIVATE_H

#include <stdint.h>

#include "stratagem/encode.h"
#include "stratagem/error.h"
#include "stratagem/gbdt.h"
#include "stratagem/linear.h"
#include "stratagem/uplift.h"

/* One fitted learner: a GBDT or a linear model. */
typedef struct upl_unit {
    sg_gbdt *g;
    sg_linear *l;
    double smear;          /* value-given-conversion models: Duan's factor; else 1 */
    double lo, hi;         /* value-given-conversion models: the range of the log-values
                            * fitted; predictions are clamped to it (a linear model
                            * extrapolates, and exp() makes that absurd); else +-DBL_MAX */
    /* Linear start of a pooled GBDT (NULL: none): the trees boost from the margin
     * lin[a (D + 1)] + sum_j lin[a (D + 1) + 1 + j] x_j of the row's arm a (the
     * design's column D), with a missing x_j read as lin[A (D + 1) + j]. */
    double *lin;           /* (A (D + 1) + D) */
    int lin_A, lin_D;
    int lin_logistic;      /* 1: the unit predicts sigmoid(margin); 0: the margin */
} upl_unit;

struct sg_uplift {
    int A, K, R;           /* arms (0 = control), folds, repeats of the K-fold split */
    int learner, base, pooled, kind;
    int n_store;           /* stored targets: 2 for a hurdle (value, conversions), else 1 */
    int P;                 /* stage-1 parts: 2 for a hurdle, else 1 */
    int M;                 /* stage-1 models per part and fold: 1 pooled, A per arm */
    int S;                 /* stage-2 models per target, arm and fold: 0 T, 1 DR, 2 X */
    uint64_t seed;
    double prop_clip;
    int calibrated;        /* 1: effects are mapped through cal[s][a] = (alpha, beta) */
    double cal[2][SG_UPLIFT_MAX_ARMS][2];
    /* rank hinges (uplift.h): (g, k, c) per store and arm, rank(u) = u + g max(u - k, 0) - c
     * on the calibrated effect u; all 0 = the plan ranks by u itself */
    double hinge[2][SG_UPLIFT_MAX_ARMS][3];
    char **labels;         /* (A) */
    char *treatment, *outcome, *propensity, *id;
    sg_schema *schema;
    int D;                 /* encoded features */
    upl_unit *s1;          /* (R K, P, M) stage-1 outcome models */
    int64_t n_s1;
    upl_unit *s2;          /* (n_store, A, R K, S) stage-2 effect models; arm 0 empty */
    int64_t n_s2;
    sg_schema *pschema;    /* propensity model (X learner only) */
    sg_linear **pm;        /* (A) one-vs-rest logistic models */
    /* the training log with its out-of-fold predictions */
    int64_t N;
    int32_t *action;       /* (N) */
    float *prop;           /* (N) propensity used (logged or estimated) */
    float *y[2];           /* (N) per stored target */
    float *mu[2];          /* (N, A) OOF predicted outcome per arm */
    float *tau[2];         /* (N, A) OOF predicted effect per arm (column 0 = 0) */
    int64_t *row;          /* (N) table rows; NULL after a load */
    /* The model whose calibrated effects sum a plan this model ranks (its forecast and
     * model interval; sg_uplift_forecaster), NULL: this one.  Set by
     * SG_UPLIFT_TREES_AUTO when it keeps the additive trees: the any-feature model,
     * fitted to the same log, does not share their errors where they select. */
    struct sg_uplift *fc;
};

/* Calibrates the OOF effects of a trained model's log, each arm's line and, with
 * 0 < hinge_q < 1, its rank hinge (uplift.h; uplift.c; tests call it on made-up
 * logs).  SG_ENOMEM is the only error. */
int upl_calibrate(sg_uplift *m, int prior, double hinge_q, sg_error *err);

/* The score a plan ranks arm a's calibrated effect u by for 'target' (uplift.c). */
double upl_rank(const sg_uplift *m, int target, int a, double u);

#endif
