/* uplift.h -- task 'uplift': what each action would change, per customer, and plans under a budget.
 *
 * Input is a campaign log: one row per customer with features, the action the
 * logging policy took (a label in the treatment column, one label being the
 * control arm), the outcome (0/1 conversion or a number such as margin) and,
 * optionally, the probability with which the logging policy took that action
 * (its propensity).  Arms are numbered 0..A-1: arm 0 is the control, the other
 * labels follow in byte order.
 *
 * Outcome model.  For every arm a, mu(x, a) = E[outcome | x, arm a]:
 *   binary outcome      mu = P(y = 1 | x, a)                         (logistic loss)
 *   "hurdle" outcome    mu = P(y > 0 | x, a) * E[y | y > 0, x, a]    (money: mostly 0, noisy)
 *                       the second part is fitted on log(y) of the rows with y > 0 and
 *                       brought back with Duan's smearing factor (mean exp(residual))
 *   other numbers       mu = E[y | x, a]                             (squared loss)
 * The hurdle is chosen automatically when every outcome is >= 0, the outcome is
 * not 0/1 and at least 30% of the outcomes are 0.  A hurdle model also predicts
 * conversions (y > 0), so plans can target either value or conversions.
 * By default the outcome model is shared by all arms ("pooled"): GBDT gets the
 * arm as one more (categorical) feature, so arms with few rows borrow the
 * baseline learned from all rows; the linear learner gets the features, arm
 * dummies and arm x feature interactions under one ridge penalty, which shrinks
 * each arm's deviation toward the shared model.  'pooled' = 0 fits one model
 * per arm instead (the textbook T-learner).
 *
 * Learners of the effect tau_a(x) = mu(x, a) - mu(x, 0):
 *   T   the difference of the outcome model's predictions;
 *   X   (Kuenzel et al. 2019) imputed effects y - mu(x, 0) on arm-a rows and
 *       mu(x, a) - y on control rows are each regressed on x; the two fits are
 *       mixed with weight g = e_a / (e_a + e_0) from the propensity model;
 *   DR  (Kennedy 2020) the doubly robust pseudo-outcome
 *       mu_a - mu_0 + [A = a] (y - mu_a) / e_a - [A = 0] (y - mu_0) / e_0
 *       is regressed on x.
 * Everything is cross-fitted: the log is split into K folds, R times over
 * (R "repeats" with different splits), and each of the R K fold models is
 * fitted without its fold.  A log row's out-of-fold ("OOF") prediction is the
 * mean of its R held-out predictions (no model that saw the row is used); new
 * rows are predicted by the mean of all R K models.  The standard error of an
 * effect is the delete-d jackknife spread of each repeat's K fold models,
 * se^2 = mean over repeats of (K - 1) / K * sum_k (tau_k - mean)^2.
 *
 * Calibration ('calibrate', default on).  For each treatment arm the
 * cross-fitted doubly robust pseudo-outcomes phi (below) are regressed on the
 * OOF effects over all log rows: phi = alpha + b tau.  The slope is shrunk
 * by its robust (HC0) standard error toward a prior centre c (posterior mean
 * under a N(c, 0.5^2) prior) and clipped to [0, 3]; alpha keeps the arm's mean
 * effect at the AIPW estimate.  c is 1 (the model's own scale), except for the
 * value of a hurdle model ('cal_prior' SG_UPLIFT_CAL_CONV, the default), where
 * c is the same arm's calibrated conversion slope: the value's effect is the
 * conversion model's effect times a margin, so a conversion model that learns
 * an arm's effects too flat makes its value effects too flat by about as much,
 * and the conversions' 0/1 outcomes measure that more precisely than the
 * value's zero-or-money ones.  Every effect the model predicts (and the stored OOF
 * effects) then goes through that line: a shared model that learns one arm's
 * effects too flat or too steep is put back on the scale the log shows, while
 * a small, noisy log leaves the model's ranking nearly unchanged.
 *
 * Rank hinges ('rank_hinge' q, default 0.8; with calibration).  A line cannot
 * follow effects that bend at the top of an arm: where the logging policy
 * rarely sent an arm, its largest predicted effects rest on few rows and are
 * the most inflated, and a plan for few customers picks exactly those.  So each
 * arm also gets a hinge: the residuals of the pseudo-outcomes after the line are
 * regressed on max(t - knot, 0) (t the raw OOF effect, knot its q quantile),
 * the slope change shrunk under a N(centre, 0.25^2) prior (centre 0, or for a
 * hurdle's value with SG_UPLIFT_CAL_CONV the same arm's conversion hinge) and
 * kept >= -beta.  The hinge only ranks: a plan chooses by the score
 * u + g max(u - k, 0) - c of each calibrated effect u (g, k, c: the slope change
 * over the line's slope, the knot and an offset that keeps the arm's mean score
 * at its mean effect), but every effect the model predicts, and so a forecast's
 * sum, stays the line's; each arm's gamma is poorly measured, and summing the
 * hinge's effects made forecasts scatter more (bench/uplift_results.md,
 * sections 23-24).
 *
 * Additive trees ('additive' SG_UPLIFT_TREES_ARM; `--interactions arm`).  The
 * shared GBDT's trees may split on the arm and on at most one feature each, so
 * every arm's conversion logit (and log value) is a sum of one-feature curves:
 * a tree cannot spend its splits on feature x feature combinations, and an
 * effect that turns on a sum of columns (an additive index) is learned
 * directly.  Plans gained about 0.015 of the best plan's value on two campaign
 * benchmarks whose effects are additive on the logit, but the forecasts'
 * spread grew on one of them, and an effect that turns on a pair of features
 * cannot be expressed (bench/uplift_results.md, section 26).  With
 * SG_UPLIFT_TREES_AUTO both models are trained and the log chooses: each
 * model's out-of-fold effects make a rule (each row's best arm by rank score,
 * the top fifth of positive scores treated), the rule is valued on the log by
 * the doubly robust pseudo-outcomes of that model's own cross-fitted outcome
 * predictions, and the higher value wins; when the additive trees win, the other
 * model stays in the model as its forecaster (sg_uplift_forecaster), whose
 * effects sum the plans the additive trees rank.  That is the default: paired
 * against trees of any features alone it gained about 0.01 of the best plan's
 * value on both additive benchmarks, lost about 0.02 on pair effects, and its
 * forecasts were as close to the truth or closer, at twice the training time
 * (sections 26-27).
 *
 * Propensities.  Given by a column (checked to lie in (0, 1]) or estimated:
 * one-vs-rest L2 logistic regression per arm on the standardised features
 * (penalty max(linear.l2, sqrt(N))), normalised to sum to 1, clipped below at
 * 'prop_clip'.  The X-learner always
 * fits this model (it needs e_a for every arm at prediction time).
 *
 * The model keeps, for every training row, the logged arm, the outcome, the
 * propensity used and the OOF predictions (mu and tau for each arm): about
 * 4 (2 + T (1 + 2 A)) bytes per row for T stored targets (2 for a hurdle).
 * These let a plan's forecast be checked against what really happened in the
 * log (see sg_uplift_plan).  GBDT defaults (sg_uplift_opts_default): 300 rounds
 * of depth-3 trees (7 leaves), learning rate 0.05, min_child_weight 20, no
 * early stopping (stopping on the outcome's loss ends before the smaller
 * differences between arms are learned).
 *
 * See LICENSE for copyright. */
