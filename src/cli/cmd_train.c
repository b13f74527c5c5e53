/* cmd_train.c -- 'stratagem train TASK': fit a model and write its file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_creative.h"
#include "cli_budget.h"
#include "cli_promo.h"
#include "cli_recommend.h"
#include "cli_synth.h"
#include "cli_uplift.h"
#include "stratagem/mem.h"
#include "stratagem/response.h"

static int train_response(int argc, char **argv)
{
    const char *data = NULL, *target = NULL, *id = NULL, *ignore = NULL, *cat = NULL, *num = NULL;
    const char *dedup = "error", *model = "gbdt", *grid = NULL, *out = NULL, *objective = "auto";
    const char *sums = NULL;
    int cv = 0, trees = -1, depth = -1, leaves = -1, es = -1, bins = -1, threads = 0, help = 0;
    double lr = -1, l2 = -1, mcw = -1, subsample = -1, colsample = -1, top_frac = 0.2;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},        {"target", 0, OPT_STR, &target, 0},
        {"id", 0, OPT_STR, &id, 0},              {"ignore", 0, OPT_STR, &ignore, 0},
        {"sum", 0, OPT_STR, &sums, 0},
        {"categorical", 0, OPT_STR, &cat, 0},    {"numeric", 0, OPT_STR, &num, 0},
        {"dedup", 0, OPT_STR, &dedup, 0},        {"model", 'm', OPT_STR, &model, 0},
        {"objective", 0, OPT_STR, &objective, 0}, {"cv", 0, OPT_INT, &cv, 0},
        {"grid", 0, OPT_STR, &grid, 0},          {"seed", 0, OPT_U64, &seed, 0},
        {"threads", 0, OPT_INT, &threads, 0},    {"trees", 0, OPT_INT, &trees, 0},
        {"depth", 0, OPT_INT, &depth, 0},        {"leaves", 0, OPT_INT, &leaves, 0},
        {"lr", 0, OPT_DOUBLE, &lr, 0},           {"l2", 0, OPT_DOUBLE, &l2, 0},
        {"mcw", 0, OPT_DOUBLE, &mcw, 0},         {"subsample", 0, OPT_DOUBLE, &subsample, 0},
        {"colsample", 0, OPT_DOUBLE, &colsample, 0}, {"bins", 0, OPT_INT, &bins, 0},
        {"early-stopping", 0, OPT_INT, &es, 0},  {"top-frac", 0, OPT_DOUBLE, &top_frac, 0},
        {"out", 'o', OPT_STR, &out, 0},          {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    int n_pos;
    if (cli_parse("train", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_help_text("train"), stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train", "missing --data FILE");
    if (!target) return cli_usage_error("train", "missing --target COL");
    if (!out) return cli_usage_error("train", "missing --out MODEL");

    sg_response_opts o;
    sg_response_opts_default(&o);
    o.target = target;
    o.id = id;
    o.cv_folds = cv;
    o.grid = grid;
    o.seed = seed;
    o.top_frac = top_frac;
    if (!strcmp(model, "gbdt")) o.learner = SG_LEARNER_GBDT;
    else if (!strcmp(model, "logit") || !strcmp(model, "linear")) o.learner = SG_LEARNER_LINEAR;
    else return cli_usage_error("train", "--model must be gbdt, logit or linear (got '%s')", model);
    if (!strcmp(objective, "auto")) o.objective = SG_OBJECTIVE_AUTO;
    else if (!strcmp(objective, "binary")) o.objective = SG_OBJECTIVE_BINARY;
    else if (!strcmp(objective, "regression")) o.objective = SG_OBJECTIVE_REGRESSION;
    else return cli_usage_error("train", "--objective must be auto, binary or regression");
    if (cv == 1 || cv < 0 || cv > 64) return cli_usage_error("train", "--cv must be 0 or 2..64 (got %d)", cv);
    if (grid && cv < 2) return cli_usage_error("train", "--grid needs --cv K (K >= 2) to choose a setting");
    if (!(top_frac > 0 && top_frac <= 1)) return cli_usage_error("train", "--top-frac must be in (0, 1]");
    /* the CoIL-sized defaults: a slow learning rate with early stopping */
    o.gbdt.n_trees = 2000;
    o.gbdt.learning_rate = 0.05f;
    o.gbdt.max_leaves = 15;
    o.gbdt.max_depth = 4;
    o.gbdt.min_child_weight = 5;
    o.gbdt.subsample = 0.8f;
    o.gbdt.colsample = 0.8f;
    o.gbdt.early_stopping = 50;
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
    /* validate the grid before reading any data */
    sg_error err;
    sg_error_clear(&err);
    sg_grid_point *g = NULL;
    int ng = sg_grid_parse(grid, &o.gbdt, &o.linear, o.learner, &g, &err);
    sg_free(g);
    if (ng < 0) return cli_usage_error("train", "%s", err.msg);

    char **ign = cli_split_list(ignore);
    o.ignore = (const char *const *)ign;
    o.sums = sums;
    cli_data_opts dopt = {.id = id, .dedup = dedup, .categorical = cat, .numeric = num};
    int k = 0;
    dopt.required[k++] = target;
    if (id) dopt.required[k++] = id;
    sg_table *t = NULL;
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) {
        cli_list_free(ign);
        return rc;
    }
    for (char **p = ign; p && *p; p++)
        if (sg_table_find(t, *p) < 0)
            fprintf(stderr, "stratagem: warning: --ignore: no column '%s' in %s\n", *p, data);
    if (cli_quiet)
        ;
    else if (cv)
        fprintf(stderr, "stratagem: train response: model %s, seed %llu, %d-fold cross-validation, "
                "%d setting%s\n", model, (unsigned long long)seed, cv, ng, ng > 1 ? "s" : "");
    else
        fprintf(stderr, "stratagem: train response: model %s, seed %llu, no cross-validation\n",
                model, (unsigned long long)seed);
    if (!cli_quiet) o.on_progress = cli_progress_steps;
    sg_response *m = NULL;
    sg_response_report rep;
    rc = sg_response_train(&m, t, &o, &rep, &err);
    cli_progress_end();
    if (rc) {
        sg_response_report_deinit(&rep);
        sg_table_free(t);
        cli_list_free(ign);
        return cli_fail(&err);
    }
    int binary = rep.objective == SG_OBJECTIVE_BINARY;
    if (!cli_quiet)
        fprintf(stderr, "stratagem: target '%s': %s; %lld rows used, %lld without a target skipped; "
            "%s %.4f\n", target, binary ? "binary (0/1)" : "numeric (regression)",
            (long long)rep.n_used, (long long)rep.n_missing_target,
            binary ? "positive rate" : "mean", rep.base_rate);
    /* results: the cross-validation table on stdout */
    if (rep.n_results) {
        if (binary) printf("setting\tcv_auc\tcv_auc_sd\tcv_logloss\tcv_top%.0f%%_precision\tlift\ttrees\n", 100 * top_frac);
        else printf("setting\tcv_rmse\tcv_r2\ttrees\n");
        for (int i = 0; i < rep.n_results; i++) {
            const sg_cv_result *r = &rep.results[i];
            if (binary)
                printf("%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.0f%s\n", r->setting, r->auc, r->auc_sd,
                       r->logloss, r->top_precision, r->top_precision / rep.base_rate,
                       r->n_trees, i == rep.chosen ? "\t<- chosen" : "");
            else
                printf("%s\t%.6g\t%.4f\t%.0f%s\n", r->setting, r->rmse, r->r2, r->n_trees,
                       i == rep.chosen ? "\t<- chosen" : "");
        }
        const sg_cv_result *c = &rep.results[rep.chosen];
        if (binary)
            printf("chosen: %s; cross-validated AUC %.4f (fold sd %.4f), top %.0f%% precision %.4f "
                   "(fold sd %.4f): %.1f hits expected per 1,000 rows chosen that way\n",
                   c->setting, c->auc, c->auc_sd, 100 * top_frac, c->top_precision,
                   c->top_precision_sd, 1000 * c->top_precision);
        else
            printf("chosen: %s; cross-validated RMSE %.6g, R^2 %.4f\n", c->setting, c->rmse, c->r2);
    }
    rc = sg_response_save(m, out, &err);
    if (rc) rc = cli_fail(&err);
    else if (!cli_quiet && rep.n_trees)
        fprintf(stderr, "stratagem: wrote %s (%d features, %d trees)\n", out, rep.n_features, rep.n_trees);
    else if (!cli_quiet)
        fprintf(stderr, "stratagem: wrote %s (%d features)\n", out, rep.n_features);
    sg_response_report_deinit(&rep);
    sg_response_free(m);
    sg_table_free(t);
    cli_list_free(ign);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        if (argc < 1) return cli_usage_error("train", "missing the task (response, uplift, recommend, creative, synth, simulate, promo, budget)");
        cli_print_help(stdout, "train");
        return EXIT_OK;
    }
    if (!strcmp(argv[0], "response")) return train_response(argc - 1, argv + 1);
    if (!strcmp(argv[0], "uplift")) return cli_train_uplift(argc - 1, argv + 1);
    if (!strcmp(argv[0], "recommend")) return cli_train_recommend(argc - 1, argv + 1);
    if (!strcmp(argv[0], "creative")) return cli_train_creative(argc - 1, argv + 1);
    if (!strcmp(argv[0], "synth")) return cli_train_synth(argc - 1, argv + 1);
    if (!strcmp(argv[0], "simulate")) return cli_train_simulate(argc - 1, argv + 1);
    if (!strcmp(argv[0], "promo")) return cli_train_promo(argc - 1, argv + 1);
    if (!strcmp(argv[0], "budget")) return cli_train_budget(argc - 1, argv + 1);
    return cli_usage_error("train", "unknown task '%s' (known: response, uplift, recommend, "
                           "creative, synth, simulate, promo, budget)", argv[0]);
}
