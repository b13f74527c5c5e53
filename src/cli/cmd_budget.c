/* cmd_budget.c -- the budget task (media mix): 'train budget', 'plan budget'
 * (and 'plan' on a budget model), 'evaluate' and 'predict' on a budget model,
 * and 'world budget' / 'world budget-score', a world with known truth.
 *
 * A series is CSV with one row per period (week or day, in order, evenly
 * spaced): the period, each channel's spend, optional controls and the
 * outcome.  The model remembers the column names; evaluate and predict read
 * later periods with the same names.  Uses only the public API. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_budget.h"
#include "stratagem/budget.h"
#include "stratagem/mem.h"

static const char HELP_TRAIN_BUDGET[] =
    "Usage: stratagem train budget --data SERIES --period COL --outcome COL --channels A,B,...\n"
    "                              [--controls X,Y] [--season N] [--trend] --out MODEL\n"
    "Example: stratagem train budget --data weekly.csv --period week --outcome sales \\\n"
    "           --channels tv,search,social,display --controls price --season 52 --out mmm.sgm\n"
    "\n"
    "A media-mix model: the outcome per period on each channel's spend through a carry-over\n"
    "(adstock) and a saturation curve, plus controls and seasonality.  Each channel's curve is\n"
    "chosen by blocked cross-validation; a block bootstrap gives intervals.  Prints each\n"
    "channel's curve, contribution, return on spend and marginal return (90% intervals).\n"
    "  --data, -d FILE        one row per period, in order, evenly spaced (required)\n"
    "  --period COL           the period: a number or a date (required)\n"
    "  --outcome COL          sales, revenue or conversions per period (required)\n"
    "  --channels A,B,...     spend columns, >= 0 (required)\n"
    "  --controls X,Y,...     other drivers of the outcome (price, distribution, holidays)\n"
    "  --season N             periods in a seasonal cycle (52 for weeks; default: none)\n"
    "  --trend                a linear trend (it is extrapolated into plans: use with care)\n"
    "  --folds K              blocked cross-validation folds (default 5)\n"
    "  --draws N              bootstrap replicates (default 100)\n"
    "  --seed N               random seed (default 1)\n"
    "  --out, -o MODEL        model file to write (required)\n";

static const char HELP_PLAN_BUDGET[] =
    "Usage: stratagem plan budget --model MODEL --budget B [--weeks H] [--margin M]\n"
    "                             [--min CH=X,...] [--max CH=X,...] --out PLAN.csv\n"
    "                             [--summary PLAN.json]\n"
    "Example: stratagem plan budget --model mmm.sgm --budget 26000 --weeks 13 --out split.csv\n"
    "\n"
    "Splits a media budget across the model's channels for the H periods after its data: a\n"
    "constant spend per period per channel, the best split on a grid of the budget (exact\n"
    "dynamic programming, S-shaped curves included).  Value: the outcome the spend adds over\n"
    "spending nothing, carry-over after the horizon included.  With --margin the split\n"
    "maximises margin x outcome - spend and may leave budget unspent.  The forecast is\n"
    "corrected for the optimiser's curse, with a 90% interval, next to the current mix (the\n"
    "training periods' shares), an equal split and nothing.\n"
    "  --model, -m MODEL      a budget model (required)\n"
    "  --budget B             total spend over the horizon (required)\n"
    "  --weeks H              periods in the horizon (default 13)\n"
    "  --margin M             money per unit of outcome (default: maximise the outcome)\n"
    "  --min CH=X,...         a channel's least spend per period (default: the least it spent\n"
    "                         in a period of the data)\n"
    "  --max CH=X,...         its most per period (default: the most it spent in a period of\n"
    "                         the data; the curves are not known outside)\n"
    "  --steps N              budget grid (default 400)\n"
    "  --out, -o FILE         the split as CSV (required)\n"
    "  --summary FILE.json    the forecast and baselines as JSON\n";

static const char HELP_EVALUATE_BUDGET[] =
    "Usage: stratagem evaluate --model BUDGET_MODEL --data SERIES [--json] [--seed N]\n"
    "\n"
    "A budget model on the periods that follow its training data (same columns): each\n"
    "period's outcome forecast from its spends and controls with a 90% interval, against what\n"
    "happened; RMSE, MAPE, periods covered, and the total.\n";

static const char HELP_PREDICT_BUDGET[] =
    "Usage: stratagem predict --model BUDGET_MODEL --data SERIES --out FILE [--seed N]\n"
    "\n"
    "The expected outcome for each period of SERIES (which continues the training data):\n"
    "period, outcome_hat, outcome_lo, outcome_hi (90% interval).\n";

static const char HELP_WORLD_BUDGET[] =
    "       stratagem world budget --baseline FILE --period COL --outcome COL [--keep COLS]\n"
    "                              [--level L] [--seed S] --out SERIES.csv --truth TRUTH.json\n"
    "       stratagem world budget-score --truth TRUTH.json --summary PLAN.json [--json]\n"
    "\n"
    "  budget        a media-mix world on a real baseline series (its outcome scaled to a mean\n"
    "                of L, default 20000): spends of tv (flights, S-shaped, long carry-over),\n"
    "                search (follows demand), social and display, their true effects added;\n"
    "                SERIES has the period, the --keep columns, 'queries' (a demand index:\n"
    "                the baseline with 5% noise), the four spends and 'sales'\n"
    "  budget-score  a 'plan budget' summary against the truth: the split's true effect, the\n"
    "                best split's under the same budget, bounds and grid, the share, and the\n"
    "                forecast vs the truth\n";

const char *cli_budget_help(const char *topic)
{
    if (!strcmp(topic, "train")) return HELP_TRAIN_BUDGET;
    if (!strcmp(topic, "plan")) return HELP_PLAN_BUDGET;
    if (!strcmp(topic, "evaluate")) return HELP_EVALUATE_BUDGET;
    if (!strcmp(topic, "predict")) return HELP_PREDICT_BUDGET;
    if (!strcmp(topic, "world")) return HELP_WORLD_BUDGET;
    return NULL;
}

static int count_list(char **l)
{
    int n = 0;
    while (l && l[n]) n++;
    return n;
}

/* ---------------------------------------------------------------------------
 * train budget */