#ifndef SG_UPLIFT_H
#define SG_UPLIFT_H

#include <stdint.h>

#include "assign.h"
#include "error.h"
#include "gbdt.h"
#include "linear.h"
#include "ope.h"
#include "table.h"
#include "uplift_metrics.h"

typedef struct sg_uplift sg_uplift;

enum { SG_UPLIFT_T = 0, SG_UPLIFT_X = 1, SG_UPLIFT_DR = 2 };
/* targets: the outcome itself, or conversions (y > 0; the same as the outcome when it is 0/1) */
enum { SG_UPLIFT_VALUE = 0, SG_UPLIFT_CONV = 1 };
enum { SG_HURDLE_AUTO = 0, SG_HURDLE_ON = 1, SG_HURDLE_OFF = 2 };
/* Where the prior of a calibration slope is centred (see "Calibration"). */
enum { SG_UPLIFT_CAL_CONV = 0, SG_UPLIFT_CAL_ONE = 1 };
/* 'additive': the shared GBDT's trees */
enum { SG_UPLIFT_TREES_ALL = 0, SG_UPLIFT_TREES_ARM = 1, SG_UPLIFT_TREES_AUTO = 2 };
/* outcome kinds (sg_uplift_kind) */
enum { SG_UPLIFT_BINARY = 0, SG_UPLIFT_HURDLE = 1, SG_UPLIFT_NUMERIC = 2 };

#define SG_UPLIFT_MAX_ARMS 64

