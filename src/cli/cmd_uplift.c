/* cmd_uplift.c -- 'stratagem train uplift', uplift predictions, held-out uplift
 * metrics and the off-policy evaluation of a plan ('evaluate --plan').
 *
 * The commands only parse options, load files, call the library (uplift.h,
 * ope.h) and print; the numbers come from the library. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_uplift.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/ope.h"
#include "stratagem/response.h"
#include "stratagem/uplift.h"

/* ---------------------------------------------------------------- small helpers */

int cli_has_option(int argc, char **argv, const char *name)
{
    if (name[0] == '-' && name[1] == '-') name += 2;
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, name, n) &&
            (a[2 + n] == '\0' || a[2 + n] == '='))
            return 1;
    }
    return 0;
}

int cli_model_is_uplift(int argc, char **argv)
{
    return cli_model_task(argc, argv) == SG_TASK_UPLIFT;
}

int cli_parse_arm_values(const char *cmd, const char *opt, const char *spec, char **labels, int A,
                         double *out, uint8_t *seen)
{
    memset(seen, 0, (size_t)A);
    const char *s = spec;
    while (*s) {
        const char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (end == s) {
            s = *end ? end + 1 : end;
            continue;
        }
        if (!eq || eq == s)
            return cli_usage_error(cmd, "%s: expected ARM=VALUE, got '%.*s'", opt,
                                   (int)(end - s), s);
        int a = -1;
        for (int k = 0; k < A; k++)
            if (strlen(labels[k]) == (size_t)(eq - s) && !strncmp(labels[k], s, (size_t)(eq - s)))
                a = k;
        if (a < 0) {
            char list[512];
            size_t off = 0;
            list[0] = '\0';
            for (int k = 1; k < A && off < sizeof list; k++) {
                int w = snprintf(list + off, sizeof list - off, "%s%s", k > 1 ? ", " : "",
                                 labels[k]);
                if (w > 0) off += (size_t)w;
            }
            return cli_usage_error(cmd, "%s: '%.*s' is not an arm of the model (arms: %s)", opt,
                                   (int)(eq - s), s, list);
        }
        if (a == 0)
            return cli_usage_error(cmd, "%s: '%s' is the control arm (nobody): it has no value",
                                   opt, labels[0]);
        char num[64];
        size_t vl = (size_t)(end - eq - 1);
        if (vl == 0 || vl >= sizeof num)
            return cli_usage_error(cmd, "%s: arm '%s': expected a number", opt, labels[a]);
        memcpy(num, eq + 1, vl);
        num[vl] = '\0';
        char *stop;
        double v = strtod(num, &stop);
        if (*stop || !isfinite(v) || v < 0)
            return cli_usage_error(cmd, "%s: arm '%s': expected a number >= 0, got '%s'", opt,
                                   labels[a], num);
        out[a] = v;
        seen[a] = 1;
        s = *end ? end + 1 : end;
    }
    return 0;
}

static int parse_objective(const char *cmd, const char *s, int *target)
{
    if (!strcmp(s, "value")) *target = SG_UPLIFT_VALUE;
    else if (!strcmp(s, "conversions") || !strcmp(s, "conversion")) *target = SG_UPLIFT_CONV;
    else return cli_usage_error(cmd, "--objective must be value or conversions (got '%s')", s);
    return 0;
}

/* ---------------------------------------------------------------- train uplift */

static void print_segments(const sg_uplift *m, const sg_table *t, const char *col, int header)
{
    int j = sg_table_find(t, col);
    if (j < 0) {
        fprintf(stderr, "stratagem: warning: --segment: no column '%s'\n", col);
        return;
    }
    int64_t L = sg_uplift_n_log(m);
    const int64_t *row = sg_uplift_log_rows(m);
    int A = sg_uplift_n_arms(m);
    char **vals = sg_calloc((size_t)(L ? L : 1), sizeof *vals);
    uint8_t *mask = sg_calloc((size_t)(L ? L : 1), 1);
    char *done = sg_calloc((size_t)(L ? L : 1), 1);
    char buf[256];
    if (!vals || !mask || !done) goto oom;
    for (int64_t i = 0; i < L; i++)
        if (!(vals[i] = sg_strdup(sg_table_cell(t, row[i], j, buf, sizeof buf)))) goto oom;
    if (header) printf("\nsegment\tvalue\trows\tarm\tate\tate_se\tate_lo95\tate_hi95\n");
    int n_seg = 0;
    for (int64_t i = 0; i < L && n_seg < 50; i++) {
        if (done[i]) continue;
        int64_t n = 0;
        for (int64_t k = i; k < L; k++) {
            mask[k] = !done[k] && !strcmp(vals[k], vals[i]);
            if (mask[k]) done[k] = 1, n++;
        }
        for (int64_t k = 0; k < i; k++) mask[k] = 0;
        n_seg++;
        for (int a = 1; a < A; a++) {
            double ate, se;
            sg_error err;
            if (sg_uplift_ate(m, SG_UPLIFT_VALUE, a, mask, &ate, &se, &err)) {
                printf("%s\t%s\t%lld\t%s\tNA\tNA\tNA\tNA\n", col, vals[i][0] ? vals[i] : "NA",
                       (long long)n, sg_uplift_arm_label(m, a));
                continue;
            }
            printf("%s\t%s\t%lld\t%s\t%.6g\t%.6g\t%.6g\t%.6g\n", col, vals[i][0] ? vals[i] : "NA",
                   (long long)n, sg_uplift_arm_label(m, a), ate, se, ate - 1.96 * se,
                   ate + 1.96 * se);
        }
    }
    if (n_seg == 50) fprintf(stderr, "stratagem: --segment: only the first 50 values are shown\n");
    goto done;
oom:
    fprintf(stderr, "stratagem: out of memory\n");
done:
    for (int64_t i = 0; vals && i < L; i++) sg_free(vals[i]);
    sg_free(vals);
    sg_free(mask);
    sg_free(done);
}

/* The log rows in fifths by out-of-fold predicted effect, per arm: the mean
 * prediction against the doubly robust effect (sg_uplift_gates). */
static void print_gates(const sg_uplift *m, int A)
{
    enum { G = 5 };
    if (sg_uplift_n_log(m) < 2 * G) return;
    printf("\neffects by fifth of the predicted effect (out-of-fold log rows, lowest first): "
           "mean predicted vs doubly robust\n");
    printf("arm\tfifth\trows\tpredicted\teffect\tse\tlo95\thi95\n");
    for (int a = 1; a < A; a++) {
        sg_uplift_group g[G];
        sg_error err;
        if (sg_uplift_gates(m, SG_UPLIFT_VALUE, a, G, g, &err)) {
            fprintf(stderr, "stratagem: warning: %s\n", err.msg);
            return;
        }
        for (int k = 0; k < G; k++)
            printf("%s\t%d\t%lld\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n", sg_uplift_arm_label(m, a),
                   k + 1, (long long)g[k].n, g[k].predicted, g[k].effect, g[k].se,
                   g[k].effect - 1.96 * g[k].se, g[k].effect + 1.96 * g[k].se);
    }
}

