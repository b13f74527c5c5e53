/* cmd_synth.c -- 'stratagem train synth', 'synth', 'train simulate' and 'simulate'. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_synth.h"
#include "stratagem/fidelity.h"
#include "stratagem/mem.h"
#include "stratagem/simulator.h"
#include "stratagem/synth.h"

/* ---------------------------------------------------------------- helpers */

/* A JSON number, or null for NaN/inf (JSON has no NaN). */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Write a JSON document to 'path' atomically ("-" = stdout).  Returns an exit code. */
static int write_json(json_t *root, const char *path)
{
    cli_out o;
    if (cli_out_open(&o, path)) return EXIT_RUNTIME;
    if (json_dumpf(root, o.f, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) || fputc('\n', o.f) == EOF) {
        cli_out_abort(&o);
        fprintf(stderr, "stratagem: %s: cannot write\n", path);
        return EXIT_RUNTIME;
    }
    return cli_out_commit(&o);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean and 5% / 95% quantiles (linear interpolation) of x (n), which gets sorted. */
static void summarise(double *x, int n, double *mean, double *lo, double *hi)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double q[2] = {0.05, 0.95}, *out[2] = {lo, hi};
    for (int k = 0; k < 2; k++) {
        double h = q[k] * (n - 1);
        int i = (int)floor(h);
        *out[k] = i >= n - 1 ? x[n - 1] : x[i] + (h - i) * (x[i + 1] - x[i]);
    }
}

/* ---------------------------------------------------------------- train synth */