/* ---------------------------------------------------------------- the log */

/* A campaign log read from a table: the used rows (outcome not missing), in
 * table order. */
typedef struct sg_uplift_log {
    int64_t N;              /* used rows */
    int A;                  /* arms, control first */
    char **labels;          /* (A) arm labels, owned */
    int64_t *count;         /* (A) rows per arm */
    int32_t *action;        /* (N) logged arm */
    double *y;              /* (N) outcome */
    double *prop;           /* (N) logged propensity, or NULL without a propensity column */
    int64_t *row;           /* (N) table row of each used row */
    int64_t n_missing_outcome;   /* table rows skipped */
} sg_uplift_log;

/* Read the log columns of 't'.  'arms' (n_arms labels, control first) fixes the
 * arms, e.g. a model's; NULL takes them from the data (control first, the rest
 * in byte order).  'propensity' NULL = no column.  Errors (SG_ENOTFOUND for a
 * missing column; SG_EPARSE naming FILE:LINE for a missing action, a label that
 * is not one of 'arms', a propensity outside (0, 1] or missing, a text
 * outcome; SG_EINVAL when the control label never occurs (the message lists the
 * labels), when no row has an outcome, or for more than SG_UPLIFT_MAX_ARMS
 * arms), SG_ENOMEM.  'out' is owned by the caller: sg_uplift_log_deinit (also
 * after a failure). */
int sg_uplift_log_read(sg_uplift_log *out, const sg_table *t, const char *treatment,
                       const char *control, const char *outcome, const char *propensity,
                       const char *const *arms, int n_arms, sg_error *err);
void sg_uplift_log_deinit(sg_uplift_log *g);

/* ---------------------------------------------------------------- training */

typedef struct sg_uplift_opts {
    const char *treatment;      /* treatment column (required) */
    const char *control;        /* its control label (required) */
    const char *outcome;        /* outcome column (required) */
    const char *propensity;     /* logged propensity column, or NULL: estimated */
    const char *id;             /* id column or NULL (never a feature) */
    const char *const *ignore;  /* NULL-terminated columns that are not features, or NULL */
    const char *sums;           /* derived features, sums of columns (sg_schema_add_sums) */
    int learner;                /* SG_UPLIFT_T (default), SG_UPLIFT_X, SG_UPLIFT_DR */
    int base;                   /* SG_LEARNER_GBDT (default) or SG_LEARNER_LINEAR (response.h) */
    int pooled;                 /* 1 (default): one outcome model shared by the arms; 0: per arm */
    int hurdle;                 /* SG_HURDLE_AUTO (default), _ON, _OFF */
    int cv_folds;               /* K in 2..32; default 5 */
    int repeats;                /* R: repeats of the K-fold split, 1..16; default 3 */
    int64_t min_arm_rows;       /* fewer rows in an arm is an error; default 30 */
    double valid_frac;          /* GBDT: inner split that sets the number of trees; default 0.2 */
    double prop_clip;           /* estimated propensities are clipped below at this; 0.01 */
    int calibrate;              /* 1: calibrate each arm's effects on the OOF log (see above) */
    int cal_prior;              /* SG_UPLIFT_CAL_CONV (default): a hurdle's value slopes have
                                 * their prior centred on the arm's conversion slope;
                                 * SG_UPLIFT_CAL_ONE: every slope's prior is centred on 1 */
    double linear_start;        /* > 0: the pooled GBDT's conversion model (a binary outcome,
                                 * or P(y > 0) of a hurdle) boosts from a penalised logistic
                                 * model with arm x feature terms, this its L2 penalty (on
                                 * standardised features); 0: off */
    int additive;               /* SG_UPLIFT_TREES_ALL: the pooled GBDT's trees combine any
                                 * features; _ARM: each splits on the arm and at most one
                                 * feature, so every arm's effect is a sum of one-feature
                                 * curves; _AUTO (default): both trained, the log chooses,
                                 * and additive trees kept keep the other model as their
                                 * forecaster (see above); other models than the pooled
                                 * GBDT: _AUTO is _ALL */
    double rank_hinge;          /* in (0, 1): with calibration, each arm's plans rank its
                                 * effects through a hinge at this quantile (see above);
                                 * default 0.8; 0: the calibrated effects themselves */
    sg_gbdt_params gbdt;        /* GBDT settings (objective and seed are set per model) */
    sg_linear_params linear;    /* linear settings (kind is set per model) */
    uint64_t seed;              /* default SG_DEFAULT_SEED */
    void (*on_progress)(void *ud, const char *stage, int done, int total);  /* or NULL */
    void *ud;
} sg_uplift_opts;

