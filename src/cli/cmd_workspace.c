/* cmd_workspace.c -- init, import, status, plans, feedback; WS:TABLE as --data; plan ledger.
 *
 * Thin wrappers around the workspace API (stratagem/store.h): parse options,
 * print what happened in a stable format on stdout, errors on stderr with the
 * file and line, and map codes to exit codes (0 ok, 1 runtime, 2 usage, 3 bad
 * data).  Nothing here writes to the workspace except through the library, so
 * every change is one transaction there. */
#include "cli_workspace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stratagem/mem.h"
#include "stratagem/store.h"
#include "stratagem/uplift.h"

/* ---------------------------------------------------------------- helpers */

static int n_printed;

static void print_error(void *ud, const char *msg)
{
    (void)ud;
    cli_progress_end();
    fprintf(stderr, "stratagem: %s\n", msg);
    n_printed++;
}

static int parse_dedup(const char *cmd, const char *s, int *out)
{
    if (!s || !strcmp(s, "error")) *out = SG_DEDUP_ERROR;
    else if (!strcmp(s, "first")) *out = SG_DEDUP_FIRST;
    else if (!strcmp(s, "last")) *out = SG_DEDUP_LAST;
    else return cli_usage_error(cmd, "--dedup must be first, last or error (got '%s')", s);
    return EXIT_OK;
}