int cli_train_synth(int argc, char **argv)
{
    const char *data = NULL, *id = NULL, *target = NULL, *model = "gan", *out = NULL;
    const char *ignore = NULL, *cat = NULL, *num = NULL, *cont = NULL, *dedup = "error";
    int epochs = -1, batch = -1, embedding = -1, hidden = -1, pac = -1, eval_every = -1;
    int patience = -1, max_cat = -1, max_disc = -1, max_modes = -1, help = 0;
    double lr = -1, holdout = -1, valid = -1, target_share = -1;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},          {"id", 0, OPT_STR, &id, 0},
        {"target", 0, OPT_STR, &target, 0},        {"model", 'm', OPT_STR, &model, 0},
        {"epochs", 0, OPT_INT, &epochs, 0},        {"batch", 0, OPT_INT, &batch, 0},
        {"embedding", 0, OPT_INT, &embedding, 0},  {"hidden", 0, OPT_INT, &hidden, 0},
        {"pac", 0, OPT_INT, &pac, 0},              {"lr", 0, OPT_DOUBLE, &lr, 0},
        {"holdout", 0, OPT_DOUBLE, &holdout, 0},   {"valid", 0, OPT_DOUBLE, &valid, 0},
        {"eval-every", 0, OPT_INT, &eval_every, 0}, {"patience", 0, OPT_INT, &patience, 0},
        {"max-categories", 0, OPT_INT, &max_cat, 0}, {"max-discrete", 0, OPT_INT, &max_disc, 0},
        {"max-modes", 0, OPT_INT, &max_modes, 0},  {"ignore", 0, OPT_STR, &ignore, 0},
        {"categorical", 0, OPT_STR, &cat, 0},      {"numeric", 0, OPT_STR, &num, 0},
        {"continuous", 0, OPT_STR, &cont, 0},      {"dedup", 0, OPT_STR, &dedup, 0},
        {"seed", 0, OPT_U64, &seed, 0},            {"out", 'o', OPT_STR, &out, 0},
        {"target-share", 0, OPT_DOUBLE, &target_share, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    int n_pos;
    if (cli_parse("train synth", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_synth_help("train synth"), stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train synth", "missing --data FILE");
    if (!out) return cli_usage_error("train synth", "missing --out MODEL");
    sg_synth_opts o;
    sg_synth_opts_default(&o);
    if (!strcmp(model, "gan") || !strcmp(model, "ctgan")) o.model = SG_SYNTH_GAN;
    else if (!strcmp(model, "tvae")) o.model = SG_SYNTH_TVAE;
    else return cli_usage_error("train synth", "--model must be gan or tvae (got '%s')", model);
    o.id = id;
    o.target = target;
    o.seed = seed;
    if (epochs >= 0) o.epochs = epochs;
    if (batch >= 0) o.batch = batch;
    if (embedding >= 0) o.embedding = embedding;
    if (hidden >= 0) o.hidden = hidden;
    if (pac >= 0) o.pac = pac;
    if (lr >= 0) o.lr = lr;
    if (holdout >= 0) o.holdout = holdout;
    if (valid >= 0) o.valid = valid;
    if (eval_every >= 0) o.eval_every = eval_every;
    if (patience >= 0) o.patience = patience;
    if (max_cat >= 0) o.max_categories = max_cat;
    if (max_disc >= 0) o.max_discrete = max_disc;
    if (max_modes >= 0) o.max_modes = max_modes;
    if (target_share >= 0) {
        if (target_share > 1)
            return cli_usage_error("train synth", "--target-share must be in [0, 1] (got %g)",
                                   target_share);
        o.target_share = target_share;
    }
    if (o.model == SG_SYNTH_GAN && o.pac > 0 && o.batch % o.pac)
        return cli_usage_error("train synth", "--batch (%d) must be a multiple of --pac (%d)",
                               o.batch, o.pac);

    char **ign = cli_split_list(ignore), **cnt = cli_split_list(cont);
    o.ignore = (const char *const *)ign;
    o.continuous = (const char *const *)cnt;
    cli_data_opts dopt = {.id = id, .dedup = dedup, .categorical = cat, .numeric = num};
    int k = 0;
    if (target) dopt.required[k++] = target;
    if (id) dopt.required[k++] = id;
    sg_table *t = NULL;
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) goto done;
    if (!cli_quiet) {
        o.on_progress = cli_progress_steps;
        fprintf(stderr, "stratagem: train synth: model %s, seed %llu, up to %d epochs\n",
                o.model == SG_SYNTH_GAN ? "gan (CTGAN)" : "tvae", (unsigned long long)seed,
                o.epochs);
    }
    sg_synth *m = NULL;
    sg_synth_train_report rep;
    sg_error err;
    sg_error_clear(&err);
    rc = sg_synth_train(&m, t, &o, &rep, &err);
    cli_progress_end();
    if (rc) {
        rc = cli_fail(&err);
        goto done;
    }
    char rule[512];
    printf("model\t%s\n", o.model == SG_SYNTH_GAN ? "gan" : "tvae");
    printf("rows\ttrain %lld, validation %lld, hold-out %lld\n", (long long)rep.n_train,
           (long long)rep.n_valid, (long long)rep.n_holdout);
    printf("columns\t%d (%d continuous, %d discrete, %d category)\n", rep.n_cols,
           rep.n_continuous, rep.n_discrete, rep.n_category);
    printf("encoding\t%d floats per row, conditional vector %d\n", rep.data_dim, rep.cond_dim);
    printf("parameters\t%lld (kept in the model)\n", (long long)rep.n_params);
    printf("epochs\t%d run, kept epoch %d\n", rep.epochs_run, rep.best_epoch);
    if (isfinite(rep.best_score)) printf("validation_fidelity\t%.4f\n", rep.best_score);
    printf("seconds\t%.1f transform, %.1f training (%.3f per epoch)\n", rep.seconds_transform,
           rep.seconds_train, rep.seconds_per_epoch);
    if (target) printf("target_rule\t%s\n", sg_synth_target_rule(m, rule, sizeof rule));
    rc = sg_synth_save(m, out, &err);
    if (rc) rc = cli_fail(&err);
    else if (!cli_quiet) fprintf(stderr, "stratagem: wrote %s\n", out);
    sg_synth_free(m);
done:
    sg_table_free(t);
    cli_list_free(ign);
    cli_list_free(cnt);
    return rc;
}

/* ---------------------------------------------------------------- synth */

static const char *kind_name(int kind)
{
    return kind == SG_FCOL_CONTINUOUS ? "continuous" : kind == SG_FCOL_DISCRETE ? "discrete"
                                                                                : "category";
}

/* The report as JSON (owned by the caller). */
static json_t *report_json(const sg_synth *m, const sg_fidelity_report *r)
{
    json_t *root = json_object();
    char rule[512];
    json_object_set_new(root, "model", json_string(sg_synth_kind(m) == SG_SYNTH_GAN ? "gan"
                                                                                    : "tvae"));
    int t = sg_synth_target(m);
    json_object_set_new(root, "target", t >= 0 ? json_string(sg_synth_col_name(m, t))
                                               : json_null());
    json_object_set_new(root, "target_rule", t >= 0 ? json_string(sg_synth_target_rule(m, rule,
                                                      sizeof rule)) : json_null());
    json_object_set_new(root, "n_synthetic", json_integer(r->n_synthetic));
    json_object_set_new(root, "n_train", json_integer(r->n_train));
    json_object_set_new(root, "n_holdout", json_integer(r->n_holdout));
    json_object_set_new(root, "ks_complement", jnum(r->ks_complement));
    json_object_set_new(root, "tv_complement", jnum(r->tv_complement));
    json_object_set_new(root, "correlation_similarity", jnum(r->correlation_similarity));
    json_object_set_new(root, "contingency_similarity", jnum(r->contingency_similarity));
    json_object_set_new(root, "missing_similarity", jnum(r->missing_similarity));
    json_object_set_new(root, "tstr_auc", jnum(r->tstr_auc));
    json_object_set_new(root, "trtr_auc", jnum(r->trtr_auc));
    json_object_set_new(root, "tstr_trtr_ratio", jnum(r->tstr_auc / r->trtr_auc));
    json_object_set_new(root, "dcr_synthetic_median", jnum(r->dcr_synthetic_median));
    json_object_set_new(root, "dcr_holdout_median", jnum(r->dcr_holdout_median));
    json_object_set_new(root, "dcr_synthetic_p05", jnum(r->dcr_synthetic_p05));
    json_object_set_new(root, "dcr_holdout_p05", jnum(r->dcr_holdout_p05));
    json_object_set_new(root, "exact_copy_synthetic", jnum(r->exact_copy_synthetic));
    json_object_set_new(root, "exact_copy_holdout", jnum(r->exact_copy_holdout));
    json_object_set_new(root, "dcr_rows", json_integer(r->n_dcr_synthetic));
    json_object_set_new(root, "too_close", json_boolean(r->too_close));
    json_t *cols = json_array();
    for (int j = 0; j < r->n_cols; j++) {
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(sg_synth_col_name(m, j)));
        json_object_set_new(c, "kind", json_string(kind_name(sg_synth_col_kind(m, j))));
        json_object_set_new(c, "ks_complement", jnum(r->ks_col[j]));
        json_object_set_new(c, "tv_complement", jnum(r->tv_col[j]));
        json_array_append_new(cols, c);
    }
    json_object_set_new(root, "columns", cols);
    return root;
}