void sg_uplift_opts_default(sg_uplift_opts *o);

/* Held-out ranking quality of one arm's effect scores against control. */
typedef struct sg_uplift_arm_metrics {
    sg_uplift_summary s;        /* Qini coefficient, AUUC, ... (uplift_metrics.h) */
    double at_k[3];             /* uplift@10%, @20%, @30% */
    int64_t n_treated, n_control;
} sg_uplift_arm_metrics;

typedef struct sg_uplift_arm_info {
    char label[128];
    int64_t n;                  /* log rows in the arm */
    double mean_outcome;        /* mean outcome of the arm's rows */
    double conv_rate;           /* share with outcome > 0 */
    double mean_propensity;     /* mean propensity used for the arm's rows */
    /* treatment arms only (arm 0: zeros): */
    double diff_means;          /* arm mean - control mean (not adjusted) */
    double ate, ate_se;         /* doubly robust (AIPW) average effect vs control, value */
    double ate_conv, ate_conv_se;   /* the same for conversions (NaN without a conversion target) */
    sg_uplift_arm_metrics held_out; /* OOF effect scores on the log, rows weighted 1 / propensity */
} sg_uplift_arm_info;

typedef struct sg_uplift_report {
    int64_t n_rows;             /* table rows */
    int64_t n_used;             /* rows with an outcome */
    int64_t n_missing_outcome;
    int A;
    sg_uplift_arm_info *arms;   /* (A), owned: sg_uplift_report_deinit */
    int kind;                   /* SG_UPLIFT_BINARY / _HURDLE / _NUMERIC */
    int propensity_estimated;   /* 1 when no propensity column was given */
    double prop_min, prop_max;  /* of the propensities used */
    int n_features;             /* encoded features (before the arm) */
    int trees[2];               /* GBDT rounds of the outcome parts (conversion / value) */
    int trees_chosen;           /* SG_UPLIFT_TREES_ALL or _ARM: the trees the model has */
    double rule_value[2];       /* with _AUTO: the log's value per row of the top fifth's
                                 * rule, trees of any features [0] and additive [1] */
} sg_uplift_report;

void sg_uplift_report_deinit(sg_uplift_report *r);

/* Train on 't'.  'rep' (NULL allowed) receives what happened; deinit it even on
 * failure.  Errors: as sg_uplift_log_read; SG_EINVAL for an arm with fewer than
 * 'min_arm_rows' rows (named), bad options, a hurdle forced on negative
 * outcomes, a part that has only one class; SG_ENUMERIC, SG_ENOMEM.  *out is
 * owned by the caller (sg_uplift_free), unchanged on failure. */
int sg_uplift_train(sg_uplift **out, const sg_table *t, const sg_uplift_opts *o,
                    sg_uplift_report *rep, sg_error *err);

/* ---------------------------------------------------------------- prediction */

/* For rows[0..n) of 't' (rows NULL = all rows; n is then ignored): for each row
 * i and arm a (n, A) row-major, each output NULL allowed:
 *   mu[i*A+a]      predicted outcome (target units) under arm a
 *   effect[i*A+a]  predicted effect of arm a against control (column 0 is 0)
 *   se[i*A+a]      its standard error (fold-model jackknife; column 0 is 0)
 * 'target' SG_UPLIFT_VALUE or SG_UPLIFT_CONV (SG_EINVAL when the model has no
 * conversion target).  Features are matched by name (encode.h).  SG_ENOTFOUND /
 * SG_EPARSE for missing or retyped feature columns, SG_ENOMEM. */
int sg_uplift_predict(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                      int target, double *mu, double *effect, double *se, sg_error *err);

/* The standard error, from the log the model was fitted on, of the model's own
 * sum of effects for an assignment: arm[i] (0..A-1, 0 = nothing) for row i of
 * rows[0..n) (rows NULL = all rows of 't').  The fold models' sums, spread as a
 * customer's se is (the jackknife of each repeat's K fold models); like it, it
 * leaves out the model's bias.  *se on success; errors as sg_uplift_predict,
 * and SG_EINVAL for an arm out of range. */
int sg_uplift_sum_se(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                     int target, const int32_t *arm, double *se, sg_error *err);