int cli_train_budget(int argc, char **argv)
{
    const char *data = NULL, *period = NULL, *outcome = NULL, *channels = NULL;
    const char *controls = NULL, *out = NULL;
    int season = 0, trend = 0, folds = 5, draws = 100, help = 0, n_pos;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},        {"period", 0, OPT_STR, &period, 0},
        {"outcome", 0, OPT_STR, &outcome, 0},    {"channels", 0, OPT_STR, &channels, 0},
        {"controls", 0, OPT_STR, &controls, 0},  {"season", 0, OPT_INT, &season, 0},
        {"trend", 0, OPT_FLAG, &trend, 0},       {"folds", 0, OPT_INT, &folds, 0},
        {"draws", 0, OPT_INT, &draws, 0},        {"seed", 0, OPT_U64, &seed, 0},
        {"out", 'o', OPT_STR, &out, 0},          {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("train", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_TRAIN_BUDGET, stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train", "missing --data FILE");
    if (!period || !outcome) return cli_usage_error("train", "train budget needs --period and --outcome");
    if (!channels) return cli_usage_error("train", "missing --channels A,B,... (the spend columns)");
    if (!out) return cli_usage_error("train", "missing --out MODEL");
    if (folds < 2 || folds > 20) return cli_usage_error("train", "--folds must be in 2..20");
    if (draws < 10 || draws > 10000) return cli_usage_error("train", "--draws must be in 10..10000");
    if (season < 0 || season == 1) return cli_usage_error("train", "--season must be 0 or >= 2");
    char **ch = cli_split_list(channels), **ct = cli_split_list(controls);
    sg_budget_opts o;
    sg_budget_opts_default(&o);
    o.period = period;
    o.outcome = outcome;
    o.channels = (const char *const *)ch;
    o.n_channels = count_list(ch);
    o.controls = (const char *const *)ct;
    o.n_controls = count_list(ct);
    o.season = season;
    o.trend = trend;
    o.folds = folds;
    o.n_draws = draws;
    o.seed = seed;
    cli_data_opts dopt = {.numeric = NULL};
    dopt.required[0] = period;
    dopt.required[1] = outcome;
    sg_table *t = NULL;
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) {
        cli_list_free(ch);
        cli_list_free(ct);
        return rc;
    }
    if (!cli_quiet) o.on_progress = cli_progress_steps;
    sg_budget *m = NULL;
    sg_budget_report rep;
    sg_error err;
    sg_error_clear(&err);
    rc = sg_budget_train(&m, t, &o, &rep, &err);
    cli_progress_end();
    sg_table_free(t);
    cli_list_free(ch);
    cli_list_free(ct);
    if (rc) return cli_fail(&err);
    printf("series: %d periods, %d channels, %d controls%s\n", rep.n_periods,
           sg_budget_n_channels(m), sg_budget_n_controls(m), season ? ", seasonal" : "");
    printf("blocked cross-validation RMSE %.4g (without the channels: %.4g); in-sample RMSE "
           "%.4g, R2 %.3f\n", rep.cv_rmse, rep.cv_rmse_base, rep.rmse, rep.r2);
    printf("channel\tcarryover\tshape\thalf_sat\tspend\tcontribution [90%%]\treturn [90%%]\t"
           "marginal [90%%]\n");
    for (int c = 0; c < sg_budget_n_channels(m); c++) {
        sg_budget_channel s;
        sg_budget_channel_get(m, c, &s);
        printf("%s\t%.1f\t%s\t%.4g\t%.4g\t%.4g [%.4g, %.4g]\t%.3f [%.3f, %.3f]\t%.3f [%.3f, "
               "%.3f]\n", sg_budget_channel_name(m, c), s.lambda, s.alpha == 1 ? "concave" : "S",
               s.k, s.spend, s.contribution, s.contribution_lo, s.contribution_hi, s.roi,
               s.roi_lo, s.roi_hi, s.mroi, s.mroi_lo, s.mroi_hi);
    }
    rc = sg_budget_save(m, out, &err);
    if (rc) rc = cli_fail(&err);
    else if (!cli_quiet) fprintf(stderr, "stratagem: wrote %s\n", out);
    sg_budget_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * predict and evaluate */

static int load_model_and_series(const char *cmd, const char *model, const char *data,
                                 sg_budget **m, sg_table **t)
{
    *m = NULL;
    *t = NULL;
    if (!model) return cli_usage_error(cmd, "missing --model MODEL");
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    sg_error err;
    sg_error_clear(&err);
    if (sg_budget_load(m, model, &err)) return cli_fail(&err);
    int rc = cli_load_table(data, &(cli_data_opts){.required = {sg_budget_role(*m, "period")}}, t);
    if (rc) {
        sg_budget_free(*m);
        *m = NULL;
    }
    return rc;
}

int cli_predict_budget(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    int help = 0, n_pos;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},     {"seed", 0, OPT_U64, &seed, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("predict", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_PREDICT_BUDGET, stdout);
        return EXIT_OK;
    }
    if (!out) return cli_usage_error("predict", "missing --out FILE ('-' for standard output)");
    sg_budget *m;
    sg_table *t;
    int rc = load_model_and_series("predict", model, data, &m, &t);
    if (rc) return rc;
    int64_t n = sg_table_n_rows(t);
    size_t nn = (size_t)(n ? n : 1);
    double *mu = sg_malloc_array(nn, sizeof *mu), *lo = sg_malloc_array(nn, sizeof *lo),
           *hi = sg_malloc_array(nn, sizeof *hi);
    sg_error err;
    sg_error_clear(&err);
    if (!mu || !lo || !hi) rc = EXIT_RUNTIME;
    else if (sg_budget_predict(m, t, seed, mu, lo, hi, &err)) rc = cli_fail(&err);
    cli_out o;
    if (!rc && !(rc = cli_out_open(&o, out))) {
        int cp = sg_table_find(t, sg_budget_role(m, "period"));
        char b[256];
        fprintf(o.f, "%s,outcome_hat,outcome_lo,outcome_hi\n", sg_budget_role(m, "period"));
        for (int64_t i = 0; i < n; i++) {
            cli_csv_field(o.f, sg_table_cell(t, i, cp, b, sizeof b));
            fprintf(o.f, ",%.6g,%.6g,%.6g\n", mu[i], lo[i], hi[i]);
        }
        rc = cli_out_commit(&o);
    }
    sg_free(mu);
    sg_free(lo);
    sg_free(hi);
    sg_table_free(t);
    sg_budget_free(m);
    return rc;
}