static int open_ws(const char *ws, int mode, sg_store **s)
{
    sg_error err;
    sg_error_clear(&err);
    if (sg_store_open(s, ws, mode, &err) != SG_OK) {
        cli_fail(&err);
        /* a missing workspace or plan is a runtime failure here, not bad data */
        return err.code == SG_EINVAL || err.code == SG_EPARSE ? EXIT_DATA : EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* After a load with per-row messages: the summary line, and the exit code. */
static int load_failed(const char *name, const sg_error *err)
{
    cli_progress_end();
    if (n_printed == 0 || err->code != SG_EPARSE) return cli_fail(err);
    if (n_printed > 1) fprintf(stderr, "stratagem: %s: %s\n", name, err->msg);
    return EXIT_DATA;
}

static double num_of(const json_t *o, const char *key)
{
    const json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : (double)NAN;
}

static const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* %g for a number, "-" for NaN. */
static const char *g(char *buf, size_t cap, double v)
{
    if (isnan(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%.6g", v);
    return buf;
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* ---------------------------------------------------------------- init */

int cmd_init(int argc, char **argv)
{
    int help = 0, n_pos;
    cli_opt opts[] = {{NULL, 0, 0, NULL, 0}};
    char *pos[2];
    if (cli_parse("init", argc, argv, opts, pos, 2, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_workspace_help("init"), stdout);
        return EXIT_OK;
    }
    if (n_pos != 1) return cli_usage_error("init", "expected one workspace: init WS");
    sg_store *s = NULL;
    int rc = open_ws(pos[0], SG_STORE_CREATE, &s);
    if (rc) return rc;
    if (sg_store_created(s))
        printf("created workspace %s (%s, schema version %d)\n", sg_store_path(s),
               sg_store_backend(s), SG_STORE_SCHEMA_VERSION);
    else if (sg_store_found_version(s) < SG_STORE_SCHEMA_VERSION)
        printf("workspace %s exists; migrated it from schema version %d to %d\n", sg_store_path(s),
               sg_store_found_version(s), SG_STORE_SCHEMA_VERSION);
    else
        printf("workspace %s exists (%s, schema version %d); nothing to do\n", sg_store_path(s),
               sg_store_backend(s), SG_STORE_SCHEMA_VERSION);
    sg_store_close(s);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- import */

int cmd_import(int argc, char **argv)
{
    const char *as = NULL, *id = NULL, *dedup = NULL, *cat = NULL, *num = NULL;
    const char *treat = NULL, *control = NULL, *outcome = NULL, *prop = NULL, *value = NULL;
    int help = 0, n_pos;
    cli_opt opts[] = {
        {"as", 0, OPT_STR, &as, 0},           {"id", 0, OPT_STR, &id, 0},
        {"dedup", 0, OPT_STR, &dedup, 0},     {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},     {"treatment", 0, OPT_STR, &treat, 0},
        {"control", 0, OPT_STR, &control, 0}, {"outcome", 0, OPT_STR, &outcome, 0},
        {"propensity", 0, OPT_STR, &prop, 0}, {"value", 0, OPT_STR, &value, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[3];
    if (cli_parse("import", argc, argv, opts, pos, 3, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_workspace_help("import"), stdout);
        return EXIT_OK;
    }
    if (n_pos != 2)
        return cli_usage_error("import", "expected a workspace and a file: "
                               "import WS FILE --as KIND");
    if (!as)
        return cli_usage_error("import", "missing --as customers|products|events|campaigns|spend");
    int kind = sg_store_kind_parse(as);
    if (kind < 0)
        return cli_usage_error("import", "--as must be customers, products, events, campaigns or "
                               "spend (got '%s')", as);
    const char *roles[5] = {treat, control, outcome, prop, value};
    static const char *const ROLE[5] = {"treatment", "control", "outcome", "propensity", "value"};
    for (int r = 0; r < 5; r++)
        if (roles[r] && kind != SG_STORE_CAMPAIGNS)
            return cli_usage_error("import", "--%s is a role of the campaign log (--as campaigns)",
                                   ROLE[r]);
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = kind;
    int rc = parse_dedup("import", dedup, &o.load.dedup);
    if (rc) return rc;
    char **catl = cli_split_list(cat), **numl = cli_split_list(num);
    o.load.id_col = id;
    o.load.categorical = (const char *const *)catl;
    o.load.numeric = (const char *const *)numl;
    o.load.on_error = print_error;
    o.load.on_progress = cli_quiet ? NULL : cli_progress_bytes;
    o.treatment = treat;
    o.control = control;
    o.outcome = outcome;
    o.propensity = prop;
    o.value = value;
    sg_store *s = NULL;
    if ((rc = open_ws(pos[0], SG_STORE_OPEN, &s))) goto done;
    sg_import_result res;
    sg_error err;
    sg_error_clear(&err);
    n_printed = 0;
    int code = sg_store_import_csv(s, pos[1], &o, &res, &err);
    cli_progress_end();
    if (code == SG_EINVAL) {
        fprintf(stderr, "stratagem: %s\n", err.msg);
        rc = EXIT_USAGE;
    } else if (code != SG_OK) {
        rc = load_failed(pos[1], &err);
        fprintf(stderr, "stratagem: nothing was imported; %s is unchanged\n", sg_store_path(s));
    } else if (res.skipped) {
        printf("%s: already imported as %s (import #%lld on %s, sha256 %.12s): nothing to do\n",
               pos[1], as, (long long)res.import_id, res.time, res.sha256);
    } else {
        printf("imported %s as %s: %lld rows (%lld new, %lld merged), %d new columns; import "
               "#%lld, sha256 %.12s\n", pos[1], as, (long long)res.rows, (long long)res.inserted,
               (long long)res.updated, res.n_new_cols, (long long)res.import_id, res.sha256);
    }
done:
    sg_store_close(s);
    cli_list_free(catl);
    cli_list_free(numl);
    return rc;
}

/* ---------------------------------------------------------------- status */

static int print_import(void *ud, const sg_import_record *r)
{
    (void)ud;
    char what[48];
    if (r->plan_id) snprintf(what, sizeof what, "feedback plan %lld", (long long)r->plan_id);
    else snprintf(what, sizeof what, "%s", r->kind);
    printf("  #%-4lld %s  %-18s %9lld rows %9lld new %9lld merged  sha256 %.12s  %s\n",
           (long long)r->id, r->time, what, (long long)r->rows, (long long)r->inserted,
           (long long)r->updated, r->sha256, r->source);
    return 0;
}

int cmd_status(int argc, char **argv)
{
    int help = 0, n_pos;
    cli_opt opts[] = {{NULL, 0, 0, NULL, 0}};
    char *pos[2];
    if (cli_parse("status", argc, argv, opts, pos, 2, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_workspace_help("status"), stdout);
        return EXIT_OK;
    }
    if (n_pos != 1) return cli_usage_error("status", "expected one workspace: status WS");
    sg_store *s = NULL;
    int rc = open_ws(pos[0], SG_STORE_OPEN, &s);
    if (rc) return rc;
    sg_store_info info;
    sg_error err;
    sg_error_clear(&err);
    if (sg_store_info_get(s, &info, &err) != SG_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("workspace  %s\nbackend    %s\nschema     %d\n", sg_store_path(s), sg_store_backend(s),
           info.schema_version);
    printf("%-10s %10s %8s  %s\n", "table", "rows", "columns", "id");
    for (int k = 0; k < SG_STORE_N_KINDS; k++)
        printf("%-10s %10lld %8d  %s\n", sg_store_kind_name(k), (long long)info.rows[k],
               info.n_cols[k], info.id_col[k][0] ? info.id_col[k] : "-");
    printf("%-10s %10lld\n%-10s %10lld\n%-10s %10lld\n%-10s %10lld\n%-10s %10lld\n", "imports",
           (long long)info.n_imports, "models", (long long)info.n_models, "plans",
           (long long)info.n_plans, "plan_rows", (long long)info.n_plan_rows, "outcomes",
           (long long)info.n_outcomes);
    if (info.n_imports) {
        printf("imports:\n");
        if (sg_store_imports(s, print_import, NULL, &err) != SG_OK) rc = cli_fail(&err);
    }
done:
    sg_store_close(s);
    return rc;
}

/* ---------------------------------------------------------------- plans */

typedef struct plans_out {
    int json;
    json_t *list;
    int n;
} plans_out;

static int print_plan(void *ud, const sg_plan_record *r)
{
    plans_out *po = ud;
    const sg_forecast_in *f = &r->forecast;
    if (po->json) {
        json_t *o = json_object();
        json_object_set_new(o, "plan_id", json_integer(r->id));
        json_object_set_new(o, "created", json_string(r->time ? r->time : ""));
        json_object_set_new(o, "model", r->model ? json_string(r->model) : json_null());
        json_object_set_new(o, "model_sha256", r->model_sha256 ? json_string(r->model_sha256)
                                                               : json_null());
        json_object_set_new(o, "data", r->data ? json_string(r->data) : json_null());
        json_object_set_new(o, "data_sha256", r->data_sha256 ? json_string(r->data_sha256)
                                                             : json_null());
        json_object_set_new(o, "plan", json_string(r->plan_path ? r->plan_path : ""));
        json_object_set_new(o, "objective", json_string(r->objective ? r->objective : ""));
        json_object_set_new(o, "units", r->units ? json_string(r->units) : json_null());
        json_object_set_new(o, "control", json_string(r->control ? r->control : ""));
        json_object_set_new(o, "customers", json_integer(r->customers));
        json_object_set_new(o, "targeted", json_integer(r->treated));
        json_t *fc = json_object();
        json_object_set_new(fc, "effect", jnum(f->effect));
        json_object_set_new(fc, "effect_lo", jnum(f->effect_lo));
        json_object_set_new(fc, "effect_hi", jnum(f->effect_hi));
        json_object_set_new(fc, "cost", jnum(f->cost));
        json_object_set_new(fc, "net", jnum(f->net));
        json_object_set_new(fc, "net_lo", jnum(f->net_lo));
        json_object_set_new(fc, "net_hi", jnum(f->net_hi));
        json_object_set_new(fc, "level", jnum(f->level));
        json_object_set_new(o, "forecast", fc);
        json_object_set_new(o, "outcomes", json_integer(r->n_outcomes));
        json_object_set_new(o, "realised", jnum(r->realised));
        json_object_set_new(o, "realised_lo", jnum(r->realised_lo));
        json_object_set_new(o, "realised_hi", jnum(r->realised_hi));
        json_object_set_new(o, "covered", r->has_realised ? json_boolean(r->realised >= f->effect_lo
                                          && r->realised <= f->effect_hi) : json_null());
        json_array_append_new(po->list, o);
        return 0;
    }
    if (po->n++ == 0)
        printf("%5s  %-20s  %9s  %9s  %-34s  %8s  %-34s  %s\n", "plan", "created", "customers",
               "targeted", "forecast effect [interval]", "outcomes", "realised effect [interval]",
               "covered");
    char a[32], b[32], c[32], fc[128], re[128];
    snprintf(fc, sizeof fc, "%s [%s, %s]", g(a, sizeof a, f->effect), g(b, sizeof b, f->effect_lo),
             g(c, sizeof c, f->effect_hi));
    if (r->has_realised)
        snprintf(re, sizeof re, "%s [%s, %s]", g(a, sizeof a, r->realised),
                 g(b, sizeof b, r->realised_lo), g(c, sizeof c, r->realised_hi));
    else
        snprintf(re, sizeof re, "-");
    printf("%5lld  %-20s  %9lld  %9lld  %-34s  %8lld  %-34s  %s\n", (long long)r->id,
           r->time ? r->time : "", (long long)r->customers, (long long)r->treated, fc,
           (long long)r->n_outcomes, re,
           !r->has_realised ? "-"
           : r->realised >= f->effect_lo && r->realised <= f->effect_hi ? "yes" : "no");
    return 0;
}

int cmd_plans(int argc, char **argv)
{
    int help = 0, n_pos, json = 0;
    uint64_t plan = 0;
    cli_opt opts[] = {{"json", 0, OPT_FLAG, &json, 0}, {"plan", 0, OPT_U64, &plan, 0},
                      {NULL, 0, 0, NULL, 0}};
    char *pos[2];
    if (cli_parse("plans", argc, argv, opts, pos, 2, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_workspace_help("plans"), stdout);
        return EXIT_OK;
    }
    if (n_pos != 1) return cli_usage_error("plans", "expected one workspace: plans WS");
    sg_store *s = NULL;
    int rc = open_ws(pos[0], SG_STORE_OPEN, &s);
    if (rc) return rc;
    plans_out po = {json, json ? json_array() : NULL, 0};
    sg_error err;
    sg_error_clear(&err);
    int code = sg_store_plans(s, (int64_t)plan, print_plan, &po, &err);
    if (code != SG_OK) {
        rc = cli_fail(&err);
    } else if (json) {
        char *text = json_dumps(po.list, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        if (text) printf("%s\n", text);
        free(text);
    } else if (po.n == 0) {
        printf("no plans in %s (store one with 'stratagem plan ... --workspace WS')\n",
               sg_store_path(s));
    }
    json_decref(po.list);
    sg_store_close(s);
    return rc;
}

/* ---------------------------------------------------------------- feedback */

static void print_problem(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "stratagem: %s\n", msg);
}

static json_t *report_json(const sg_feedback_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "plan_id", json_integer(r->plan_id));
    json_object_set_new(o, "skipped", json_boolean(r->skipped));
    json_t *res = json_object();
    json_object_set_new(res, "rows", json_integer(r->n_results));
    json_object_set_new(res, "ok", json_integer(r->n_ok));
    json_object_set_new(res, "duplicate", json_integer(r->n_duplicate));
    json_object_set_new(res, "outside", json_integer(r->n_outside));
    json_object_set_new(res, "unknown", json_integer(r->n_unknown));
    json_object_set_new(res, "no_outcome", json_integer(r->n_no_outcome));
    json_object_set_new(res, "campaign_rows", json_integer(r->n_campaign_rows));
    json_object_set_new(res, "not_logged", json_integer(r->n_not_logged));
    json_object_set_new(res, "no_campaign_log", json_boolean(r->no_log));
    json_object_set_new(o, "results", res);
    json_object_set_new(o, "outcome", json_string(r->outcome));
    json_object_set_new(o, "conversions", json_boolean(r->conversions));
    json_object_set_new(o, "customers", json_integer(r->n_customers));
    json_object_set_new(o, "targeted", json_integer(r->n_targeted));
    json_object_set_new(o, "with_outcome", json_integer(r->n_with_outcome));
    json_object_set_new(o, "targeted_with_outcome", json_integer(r->n_targeted_obs));
    json_object_set_new(o, "followed", json_integer(r->n_followed));
    json_object_set_new(o, "held_out", json_integer(r->n_held_out));
    json_t *fc = json_object();
    json_object_set_new(fc, "effect", jnum(r->forecast.effect));
    json_object_set_new(fc, "effect_lo", jnum(r->forecast.effect_lo));
    json_object_set_new(fc, "effect_hi", jnum(r->forecast.effect_hi));
    json_object_set_new(fc, "net", jnum(r->forecast.net));
    json_object_set_new(fc, "net_lo", jnum(r->forecast.net_lo));
    json_object_set_new(fc, "net_hi", jnum(r->forecast.net_hi));
    json_object_set_new(fc, "level", jnum(r->forecast.level));
    json_object_set_new(o, "forecast", fc);
    json_object_set_new(o, "predicted", jnum(r->predicted));
    json_object_set_new(o, "identifiable", json_boolean(r->identifiable));
    json_object_set_new(o, "executed", json_boolean(r->executed));
    json_t *re = json_object();
    json_object_set_new(re, "effect", jnum(r->realised));
    json_object_set_new(re, "se", jnum(r->realised_se));
    json_object_set_new(re, "effect_lo", jnum(r->realised_lo));
    json_object_set_new(re, "effect_hi", jnum(r->realised_hi));
    json_object_set_new(re, "net", jnum(r->realised_net));
    json_object_set_new(o, "realised", re);
    json_object_set_new(o, "covered", r->identifiable ? json_boolean(r->covered) : json_null());
    json_object_set_new(o, "net_covered",
                        r->identifiable ? json_boolean(r->net_covered) : json_null());
    json_object_set_new(o, "ratio", jnum(r->ratio));
    json_object_set_new(o, "calibration_slope", jnum(r->calib_slope));
    json_object_set_new(o, "calibration_intercept", jnum(r->calib_intercept));
    json_object_set_new(o, "observed_followed", jnum(r->observed_followed));
    json_object_set_new(o, "observed_untargeted", jnum(r->observed_untargeted));
    json_t *gs = json_array();
    for (int k = 0; k < r->n_groups; k++) {
        const sg_feedback_group *gr = &r->group[k];
        json_t *x = json_object();
        json_object_set_new(x, "group", json_integer(k + 1));
        json_object_set_new(x, "customers", json_integer(gr->n));
        json_object_set_new(x, "with_outcome", json_integer(gr->n_obs));
        json_object_set_new(x, "followed", json_integer(gr->n_followed));
        json_object_set_new(x, "held_out", json_integer(gr->n_held_out));
        json_object_set_new(x, "predicted_lo", jnum(gr->pred_lo));
        json_object_set_new(x, "predicted_hi", jnum(gr->pred_hi));
        json_object_set_new(x, "predicted", jnum(gr->predicted));
        json_object_set_new(x, "realised", jnum(gr->actual));
        json_object_set_new(x, "realised_se", jnum(gr->actual_se));
        json_object_set_new(x, "observed", jnum(gr->observed));
        json_array_append_new(gs, x);
    }
    json_object_set_new(o, "groups", gs);
    return o;
}

static void print_report(const sg_feedback_report *r, const char *results)
{
    char a[32], b[32], c[32];
    if (results && r->skipped) {
        printf("results %s for plan %lld: recorded before (same sha256): nothing changed\n",
               results, (long long)r->plan_id);
    } else if (results) {
        printf("results %s for plan %lld: %lld rows: %lld recorded, %lld duplicate, %lld outside "
               "the plan, %lld unknown, %lld without an outcome\n", results,
               (long long)r->plan_id, (long long)r->n_results, (long long)r->n_ok,
               (long long)r->n_duplicate, (long long)r->n_outside, (long long)r->n_unknown,
               (long long)r->n_no_outcome);
        if (r->no_log)
            printf("campaign log: none with a treatment role in this workspace (import one with "
                   "--as campaigns --treatment COL); the outcomes are recorded but not added\n");
        else
            printf("campaign log: %lld rows added (keys ID@plan%lld); %lld recorded rows not "
                   "added (no feature snapshot, or an action off the plan without a "
                   "propensity)\n", (long long)r->n_campaign_rows, (long long)r->plan_id,
                   (long long)r->n_not_logged);
    }
    printf("plan %lld: %lld customers, %lld targeted; outcome '%s'%s; %lld with an outcome, of "
           "which %lld targeted (%lld followed the plan, %lld held out)\n", (long long)r->plan_id,
           (long long)r->n_customers, (long long)r->n_targeted, r->outcome,
           r->conversions ? " as conversions" : "", (long long)r->n_with_outcome,
           (long long)r->n_targeted_obs, (long long)r->n_followed, (long long)r->n_held_out);
    int pct = (int)lround(100 * (isnan(r->forecast.level) ? 0.9 : r->forecast.level));
    printf("%-10s %14s  %-30s  %14s  %-30s\n", "", "effect", "interval", "net", "interval");
    char i1[80], i2[80];
    snprintf(i1, sizeof i1, "[%s, %s]", g(a, sizeof a, r->forecast.effect_lo),
             g(b, sizeof b, r->forecast.effect_hi));
    snprintf(i2, sizeof i2, "[%s, %s]", g(a, sizeof a, r->forecast.net_lo),
             g(b, sizeof b, r->forecast.net_hi));
    printf("%-10s %14s  %-30s  ", "forecast", g(c, sizeof c, r->forecast.effect), i1);
    printf("%14s  %-30s\n", g(c, sizeof c, r->forecast.net), i2);
    if (!r->identifiable) {
        printf("realised   not identifiable: no targeted customer with an outcome was held out at "
               "random (plan with exploration, or give the executed action and its propensity in "
               "the results)\n");
        printf("observed   mean outcome %s of customers that followed the plan, %s of untargeted "
               "customers (not comparable: the plan chose who was targeted)\n",
               g(a, sizeof a, r->observed_followed), g(b, sizeof b, r->observed_untargeted));
    } else {
        snprintf(i1, sizeof i1, "[%s, %s]", g(a, sizeof a, r->realised_lo),
                 g(b, sizeof b, r->realised_hi));
        printf("%-10s %14s  %-30s  %14s\n", "realised", g(c, sizeof c, r->realised), i1,
               g(a, sizeof a, r->realised_net));
        if (r->executed)
            printf("           (the plan as executed, exploration included, over all %lld "
                   "customers: their mean outcome against the inverse-propensity weighted mean "
                   "of those executed as control; predicted %s)\n", (long long)r->n_customers,
                   g(a, sizeof a, r->predicted));
        printf("coverage   the forecast's %d%% interval %s the realised effect (realised / "
               "forecast "
               "%s)", pct, r->covered ? "covers" : "misses", g(a, sizeof a, r->ratio));
        if (!r->conversions)
            printf("; its net interval %s the realised net", r->net_covered ? "covers" : "misses");
        printf("\n");
        printf("calibration slope %s, intercept %s (realised on predicted effect per customer "
               "over the groups; 1 and 0 when calibrated)\n", g(a, sizeof a, r->calib_slope),
               g(b, sizeof b, r->calib_intercept));
    }
    if (r->n_groups == 0) return;
    printf("by group of predicted effect per customer (1 = highest):\n");
    printf("%5s %9s %9s %9s %9s  %-23s %11s  %-28s %10s\n", "group", "customers", "outcomes",
           "followed", "held_out", "predicted range", "predicted", "realised [interval]",
           "observed");
    double z = 1.6448536269514722;
    if (!isnan(r->realised_se) && r->realised_se > 0)
        z = (r->realised_hi - r->realised) / r->realised_se;
    for (int k = 0; k < r->n_groups; k++) {
        const sg_feedback_group *gr = &r->group[k];
        char rng[96], re[128], d[32], e2[32];
        snprintf(rng, sizeof rng, "[%s, %s]", g(a, sizeof a, gr->pred_lo),
                 g(b, sizeof b, gr->pred_hi));
        if (gr->has_actual)
            snprintf(re, sizeof re, "%s [%s, %s]", g(a, sizeof a, gr->actual),
                     g(b, sizeof b, gr->actual - z * gr->actual_se),
                     g(c, sizeof c, gr->actual + z * gr->actual_se));
        else
            snprintf(re, sizeof re, "-");
        printf("%5d %9lld %9lld %9lld %9lld  %-23s %11s  %-28s %10s\n", k + 1, (long long)gr->n,
               (long long)gr->n_obs, (long long)gr->n_followed, (long long)gr->n_held_out, rng,
               g(d, sizeof d, gr->predicted), re, g(e2, sizeof e2, gr->observed));
    }
}

int cmd_feedback(int argc, char **argv)
{
    const char *results = NULL, *outcome = NULL, *summary = NULL;
    uint64_t plan = 0;
    int help = 0, n_pos, groups = 10;
    cli_opt opts[] = {
        {"plan", 0, OPT_U64, &plan, 0},       {"results", 0, OPT_STR, &results, 0},
        {"outcome", 0, OPT_STR, &outcome, 0}, {"groups", 0, OPT_INT, &groups, 0},
        {"summary", 0, OPT_STR, &summary, 0}, {NULL, 0, 0, NULL, 0},
    };
    char *pos[2];
    if (cli_parse("feedback", argc, argv, opts, pos, 2, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_workspace_help("feedback"), stdout);
        return EXIT_OK;
    }
    if (n_pos != 1)
        return cli_usage_error("feedback", "expected one workspace: feedback WS --plan ID "
                               "--results FILE");
    if (!opts[0].seen || plan == 0)
        return cli_usage_error("feedback", "missing --plan ID (see 'stratagem plans WS')");
    if (groups < 1 || groups > SG_FEEDBACK_MAX_GROUPS)
        return cli_usage_error("feedback", "--groups must be 1..%d", SG_FEEDBACK_MAX_GROUPS);
    sg_store *s = NULL;
    int rc = open_ws(pos[0], SG_STORE_OPEN, &s);
    if (rc) return rc;
    sg_feedback_opts fo;
    sg_feedback_opts_default(&fo);
    fo.outcome = outcome;
    fo.n_groups = groups;
    fo.on_problem = print_problem;
    sg_feedback_report rep;
    sg_error err;
    sg_error_clear(&err);
    int code = results ? sg_store_feedback(s, (int64_t)plan, results, &fo, &rep, &err)
                       : sg_store_feedback_report(s, (int64_t)plan, &fo, &rep, &err);
    if (code != SG_OK) {
        rc = cli_fail(&err);
        if (code == SG_ENOTFOUND) rc = EXIT_USAGE;
        if (results && code != SG_ENOTFOUND)
            fprintf(stderr, "stratagem: nothing was recorded; %s is unchanged\n", sg_store_path(s));
        goto done;
    }
    print_report(&rep, results);
    if (summary) {
        json_t *root = report_json(&rep);
        cli_out o;
        if ((rc = cli_out_open(&o, summary)) == EXIT_OK) {
            if (json_dumpf(root, o.f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
                cli_out_abort(&o);
                fprintf(stderr, "stratagem: %s: cannot write the summary\n", summary);
                rc = EXIT_RUNTIME;
            } else {
                fputc('\n', o.f);
                rc = cli_out_commit(&o);
            }
        }
        json_decref(root);
    }
done:
    sg_store_close(s);
    return rc;
}

/* ---------------------------------------------------------------- --data WS:TABLE */

/* Split "WS:TABLE"; 1 if it names a workspace table. */
static int split_spec(const char *spec, char *ws, size_t cap, int *kind)
{
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    if (!colon || colon == spec) return 0;
    int k = sg_store_kind_parse(colon + 1);
    size_t n = (size_t)(colon - spec);
    if (k < 0 || n >= cap) return 0;
    struct stat sb;
    if (stat(spec, &sb) == 0) return 0;   /* a file by that very name is a CSV */
    memcpy(ws, spec, n);
    ws[n] = '\0';
    if (!sg_store_is_pg(ws) && (stat(ws, &sb) != 0 || !S_ISREG(sb.st_mode))) return 0;
    *kind = k;
    return 1;
}

int cli_is_ws_table(const char *spec)
{
    char ws[4096];
    int kind;
    return split_spec(spec, ws, sizeof ws, &kind);
}

int cli_load_ws_table(const char *spec, const cli_data_opts *o, sg_table **out)
{
    char ws[4096];
    int kind;
    if (!split_spec(spec, ws, sizeof ws, &kind))
        return cli_usage_error(NULL, "'%s' is not a workspace table (WS:TABLE)", spec);
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    if (o && o->dedup) {
        int rc = parse_dedup(NULL, o->dedup, &lo.dedup);
        if (rc) return rc;
    }
    char **cat = cli_split_list(o ? o->categorical : NULL);
    char **num = cli_split_list(o ? o->numeric : NULL);
    lo.id_col = o ? o->id : NULL;
    lo.categorical = (const char *const *)cat;
    lo.numeric = (const char *const *)num;
    lo.required = o ? o->required : NULL;
    lo.on_error = print_error;
    sg_store *s = NULL;
    int rc = open_ws(ws, SG_STORE_OPEN, &s);
    if (rc == EXIT_OK) {
        sg_error err;
        sg_error_clear(&err);
        n_printed = 0;
        if (sg_store_load_table(s, kind, &lo, out, &err) != SG_OK) rc = load_failed(spec, &err);
    }
    if (rc == EXIT_OK && !cli_quiet) {
        fprintf(stderr, "stratagem: %s: %lld rows, %d columns", spec,
                (long long)sg_table_n_rows(*out), sg_table_n_cols(*out));
        if (sg_table_n_duplicates(*out))
            fprintf(stderr, ", %lld duplicate ids dropped (--dedup %s)",
                    (long long)sg_table_n_duplicates(*out), o->dedup);
        fprintf(stderr, "\n");
    }
    sg_store_close(s);
    cli_list_free(cat);
    cli_list_free(num);
    return rc;
}

/* ---------------------------------------------------------------- plan ledger */

typedef struct last_import {
    const char *kind;
    int64_t id;
} last_import;

static int find_last(void *ud, const sg_import_record *r)
{
    last_import *l = ud;
    if (!strcmp(r->kind, l->kind) || (r->plan_id && !strcmp(l->kind, "campaigns"))) l->id = r->id;
    return 0;
}

int cli_ledger_store_plan(const char *ws, const char *plan_csv, json_t *summary,
                          const char *model_path, const char *data, int64_t *plan_id)
{
    sg_store *s = NULL;
    sg_table *feat = NULL;
    sg_uplift *m = NULL;
    char *text = NULL, data_desc[4200], sha[65], first[512] = "", wsname[4096];
    int rc = EXIT_OK, kind;
    sg_error err;
    sg_error_clear(&err);
    const json_t *fc = summary ? json_object_get(summary, "forecast") : NULL;
    if (!json_is_object(fc)) {
        fprintf(stderr, "stratagem: the plan summary has no forecast; only uplift plans can be "
                "stored in a workspace\n");
        return EXIT_USAGE;
    }
    sg_plan_input p;
    memset(&p, 0, sizeof p);
    p.plan_path = plan_csv;
    p.model_path = model_path;
    p.objective = str_of(summary, "objective");
    p.units = str_of(summary, "units");
    p.control = str_of(summary, "control");
    p.forecast.effect = num_of(fc, "effect");
    p.forecast.effect_lo = num_of(fc, "effect_lo");
    p.forecast.effect_hi = num_of(fc, "effect_hi");
    p.forecast.cost = num_of(fc, "cost");
    p.forecast.net = num_of(fc, "net");
    p.forecast.net_lo = num_of(fc, "net_lo");
    p.forecast.net_hi = num_of(fc, "net_hi");
    p.forecast.level = num_of(fc, "level");
    if (!p.control && model_path) {
        if (sg_uplift_load(&m, model_path, &err) != SG_OK) {
            rc = cli_fail(&err);
            goto done;
        }
        p.control = sg_uplift_arm_label(m, 0);
    }
    if ((rc = open_ws(ws, SG_STORE_OPEN, &s))) goto done;
    /* the customer data, as the planner read it; its id column is the plan's first column */
    FILE *f = fopen(plan_csv, "r");
    if (f) {
        if (fgets(first, sizeof first, f)) first[strcspn(first, ",\r\n")] = '\0';
        fclose(f);
    }
    if (data && split_spec(data, wsname, sizeof wsname, &kind)) {
        cli_data_opts dopt = {0};
        int quiet = cli_quiet;   /* the planner already reported this table */
        cli_quiet = 1;
        rc = cli_load_ws_table(data, &dopt, &feat);
        cli_quiet = quiet;
        if (rc) goto done;
        last_import li = {sg_store_kind_name(kind), 0};
        sg_store *src = NULL;
        if (sg_store_open(&src, wsname, SG_STORE_OPEN, &err) == SG_OK) {
            sg_store_imports(src, find_last, &li, &err);
            sg_store_close(src);
        }
        snprintf(data_desc, sizeof data_desc, "%s@import%lld", data, (long long)li.id);
        p.data = data_desc;
    } else if (data) {
        sg_load_opts lo;
        sg_load_opts_default(&lo);
        lo.on_error = print_error;
        n_printed = 0;
        if (sg_table_load_csv(&feat, data, &lo, &err) != SG_OK) {
            rc = load_failed(data, &err);
            goto done;
        }
        if (sg_store_sha256_file(data, sha, NULL, &err) != SG_OK) {
            rc = cli_fail(&err);
            goto done;
        }
        p.data = data;
        p.data_sha256 = sha;
    }
    p.features = feat;
    p.features_id = feat && sg_table_find(feat, first) >= 0 ? first : NULL;
    if (feat && !p.features_id && strcmp(first, "row")) {
        fprintf(stderr, "stratagem: %s: the plan's id column '%s' is not in %s\n", plan_csv, first,
                data);
        rc = EXIT_DATA;
        goto done;
    }
    text = json_dumps(summary, JSON_COMPACT | JSON_REAL_PRECISION(17));
    p.summary = text;
    if (sg_store_plan_add(s, &p, plan_id, &err) != SG_OK) {
        rc = cli_fail(&err);
        fprintf(stderr, "stratagem: the plan was not stored; %s is unchanged\n", sg_store_path(s));
        goto done;
    }
    json_object_set_new(summary, "plan_id", json_integer(*plan_id));
    json_object_set_new(summary, "workspace", json_string(sg_store_path(s)));
done:
    free(text);
    sg_table_free(feat);
    sg_uplift_free(m);
    sg_store_close(s);
    return rc;
}

/* ---------------------------------------------------------------- help */

static const char HELP_INIT[] =
    "Usage: stratagem init WS\n"
    "Example: stratagem init shop.db\n"
    "         stratagem init 'postgresql://me@localhost/shop'\n"
    "\n"
    "Create a workspace: a SQLite file (the default; nothing to start), or the current\n"
    "schema of a PostgreSQL database named by a postgresql:// URI (same tables, same\n"
    "behaviour).  On an existing workspace: migrates an older schema, refuses a newer one,\n"
    "and otherwise does nothing.\n";

static const char HELP_IMPORT[] =
    "Usage: stratagem import WS FILE --as customers|products|events|campaigns|spend [options]\n"
    "Example: stratagem import shop.db log.csv --as campaigns --id customer_id \\\n"
    "             --treatment treatment --control control --outcome margin \\\n"
    "             --propensity propensity\n"
    "\n"
    "Read FILE (CSV with a header) into a workspace table.  The whole file is checked first\n"
    "(bad rows are reported with FILE:LINE and exit 3; nothing is written), then written in\n"
    "one transaction: an error, kill -9 or a full disk leaves the workspace as it was.  The\n"
    "same file (sha256) imported again as the same table does nothing, and says so.\n"
    "Rows upsert by key: a new id is appended; a known id is merged column by column (the\n"
    "file's columns replace the stored values, an empty value clears one, columns the file\n"
    "lacks keep theirs).  New columns are added at the end.\n"
    "\n"
    "  --as TABLE            customers, products, events, campaigns (the treatment log), spend\n"
    "  --id COL              key column; required on the first import of customers, products\n"
    "                        and campaigns, then fixed (events/spend without it: appended)\n"
    "  --dedup error|first|last   duplicate ids within the file [error]\n"
    "  --treatment COL --control LABEL --outcome COL --propensity COL --value COL\n"
    "                        roles of the campaign log, stored for feedback\n"
    "  --categorical A,B  --numeric A,B   type checks while validating\n"
    "Read a table back with --data WS:TABLE (e.g. train uplift --data shop.db:campaigns).\n";

static const char HELP_STATUS[] =
    "Usage: stratagem status WS\n"
    "Example: stratagem status shop.db\n"
    "\n"
    "Print what the workspace holds, in a stable format: backend and schema version; one\n"
    "line per table (rows, columns, id column); counts of imports, models, plans, plan rows\n"
    "and outcomes; then one line per import (#id, time, table, rows, new, merged, sha256,\n"
    "source).\n";

static const char HELP_PLANS[] =
    "Usage: stratagem plans WS [--plan ID] [--json]\n"
    "Example: stratagem plans shop.db\n"
    "\n"
    "List the plans stored in the ledger (plan --workspace WS): when, customers, targeted,\n"
    "the forecast effect with its interval, outcomes recorded, the realised effect with its\n"
    "interval and whether the forecast interval covered it.\n"
    "  --plan ID    only this plan\n"
    "  --json       a JSON array instead of the table\n";

static const char HELP_FEEDBACK[] =
    "Usage: stratagem feedback WS --plan ID [--results FILE] [options]\n"
    "Example: stratagem feedback shop.db --plan 3 --results outcomes.csv --summary fb.json\n"
    "\n"
    "Record what happened to a plan's customers and report predicted vs actual.  FILE has\n"
    "the id column first, then outcome columns named as in the campaign log (e.g. margin,\n"
    "converted); it may also carry the log's treatment and propensity columns (the action\n"
    "really executed and its probability).  Every row is kept with a status; duplicated\n"
    "ids, ids outside the plan and unknown ids are listed, never dropped silently.  Rows\n"
    "of the plan's customers become campaign-log rows (key ID@planN, features as when the\n"
    "plan was made), so the next 'train uplift --data WS:campaigns' learns from them.  The\n"
    "same FILE again changes nothing.  Without --results: the report of what is recorded.\n"
    "The realised effect needs targeted customers held out at random (exploration): it is\n"
    "the self-normalised IPS contrast of followed and held-out customers, scaled to the\n"
    "targeted count, with a delta-method interval at the forecast's level.\n"
    "\n"
    "  --plan ID          the plan (see 'stratagem plans WS')\n"
    "  --results FILE     the outcomes (CSV)\n"
    "  --outcome COL      the compared outcome [the plan's units, else the log's outcome]\n"
    "  --groups N         groups of predicted effect, 1..10 [10: deciles]\n"
    "  --summary FILE     also write the report as JSON\n";

static const char HELP_PLAN_WS[] =
    "Workspace and exploration (uplift plans):\n"
    "  --workspace WS         store the plan in the ledger of WS (model, input checksums, each\n"
    "                         customer's action, propensity and expected effect, the forecast);\n"
    "                         prints 'stored plan N' and puts \"plan_id\": N in the summary\n"
    "  --explore F            a random share F (0 <= F < 1, drawn with --seed) of the customers\n"
    "                         get an action drawn uniformly from all actions, control included;\n"
    "                         the others the optimised one.  plan.csv gains propensity ((1-F) if\n"
    "                         the action is the planned one, + F/A; A = actions incl. control),\n"
    "                         planned_action, planned_effect and explored.  Budget rule: the\n"
    "                         explored customers' actions are drawn first and their cost taken\n"
    "                         off the budget (their counts off the caps); the rest is optimised\n"
    "                         within what is left, so the whole plan keeps the budget (an error\n"
    "                         if exploration alone exceeds it).  Cost, forecast and counts are\n"
    "                         those of the plan as executed, exploration included.\n"
    "  --thompson             Thompson sampling: the plan is solved on effects drawn from\n"
    "                         N(effect, se^2) per customer and action; the propensity of each\n"
    "                         customer's action is the share of --draws such draws that pick it\n"
    "                         (a Monte Carlo estimate); combines with --explore\n"
    "  --draws K              Thompson draws (default 100)\n";

const char *cli_workspace_help(const char *cmd)
{
    if (!cmd) return NULL;
    if (!strcmp(cmd, "plan")) return HELP_PLAN_WS;
    if (!strcmp(cmd, "init")) return HELP_INIT;
    if (!strcmp(cmd, "import")) return HELP_IMPORT;
    if (!strcmp(cmd, "status")) return HELP_STATUS;
    if (!strcmp(cmd, "plans")) return HELP_PLANS;
    if (!strcmp(cmd, "feedback")) return HELP_FEEDBACK;
    return NULL;
}