/* Average effect of arm a (1..A-1) against control over the training log rows
 * selected by mask (n_log bytes, nonzero = in; NULL = all): the mean of the
 * cross-fitted doubly robust pseudo-outcomes (AIPW), and its standard error
 * (sd / sqrt(n)); the rows' OOF mu and logged (or estimated) propensities.
 * SG_EINVAL for a bad arm or target or fewer than 2 rows. */
int sg_uplift_ate(const sg_uplift *m, int target, int arm, const uint8_t *mask, double *ate,
                  double *se, sg_error *err);

/* Group average effects (GATES; Chernozhukov, Demirer, Duflo and Fernandez-Val,
 * "Generic machine learning inference on heterogeneous treatment effects"):
 * the training log's rows sorted by their out-of-fold predicted effect of arm
 * a (calibrated when the model is; ties in row order) and cut into G groups of
 * sizes differing by at most one, lowest first.  Per group: its rows, the mean
 * predicted effect, and the doubly robust average effect (as sg_uplift_ate over
 * the group) with its standard error.  Effects rising across the groups show
 * that the ranking works; effects near the predicted means, that the
 * predictions' scale is honest.  Unlike a customer's own standard error (which
 * leaves out the model's bias), these intervals hold for the group.  SG_EINVAL
 * for a bad arm or target, or G outside 1..n_log / 2. */
typedef struct sg_uplift_group {
    int64_t n;                  /* log rows in the group */
    double predicted;           /* their mean predicted effect */
    double effect, se;          /* doubly robust average effect and its standard error */
} sg_uplift_group;

int sg_uplift_gates(const sg_uplift *m, int target, int arm, int G, sg_uplift_group *out,
                    sg_error *err);

/* Held-out metrics of arm a on the training log from the OOF effects (rows of
 * arm a and control, weighted 1 / propensity), with optional sampled curves. */
int sg_uplift_oof_metrics(const sg_uplift *m, int target, int arm, const sg_uplift_curves *curves,
                          sg_uplift_arm_metrics *out, sg_error *err);

/* Metrics of effect scores for arm a on any log: score (N), logged action (N),
 * outcome (N), propensity (N, or NULL for unweighted); uses rows whose action is
 * a or 0.  Errors as sg_uplift_evaluate (uplift_metrics.h). */
int sg_uplift_arm_metrics_compute(const double *score, const int32_t *action, const double *y,
                                  const double *prop, int64_t N, int arm,
                                  const sg_uplift_curves *curves, sg_uplift_arm_metrics *out,
                                  sg_error *err);

/* ---------------------------------------------------------------- files and accessors */

int sg_uplift_save(const sg_uplift *m, const char *path, sg_error *err);
/* SG_EIO, SG_EPARSE (not an uplift model, truncated, corrupt: the message says
 * what), SG_ENOMEM. */
int sg_uplift_load(sg_uplift **out, const char *path, sg_error *err);
void sg_uplift_free(sg_uplift *m);   /* NULL is a no-op */

int sg_uplift_n_arms(const sg_uplift *m);
const char *sg_uplift_arm_label(const sg_uplift *m, int a);   /* borrowed; NULL out of range */
int sg_uplift_find_arm(const sg_uplift *m, const char *label);  /* index or -1 */
int sg_uplift_kind(const sg_uplift *m);
/* The model whose effects sum the plans this one ranks (borrowed): m itself,
 * or with SG_UPLIFT_TREES_AUTO keeping the additive trees, the model of trees
 * of any features trained beside them (saved in the same file).  A plan's
 * forecast then sums that model's calibrated effects over the customers the
 * additive trees choose: each model's largest errors sit in the customers it
 * picks, and on the benchmark campaigns the other model's sum lost most of
 * the additive trees' excess (bench/uplift_results.md, sections 26-27).
 * sg_uplift_plan takes its effects as opts.sum_gain. */
const sg_uplift *sg_uplift_forecaster(const sg_uplift *m);
int sg_uplift_has_conv(const sg_uplift *m);     /* 1 if SG_UPLIFT_CONV can be predicted */
int sg_uplift_learner(const sg_uplift *m);
int sg_uplift_base(const sg_uplift *m);
int sg_uplift_pooled(const sg_uplift *m);
int sg_uplift_folds(const sg_uplift *m);
int sg_uplift_repeats(const sg_uplift *m);
uint64_t sg_uplift_seed(const sg_uplift *m);
const char *sg_uplift_outcome(const sg_uplift *m);     /* borrowed */
const char *sg_uplift_treatment(const sg_uplift *m);   /* borrowed */
const char *sg_uplift_propensity(const sg_uplift *m);  /* borrowed, NULL if estimated */
const char *sg_uplift_id(const sg_uplift *m);          /* borrowed, NULL if none */
const char *sg_uplift_learner_name(int learner);       /* "t", "x", "dr"; static */
/* The stored training log: rows, and (after training only, NULL after a load)
 * the table row of each. */