int cli_evaluate_budget(int argc, char **argv)
{
    const char *model = NULL, *data = NULL;
    int help = 0, n_pos, json = 0;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"json", 0, OPT_FLAG, &json, 0},    {"seed", 0, OPT_U64, &seed, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_EVALUATE_BUDGET, stdout);
        return EXIT_OK;
    }
    sg_budget *m;
    sg_table *t;
    int rc = load_model_and_series("evaluate", model, data, &m, &t);
    if (rc) return rc;
    sg_budget_eval ev;
    sg_error err;
    sg_error_clear(&err);
    if (sg_budget_evaluate(m, t, seed, &ev, &err)) {
        rc = cli_fail(&err);
        sg_table_free(t);
        sg_budget_free(m);
        return rc;
    }
    if (json) {
        json_t *root = json_object(), *per = json_array();
        json_object_set_new(root, "periods", json_integer(ev.n));
        json_object_set_new(root, "rmse", json_real(ev.rmse));
        json_object_set_new(root, "mape", isnan(ev.mape) ? json_null() : json_real(ev.mape));
        json_object_set_new(root, "covered", json_integer(ev.covered));
        json_object_set_new(root, "total", json_real(ev.total));
        json_object_set_new(root, "total_hat", json_real(ev.total_pred));
        json_object_set_new(root, "total_lo", json_real(ev.total_lo));
        json_object_set_new(root, "total_hi", json_real(ev.total_hi));
        for (int i = 0; i < ev.n; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "period", json_real(ev.period[i]));
            json_object_set_new(e, "actual", json_real(ev.actual[i]));
            json_object_set_new(e, "hat", json_real(ev.pred[i]));
            json_object_set_new(e, "lo", json_real(ev.lo[i]));
            json_object_set_new(e, "hi", json_real(ev.hi[i]));
            json_array_append_new(per, e);
        }
        json_object_set_new(root, "by_period", per);
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8))) rc = EXIT_RUNTIME;
        putchar('\n');
        json_decref(root);
    } else {
        printf("period\tactual\tforecast\t90%% interval\n");
        for (int i = 0; i < ev.n; i++)
            printf("%.15g\t%.0f\t%.0f\t[%.0f, %.0f]%s\n", ev.period[i], ev.actual[i], ev.pred[i],
                   ev.lo[i], ev.hi[i],
                   ev.actual[i] < ev.lo[i] || ev.actual[i] > ev.hi[i] ? "\toutside" : "");
        printf("%d periods: RMSE %.4g, MAPE %.2f%%, inside the 90%% interval %d of %d\n", ev.n,
               ev.rmse, 100 * ev.mape, ev.covered, ev.n);
        printf("total: actual %.0f, forecast %.0f [%.0f, %.0f] (forecast / actual %.3f)\n",
               ev.total, ev.total_pred, ev.total_lo, ev.total_hi, ev.total_pred / ev.total);
    }
    sg_budget_eval_deinit(&ev);
    sg_table_free(t);
    sg_budget_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * plan budget */