static void print_report(FILE *f, const sg_fidelity_report *r)
{
    fprintf(f, "fidelity: KS complement %.4f, TV complement %.4f, correlation %.4f, "
            "contingency %.4f, missing %.4f\n", r->ks_complement, r->tv_complement,
            r->correlation_similarity, r->contingency_similarity, r->missing_similarity);
    if (isfinite(r->trtr_auc))
        fprintf(f, "efficacy: TSTR AUC %.4f, TRTR AUC %.4f (ratio %.3f)\n", r->tstr_auc,
                r->trtr_auc, r->tstr_auc / r->trtr_auc);
    fprintf(f, "privacy: median distance to the closest training row %.4f for synthetic rows, "
            "%.4f for real hold-out rows; exact copies %.2f%% vs %.2f%%%s\n",
            r->dcr_synthetic_median, r->dcr_holdout_median, 100 * r->exact_copy_synthetic,
            100 * r->exact_copy_holdout,
            r->too_close ? "\nprivacy: WARNING: synthetic rows are closer to the training rows "
                           "than real hold-out rows are (copies or near-copies)"
                         : " (no closer than real hold-out rows)");
}

int cmd_synth(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *report = NULL, *cond = NULL, *check = NULL;
    int64_t rows = -1;
    int help = 0, n_rows = -1;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"rows", 'n', OPT_INT, &n_rows, 0},
        {"out", 'o', OPT_STR, &out, 0},     {"report", 0, OPT_STR, &report, 0},
        {"seed", 0, OPT_U64, &seed, 0},     {"condition", 0, OPT_STR, &cond, 0},
        {"check", 0, OPT_STR, &check, 0},   {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    int n_pos;
    if (cli_parse("synth", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_synth_help("synth"), stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("synth", "missing --model MODEL");
    if (!check && !out) return cli_usage_error("synth", "missing --out FILE (or --check FILE)");
    if (!check && n_rows < 1) return cli_usage_error("synth", "missing --rows N (N >= 1)");
    if (check && (out || cond)) return cli_usage_error("synth", "--check takes no --out or "
                                                       "--condition");
    if (check && !report) report = "-";
    rows = n_rows;
    sg_error err;
    sg_error_clear(&err);
    sg_synth *m = NULL;
    if (sg_synth_load(&m, model, &err)) return cli_fail(&err);
    int C = sg_synth_n_cols(m), rc = EXIT_OK, cond_col = -1;
    float cond_value = 0;
    float *X = NULL;
    sg_table *t = NULL;
    if (cond) {
        const char *eq = strchr(cond, '=');
        if (!eq) {
            rc = cli_usage_error("synth", "--condition must be COL=VALUE (got '%s')", cond);
            goto done;
        }
        for (int j = 0; j < C; j++)
            if (strlen(sg_synth_col_name(m, j)) == (size_t)(eq - cond) &&
                !strncmp(sg_synth_col_name(m, j), cond, (size_t)(eq - cond)))
                cond_col = j;
        if (cond_col < 0) {
            rc = cli_usage_error("synth", "--condition: the model generates no column '%.*s'",
                                 (int)(eq - cond), cond);
            goto done;
        }
        if (sg_synth_parse_value(m, cond_col, eq + 1, &cond_value, &err)) {
            rc = cli_usage_error("synth", "--condition: %s", err.msg);
            goto done;
        }
    }
    if (check) {
        /* the report for a table made elsewhere */
        cli_data_opts dopt = {0};
        if ((rc = cli_load_table(check, &dopt, &t))) goto done;
        rows = sg_table_n_rows(t);
        if (rows < 1) {
            fprintf(stderr, "stratagem: %s: no rows\n", check);
            rc = EXIT_DATA;
            goto done;
        }
        X = sg_malloc_array((size_t)rows * C, sizeof *X);
        if (!X) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            goto done;
        }
        if (sg_synth_encode_table(m, t, X, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
    } else {
        X = sg_malloc_array((size_t)rows * C, sizeof *X);
        if (!X) {
            fprintf(stderr, "stratagem: out of memory for %lld rows\n", (long long)rows);
            rc = EXIT_RUNTIME;
            goto done;
        }
        double acc = 1;
        if (sg_synth_sample(m, rows, seed, cond_col, cond_value, X, &acc, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        if (cond && !cli_quiet)
            fprintf(stderr, "stratagem: synth: %.1f%% of the generated rows met the condition\n",
                    100 * acc);
        cli_out o;
        if (cli_out_open(&o, out)) {
            rc = EXIT_RUNTIME;
            goto done;
        }
        const char *id = sg_synth_id_name(m);
        if (id) cli_csv_field(o.f, id);
        for (int j = 0; j < C; j++) {
            if (id || j) fputc(',', o.f);
            cli_csv_field(o.f, sg_synth_col_name(m, j));
        }
        fputc('\n', o.f);
        char buf[1024];
        for (int64_t i = 0; i < rows; i++) {
            if (id) fprintf(o.f, "syn%lld", (long long)i + 1);
            for (int j = 0; j < C; j++) {
                if (id || j) fputc(',', o.f);
                cli_csv_field(o.f, sg_synth_format(m, j, X[i * C + j], buf, sizeof buf));
            }
            fputc('\n', o.f);
        }
        if ((rc = cli_out_commit(&o))) goto done;
        if (!cli_quiet && strcmp(out, "-"))
            fprintf(stderr, "stratagem: wrote %s (%lld rows, %d columns)\n", out, (long long)rows,
                    C + (id != NULL));
    }
    if (report) {
        sg_fidelity_report r;
        if (sg_synth_report(m, X, rows, &r, &err)) {
            sg_fidelity_report_deinit(&r);
            rc = cli_fail(&err);
            goto done;
        }
        json_t *root = report_json(m, &r);
        if (!root) {
            rc = EXIT_RUNTIME;
        } else {
            rc = write_json(root, report);
            json_decref(root);
        }
        if (!cli_quiet) print_report(stderr, &r);
        if (rc == EXIT_OK && !cli_quiet && strcmp(report, "-"))
            fprintf(stderr, "stratagem: wrote %s\n", report);
        sg_fidelity_report_deinit(&r);
    }
done:
    sg_free(X);
    sg_table_free(t);
    sg_synth_free(m);
    return rc;
}

/* ---------------------------------------------------------------- train simulate */

int cli_train_simulate(int argc, char **argv)
{
    const char *data = NULL, *treatment = NULL, *control = NULL, *outcome = NULL, *id = NULL;
    const char *prop = NULL, *ignore = NULL, *cat = NULL, *num = NULL, *dedup = "error";
    const char *out = NULL;
    int models = -1, hidden = -1, epochs = -1, batch = -1, patience = -1, help = 0;
    double lr = -1, valid = -1;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},         {"treatment", 0, OPT_STR, &treatment, 0},
        {"control", 0, OPT_STR, &control, 0},     {"outcome", 0, OPT_STR, &outcome, 0},
        {"id", 0, OPT_STR, &id, 0},               {"propensity", 0, OPT_STR, &prop, 0},
        {"ignore", 0, OPT_STR, &ignore, 0},       {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},         {"dedup", 0, OPT_STR, &dedup, 0},
        {"models", 0, OPT_INT, &models, 0},       {"hidden", 0, OPT_INT, &hidden, 0},
        {"epochs", 0, OPT_INT, &epochs, 0},       {"batch", 0, OPT_INT, &batch, 0},
        {"patience", 0, OPT_INT, &patience, 0},   {"lr", 0, OPT_DOUBLE, &lr, 0},
        {"valid", 0, OPT_DOUBLE, &valid, 0},      {"seed", 0, OPT_U64, &seed, 0},
        {"out", 'o', OPT_STR, &out, 0},           {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    int n_pos;
    if (cli_parse("train simulate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_synth_help("train simulate"), stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train simulate", "missing --data LOG");
    if (!treatment) return cli_usage_error("train simulate", "missing --treatment COL");
    if (!control) return cli_usage_error("train simulate", "missing --control LABEL");
    if (!outcome) return cli_usage_error("train simulate", "missing --outcome COL[,COL...]");
    if (!out) return cli_usage_error("train simulate", "missing --out MODEL");
    sg_sim_opts o;
    sg_sim_opts_default(&o);
    char **outs = cli_split_list(outcome), **ign = cli_split_list(ignore);
    o.treatment = treatment;
    o.control = control;
    o.outcomes = (const char *const *)outs;
    o.id = id;
    o.propensity = prop;
    o.ignore = (const char *const *)ign;
    o.seed = seed;
    if (models >= 0) o.n_models = models;
    if (hidden >= 0) o.hidden = hidden;
    if (epochs >= 0) o.epochs = epochs;
    if (batch >= 0) o.batch = batch;
    if (patience >= 0) o.patience = patience;
    if (lr >= 0) o.lr = lr;
    if (valid >= 0) o.valid = valid;
    cli_data_opts dopt = {.id = id, .dedup = dedup, .categorical = cat, .numeric = num};
    int k = 0;
    dopt.required[k++] = treatment;
    if (id) dopt.required[k++] = id;
    if (prop) dopt.required[k++] = prop;
    /* the treatment labels are text, whatever they look like */
    char catbuf[4096];
    if (!cat) {
        snprintf(catbuf, sizeof catbuf, "%s", treatment);
        dopt.categorical = catbuf;
    }
    sg_table *t = NULL;
    sg_simulator *m = NULL;
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) goto done;
    if (!cli_quiet) {
        o.on_progress = cli_progress_steps;
        fprintf(stderr, "stratagem: train simulate: %d networks per outcome, seed %llu\n",
                o.n_models, (unsigned long long)seed);
    }
    sg_sim_train_report rep;
    sg_error err;
    sg_error_clear(&err);
    rc = sg_simulator_train(&m, t, &o, &rep, &err);
    cli_progress_end();
    if (rc) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("rows\t%lld used (%lld training, %lld validation), %lld skipped\n",
           (long long)rep.n_used, (long long)rep.n_train, (long long)rep.n_valid,
           (long long)rep.n_skipped);
    printf("features\t%d\nvalidation_nll\t%.4f per row\n", rep.n_features, rep.valid_nll);
    printf("validation rows: observed against simulated mean outcome, by logged action\n");
    printf("action\trows");
    for (int j = 0; j < rep.n_outcomes; j++)
        printf("\t%s_observed\t%s_simulated", sg_simulator_outcome(m, j),
               sg_simulator_outcome(m, j));
    printf("\n");
    for (int a = 0; a < rep.n_arms; a++) {
        printf("%s\t%lld", sg_simulator_arm(m, a), (long long)rep.arm_rows[a]);
        for (int j = 0; j < rep.n_outcomes; j++)
            printf("\t%.4f\t%.4f", rep.obs_mean[a][j], rep.sim_mean[a][j]);
        printf("\n");
    }
    rc = sg_simulator_save(m, out, &err);
    if (rc) rc = cli_fail(&err);
    else if (!cli_quiet) fprintf(stderr, "stratagem: wrote %s\n", out);
done:
    sg_simulator_free(m);
    sg_table_free(t);
    cli_list_free(outs);
    cli_list_free(ign);
    return rc;
}

/* ---------------------------------------------------------------- simulate */

int cmd_simulate(int argc, char **argv)
{
    const char *model = NULL, *plan = NULL, *data = NULL, *id = NULL, *json = NULL, *out = NULL;
    const char *compare = NULL;
    int draws = 200, help = 0;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},   {"plan", 0, OPT_STR, &plan, 0},
        {"data", 'd', OPT_STR, &data, 0},     {"id", 0, OPT_STR, &id, 0},
        {"draws", 0, OPT_INT, &draws, 0},     {"seed", 0, OPT_U64, &seed, 0},
        {"compare", 0, OPT_STR, &compare, 0}, {"json", 0, OPT_STR, &json, 0},
        {"out", 'o', OPT_STR, &out, 0},       {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    int n_pos;
    if (cli_parse("simulate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_synth_help("simulate"), stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("simulate", "missing --model MODEL");
    if (!plan) return cli_usage_error("simulate", "missing --plan FILE");
    if (!data) return cli_usage_error("simulate", "missing --data CUSTOMERS");
    if (draws < 10 || draws > 100000)
        return cli_usage_error("simulate", "--draws must be 10..100000 (got %d)", draws);
    sg_error err;
    sg_error_clear(&err);
    sg_simulator *m = NULL;
    if (sg_simulator_load(&m, model, &err)) return cli_fail(&err);
    int no = sg_simulator_n_outcomes(m), A = sg_simulator_n_arms(m), cmp = no - 1;
    if (compare) {
        cmp = -1;
        for (int j = 0; j < no; j++)
            if (!strcmp(sg_simulator_outcome(m, j), compare)) cmp = j;
        if (cmp < 0) {
            sg_simulator_free(m);
            return cli_usage_error("simulate", "--compare: the model has no outcome '%s'", compare);
        }
    }
    if (!id) id = sg_simulator_id_name(m);
    sg_table *c = NULL, *p = NULL;
    cli_idmap index = {0, NULL, NULL};
    int32_t *arm = NULL;
    int64_t *plan_row = NULL;       /* per customer: the plan row naming her, or -1 */
    double *buf = NULL;
    sg_sim_result res;
    memset(&res, 0, sizeof res);
    int rc;
    cli_data_opts dc = {.id = id};
    if (id) dc.required[0] = id;
    if ((rc = cli_load_table(data, &dc, &c))) goto done;
    cli_data_opts dp = {0};
    dp.required[0] = "action";
    if ((rc = cli_load_table(plan, &dp, &p))) goto done;
    int64_t n = sg_table_n_rows(c), np = sg_table_n_rows(p);
    int cid = id ? sg_table_find(c, id) : -1, pact = sg_table_find(p, "action");
    int pcost = sg_table_find(p, "cost"), peff = sg_table_find(p, "expected_effect");
    if (!id || cid < 0) {
        fprintf(stderr, "stratagem: simulate: the customers need an id column to match the plan "
                "(--id COL)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    /* customers by id text (unique: loaded with the id column); plan rows -> arms */
    arm = sg_calloc((size_t)(n > 0 ? n : 1), sizeof *arm);
    plan_row = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *plan_row);
    char **texts = NULL;
    if (cli_idmap_init(&index, n) || !arm || !plan_row ||
        !(texts = sg_calloc((size_t)(n > 0 ? n : 1), sizeof *texts))) {
        sg_free(texts);
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    char cell[512];
    for (int64_t i = 0; i < n; i++) {
        texts[i] = sg_strdup(sg_table_cell(c, i, cid, cell, sizeof cell));
        if (!texts[i]) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            break;
        }
        cli_idmap_put(&index, texts[i], i);
        plan_row[i] = -1;
    }
    int64_t unknown = 0, bad = 0, treated = 0;
    double cost = 0, uplift = 0;
    for (int64_t r = 0; r < np && rc == EXIT_OK; r++) {
        char act[512];
        sg_table_cell(p, r, 0, cell, sizeof cell);
        sg_table_cell(p, r, pact, act, sizeof act);
        int64_t row;
        if (!cli_idmap_get(&index, cell, &row)) {
            unknown++;
            continue;
        }
        if (plan_row[row] >= 0) {
            fprintf(stderr, "stratagem: %s:%lld: customer '%s' appears twice (first at line "
                    "%lld); a plan gives each customer at most one action\n", plan,
                    (long long)sg_table_row_line(p, r), cell,
                    (long long)sg_table_row_line(p, plan_row[row]));
            rc = EXIT_DATA;
            break;
        }
        plan_row[row] = r;
        int a = sg_simulator_find_arm(m, act);
        if (a < 0) {
            if (bad++ < 10)
                fprintf(stderr, "stratagem: %s:%lld: action '%s' is not one of the simulator's "
                        "actions\n", plan, (long long)sg_table_row_line(p, r), act);
            continue;
        }
        arm[row] = a;
        treated += a != 0;
        if (pcost >= 0 && sg_table_num(p, pcost)) {
            double v = sg_table_num(p, pcost)[r];
            if (isfinite(v)) cost += v;
        }
        if (peff >= 0 && sg_table_num(p, peff)) {
            double v = sg_table_num(p, peff)[r];
            if (isfinite(v)) uplift += v;
        }
    }
    for (int64_t i = 0; i < n; i++) sg_free(texts[i]);
    sg_free(texts);
    if (rc) goto done;
    if (bad) {
        fprintf(stderr, "stratagem: %s: %lld rows with unknown actions (known:", plan,
                (long long)bad);
        for (int a = 0; a < A; a++) fprintf(stderr, " %s", sg_simulator_arm(m, a));
        fprintf(stderr, ")\n");
        rc = EXIT_DATA;
        goto done;
    }
    if (unknown && !cli_quiet)
        fprintf(stderr, "stratagem: warning: %lld plan rows name customers not in %s; ignored\n",
                (long long)unknown, data);
    if (!cli_quiet)
        fprintf(stderr, "stratagem: simulate: %lld customers, %lld treated by the plan, %d draws\n",
                (long long)n, (long long)treated, draws);
    if (sg_simulator_run(m, c, NULL, n, arm, draws, seed, out != NULL, &res, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    /* per outcome: plan, control, incremental */
    buf = sg_malloc_array((size_t)draws, sizeof *buf);
    json_t *root = json_object(), *jo = json_object();
    if (!buf || !root || !jo) {
        json_decref(root);
        json_decref(jo);
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    json_object_set_new(root, "customers", json_integer(n));
    json_object_set_new(root, "treated", json_integer(treated));
    json_object_set_new(root, "draws", json_integer(draws));
    printf("outcome\tworld\tmean\tlo90\thi90\n");
    double inc_mean = 0, inc_lo = 0, inc_hi = 0;
    for (int j = 0; j < no; j++) {
        json_t *e = json_object();
        const char *wn[3] = {"plan", "control", "incremental"};
        for (int w = 0; w < 3; w++) {
            for (int d = 0; d < draws; d++)
                buf[d] = w == 0 ? res.plan[d * no + j] : w == 1 ? res.control[d * no + j]
                       : res.plan[d * no + j] - res.control[d * no + j];
            double mean, lo, hi;
            summarise(buf, draws, &mean, &lo, &hi);
            printf("%s\t%s\t%.6g\t%.6g\t%.6g\n", sg_simulator_outcome(m, j), wn[w], mean, lo, hi);
            json_t *s = json_object();
            json_object_set_new(s, "mean", jnum(mean));
            json_object_set_new(s, "lo", jnum(lo));
            json_object_set_new(s, "hi", jnum(hi));
            json_object_set_new(e, wn[w], s);
            if (w == 2 && j == cmp) {
                inc_mean = mean;
                inc_lo = lo;
                inc_hi = hi;
            }
        }
        json_object_set_new(jo, sg_simulator_outcome(m, j), e);
    }
    json_object_set_new(root, "outcomes", jo);
    if (pcost >= 0) {
        printf("cost\t%.6g\n", cost);
        printf("net\t%s incremental - cost: %.6g [%.6g, %.6g]\n", sg_simulator_outcome(m, cmp),
               inc_mean - cost, inc_lo - cost, inc_hi - cost);
        json_object_set_new(root, "cost", jnum(cost));
        json_t *s = json_object();
        json_object_set_new(s, "mean", jnum(inc_mean - cost));
        json_object_set_new(s, "lo", jnum(inc_lo - cost));
        json_object_set_new(s, "hi", jnum(inc_hi - cost));
        json_object_set_new(root, "net", s);
    }
    if (peff >= 0) {
        int inside = uplift >= inc_lo && uplift <= inc_hi;
        printf("uplift_forecast\t%.6g (sum of expected_effect in %s) against the simulated "
               "incremental %s %.6g [%.6g, %.6g]: %s\n", uplift, plan,
               sg_simulator_outcome(m, cmp), inc_mean, inc_lo, inc_hi,
               inside ? "agree (inside the 90% interval)"
                      : "DISAGREE (outside the simulator's 90% interval)");
        json_t *s = json_object();
        json_object_set_new(s, "outcome", json_string(sg_simulator_outcome(m, cmp)));
        json_object_set_new(s, "uplift_effect", jnum(uplift));
        json_object_set_new(s, "simulated_effect", jnum(inc_mean));
        json_object_set_new(s, "agree", json_boolean(inside));
        json_object_set_new(root, "comparison", s);
    }
    if (json) rc = write_json(root, json);
    json_decref(root);
    if (rc == EXIT_OK && out) {
        cli_out o;
        if (cli_out_open(&o, out)) {
            rc = EXIT_RUNTIME;
            goto done;
        }
        cli_csv_field(o.f, id);
        fputs(",action", o.f);
        for (int j = 0; j < no; j++)
            fprintf(o.f, ",%s_plan,%s_control", sg_simulator_outcome(m, j),
                    sg_simulator_outcome(m, j));
        fputc('\n', o.f);
        for (int64_t i = 0; i < n; i++) {
            cli_csv_field(o.f, sg_table_cell(c, i, cid, cell, sizeof cell));
            fputc(',', o.f);
            cli_csv_field(o.f, sg_simulator_arm(m, arm[i]));
            for (int j = 0; j < no; j++)
                fprintf(o.f, ",%.6g,%.6g", res.row_plan[i * no + j], res.row_control[i * no + j]);
            fputc('\n', o.f);
        }
        rc = cli_out_commit(&o);
    }
done:
    sg_sim_result_deinit(&res);
    sg_free(buf);
    cli_idmap_deinit(&index);
    sg_free(arm);
    sg_free(plan_row);
    sg_table_free(c);
    sg_table_free(p);
    sg_simulator_free(m);
    return rc;
}

/* ---------------------------------------------------------------- help */

static const char HELP_TRAIN_SYNTH[] =
    "Usage: stratagem train synth --data FILE --out MODEL [options]\n"
    "Example: stratagem train synth --data customers.csv --id customer_id --target bought \\\n"
    "           --model gan --out customers-gan.sgm\n"
    "\n"
    "Learns a generator of synthetic customers from a table: a conditional tabular GAN\n"
    "(CTGAN: mode-specific normalisation of numbers, one-hot categories, a conditional vector\n"
    "with training-by-sampling so rare categories are learned, a WGAN-GP critic with packing)\n"
    "or a tabular VAE (TVAE).  Every column but the id and the ignored ones is generated;\n"
    "missing values are generated as missing, in proportion.  The rows are split into\n"
    "training, validation (early stopping on a fidelity score) and hold-out rows; up to\n"
    "20,000 training and 10,000 hold-out rows are kept in the model for the report of\n"
    "'stratagem synth --report', so it needs no data file.\n"
    "\n"
    "Data:\n"
    "  --data, -d FILE        CSV table, one row per customer (required)\n"
    "  --id COL               customer key: not generated (synthetic rows get new ids)\n"
    "  --target COL           column whose prediction the report tests (TSTR/TRTR AUC);\n"
    "                         binarised: a category's rarer label of two (else its most frequent\n"
    "                         label against the rest), a number above its median-like split\n"
    "  --ignore A,B,...       columns left out\n"
    "  --categorical/--numeric A,B,...  type overrides;  --dedup error|first|last\n"
    "  --continuous A,B,...   number columns never treated as discrete\n"
    "  --max-discrete N       integer columns with at most N values are discrete (default 50)\n"
    "  --max-categories N     labels kept per category column; rarer ones become \"other\"\n"
    "                         (default 100)\n"
    "  --max-modes N          mixture modes per continuous column (default 10)\n"
    "Model:\n"
    "  --model gan|tvae       CTGAN (default) or TVAE\n"
    "  --epochs N             at most (default 300); --batch N (default 500)\n"
    "  --embedding N          noise / latent size (default 128)\n"
    "  --hidden N             layer width (default 256 gan, 128 tvae)\n"
    "  --pac N                critic packing (gan, default 10; divides --batch)\n"
    "  --target-share X       gan with a discrete or category --target: share of the\n"
    "                         conditional vectors that name the target, in training and\n"
    "                         generation (default 0.5; the rest pick a column uniformly,\n"
    "                         as CTGAN does); those rows get exactly the conditioned level\n"
    "                         and an auxiliary classifier of the target from the other\n"
    "                         columns adds its loss on them to the generator's; 0 = CTGAN's\n"
    "                         rule alone, no classifier\n"
    "  --lr X                 Adam learning rate (default 2e-4 gan, 1e-3 tvae)\n"
    "  --holdout X            hold-out share (default 0.2); --valid X validation share (0.1)\n"
    "  --eval-every N         epochs between fidelity checks (default: about 30 checks)\n"
    "  --patience N           checks without improvement before stopping (default 10; 0 = off)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --out, -o MODEL        model file to write (required)\n";

static const char HELP_SYNTH[] =
    "Usage: stratagem synth --model MODEL --rows N --out FILE [--report FILE.json] [options]\n"
    "       stratagem synth --model MODEL --check TABLE.csv [--report FILE.json]\n"
    "Example: stratagem synth --model customers-gan.sgm --rows 10000 --out synthetic.csv \\\n"
    "           --report synthetic.json\n"
    "\n"
    "Generates synthetic customers (a CSV with the model's columns, ids syn1, syn2, ...) and,\n"
    "with --report, a fidelity and privacy report against the real rows kept in the model:\n"
    "  ks_complement, tv_complement   per-column shape (1 = identical), averaged\n"
    "  correlation_similarity         pairwise Pearson correlations of number columns\n"
    "  contingency_similarity         pairwise joint tables of discrete/category columns\n"
    "  tstr_auc, trtr_auc             a GBDT predicting the target, trained on synthetic\n"
    "                                 (TSTR) or real training rows (TRTR), tested on real\n"
    "                                 hold-out rows\n"
    "  dcr_synthetic_median           distance (Gower) from synthetic rows to the closest real\n"
    "  dcr_holdout_median             training row, and the same for real hold-out rows;\n"
    "                                 too_close is true when synthetic rows are closer than\n"
    "                                 hold-out rows are (copies of real customers)\n"
    "The summary goes to stderr, the JSON to FILE (\"-\" = stdout).\n"
    "\n"
    "Options:\n"
    "  --model, -m MODEL      a model from 'stratagem train synth' (required)\n"
    "  --rows, -n N           rows to generate (required unless --check)\n"
    "  --out, -o FILE         CSV to write (\"-\" = stdout)\n"
    "  --report FILE          the report as JSON\n"
    "  --condition COL=VALUE  only rows with this value of a discrete or category column (the\n"
    "                         GAN is conditioned on it; rows that miss it are rejected)\n"
    "  --check TABLE          report on an existing table (e.g. synthetic rows made elsewhere)\n"
    "                         instead of generating (JSON to stdout unless --report)\n"
    "  --seed N               random seed (default 20000)\n";

static const char HELP_TRAIN_SIMULATE[] =
    "Usage: stratagem train simulate --data LOG --treatment COL --control LABEL\n"
    "                                --outcome COL[,COL...] --out MODEL [options]\n"
    "Example: stratagem train simulate --data log.csv --treatment treatment --control control \\\n"
    "           --outcome converted,margin --id customer_id --propensity propensity \\\n"
    "           --out simulator.sgm\n"
    "\n"
    "Learns a customer simulator from a campaign log: a conditional generator of the outcomes\n"
    "given the customer's features and the action.  Outcomes are generated in the order\n"
    "given, each conditioned on the earlier ones (list 'converted' before 'margin').  Each\n"
    "outcome has an ensemble of networks trained on bootstrap resamples, so the simulated\n"
    "distribution carries the uncertainty of the fit.  Each network trains a fixed number\n"
    "of epochs and keeps its last weights: early stopping (--patience N) shrinks the\n"
    "differences between customers, so targeted plans are under-forecast.  Prints\n"
    "observed against simulated mean outcomes per action on validation rows.\n"
    "\n"
    "  --data, -d FILE        CSV campaign log (required)\n"
    "  --treatment COL        the action taken per row (required)\n"
    "  --control LABEL        the label of the no-action arm (required)\n"
    "  --outcome A,B,...      outcome columns, up to 8 (required)\n"
    "  --id COL, --propensity COL, --ignore A,B,...   columns that are not features\n"
    "  --categorical/--numeric A,B,...  type overrides;  --dedup error|first|last\n"
    "  --models K             networks per outcome (default 10)\n"
    "  --hidden N             layer width (default 16)\n"
    "  --epochs N             epochs per network (default 25)\n"
    "  --patience N           stop after N epochs without a better validation loss and keep\n"
    "                         the best (default 0: no early stopping, the last is kept)\n"
    "  --batch N (256)  --lr X (1e-3)  --valid X (validation share, 0.2)  --seed N (20000)\n"
    "  --out, -o MODEL        model file to write (required)\n";

static const char HELP_SIMULATE[] =
    "Usage: stratagem simulate --model MODEL --plan plan.csv --data CUSTOMERS [options]\n"
    "Example: stratagem simulate --model simulator.sgm --plan plan.csv --data customers.csv\n"
    "\n"
    "Tries a plan on the simulator: draws every customer's outcomes under the plan's action\n"
    "(customers not in the plan get the control action) and with no action at all, with\n"
    "common random numbers, and prints per outcome the mean and 90% interval of the plan's\n"
    "total, of the all-control total and of their difference (the plan's incremental effect).\n"
    "A plan is a CSV with the customer id first and an 'action' column ('stratagem plan'\n"
    "writes one); when it has 'cost' the net effect is printed, and when it has\n"
    "'expected_effect' (the uplift model's forecast) the two forecasts are compared: they\n"
    "disagree when the uplift forecast is outside the simulator's 90% interval.\n"
    "\n"
    "  --model, -m MODEL      a model from 'stratagem train simulate' (required)\n"
    "  --plan FILE            the plan (required)\n"
    "  --data, -d FILE        the customers, with the features of the log (required)\n"
    "  --id COL               their id column (default: the model's --id)\n"
    "  --draws N              simulated campaigns (default 200)\n"
    "  --compare COL          outcome compared with expected_effect (default: the last one)\n"
    "  --json FILE            the summary as JSON\n"
    "  --out, -o FILE         per customer: action and mean outcome under the plan and control\n"
    "  --seed N               random seed (default 20000)\n";

const char *cli_synth_help(const char *cmd)
{
    if (!cmd) return NULL;
    if (!strcmp(cmd, "synth")) return HELP_SYNTH;
    if (!strcmp(cmd, "simulate")) return HELP_SIMULATE;
    if (!strcmp(cmd, "train synth")) return HELP_TRAIN_SYNTH;
    if (!strcmp(cmd, "train simulate")) return HELP_TRAIN_SIMULATE;
    return NULL;
}