int64_t sg_uplift_n_log(const sg_uplift *m);
const int64_t *sg_uplift_log_rows(const sg_uplift *m);

/* ---------------------------------------------------------------- plans */

typedef struct sg_uplift_plan_opts {
    int target;                 /* SG_UPLIFT_VALUE (default) or SG_UPLIFT_CONV */
    double budget;              /* >= 0, INFINITY = none (default) */
    const double *arm_cost;     /* (A) cost per contact of each arm, >= 0; [0] ignored (required) */
    const int64_t *cap;         /* (A) most customers per arm, -1 = none; NULL = no caps */
    double min_gain;            /* take an arm only where the objective gain > min_gain; 0 */
    int n_boot;                 /* bootstrap resamples of the log; default 1000 (fewer on
                                 * big logs: at most 4e8 / n_log, at least 200) */
    double level;               /* interval coverage; default 0.9 */
    int baselines;              /* 1 (default): also forecast the baselines */
    uint64_t seed;
    /* exploration (see sg_uplift_plan): */
    double explore;             /* share F in [0, 1) of customers given an arm drawn uniformly
                                 * at random, control included; 0 (default) = none */
    int thompson;               /* 1: Thompson sampling: the plan is solved on effects drawn
                                 * from N(gain, se^2); 0 (default) */
    const double *se;           /* (N, A) standard errors of 'gain' (column 0 ignored): required
                                 * by thompson, else unused */
    int n_draws;                /* thompson: Monte Carlo draws for the propensities; default 100 */
    const double *conv_gain;    /* (N, A) conversion effects (sg_uplift_predict with
                                 * SG_UPLIFT_CONV) for a VALUE plan on a model that has a
                                 * conversion part (sg_uplift_has_conv): the plan's
                                 * incremental conversions are forecast too
                                 * (result.conversions); NULL (default): not */
    const double *sum_gain;     /* (N, A) the effects that sum the plan (its forecast, totals
                                 * and per-arm effects): sg_uplift_predict of
                                 * sg_uplift_forecaster(m) with the same target; required
                                 * when that is not m, else NULL (default: 'gain').  Then
                                 * conv_gain is the forecaster's too */
    int forecast_log;           /* 1: every point forecast is the log's doubly robust value;
                                 * 0 (default): the model's calibrated sum where the log's
                                 * interval holds it (see sg_uplift_plan) */
} sg_uplift_plan_opts;

void sg_uplift_plan_opts_default(sg_uplift_plan_opts *o);

/* Which estimate a forecast's point 'effect' is (sg_uplift_plan). */
enum { SG_FORECAST_LOG = 0, SG_FORECAST_MODEL = 1 };

/* "model" or "log", as plan.json and the service name a basis. */
const char *sg_uplift_basis_name(int basis);

/* A forecast of an assignment's incremental effect against treating nobody.
 * Units: the target's (outcome units for VALUE, conversions for CONV). */
typedef struct sg_uplift_forecast {
    double effect, effect_lo, effect_hi;  /* honest forecast and interval */
    double cost;                          /* total contact cost (known exactly) */
    double net, net_lo, net_hi;           /* effect - cost for VALUE; = effect for CONV */
    double naive_effect;                  /* the model's own sum of predicted effects */
    double log_effect;                    /* the log's doubly robust value of the rule */
    double log_lo, log_hi;                /* its interval (effect units) */
    int basis;                            /* SG_FORECAST_LOG: effect = log_effect;
                                           * SG_FORECAST_MODEL: effect = naive_effect */
    double model_se;                      /* se of naive_effect from the fold models
                                           * (sg_uplift_plan_model_interval), or 0 */
    double se;                            /* standard error of the log's value */
    int64_t treated;
} sg_uplift_forecast;