/* "CH=X,CH=Y" into v (C values, NaN where not named); an exit code. */
static int parse_bounds(const sg_budget *m, const char *opt, const char *s, double *v)
{
    int C = sg_budget_n_channels(m);
    for (int c = 0; c < C; c++) v[c] = (double)NAN;
    if (!s) return EXIT_OK;
    char **l = cli_split_list(s);
    int rc = EXIT_OK;
    for (int i = 0; l && l[i]; i++) {
        char *eq = strchr(l[i], '=');
        char *end = NULL;
        double x = eq ? strtod(eq + 1, &end) : (double)NAN;
        if (!eq || end == eq + 1 || *end || !(x >= 0) || !isfinite(x)) {
            rc = cli_usage_error("plan", "--%s: expected CHANNEL=SPEND (>= 0), got '%s'", opt, l[i]);
            break;
        }
        *eq = 0;
        int c = sg_budget_channel_index(m, l[i]);
        if (c < 0) {
            rc = cli_usage_error("plan", "--%s: '%s' is not a channel of the model", opt, l[i]);
            break;
        }
        v[c] = x;
    }
    cli_list_free(l);
    return rc;
}

static json_t *value_json(const sg_budget_value *v, double margin)
{
    json_t *e = json_object();
    json_object_set_new(e, "spend", json_real(v->spend));
    json_object_set_new(e, "effect", json_real(v->effect));
    json_object_set_new(e, "effect_lo", json_real(v->effect_lo));
    json_object_set_new(e, "effect_hi", json_real(v->effect_hi));
    json_object_set_new(e, "net", margin > 0 ? json_real(v->net) : json_null());
    json_object_set_new(e, "net_lo", margin > 0 ? json_real(v->net_lo) : json_null());
    json_object_set_new(e, "net_hi", margin > 0 ? json_real(v->net_hi) : json_null());
    return e;
}

static void print_value(const char *name, const sg_budget_value *v, double margin)
{
    printf("  %-12s spend %10.2f  effect %10.1f [%10.1f, %10.1f]", name, v->spend, v->effect,
           v->effect_lo, v->effect_hi);
    if (margin > 0) printf("  net %10.2f [%10.2f, %10.2f]", v->net, v->net_lo, v->net_hi);
    putchar('\n');
}

static int write_json(json_t *root, const char *path)
{
    cli_out so;
    int rc = cli_out_open(&so, path);
    if (rc) return rc;
    if (json_dumpf(root, so.f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) || fputc('\n', so.f) == EOF) {
        cli_out_abort(&so);
        return EXIT_RUNTIME;
    }
    return cli_out_commit(&so);
}