int cli_train_uplift(int argc, char **argv)
{
    const char *data = NULL, *treatment = NULL, *control = NULL, *outcome = NULL;
    const char *propensity = NULL, *id = NULL, *ignore = NULL, *cat = NULL, *num = NULL;
    const char *dedup = "error", *learner = "t", *base = "gbdt", *hurdle = "auto";
    const char *segment = NULL, *out = NULL, *sums = NULL, *cal_prior = "conv";
    const char *inter = NULL;
    int cv = 5, repeats = 3, per_arm = 0, calibrate = 1, threads = 0;
    int trees = -1, depth = -1, leaves = -1, es = -1, bins = -1;
    int help = 0, n_pos, min_rows = 30;
    double lr = -1, l2 = -1, mcw = -1, subsample = -1, colsample = -1, lin_start = NAN;
    double rank_hinge = NAN;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},            {"treatment", 0, OPT_STR, &treatment, 0},
        {"control", 0, OPT_STR, &control, 0},        {"outcome", 0, OPT_STR, &outcome, 0},
        {"propensity", 0, OPT_STR, &propensity, 0},  {"id", 0, OPT_STR, &id, 0},
        {"ignore", 0, OPT_STR, &ignore, 0},          {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},            {"dedup", 0, OPT_STR, &dedup, 0},
        {"learner", 0, OPT_STR, &learner, 0},        {"base", 0, OPT_STR, &base, 0},
        {"per-arm", 0, OPT_FLAG, &per_arm, 0},       {"hurdle", 0, OPT_STR, &hurdle, 0},
        {"cv", 0, OPT_INT, &cv, 0},                  {"min-arm-rows", 0, OPT_INT, &min_rows, 0},
        {"repeats", 0, OPT_INT, &repeats, 0},        {"calibrate", 0, OPT_INT, &calibrate, 0},
        {"segment", 0, OPT_STR, &segment, 0},        {"seed", 0, OPT_U64, &seed, 0},
        {"threads", 0, OPT_INT, &threads, 0},        {"trees", 0, OPT_INT, &trees, 0},
        {"depth", 0, OPT_INT, &depth, 0},            {"leaves", 0, OPT_INT, &leaves, 0},
        {"lr", 0, OPT_DOUBLE, &lr, 0},               {"l2", 0, OPT_DOUBLE, &l2, 0},
        {"mcw", 0, OPT_DOUBLE, &mcw, 0},             {"subsample", 0, OPT_DOUBLE, &subsample, 0},
        {"colsample", 0, OPT_DOUBLE, &colsample, 0}, {"bins", 0, OPT_INT, &bins, 0},
        {"early-stopping", 0, OPT_INT, &es, 0},      {"out", 'o', OPT_STR, &out, 0},
        {"linear-start", 0, OPT_DOUBLE, &lin_start, 0}, {"sum", 0, OPT_STR, &sums, 0},
        {"cal-prior", 0, OPT_STR, &cal_prior, 0},   {"rank-hinge", 0, OPT_DOUBLE, &rank_hinge, 0},
        {"interactions", 0, OPT_STR, &inter, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("train", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_uplift_help("train"), stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train", "missing --data FILE");
    if (!treatment) return cli_usage_error("train", "missing --treatment COL");
    if (!control) return cli_usage_error("train", "missing --control LABEL (the hold-out arm)");
    if (!outcome) return cli_usage_error("train", "missing --outcome COL");
    if (!out) return cli_usage_error("train", "missing --out MODEL");
    sg_uplift_opts o;
    sg_uplift_opts_default(&o);
    o.treatment = treatment;
    o.control = control;
    o.outcome = outcome;
    o.propensity = propensity;
    o.id = id;
    o.cv_folds = cv;
    o.repeats = repeats;
    o.calibrate = calibrate;
    o.seed = seed;
    o.pooled = !per_arm;
    o.min_arm_rows = min_rows;
    if (!strcmp(learner, "t")) o.learner = SG_UPLIFT_T;
    else if (!strcmp(learner, "x")) o.learner = SG_UPLIFT_X;
    else if (!strcmp(learner, "dr")) o.learner = SG_UPLIFT_DR;
    else return cli_usage_error("train", "--learner must be t, x or dr (got '%s')", learner);
    if (!strcmp(base, "gbdt")) o.base = SG_LEARNER_GBDT;
    else if (!strcmp(base, "linear") || !strcmp(base, "logit")) o.base = SG_LEARNER_LINEAR;
    else return cli_usage_error("train", "--base must be gbdt or linear (got '%s')", base);
    if (!strcmp(hurdle, "auto")) o.hurdle = SG_HURDLE_AUTO;
    else if (!strcmp(hurdle, "on")) o.hurdle = SG_HURDLE_ON;
    else if (!strcmp(hurdle, "off")) o.hurdle = SG_HURDLE_OFF;
    else return cli_usage_error("train", "--hurdle must be auto, on or off (got '%s')", hurdle);
    if (cv < 2 || cv > 32) return cli_usage_error("train", "--cv must be 2..32 (got %d)", cv);
    if (calibrate != 0 && calibrate != 1)
        return cli_usage_error("train", "--calibrate must be 0 or 1 (got %d)", calibrate);
    if (!strcmp(cal_prior, "conv")) o.cal_prior = SG_UPLIFT_CAL_CONV;
    else if (!strcmp(cal_prior, "one")) o.cal_prior = SG_UPLIFT_CAL_ONE;
    else return cli_usage_error("train", "--cal-prior must be conv or one (got '%s')", cal_prior);
    if (inter && !strcmp(inter, "arm") && (per_arm || o.base != SG_LEARNER_GBDT))
        return cli_usage_error("train", "--interactions arm shapes the trees of the shared GBDT "
                               "model: not with --per-arm or --base linear");
    if (inter && !strcmp(inter, "arm")) o.additive = SG_UPLIFT_TREES_ARM;
    else if (inter && !strcmp(inter, "all")) o.additive = SG_UPLIFT_TREES_ALL;
    else if (inter && !strcmp(inter, "auto")) o.additive = SG_UPLIFT_TREES_AUTO;
    else if (inter)
        return cli_usage_error("train", "--interactions must be arm, all or auto (got '%s')",
                               inter);
    if (repeats < 1 || repeats > 16)
        return cli_usage_error("train", "--repeats must be 1..16 (got %d)", repeats);
    if (min_rows < 1) return cli_usage_error("train", "--min-arm-rows must be >= 1");
    if (!isnan(lin_start)) {   /* the parser takes finite numbers only */
        if (!(lin_start >= 0))
            return cli_usage_error("train", "--linear-start must be a penalty >= 0 (0: off; got "
                                   "%g)", lin_start);
        o.linear_start = lin_start;
    }
    if (!isnan(rank_hinge)) {
        if (!(rank_hinge >= 0 && rank_hinge < 1))
            return cli_usage_error("train", "--rank-hinge must be a quantile in (0, 1), or 0 for "
                                   "none (got %g)", rank_hinge);
        o.rank_hinge = rank_hinge;
    }
    o.gbdt.n_threads = threads;
    if (trees >= 0) o.gbdt.n_trees = trees;
    if (depth >= 0) o.gbdt.max_depth = depth;
    if (leaves >= 0) o.gbdt.max_leaves = leaves;
    if (lr >= 0) o.gbdt.learning_rate = (float)lr;
    if (mcw >= 0) o.gbdt.min_child_weight = (float)mcw;
    if (subsample >= 0) o.gbdt.subsample = (float)subsample;
    if (colsample >= 0) o.gbdt.colsample = (float)colsample;
    if (bins >= 0) o.gbdt.max_bins = bins;
    if (es >= 0) o.gbdt.early_stopping = es;
    if (l2 >= 0) {
        o.gbdt.lambda_l2 = (float)l2;
        o.linear.l2 = l2;
    }

    char **ign = cli_split_list(ignore);
    o.ignore = (const char *const *)ign;
    o.sums = sums;
    cli_data_opts dopt = {.id = id, .dedup = dedup, .categorical = cat, .numeric = num};
    int k = 0;
    dopt.required[k++] = treatment;
    dopt.required[k++] = outcome;
    if (propensity) dopt.required[k++] = propensity;
    sg_table *t = NULL;
    sg_uplift *m = NULL;
    sg_uplift_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) goto done;
    for (char **p = ign; p && *p; p++)
        if (sg_table_find(t, *p) < 0)
            fprintf(stderr, "stratagem: warning: --ignore: no column '%s' in %s\n", *p, data);
    if (!cli_quiet)
        fprintf(stderr, "stratagem: train uplift: learner %s over %s (%s%s), %d-fold "
                "cross-fitting x %d repeats, seed %llu\n", learner,
                o.base == SG_LEARNER_GBDT ? "gbdt" : "linear",
                o.pooled ? "one outcome model shared by the arms" : "one outcome model per arm",
                !o.pooled || o.base != SG_LEARNER_GBDT ? ""
                : o.additive == SG_UPLIFT_TREES_ARM ? "; additive trees: the arm and one feature each"
                : o.additive == SG_UPLIFT_TREES_AUTO ? "; additive trees or not, as the log shows"
                                                     : "",
                cv, repeats, (unsigned long long)seed);
    if (!cli_quiet) o.on_progress = cli_progress_steps;
    sg_error err;
    sg_error_clear(&err);
    /* dozens of models are fitted: their per-fit INFO lines only with -v */
    int level = sg_log_get_level();
    if (level == SG_LOG_INFO) sg_log_set_level(SG_LOG_WARN);
    int trc = sg_uplift_train(&m, t, &o, &rep, &err);
    sg_log_set_level(level);
    if (trc) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_progress_end();
    if (!cli_quiet)
        fprintf(stderr, "stratagem: outcome '%s': %s; %lld rows used, %lld without an outcome "
            "skipped\n", outcome,
            rep.kind == SG_UPLIFT_BINARY ? "binary (0/1)"
            : rep.kind == SG_UPLIFT_HURDLE ? "zero for most rows: hurdle model, P(outcome > 0) x "
                                             "E[outcome | outcome > 0]"
                                           : "numeric",
            (long long)rep.n_used, (long long)rep.n_missing_outcome);
    if (!cli_quiet && o.additive == SG_UPLIFT_TREES_AUTO && o.pooled &&
        o.base == SG_LEARNER_GBDT)
        fprintf(stderr, "stratagem: --interactions auto: kept %s trees (the log's doubly robust "
                "value of each model's top-fifth rule, per row: %.6g additive, %.6g any "
                "features)%s\n",
                rep.trees_chosen == SG_UPLIFT_TREES_ARM ? "additive" : "any-feature",
                rep.rule_value[1], rep.rule_value[0],
                rep.trees_chosen == SG_UPLIFT_TREES_ARM
                    ? "; they rank, and the model with trees of any features, kept beside them, "
                      "sums the plans' forecasts"
                    : "");
    if (rep.propensity_estimated)
        fprintf(stderr, "stratagem: no --propensity column: propensities ESTIMATED by one-vs-rest "
                "logistic regression per arm (range %.4f to %.4f)\n", rep.prop_min, rep.prop_max);
    else if (!cli_quiet)
        fprintf(stderr, "stratagem: logged propensities '%s' range %.4f to %.4f\n", propensity,
                rep.prop_min, rep.prop_max);
    /* results on stdout: one line per arm */
    printf("arm\trows\tmean_outcome\tconv_rate\tdiff_means\tate\tate_se\tate_lo95\tate_hi95"
           "\tqini\tauuc\tuplift@10%%\tuplift@20%%\tuplift@30%%\n");
    for (int a = 0; a < rep.A; a++) {
        const sg_uplift_arm_info *ai = &rep.arms[a];
        printf("%s\t%lld\t%.6g\t%.4f", ai->label, (long long)ai->n, ai->mean_outcome,
               ai->conv_rate);
        if (a == 0) {
            printf("\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n");
            continue;
        }
        const sg_uplift_arm_metrics *h = &ai->held_out;
        printf("\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%.4f\t%.4f\t%.6g\t%.6g\t%.6g\n", ai->diff_means,
               ai->ate, ai->ate_se, ai->ate - 1.96 * ai->ate_se, ai->ate + 1.96 * ai->ate_se,
               h->s.qini_coef, h->s.auuc, h->at_k[0], h->at_k[1], h->at_k[2]);
    }
    if (rep.kind == SG_UPLIFT_HURDLE)
        for (int a = 1; a < rep.A; a++)
            printf("conversions\t%s\tate %.6g\tse %.6g\n", rep.arms[a].label, rep.arms[a].ate_conv,
                   rep.arms[a].ate_conv_se);
    print_gates(m, rep.A);
    if (segment) {
        char **segs = cli_split_list(segment);
        for (char **q = segs; q && *q; q++) print_segments(m, t, *q, q == segs);
        cli_list_free(segs);
    }
    if (sg_uplift_save(m, out, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (!cli_quiet)
        fprintf(stderr, "stratagem: wrote %s (%d arms, %d features, %lld log rows kept for honest "
            "forecasts)\n", out, rep.A, rep.n_features, (long long)rep.n_used);
    rc = EXIT_OK;
done:
    sg_uplift_report_deinit(&rep);
    sg_uplift_free(m);
    sg_table_free(t);
    cli_list_free(ign);
    return rc;
}

/* ---------------------------------------------------------------- predict */

/* Load an uplift model and a table whose id column (the model's, or 'id') is kept as text. */
static int load_model_and_table(const char *cmd, const char *model, const char *data,
                                const char *id, const char *cat, const char *num,
                                sg_uplift **m, sg_table **t, int *id_col)
{
    *m = NULL;
    *t = NULL;
    *id_col = -1;
    if (!model) return cli_usage_error(cmd, "missing --model MODEL");
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    sg_error err;
    sg_error_clear(&err);
    if (sg_uplift_load(m, model, &err)) return cli_fail(&err);
    if (!id) id = sg_uplift_id(*m);
    cli_data_opts dopt = {.id = NULL, .dedup = "error", .categorical = cat, .numeric = num};
    int rc = cli_load_table(data, &dopt, t);
    if (rc) return rc;
    if (id) {
        *id_col = sg_table_find(*t, id);
        if (*id_col < 0 && !cli_quiet)
            fprintf(stderr, "stratagem: %s: no id column '%s'; rows are numbered instead\n", data,
                    id);
    }
    return EXIT_OK;
}

static const char *row_id(const sg_table *t, int id_col, int64_t i, char *buf, size_t cap)
{
    if (id_col >= 0) return sg_table_cell(t, i, id_col, buf, cap);
    snprintf(buf, cap, "%lld", (long long)(i + 1));
    return buf;
}

int cli_predict_uplift(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *where = NULL, *id = NULL;
    const char *cat = NULL, *num = NULL, *objective = "value";
    int help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},     {"where", 0, OPT_STR, &where, 0},
        {"id", 0, OPT_STR, &id, 0},         {"objective", 0, OPT_STR, &objective, 0},
        {"categorical", 0, OPT_STR, &cat, 0}, {"numeric", 0, OPT_STR, &num, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("predict", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_uplift_help("predict"), stdout);
        return EXIT_OK;
    }
    if (!out) return cli_usage_error("predict", "missing --out FILE ('-' for standard output)");
    int target;
    if (parse_objective("predict", objective, &target)) return EXIT_USAGE;
    sg_uplift *m = NULL;
    sg_table *t = NULL;
    int64_t *rows = NULL, n = 0;
    double *mu = NULL, *eff = NULL, *se = NULL;
    int id_col;
    int rc = load_model_and_table("predict", model, data, id, cat, num, &m, &t, &id_col);
    if (rc) goto done;
    if ((rc = cli_filter_rows(t, where, &rows, &n))) goto done;
    int A = sg_uplift_n_arms(m);
    mu = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof *mu);
    eff = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof *eff);
    se = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof *se);
    if (!mu || !eff || !se) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    sg_error err;
    sg_error_clear(&err);
    if (sg_uplift_predict(m, t, rows, n, target, mu, eff, se, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    char buf[512];
    cli_csv_field(o.f, id_col >= 0 ? sg_table_col_name(t, id_col) : "row");
    fputs(",best_arm", o.f);
    for (int a = 0; a < A; a++) {
        fputs(",pred_", o.f);
        fputs(sg_uplift_arm_label(m, a), o.f);
    }
    for (int a = 1; a < A; a++) fprintf(o.f, ",effect_%s,se_%s", sg_uplift_arm_label(m, a),
                                        sg_uplift_arm_label(m, a));
    fputc('\n', o.f);
    for (int64_t k = 0; k < n; k++) {
        int64_t i = rows ? rows[k] : k;
        const double *e = eff + k * A;
        int best = 0;
        for (int a = 1; a < A; a++)
            if (e[a] > e[best] || (best == 0 && e[a] > 0)) best = e[a] > 0 ? a : best;
        cli_csv_field(o.f, row_id(t, id_col, i, buf, sizeof buf));
        fputc(',', o.f);
        cli_csv_field(o.f, sg_uplift_arm_label(m, best));
        for (int a = 0; a < A; a++) fprintf(o.f, ",%.6g", mu[k * A + a]);
        for (int a = 1; a < A; a++) fprintf(o.f, ",%.6g,%.6g", e[a], se[k * A + a]);
        fputc('\n', o.f);
    }
    rc = cli_out_commit(&o);
    if (!rc && !cli_quiet && !o.is_stdout)
        fprintf(stderr, "stratagem: wrote predictions for %lld rows x %d arms (%s) to %s\n",
                (long long)n, A, target == SG_UPLIFT_CONV ? "conversions" : "outcome", out);
done:
    sg_free(mu);
    sg_free(eff);
    sg_free(se);
    sg_free(rows);
    sg_table_free(t);
    sg_uplift_free(m);
    return rc;
}

/* ---------------------------------------------------------------- evaluate --model UPLIFT */

int cli_evaluate_uplift(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *treatment = NULL, *control = NULL, *outcome = NULL;
    const char *propensity = NULL, *cat = NULL, *num = NULL, *objective = "value", *id = NULL;
    int help = 0, n_pos, json = 0;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},         {"data", 'd', OPT_STR, &data, 0},
        {"treatment", 0, OPT_STR, &treatment, 0},   {"control", 0, OPT_STR, &control, 0},
        {"outcome", 0, OPT_STR, &outcome, 0},       {"propensity", 0, OPT_STR, &propensity, 0},
        {"objective", 0, OPT_STR, &objective, 0},   {"id", 0, OPT_STR, &id, 0},
        {"json", 0, OPT_FLAG, &json, 0},            {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},           {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_uplift_help("evaluate"), stdout);
        return EXIT_OK;
    }
    int target;
    if (parse_objective("evaluate", objective, &target)) return EXIT_USAGE;
    sg_uplift *m = NULL;
    sg_table *t = NULL;
    sg_uplift_log g;
    memset(&g, 0, sizeof g);
    double *eff = NULL, *sc = NULL, *y = NULL;
    json_t *root = NULL;
    int id_col;
    int rc = load_model_and_table("evaluate", model, data, id, cat, num, &m, &t, &id_col);
    if (rc) goto done;
    if (!treatment) treatment = sg_uplift_treatment(m);
    if (!outcome) outcome = sg_uplift_outcome(m);
    if (!propensity && sg_uplift_propensity(m) && sg_table_find(t, sg_uplift_propensity(m)) >= 0)
        propensity = sg_uplift_propensity(m);
    int A = sg_uplift_n_arms(m);
    const char *labels[SG_UPLIFT_MAX_ARMS];
    for (int a = 0; a < A; a++) labels[a] = sg_uplift_arm_label(m, a);
    if (control && strcmp(control, labels[0])) {
        fprintf(stderr, "stratagem: evaluate: --control '%s' differs from the model's control arm "
                "'%s'\n", control, labels[0]);
        rc = EXIT_USAGE;
        goto done;
    }
    sg_error err;
    sg_error_clear(&err);
    if (sg_uplift_log_read(&g, t, treatment, labels[0], outcome, propensity, labels, A, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    eff = sg_malloc_array((size_t)g.N * (size_t)A, sizeof *eff);
    sc = sg_malloc_array((size_t)g.N, sizeof *sc);
    y = sg_malloc_array((size_t)g.N, sizeof *y);
    root = json_object();
    if (!eff || !sc || !y || !root) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (sg_uplift_predict(m, t, g.row, g.N, target, NULL, eff, NULL, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    for (int64_t i = 0; i < g.N; i++) y[i] = target == SG_UPLIFT_CONV ? (g.y[i] > 0) : g.y[i];
    if (!propensity)
        fprintf(stderr, "stratagem: evaluate: no propensity column: rows are not reweighted (right "
                "for a randomised log only)\n");
    json_object_set_new(root, "rows", json_integer(g.N));
    json_t *arms = json_object();
    json_object_set_new(root, "arms", arms);
    if (!json)
        printf("arm\ttreated\tcontrol\tqini\tauuc\tuplift@10%%\tuplift@20%%\tuplift@30%%"
               "\tobserved_ate\n");
    for (int a = 1; a < A; a++) {
        for (int64_t i = 0; i < g.N; i++) sc[i] = eff[i * A + a];
        sg_uplift_arm_metrics r;
        if (sg_uplift_arm_metrics_compute(sc, g.action, y, g.prop, g.N, a, NULL, &r, &err)) {
            fprintf(stderr, "stratagem: arm '%s': %s\n", labels[a], err.msg);
            continue;
        }
        json_t *e = json_object();
        json_object_set_new(e, "treated", json_integer(r.n_treated));
        json_object_set_new(e, "control", json_integer(r.n_control));
        json_object_set_new(e, "qini", json_real(r.s.qini_coef));
        json_object_set_new(e, "auuc", json_real(r.s.auuc));
        json_object_set_new(e, "uplift_at_10", json_real(r.at_k[0]));
        json_object_set_new(e, "uplift_at_20", json_real(r.at_k[1]));
        json_object_set_new(e, "uplift_at_30", json_real(r.at_k[2]));
        json_object_set_new(e, "observed_ate", json_real(r.s.ate));
        json_object_set_new(arms, labels[a], e);
        if (!json)
            printf("%s\t%lld\t%lld\t%.4f\t%.4f\t%.6g\t%.6g\t%.6g\t%.6g\n", labels[a],
                   (long long)r.n_treated, (long long)r.n_control, r.s.qini_coef, r.s.auuc,
                   r.at_k[0], r.at_k[1], r.at_k[2], r.s.ate);
    }
    if (json) {
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (txt) {
            printf("%s\n", txt);
            free(txt);
        }
    }
    rc = EXIT_OK;
done:
    json_decref(root);
    sg_free(eff);
    sg_free(sc);
    sg_free(y);
    sg_uplift_log_deinit(&g);
    sg_table_free(t);
    sg_uplift_free(m);
    return rc;
}

/* ---------------------------------------------------------------- evaluate --plan */

static json_t *estimate_json(const sg_ope_estimate *e, double scale)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "total", e->value * scale, "lo", e->lo * scale, "hi",
                     e->hi * scale, "per_row", e->value);
}

int cli_evaluate_plan(int argc, char **argv)
{
    const char *plan = NULL, *data = NULL, *treatment = NULL, *control = NULL, *outcome = NULL;
    const char *propensity = NULL, *id = NULL, *cost = NULL, *model = NULL, *objective = "value";
    const char *cat = NULL, *num = NULL, *summary = NULL, *ignore = NULL, *sums = NULL;
    int help = 0, n_pos, n_boot = 1000, json = 0;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"plan", 0, OPT_STR, &plan, 0},             {"data", 'd', OPT_STR, &data, 0},
        {"treatment", 0, OPT_STR, &treatment, 0},   {"control", 0, OPT_STR, &control, 0},
        {"outcome", 0, OPT_STR, &outcome, 0},       {"propensity", 0, OPT_STR, &propensity, 0},
        {"id", 0, OPT_STR, &id, 0},                 {"cost", 0, OPT_STR, &cost, 0},
        {"model", 'm', OPT_STR, &model, 0},         {"objective", 0, OPT_STR, &objective, 0},
        {"boot", 0, OPT_INT, &n_boot, 0},           {"seed", 0, OPT_U64, &seed, 0},
        {"json", 0, OPT_FLAG, &json, 0},            {"summary", 0, OPT_STR, &summary, 0},
        {"categorical", 0, OPT_STR, &cat, 0},       {"numeric", 0, OPT_STR, &num, 0},
        {"ignore", 0, OPT_STR, &ignore, 0},         {"sum", 0, OPT_STR, &sums, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_uplift_help("evaluate"), stdout);
        return EXIT_OK;
    }
    if (!plan) return cli_usage_error("evaluate", "missing --plan FILE");
    if (!data) return cli_usage_error("evaluate", "missing --data LOG");
    if (!treatment) return cli_usage_error("evaluate", "missing --treatment COL");
    if (!control) return cli_usage_error("evaluate", "missing --control LABEL");
    if (!outcome) return cli_usage_error("evaluate", "missing --outcome COL");
    if (n_boot < 0 || n_boot > 100000)
        return cli_usage_error("evaluate", "--boot must be 0..100000");
    int target;
    if (parse_objective("evaluate", objective, &target)) return EXIT_USAGE;

    sg_table *pt = NULL, *t = NULL;
    sg_uplift *m = NULL;
    sg_uplift_log g;
    memset(&g, 0, sizeof g);
    cli_idmap map = {0, NULL, NULL};
    int32_t *plan_arm = NULL, *parm_of_label = NULL;
    double *pi = NULL, *mu = NULL, *y = NULL, *mum = NULL, *prop = NULL;
    json_t *root = NULL;
    char **ign = cli_split_list(ignore);
    int rc;
    sg_error err;
    sg_error_clear(&err);

    /* the plan: first column = id, a column 'action' */
    cli_data_opts popt = {.id = NULL, .dedup = "error"};
    if ((rc = cli_load_table(plan, &popt, &pt))) goto done;
    int pj_id = 0, pj_act = sg_table_find(pt, "action");
    if (pj_act < 0 || sg_table_n_cols(pt) < 2) {
        fprintf(stderr, "stratagem: %s: a plan needs an id column first and an 'action' column\n",
                plan);
        rc = EXIT_DATA;
        goto done;
    }
    if (!id) id = sg_table_col_name(pt, pj_id);
    cli_data_opts dopt = {.id = id, .dedup = "error", .categorical = cat, .numeric = num};
    dopt.required[0] = treatment;
    dopt.required[1] = outcome;
    if (propensity) dopt.required[2] = propensity;
    if ((rc = cli_load_table(data, &dopt, &t))) goto done;
    if (sg_uplift_log_read(&g, t, treatment, control, outcome, propensity, NULL, 0, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    int A = g.A;
    int64_t N = g.N, P = sg_table_n_rows(pt);

    /* plan actions as log arms; ids to actions */
    char buf[512], ibuf[512];
    plan_arm = sg_malloc_array((size_t)(P ? P : 1), sizeof *plan_arm);
    if (cli_idmap_init(&map, P) || !plan_arm) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    char **id_text = sg_calloc((size_t)(P ? P : 1), sizeof *id_text);
    if (!id_text) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = EXIT_OK;
    for (int64_t r = 0; r < P && !rc; r++) {
        const char *act = sg_table_cell(pt, r, pj_act, buf, sizeof buf);
        int a = -1;
        for (int k = 0; k < A; k++)
            if (!strcmp(g.labels[k], act)) a = k;
        if (a < 0) {
            fprintf(stderr, "stratagem: %s:%lld: action '%s' never occurs in the log %s: its value "
                    "cannot be estimated from it\n", plan, (long long)sg_table_row_line(pt, r), act,
                    data);
            rc = EXIT_DATA;
            break;
        }
        plan_arm[r] = a;
        if (!(id_text[r] = sg_strdup(sg_table_cell(pt, r, pj_id, ibuf, sizeof ibuf)))) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            break;
        }
        if (!cli_idmap_put(&map, id_text[r], a)) {
            fprintf(stderr, "stratagem: %s:%lld: customer '%s' appears twice in the plan\n", plan,
                    (long long)sg_table_row_line(pt, r), id_text[r]);
            rc = EXIT_DATA;
        }
    }
    pi = sg_calloc((size_t)N * (size_t)A, sizeof *pi);
    y = sg_malloc_array((size_t)N, sizeof *y);
    root = json_object();
    int jid = sg_table_find(t, id);
    if (!rc && (!pi || !y || !root)) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
    }
    if (!rc && jid < 0) {
        fprintf(stderr, "stratagem: %s: no id column '%s' to match the plan's customers (--id)\n",
                data, id);
        rc = EXIT_DATA;
    }
    int64_t matched = 0, treated = 0;
    for (int64_t i = 0; !rc && i < N; i++) {
        int64_t a = 0;
        if (cli_idmap_get(&map, sg_table_cell(t, g.row[i], jid, buf, sizeof buf), &a)) matched++;
        pi[i * A + a] = 1;
        treated += a > 0;
        y[i] = target == SG_UPLIFT_CONV ? (g.y[i] > 0) : g.y[i];
    }
    for (int64_t r = 0; id_text && r < P; r++) sg_free(id_text[r]);
    sg_free(id_text);
    if (rc) goto done;
    if (matched == 0) {
        fprintf(stderr, "stratagem: no customer of the plan %s is in the log %s (column '%s'); "
                "plan the log's own customers to evaluate a plan on it\n", plan, data, id);
        rc = EXIT_DATA;
        goto done;
    }
    if (!cli_quiet)
        fprintf(stderr, "stratagem: %lld of %lld log rows are in the plan (%lld treated by it); "
                "the other %lld count as 'nobody'\n", (long long)matched, (long long)N,
                (long long)treated, (long long)(N - matched));

    /* costs */
    double arm_cost[SG_UPLIFT_MAX_ARMS] = {0};
    if (cost) {
        uint8_t seen[SG_UPLIFT_MAX_ARMS];
        if ((rc = cli_parse_arm_values("evaluate", "--cost", cost, g.labels, A, arm_cost, seen)))
            goto done;
        for (int a = 1; a < A; a++)
            if (!seen[a]) {
                rc = cli_usage_error("evaluate", "--cost: no cost for arm '%s'", g.labels[a]);
                goto done;
            }
    }

    /* the outcome model for DR, and propensities when the log has none */
    mu = sg_malloc_array((size_t)N * (size_t)A, sizeof *mu);
    prop = sg_malloc_array((size_t)N, sizeof *prop);
    if (!mu || !prop) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (model) {
        if (sg_uplift_load(&m, model, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        int MA = sg_uplift_n_arms(m);
        mum = sg_malloc_array((size_t)N * (size_t)MA, sizeof *mum);
        parm_of_label = sg_malloc_array((size_t)A, sizeof *parm_of_label);
        if (!mum || !parm_of_label) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            goto done;
        }
        for (int a = 0; a < A; a++) {
            parm_of_label[a] = sg_uplift_find_arm(m, g.labels[a]);
            if (parm_of_label[a] < 0) {
                fprintf(stderr, "stratagem: %s: the log's arm '%s' is not an arm of the model %s\n",
                        data, g.labels[a], model);
                rc = EXIT_DATA;
                goto done;
            }
        }
        if (sg_uplift_predict(m, t, g.row, N, target, mum, NULL, NULL, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        for (int64_t i = 0; i < N; i++)
            for (int a = 0; a < A; a++) mu[i * A + a] = mum[i * MA + parm_of_label[a]];
        if (!g.prop) {
            fprintf(stderr, "stratagem: evaluate: --model given but no --propensity: give the "
                    "logged propensities (or omit --model to estimate them)\n");
            rc = EXIT_USAGE;
            goto done;
        }
        for (int64_t i = 0; i < N; i++) prop[i] = g.prop[i];
    } else {
        /* cross-fitted outcome model on the log itself (one kind of trees: only its
         * outcome predictions are used) */
        sg_uplift_opts o;
        sg_uplift_opts_default(&o);
        o.additive = SG_UPLIFT_TREES_ALL;
        o.treatment = treatment;
        o.control = control;
        o.outcome = outcome;
        o.propensity = propensity;
        o.id = id;
        o.ignore = (const char *const *)ign;
        o.sums = sums;
        o.seed = seed;
        o.repeats = 1;   /* DR needs honest predictions, not the plan's best model */
        o.min_arm_rows = 1;
        if (!cli_quiet)
            fprintf(stderr, "stratagem: fitting a cross-fitted outcome model on %s for the DR "
                    "estimate (--model MODEL uses yours instead)\n", data);
        int level = sg_log_get_level();
        if (level == SG_LOG_INFO) sg_log_set_level(SG_LOG_WARN);
        int trc = sg_uplift_train(&m, t, &o, NULL, &err);
        sg_log_set_level(level);
        if (trc) {
            rc = cli_fail(&err);
            goto done;
        }
        const float *fm, *fp;
        if (sg_uplift_oof(m, target, NULL, NULL, &fp, &fm, NULL, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        for (int64_t i = 0; i < N * A; i++) mu[i] = (double)fm[i];
        for (int64_t i = 0; i < N; i++) prop[i] = (double)fp[i];
        if (!g.prop && !cli_quiet)
            fprintf(stderr, "stratagem: no --propensity column: propensities ESTIMATED "
                    "(one-vs-rest logistic per arm)\n");
    }

    sg_ope_log lg = {N, A, g.action, y, prop, pi, mu, NULL, cost ? arm_cost : NULL};
    sg_ope_options oo = {n_boot, 0.9};
    sg_ope_result abs_r, inc_r;
    sg_rng rng;
    sg_rng_init(&rng, seed);
    if (sg_ope_evaluate(&lg, &oo, &rng, &abs_r, &err) ||
        sg_uplift_ope_incremental(&lg, &oo, &rng, &inc_r, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    double n = (double)N;
    const char *unit = target == SG_UPLIFT_CONV ? "conversions" : outcome;
    json_object_set_new(root, "plan", json_string(plan));
    json_object_set_new(root, "log", json_string(data));
    json_object_set_new(root, "rows", json_integer(N));
    json_object_set_new(root, "rows_in_plan", json_integer(matched));
    json_object_set_new(root, "treated", json_integer(treated));
    json_object_set_new(root, "objective",
                        json_string(target == SG_UPLIFT_CONV ? "conversions" : "value"));
    json_object_set_new(root, "level", json_real(0.9));
    json_object_set_new(root, "cost_total", json_real(abs_r.policy_cost * n));
    json_object_set_new(root, "ess", json_real(abs_r.ess));
    json_t *jv = json_object(), *ji = json_object();
    json_object_set_new(jv, "ips", estimate_json(&abs_r.ips, n));
    json_object_set_new(jv, "snips", estimate_json(&abs_r.snips, n));
    json_object_set_new(jv, "dr", estimate_json(&abs_r.dr, n));
    json_object_set_new(ji, "ips", estimate_json(&inc_r.ips, n));
    json_object_set_new(ji, "snips", estimate_json(&inc_r.snips, n));
    json_object_set_new(ji, "dr", estimate_json(&inc_r.dr, n));
    json_object_set_new(root, "value", jv);
    json_object_set_new(root, "incremental", ji);
    if (json) {
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
        if (txt) {
            printf("%s\n", txt);
            free(txt);
        }
    } else {
        printf("plan %s on log %s: %lld rows, %lld treated by the plan, cost %.6g; effective "
               "sample size %.0f\n", plan, data, (long long)N, (long long)treated,
               abs_r.policy_cost * n, abs_r.ess);
        printf("%s under the plan%s (totals over the log's %lld rows, 90%% bootstrap intervals):\n",
               unit, cost ? ", net of cost" : "", (long long)N);
        printf("estimator\tvalue\tlo\thi\tincremental_vs_nobody\tlo\thi\n");
        const sg_ope_estimate *va[3] = {&abs_r.ips, &abs_r.snips, &abs_r.dr};
        const sg_ope_estimate *vi[3] = {&inc_r.ips, &inc_r.snips, &inc_r.dr};
        static const char *names[3] = {"IPS", "SNIPS", "DR"};
        for (int k = 0; k < 3; k++)
            printf("%s\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n", names[k], va[k]->value * n,
                   va[k]->lo * n, va[k]->hi * n, vi[k]->value * n, vi[k]->lo * n, vi[k]->hi * n);
    }
    if (summary && json_dump_file(root, summary, JSON_INDENT(2) | JSON_REAL_PRECISION(8))) {
        fprintf(stderr, "stratagem: %s: cannot write\n", summary);
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = EXIT_OK;
done:
    cli_list_free(ign);
    json_decref(root);
    cli_idmap_deinit(&map);
    sg_free(plan_arm);
    sg_free(parm_of_label);
    sg_free(pi);
    sg_free(mu);
    sg_free(mum);
    sg_free(y);
    sg_free(prop);
    sg_uplift_log_deinit(&g);
    sg_uplift_free(m);
    sg_table_free(pt);
    sg_table_free(t);
    return rc;
}

/* ---------------------------------------------------------------- help */

static const char HELP_TRAIN_UPLIFT[] =
    "Usage: stratagem train uplift --data LOG --treatment COL --control LABEL --outcome COL\n"
    "                              --out MODEL [options]\n"
    "Example: stratagem train uplift --data log.csv --treatment treatment --control control \\\n"
    "           --outcome margin --propensity propensity --id customer_id --ignore converted \\\n"
    "           --out campaign.sgm\n"
    "\n"
    "Learns, for every customer and action (arm), the effect of the action on the outcome,\n"
    "from a campaign log (one row per customer: features, the action taken, the outcome).\n"
    "Any number of arms.  Rows without an outcome are skipped (and counted).  Prints per arm:\n"
    "rows, mean outcome, share with outcome > 0, the raw difference in means, the doubly robust\n"
    "average effect (AIPW on cross-fitted predictions) with its 95% interval, and held-out\n"
    "ranking quality of the effect scores (out-of-fold, rows weighted by 1/propensity):\n"
    "Qini coefficient and AUUC (normalised: 0 = random, 1 = perfect ordering; scikit-uplift's\n"
    "qini_auc_score and uplift_auc_score) and uplift@k (treated minus control mean outcome\n"
    "among the top k% by predicted effect).\n"
    "\n"
    "Log:\n"
    "  --data, -d FILE        CSV campaign log (required)\n"
    "  --treatment COL        the action taken per row (required)\n"
    "  --control LABEL        the label of the hold-out arm in COL (required)\n"
    "  --outcome COL          0/1 conversion or a number such as margin (required)\n"
    "  --propensity COL       probability the logging policy chose the logged action, in (0,1];\n"
    "                         when absent it is estimated (one-vs-rest logistic per arm), and\n"
    "                         said so\n"
    "  --id COL               customer key; never a feature\n"
    "  --ignore A,B,...       columns that are not features (e.g. a conversion flag)\n"
    "  --sum NAME=FIRST..LAST[,NAME=A+B+...]  derived features, each the sum of number\n"
    "                         columns (FIRST to LAST in the file's order, or those named), such\n"
    "                         as a count of policies over one column per policy type; the model\n"
    "                         keeps the recipe and computes them for new customers\n"
    "  --categorical/--numeric A,B,...  type overrides;  --dedup error|first|last\n"
    "  --min-arm-rows N       fewer rows in an arm is an error (default 30)\n"
    "Model:\n"
    "  --learner t|x|dr       T-learner (default: best on bench/uplift.sh), X-learner, DR-learner\n"
    "  --base gbdt|linear     outcome/effect models: boosted trees (default) or logistic/ridge\n"
    "  --per-arm              one outcome model per arm (default: one model shared by the arms,\n"
    "                         with the arm as a feature, so arms borrow strength)\n"
    "  --hurdle auto|on|off   money outcomes that are 0 for most rows: model P(y>0) and\n"
    "                         E[y | y>0] apart (auto: when y >= 0, not 0/1, >= 30% zeros)\n"
    "  --cv K                 cross-fitting folds, 2..32 (default 5)\n"
    "  --repeats R            repeats of the K-fold split, 1..16 (default 3): each log row's\n"
    "                         out-of-fold prediction averages R models; new rows average all\n"
    "                         R x K models; the standard error is the fold models' spread\n"
    "  --calibrate 0|1        map each arm's effects through a line fitted to the doubly\n"
    "                         robust pseudo-outcomes of the out-of-fold log rows (default 1)\n"
    "  --cal-prior conv|one   centre of each calibration slope's prior: conv (default): a\n"
    "                         hurdle's value slopes shrink toward the arm's conversion\n"
    "                         slope, other slopes toward 1; one: every slope toward 1\n"
    "  --linear-start X       the shared model's conversion trees boost from a logistic model\n"
    "                         with arm x feature terms, L2 penalty X on standardised features\n"
    "                         (default 0: trees alone; 20000 measured in bench/)\n"
    "  --interactions arm|all|auto  the shared GBDT's trees: arm (each tree splits on the\n"
    "                         arm and at most one feature, so an arm's effect is a sum of\n"
    "                         one-feature curves), all (trees combine any features) or auto\n"
    "                         (default: both trained, twice the time; the one whose top-fifth\n"
    "                         rule the log values higher ranks, and with additive trees the\n"
    "                         other sums the plans' forecasts); measured in bench/\n"
    "  --rank-hinge Q         plans rank each arm's calibrated effects through a hinge at the\n"
    "                         arm's quantile Q of the log's out-of-fold effects: a slope\n"
    "                         change above it fitted to the pseudo-outcomes, shrunk toward\n"
    "                         none (a hurdle's value: toward its conversions'); forecasts\n"
    "                         still sum the calibrated effects (default 0.8; 0: none)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --threads N            threads for boosting (default 0: all cores)\n"
    "GBDT settings (defaults in brackets):\n"
    "  --trees N [300]  --lr X [0.05]  --depth N [3]  --leaves N [7]  --mcw X [20]  --l2 X [1]\n"
    "  --subsample X [1]  --colsample X [0.8]  --bins N [255]\n"
    "  --early-stopping N [0: off]  rounds by early stopping on an inner 20% split instead\n"
    "Output:\n"
    "  --segment A,B,...      also print the average effect per value of each column\n"
    "                         (AIPW on the rows of the value; the first 50 values)\n"
    "  --out, -o MODEL        model file to write (required); it keeps the log's out-of-fold\n"
    "                         predictions, which 'plan' uses to correct its forecast\n";

static const char HELP_PLAN[] =
    "Usage: stratagem plan --model UPLIFT_MODEL --data CUSTOMERS --budget B --cost ARM=C,...\n"
    "                      --out plan.csv [options]\n"
    "Example: stratagem plan --model campaign.sgm --data customers.csv --budget 200 \\\n"
    "           --cost email=0.10,coupon10=0.10,coupon20=0.10 --objective value \\\n"
    "           --out plan.csv --summary plan.json --report plan.html\n"
    "\n"
    "Uplift models: chooses at most one action per customer, keeping the total contact cost\n"
    "within the budget and each arm within its cap, never an action whose expected net gain is\n"
    "not positive (multiple-choice knapsack: Lagrangian on the budget, exact search near the\n"
    "break).  Writes plan.csv (id, action (the control label for nobody), expected_effect,\n"
    "cost, predicted_effect, se) and prints the forecast: incremental effect, cost and net with\n"
    "90% intervals, next to the baselines nobody, best single action in budget, random in\n"
    "budget.  The intervals are corrected for selection: the same rule is replayed on the\n"
    "training log with out-of-fold predictions and valued doubly robustly from the real\n"
    "outcomes.  The point forecast is the model's own sum of its calibrated effects where that\n"
    "interval, widened to 99%, holds it, else the log's value (and then expected_effect =\n"
    "predicted_effect x the log's value / the model's sum); plan.json: forecast.basis\n"
    "(\"model\" or \"log\"), forecast.log_effect, forecast.naive_effect.  The last line is a\n"
    "verdict against doing nothing, from the 90% interval of the net: GAIN, UNCLEAR (it contains\n"
    "zero), LOSS or NOTHING (no gain beats its cost); plan.json: forecast.verdict.\n"
    "  --model, -m MODEL      an uplift model (required)\n"
    "  --data, -d FILE        CSV of the customers to plan for (required)\n"
    "  --budget B             total contact budget (default: none)\n"
    "  --cost ARM=C,...       cost per contact of every action (required)\n"
    "  --objective value|conversions  maximise effect - cost on the outcome (default) or\n"
    "                         incremental conversions (outcome > 0) within the budget\n"
    "  --cap ARM=N,...        at most N customers for an arm\n"
    "  --min-gain X           only actions whose expected net gain exceeds X (default 0)\n"
    "  --out, -o FILE         plan CSV, '-' for standard output (required)\n"
    "  --summary FILE.json    the forecast and baselines as JSON\n"
    "  --report FILE.html     a self-contained report: Qini curves per arm, budget vs value\n"
    "  --boot N               bootstrap resamples of the log (default 1000)\n"
    "  --forecast auto|log    the point forecast: the model's sum where the log's 99%\n"
    "                         interval holds it (auto, default), or always the log's value\n"
    "  --where COL=VALUE      only rows whose COL equals VALUE are candidates\n"
    "  --id COL               id column (default: the model's)\n"
    "  --seed N               seed of the bootstrap and baselines (default 20000)\n";

static const char HELP_PREDICT_UPLIFT[] =
    "Usage: stratagem predict --model UPLIFT_MODEL --data FILE --out FILE [options]\n"
    "Example: stratagem predict --model campaign.sgm --data customers.csv --out effects.csv\n"
    "\n"
    "For an uplift model, writes per row: id, best_arm (largest positive effect, else the\n"
    "control), pred_ARM (predicted outcome under each arm), effect_ARM (effect against control)\n"
    "and se_ARM (its standard error from the spread of the cross-fitted fold models).\n"
    "  --model, -m MODEL      an uplift model (required)\n"
    "  --data, -d FILE        CSV with the model's feature columns (required)\n"
    "  --out, -o FILE         output CSV, '-' for standard output (required)\n"
    "  --objective value|conversions  the outcome (default) or conversions (outcome > 0)\n"
    "  --where COL=VALUE      only rows whose COL equals VALUE\n"
    "  --id COL               id column (default: the model's)\n";

static const char HELP_EVALUATE_UPLIFT[] =
    "Usage: stratagem evaluate --plan FILE --data LOG --treatment COL --control LABEL\n"
    "                          --outcome COL --propensity COL [--id COL] [--cost ARM=C,...]\n"
    "       stratagem evaluate --model UPLIFT_MODEL --data LOG [options]\n"
    "Example: stratagem evaluate --plan plan.csv --data outcomes.csv --treatment treatment \\\n"
    "           --control control --outcome margin --propensity propensity --id customer_id \\\n"
    "           --cost email=0.10,coupon10=0.10,coupon20=0.10\n"
    "\n"
    "--plan: off-policy value of a plan (id, action) on a logged campaign over the same\n"
    "customers: IPS, SNIPS and doubly robust (DR) estimates of the outcome total under the plan\n"
    "and of its increment over treating nobody, with 90% bootstrap intervals.  Log rows missing\n"
    "from the plan count as 'nobody'.  DR uses a cross-fitted outcome model fitted on the log\n"
    "(or --model MODEL): give it the same --ignore as 'train uplift' (an outcome-derived\n"
    "column such as a conversion flag must not be a feature).\n"
    "  --plan FILE            plan CSV: id column first, then 'action' (required)\n"
    "  --data, -d LOG         the campaign log (required)\n"
    "  --treatment/--control/--outcome  as in train uplift (required)\n"
    "  --propensity COL       logged propensities (else estimated, and said so)\n"
    "  --id COL               the log's customer column (default: the plan's first column)\n"
    "  --cost ARM=C,...       subtract contact costs (every action)\n"
    "  --ignore A,B,...       columns that are not features of the DR outcome model\n"
    "  --sum SPEC             derived features of that model, as for 'train uplift'\n"
    "  --objective value|conversions   --boot N [1000]   --seed N   --json   --summary FILE\n"
    "--model UPLIFT_MODEL without --plan: held-out ranking quality per arm on a log: Qini,\n"
    "AUUC (normalised, 0 = random, 1 = perfect), uplift@10/20/30%; rows weighted by\n"
    "1/propensity when the log has propensities.  --treatment/--outcome/--propensity default\n"
    "to the model's column names.\n";

const char *cli_uplift_help(const char *topic)
{
    if (!topic) return NULL;
    if (!strcmp(topic, "train") || !strcmp(topic, "uplift")) return HELP_TRAIN_UPLIFT;
    if (!strcmp(topic, "plan")) return HELP_PLAN;
    if (!strcmp(topic, "predict")) return HELP_PREDICT_UPLIFT;
    if (!strcmp(topic, "evaluate")) return HELP_EVALUATE_UPLIFT;
    return NULL;
}