typedef struct sg_uplift_plan_result {
    sg_uplift_forecast plan, nobody, single, random;
    int single_arm;             /* the arm of the single-arm baseline */
    double shrink;              /* plan.effect / plan.naive_effect, clipped to [0, 2]: multiply a
                                 * customer's predicted effect by it for an honest one */
    sg_assign_stats stats;      /* the solver's (objective value, bound, lambda, ...) */
    int64_t *count;             /* (A) customers per arm in the plan: caller's buffer or NULL */
    double *arm_effect;         /* (A) forecast effect per arm: caller's buffer or NULL */
    int64_t n_log;              /* log rows behind the forecast */
    int64_t n_log_treated;      /* of them treated by the plan's rule */
    double budget_log;          /* that rule's budget: the plan's, or its spend where the
                                 * budget does not bind, scaled to the log's rows */
    double log_ess;             /* effective sample size of the plan's rule on the log */
    int n_boot;
    /* exploration: caller's buffers (N) or NULL; filled for every plan (without
     * exploration: planned = arm, propensity 1, explored 0) */
    int32_t *planned;           /* the optimised arm (before exploration) */
    double *propensity;         /* probability that the randomised policy gives the arm in 'arm' */
    uint8_t *explored;          /* 1 where the arm was drawn at random */
    int64_t n_explored;         /* customers explored */
    double explore_cost;        /* cost of their arms (taken off the budget first) */
    /* with opts.conv_gain: the same plan's incremental conversions, forecast as the
     * effect is (the plan's rule replayed on the log, doubly robust, its interval);
     * net = effect, cost as the plan's */
    int has_conversions;
    sg_uplift_forecast conversions;
} sg_uplift_plan_result;

/* Choose at most one arm per customer for N customers with predicted effects
 * 'gain' (N, A; from sg_uplift_predict with the same target; column 0 ignored)
 * (and with a forecaster, sg_uplift_forecaster, its effects o->sum_gain)
 * under the budget and caps, maximising the expected net gain (VALUE: effect -
 * cost) or the effect (CONV: conversions, within the budget), by
 * sg_assign_solve (assign.h).  arm (N, [out]) gets the chosen arm, 0 = nobody.
 * The solver compares the model's rank scores (its rank hinges, above; the
 * effects themselves for a model without): an arm is chosen only where the net
 * gain of its score and of its effect both exceed min_gain, and every
 * total, sum and forecast below is of the effects (o->sum_gain's where
 * given).  The baselines choose by the effects.
 *
 * The forecast corrects for selection (the winner's curse: choosing the
 * customers with the highest predicted effect picks up their positive errors).
 * The same rule is applied to the training log with its out-of-fold
 * predictions: sg_assign_solve on the log rows, with the budget and caps scaled
 * by n_log / N.  That rule's incremental value on the log is estimated doubly
 * robustly from the logged outcomes and propensities (sg_uplift_ope_incremental)
 * and scaled back by N / n_log.  The interval is the bootstrap over log rows,
 * widened for the sampling of the N customers themselves.  The baselines
 * (nobody; the best single arm for customers in random order; random arms)
 * are forecast the same way with their arm shares as a stochastic rule.
 *
 * The point forecast: that doubly robust value (log_effect) needs no trust in
 * the model but carries the log's outcome noise on the few rows a small plan
 * treats (a standard error of 15-35% of the value on a 20,000-row money log).
 * The model's own sum of its calibrated effects for the same customers
 * (naive_effect) is far less noisy, and calibration on the log's doubly robust
 * pseudo-outcomes takes the winner's curse out of it, but only as far as the
 * calibration line holds where the plan selects.  So the log checks the model:
 * where the model is calibrated and its sum lies inside the log's 99% interval
 * (the reported one widened: a test that rejects a right model's sum rarely,
 * since what replaces it is so much noisier), 'effect' is the model's sum
 * (basis SG_FORECAST_MODEL); otherwise it is the log's value (SG_FORECAST_LOG;
 * always with o->forecast_log).  The interval (at o->level) is the log's
 * (log_lo, log_hi keep it); sg_uplift_plan_model_interval then joins the
 * model's own interval to a model-sum forecast's, so it holds the point.
 *
 * Exploration (o->explore = F > 0): each customer is explored with probability
 * F (drawn from the seed) and then gets an arm drawn uniformly from all A arms,
 * control included.  Budget rule: the explored customers' arms are drawn first
 * and their cost is taken off the budget (their counts off the caps); the
 * optimiser then plans the other customers within what is left, so the whole
 * plan keeps the budget and caps.  If the explored customers alone cost more
 * than the budget (or exceed a cap), SG_EINVAL: lower F or raise the budget.
 * An explored customer's planned arm is the one the optimiser's budget price
 * (its lambda) would give it.  propensity = (1 - F) [arm = planned] + F / A.
 * Thompson sampling (o->thompson): the optimised part is solved on effects
 * drawn from N(gain, se^2) (draw 0 is executed); the probability that the
 * rule picks each arm is estimated from n_draws such draws (Monte Carlo, so
 * at least 1 / n_draws for the executed arm) and enters the propensity in
 * place of [arm = planned].  Forecast, cost, counts and treated describe the
 * plan as executed: on the log the rule becomes the stochastic policy
 * (1 - F) pi_rule + F / A (pi_rule from the same draws for Thompson, with
 * each arm's log effects drawn with the customers' root-mean-square se).
 * The correction factor (shrink) is that of the optimised rule alone, and 1
 * where the plan's forecast is the model's sum.
 * 'res' may be NULL.  Errors: SG_EINVAL (bad options or gains, a target the
 * model lacks), SG_ENOMEM; 'arm' unchanged on failure. */