int cli_plan_budget(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *summary = NULL, *mins = NULL, *maxs = NULL;
    double budget = -1, margin = 0;
    int weeks = 13, steps = 400, help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},    {"out", 'o', OPT_STR, &out, 0},
        {"summary", 0, OPT_STR, &summary, 0},  {"budget", 0, OPT_DOUBLE, &budget, 0},
        {"weeks", 0, OPT_INT, &weeks, 0},      {"margin", 0, OPT_DOUBLE, &margin, 0},
        {"min", 0, OPT_STR, &mins, 0},         {"max", 0, OPT_STR, &maxs, 0},
        {"steps", 0, OPT_INT, &steps, 0},      {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("plan", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_PLAN_BUDGET, stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("plan", "missing --model MODEL");
    if (!out) return cli_usage_error("plan", "missing --out PLAN.csv");
    if (!(budget > 0) || !isfinite(budget)) return cli_usage_error("plan", "--budget B (> 0) is required");
    if (weeks < 1 || weeks > 520) return cli_usage_error("plan", "--weeks must be in 1..520");
    if (!(margin >= 0) || !isfinite(margin)) return cli_usage_error("plan", "--margin must be >= 0");
    if (steps < 10 || steps > 10000) return cli_usage_error("plan", "--steps must be in 10..10000");
    sg_budget *m = NULL;
    sg_error err;
    sg_error_clear(&err);
    if (sg_budget_load(&m, model, &err)) return cli_fail(&err);
    int C = sg_budget_n_channels(m), rc;
    double *lo = sg_malloc_array((size_t)C, sizeof *lo), *hi = sg_malloc_array((size_t)C, sizeof *hi);
    sg_budget_plan p = {0};
    if (!lo || !hi) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    if ((rc = parse_bounds(m, "min", mins, lo)) || (rc = parse_bounds(m, "max", maxs, hi))) goto done;
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = budget;
    po.weeks = weeks;
    po.margin = margin;
    po.min_week = lo;
    po.max_week = hi;
    po.steps = steps;
    if (sg_budget_plan_make(m, &po, &p, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    fprintf(o.f, "channel,week_spend,total_spend,history_week_spend,min_week,max_week,effect,"
            "effect_lo,effect_hi,marginal_return\n");
    for (int c = 0; c < C; c++) {
        sg_budget_channel s;
        sg_budget_channel_get(m, c, &s);
        cli_csv_field(o.f, sg_budget_channel_name(m, c));
        fprintf(o.f, ",%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", p.week_spend[c],
                p.week_spend[c] * weeks, s.spend_week, p.min_week[c], p.max_week[c], p.effect[c],
                p.effect_lo[c], p.effect_hi[c], p.mroi[c]);
    }
    if ((rc = cli_out_commit(&o))) goto done;
    printf("split of %.2f over %d periods (%s):\n", budget, weeks,
           margin > 0 ? "maximising margin x outcome - spend" : "maximising the outcome");
    printf("  channel      per period  (history)  effect [90%%]  marginal return\n");
    for (int c = 0; c < C; c++) {
        sg_budget_channel s;
        sg_budget_channel_get(m, c, &s);
        printf("  %-12s %10.2f %10.2f  %10.1f [%.1f, %.1f]  %.3f\n", sg_budget_channel_name(m, c),
               p.week_spend[c], s.spend_week, p.effect[c], p.effect_lo[c], p.effect_hi[c],
               p.mroi[c]);
    }
    printf("forecast (the draws' mean %.1f less %.1f for the optimiser's curse):\n",
           p.forecast.effect + p.optimism, p.optimism);
    print_value("the plan", &p.forecast, margin);
    print_value("current mix", &p.current_mix, margin);
    print_value("equal split", &p.equal_split, margin);
    print_value("nothing", &p.nothing, margin);
    if (summary) {
        json_t *root = json_object(), *chs = json_array(), *base = json_object();
        json_object_set_new(root, "budget", json_real(budget));
        json_object_set_new(root, "weeks", json_integer(weeks));
        json_object_set_new(root, "margin", json_real(margin));
        json_object_set_new(root, "steps", json_integer(steps));
        json_t *fc = value_json(&p.forecast, margin);
        json_object_set_new(fc, "uncorrected", json_real(p.forecast.effect + p.optimism));
        json_object_set_new(fc, "optimism", json_real(p.optimism));
        json_object_set_new(root, "forecast", fc);
        json_object_set_new(base, "current_mix", value_json(&p.current_mix, margin));
        json_object_set_new(base, "equal_split", value_json(&p.equal_split, margin));
        json_object_set_new(base, "nothing", value_json(&p.nothing, margin));
        json_object_set_new(root, "baselines", base);
        for (int c = 0; c < C; c++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(sg_budget_channel_name(m, c)));
            json_object_set_new(e, "week_spend", json_real(p.week_spend[c]));
            json_object_set_new(e, "min_week", json_real(p.min_week[c]));
            json_object_set_new(e, "max_week", json_real(p.max_week[c]));
            json_object_set_new(e, "mix_week_spend", json_real(p.mix_week[c]));
            json_object_set_new(e, "effect", json_real(p.effect[c]));
            json_object_set_new(e, "effect_lo", json_real(p.effect_lo[c]));
            json_object_set_new(e, "effect_hi", json_real(p.effect_hi[c]));
            json_object_set_new(e, "marginal_return", json_real(p.mroi[c]));
            json_array_append_new(chs, e);
        }
        json_object_set_new(root, "channels", chs);
        rc = write_json(root, summary);
        json_decref(root);
    }
done:
    sg_budget_plan_deinit(&p);
    sg_free(lo);
    sg_free(hi);
    sg_budget_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * world budget, world budget-score */

static int world_budget(int argc, char **argv)
{
    const char *base = NULL, *period = NULL, *outcome = NULL, *keep = NULL, *out = NULL;
    const char *truth = NULL;
    double level = 20000;
    int help = 0, n_pos;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"baseline", 0, OPT_STR, &base, 0},  {"period", 0, OPT_STR, &period, 0},
        {"outcome", 0, OPT_STR, &outcome, 0}, {"keep", 0, OPT_STR, &keep, 0},
        {"level", 0, OPT_DOUBLE, &level, 0}, {"seed", 0, OPT_U64, &seed, 0},
        {"out", 'o', OPT_STR, &out, 0},      {"truth", 0, OPT_STR, &truth, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("world", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_WORLD_BUDGET, stdout);
        return EXIT_OK;
    }
    if (!base || !period || !outcome)
        return cli_usage_error("world", "world budget needs --baseline FILE, --period COL and --outcome COL");
    if (!out || !truth) return cli_usage_error("world", "world budget needs --out FILE and --truth FILE");
    if (!(level > 0) || !isfinite(level)) return cli_usage_error("world", "--level must be > 0");
    sg_table *t = NULL;
    int rc = cli_load_table(base, &(cli_data_opts){.required = {period, outcome}}, &t);
    if (rc) return rc;
    char **kl = cli_split_list(keep);
    int nk = count_list(kl), cp = sg_table_find(t, period), cy = sg_table_find(t, outcome);
    int64_t n = sg_table_n_rows(t);
    int kc[64];
    double *x = NULL, *y = NULL, *b = NULL, *q = NULL;
    if (nk > 64) {
        rc = cli_usage_error("world", "--keep: at most 64 columns");
        goto done;
    }
    for (int i = 0; i < nk; i++)
        if ((kc[i] = sg_table_find(t, kl[i])) < 0) {
            fprintf(stderr, "stratagem: %s: no column '%s' (--keep)\n", base, kl[i]);
            rc = EXIT_DATA;
            goto done;
        }
    const double *yv = sg_table_num(t, cy);
    if (!yv || !sg_table_num(t, cp)) {
        fprintf(stderr, "stratagem: %s: the period and outcome columns must be numbers (or dates)\n", base);
        rc = EXIT_DATA;
        goto done;
    }
    if (n < 20 || n > 1000000) {
        fprintf(stderr, "stratagem: %s: %lld periods; world budget takes 20..1,000,000\n", base,
                (long long)n);
        rc = EXIT_DATA;
        goto done;
    }
    x = sg_malloc_array((size_t)n * 4, sizeof *x);
    y = sg_malloc_array((size_t)n, sizeof *y);
    b = sg_malloc_array((size_t)n, sizeof *b);
    q = sg_malloc_array((size_t)n, sizeof *q);
    if (!x || !y || !b || !q) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        if (isnan(yv[i])) {
            char c[48];
            fprintf(stderr, "stratagem: %s:%lld: column '%s': expected a number, got \"%s\"\n",
                    base, (long long)sg_table_row_line(t, i), outcome,
                    sg_table_cell(t, i, cy, c, sizeof c));
            rc = EXIT_DATA;
            goto done;
        }
        b[i] = yv[i];
    }
    sg_budget_truth tr;
    sg_error err;
    sg_error_clear(&err);
    if (sg_budget_world(b, (int)n, level, seed, x, y, q, &tr, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    cli_csv_field(o.f, period);
    for (int i = 0; i < nk; i++) {
        fputc(',', o.f);
        cli_csv_field(o.f, kl[i]);
    }
    fprintf(o.f, ",queries,%s,%s,%s,%s,sales\n", tr.name[0], tr.name[1], tr.name[2], tr.name[3]);
    for (int64_t i = 0; i < n; i++) {
        char c[256];
        cli_csv_field(o.f, sg_table_cell(t, i, cp, c, sizeof c));
        for (int k = 0; k < nk; k++) {
            fputc(',', o.f);
            cli_csv_field(o.f, sg_table_cell(t, i, kc[k], c, sizeof c));
        }
        fprintf(o.f, ",%.3f,%.2f,%.2f,%.2f,%.2f,%.2f\n", q[i], x[i], x[n + i], x[2 * n + i],
                x[3 * n + i], y[i]);
    }
    if ((rc = cli_out_commit(&o))) goto done;
    json_t *root = json_object(), *chs = json_array();
    json_object_set_new(root, "seed", json_integer((json_int_t)seed));
    json_object_set_new(root, "level", json_real(level));
    json_object_set_new(root, "periods", json_integer(n));
    for (int c = 0; c < tr.n_channels; c++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(tr.name[c]));
        json_object_set_new(e, "lambda", json_real(tr.lambda[c]));
        json_object_set_new(e, "alpha", json_real(tr.alpha[c]));
        json_object_set_new(e, "k", json_real(tr.k[c]));
        json_object_set_new(e, "beta", json_real(tr.beta[c]));
        json_object_set_new(e, "state", json_real(tr.state[c]));
        json_array_append_new(chs, e);
    }
    json_object_set_new(root, "channels", chs);
    rc = write_json(root, truth);
    json_decref(root);
done:
    sg_free(x);
    sg_free(y);
    sg_free(b);
    sg_free(q);
    cli_list_free(kl);
    sg_table_free(t);
    return rc;
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : (double)NAN;
}

static int world_budget_score(int argc, char **argv)
{
    const char *truth = NULL, *summary = NULL;
    int help = 0, n_pos, as_json = 0;
    cli_opt opts[] = {
        {"truth", 0, OPT_STR, &truth, 0}, {"summary", 0, OPT_STR, &summary, 0},
        {"json", 0, OPT_FLAG, &as_json, 0}, {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("world", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_WORLD_BUDGET, stdout);
        return EXIT_OK;
    }
    if (!truth || !summary) return cli_usage_error("world", "world budget-score needs --truth and --summary");
    json_error_t je;
    json_t *jt = json_load_file(truth, 0, &je), *js = json_load_file(summary, 0, &je);
    int rc = EXIT_OK;
    if (!jt || !js) {
        fprintf(stderr, "stratagem: %s:%d: %s\n", je.source, je.line, je.text);
        rc = EXIT_DATA;
        goto done;
    }
    sg_budget_truth tr;
    memset(&tr, 0, sizeof tr);
    json_t *tc = json_object_get(jt, "channels"), *sc = json_object_get(js, "channels");
    if (!json_is_array(tc) || json_array_size(tc) != 4 || !json_is_array(sc)) {
        fprintf(stderr, "stratagem: %s / %s: expected 'channels' arrays (the truth has 4)\n",
                truth, summary);
        rc = EXIT_DATA;
        goto done;
    }
    tr.n_channels = 4;
    double x[4], mn[4], mx[4], mix[4];
    for (int c = 0; c < 4; c++) {
        json_t *e = json_array_get(tc, (size_t)c);
        tr.name[c] = json_string_value(json_object_get(e, "name"));
        tr.lambda[c] = jnum(e, "lambda");
        tr.alpha[c] = jnum(e, "alpha");
        tr.k[c] = jnum(e, "k");
        tr.beta[c] = jnum(e, "beta");
        tr.state[c] = jnum(e, "state");
        if (!tr.name[c] || !(tr.lambda[c] >= 0 && tr.lambda[c] < 1) || !(tr.alpha[c] > 0) ||
            !(tr.k[c] > 0) || !(tr.beta[c] >= 0) || !(tr.state[c] >= 0)) {
            fprintf(stderr, "stratagem: %s: channel %d: expected name, lambda in [0, 1), alpha, "
                    "k, beta and state\n", truth, c + 1);
            rc = EXIT_DATA;
            goto done;
        }
        int found = 0;
        for (size_t i = 0; i < json_array_size(sc); i++) {
            json_t *s = json_array_get(sc, i);
            const char *nm = json_string_value(json_object_get(s, "name"));
            if (nm && !strcmp(nm, tr.name[c])) {
                x[c] = jnum(s, "week_spend");
                mn[c] = jnum(s, "min_week");
                mx[c] = jnum(s, "max_week");
                mix[c] = jnum(s, "mix_week_spend");
                found = 1;
            }
        }
        if (!found || !(x[c] >= 0) || !(mn[c] >= 0) || !(mx[c] >= mn[c])) {
            fprintf(stderr, "stratagem: %s: expected channel '%s' with week_spend, min_week and "
                    "max_week\n", summary, tr.name[c]);
            rc = EXIT_DATA;
            goto done;
        }
    }
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = jnum(js, "budget");
    po.weeks = (int)jnum(js, "weeks");
    po.margin = jnum(js, "margin");
    po.steps = (int)jnum(js, "steps");
    if (!(po.budget > 0) || po.weeks < 1 || po.weeks > 520 || !(po.margin >= 0) || po.steps < 10 ||
        po.steps > 10000) {
        fprintf(stderr, "stratagem: %s: expected budget > 0, weeks 1..520, margin >= 0 and steps "
                "10..10000\n", summary);
        rc = EXIT_DATA;
        goto done;
    }
    double bx[4];
    double best_obj = sg_budget_truth_best(&tr, &po, mn, mx, bx);
    double best = sg_budget_truth_effect(&tr, po.weeks, bx);
    double ours = sg_budget_truth_effect(&tr, po.weeks, x), spend = 0, bspend = 0;
    for (int c = 0; c < 4; c++) spend += x[c] * po.weeks, bspend += bx[c] * po.weeks;
    double obj = po.margin > 0 ? po.margin * ours - spend : ours;
    json_t *fc = json_object_get(js, "forecast");
    double f = jnum(fc, "effect"), flo = jnum(fc, "effect_lo"), fhi = jnum(fc, "effect_hi");
    int covered = flo <= ours && ours <= fhi;
    /* the current mix, when the summary has it: its true effect and forecast */
    json_t *jm = json_object_get(json_object_get(js, "baselines"), "current_mix");
    int has_mix = 1;
    for (int c = 0; c < 4; c++) has_mix &= mix[c] >= 0;
    double tm = has_mix ? sg_budget_truth_effect(&tr, po.weeks, mix) : (double)NAN;
    double fm = jnum(jm, "effect"), fmlo = jnum(jm, "effect_lo"), fmhi = jnum(jm, "effect_hi");
    if (as_json) {
        json_t *r = json_object();
        json_object_set_new(r, "true_effect", json_real(ours));
        json_object_set_new(r, "spend", json_real(spend));
        json_object_set_new(r, "best_effect", json_real(best));
        json_object_set_new(r, "best_spend", json_real(bspend));
        json_object_set_new(r, "share", json_real(obj / best_obj));
        json_object_set_new(r, "forecast", isnan(f) ? json_null() : json_real(f));
        json_object_set_new(r, "forecast_over_truth", isnan(f) ? json_null() : json_real(f / ours));
        json_object_set_new(r, "covered", isnan(flo) ? json_null() : json_boolean(covered));
        json_object_set_new(r, "mix_true_effect", isnan(tm) ? json_null() : json_real(tm));
        json_object_set_new(r, "mix_forecast", isnan(fm) || isnan(tm) ? json_null() : json_real(fm));
        json_object_set_new(r, "mix_covered", isnan(fm) || isnan(tm) ? json_null()
                                              : json_boolean(fmlo <= tm && tm <= fmhi));
        if (json_dumpf(r, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8))) rc = EXIT_RUNTIME;
        putchar('\n');
        json_decref(r);
    } else {
        printf("true effect of the split %.1f (spend %.2f); the best split's %.1f (spend %.2f); "
               "share of the best %s %.3f\n", ours, spend, best, bspend,
               po.margin > 0 ? "net" : "effect", obj / best_obj);
        if (!isnan(f))
            printf("forecast %.1f [%.1f, %.1f]: forecast / truth %.3f, %s\n", f, flo, fhi, f / ours,
                   covered ? "the interval covers the truth" : "the interval misses the truth");
        if (!isnan(fm) && !isnan(tm))
            printf("the current mix: true effect %.1f, forecast %.1f [%.1f, %.1f] (forecast / "
                   "truth %.3f); the split over it: truth %+.1f\n", tm, fm, fmlo, fmhi, fm / tm,
                   ours - tm);
    }
done:
    json_decref(jt);
    json_decref(js);
    return rc;
}

int cli_world_budget(const char *sub, int argc, char **argv)
{
    if (!strcmp(sub, "budget")) return world_budget(argc, argv);
    return world_budget_score(argc, argv);
}