int sg_uplift_plan(const sg_uplift *m, const double *gain, int64_t N,
                   const sg_uplift_plan_opts *o, int32_t *arm, sg_uplift_plan_result *res,
                   sg_error *err);

/* Where a plan's forecast is the model's sum (basis SG_FORECAST_MODEL), widen
 * its interval to hold the model's own interval too: naive_effect +- z
 * model_se, model_se from sg_uplift_sum_se (of the forecaster,
 * sg_uplift_forecaster) on the executed assignment 'arm'
 * of the same customers (rows[0..n) of 't', as planned; rows NULL = all).
 * The log's interval alone covers the truth at its level wherever the log's
 * value is unbiased, so the union covers at least as often; it adds the cases
 * where the log's outcome noise put its interval beside a right model sum.
 * Applies to res->plan (target o->target) and res->conversions.  Call before
 * sg_uplift_verdict.  Errors as sg_uplift_sum_se. */
int sg_uplift_plan_model_interval(const sg_uplift *m, const sg_table *t, const int64_t *rows,
                                  int64_t n, const int32_t *arm, const sg_uplift_plan_opts *o,
                                  sg_uplift_plan_result *res, sg_error *err);

/* A plan's verdict against doing nothing, from its forecast's interval (the net's for
 * SG_UPLIFT_VALUE, the effect's for SG_UPLIFT_CONV, whose cost is in other units):
 * "nothing" (nobody treated), "gain" (the interval above zero), "loss" (below zero)
 * or "unclear" (it holds zero).  A static string. */
const char *sg_uplift_verdict(const sg_uplift_forecast *plan, int target);

/* The incremental value of a target policy against "control for everyone" on
 * a log, per row: the 'log' fields as in ope.h (pi (N, A) the target policy,
 * mu optional for DR, costs optional).  For row i with w_i = pi[i, a_i] / p_i
 * and w0_i = [a_i = 0] / p_i:
 *   IPS    (1/N) sum_i (w_i - w0_i) y_i
 *   SNIPS  sum w y / sum w  -  sum w0 y / sum w0
 *   DR     (1/N) sum_i [ sum_a pi_ia (mu_ia - mu_i0) + (w_i - w0_i)(y_i - mu_{i,a_i}) ]
 * each minus the policy's mean cost per row.  Intervals: the paired bootstrap
 * (both policies on the same resample), resample b drawn from
 * sg_rng_split(rng, b).  Other fields as sg_ope_evaluate (the weights are the
 * target policy's).  Errors as sg_ope_evaluate. */
int sg_uplift_ope_incremental(const sg_ope_log *log, const sg_ope_options *opt, sg_rng *rng,
                              sg_ope_result *out, sg_error *err);

/* The scores a plan ranks effects by (the model's rank hinges, see above): for
 * n rows of effects eff (n, A; from sg_uplift_predict or sg_uplift_oof with the
 * same target), score (n, A) gets u + g max(u - k, 0) - c per treatment arm,
 * column 0 = 0; without hinges, the effects.  sg_uplift_plan uses them where an
 * arm's effect passes min_gain.  Errors: SG_EINVAL (a target the model lacks). */
int sg_uplift_rank(const sg_uplift *m, int target, const double *eff, int64_t n, double *score,
                   sg_error *err);

/* The OOF data of the training log for a target (borrowed, float arrays):
 * action (n_log), y (n_log), prop (n_log), mu (n_log, A), tau (n_log, A). */
int sg_uplift_oof(const sg_uplift *m, int target, const int32_t **action, const float **y,
                  const float **prop, const float **mu, const float **tau, sg_error *err);

#endif
