/* cmd_promo.c -- the promo task: 'train promo', 'plan promo' (and 'plan' on a
 * promo model), 'evaluate' and 'predict' on a promo model.
 *
 * A panel is CSV with one row per store x product x week: units sold (or
 * their log), the row's price, and optionally a deal flag, a feature share
 * and the unit cost.  The model remembers the column names; the other
 * commands read files with the same names.  Uses only the public API. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_promo.h"
#include "cli_uplift.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/promo.h"

static const char HELP_TRAIN_PROMO[] =
    "Usage: stratagem train promo --data PANEL --store COL --product COL --week COL\n"
    "                             (--units COL | --log-units COL) --price COL\n"
    "                             [--deal COL] [--feature COL] [--cost COL] --out MODEL\n"
    "Example: stratagem train promo --data oj.csv --store store --product brand --week week \\\n"
    "           --units units --price price --deal deal --feature feat --cost cost --out oj.sgm\n"
    "\n"
    "Price and promotion response of a store x product x week panel: per product, log units on\n"
    "store and week effects, the own log price (with a store-level deviation of the slope),\n"
    "the other products' log prices (cross elasticities), deal and feature.  Prints each\n"
    "product's elasticity, deal and feature effects with week-clustered standard errors.\n"
    "  --data, -d FILE        the panel (required)\n"
    "  --store/--product/--week COL   the keys (required; week: a number or a date)\n"
    "  --units COL            units sold, > 0 (or --log-units COL, their log)\n"
    "  --price COL            the row's price, > 0 (required)\n"
    "  --deal COL             in-store deal 0/1\n"
    "  --feature COL          feature advertising, a share in [0, 1]\n"
    "  --cost COL             unit cost (remembered: evaluate reports gross profit)\n"
    "  --no-cross             leave out the other products' prices\n"
    "  --valid-weeks N        last weeks held out to choose the slope penalty (default 12)\n"
    "  --recent-weeks N       a future week's level: mean of the last N weeks (default:\n"
    "                         chosen among 4, 8, 13, 26 on the held-out weeks)\n"
    "  --slope-grid A,B,...   store-slope penalties tried (default 0.1,1,10,100,1000)\n"
    "  --draws N              coefficient draws kept for intervals (default 200)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --out, -o MODEL        model file to write (required)\n";

static const char HELP_PLAN_PROMO[] =
    "Usage: stratagem plan promo --model MODEL --data ITEMS --out PLAN.csv [options]\n"
    "Example: stratagem plan promo --model oj.sgm --data next_week.csv --changes -20,-10,0,5 \\\n"
    "           --deal-cost 5 --feature-cost 25 --budget 3000 --out plan.csv --summary plan.json\n"
    "\n"
    "For each store x product of ITEMS (the model's store and product columns, the regular\n"
    "price and the unit cost), chooses a price change and whether to run a deal and a feature,\n"
    "maximising expected gross profit (units x (price - cost) - fees) with the other\n"
    "products' prices in the store taken into account, within the budget.  Spend = fees +\n"
    "discount money (units x regular price x discount).  Prices outside what a store has\n"
    "charged are not offered.  The forecast is corrected for the optimiser's curse and comes\n"
    "with a 90% interval; the baseline is the regular price without promotion.\n"
    "  --model, -m MODEL      a promo model (required)\n"
    "  --data, -d FILE        the items (required)\n"
    "  --price COL            regular price column (default: the model's price column)\n"
    "  --cost COL             unit cost column (default: the model's cost column)\n"
    "  --changes A,B,...      price changes in percent (default -20,-10,0; 0 always offered)\n"
    "  --deal-cost C          fee of a deal per store x product (default: deals not offered)\n"
    "  --feature-cost C       fee of a feature ad (default: features not offered)\n"
    "  --budget B             cap on promotion spend (default: none)\n"
    "  --max-promos N         per store, at most N products on promotion (default: no limit)\n"
    "  --extrapolate          also offer prices outside the store's range\n"
    "  --draws N              draws for the forecast (default: all the model has)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --out, -o FILE         plan CSV (required)\n"
    "  --summary FILE.json    the forecast as JSON\n";

static const char HELP_EVALUATE_PROMO[] =
    "Usage: stratagem evaluate --model PROMO_MODEL --data PANEL [--json] [--seed N]\n"
    "\n"
    "A promo model on a held-out panel (typically later weeks): RMSE and MAE of log units by\n"
    "row, and each week's total units, revenue and (with the cost column) gross profit\n"
    "forecast from its prices and promotions, with a 90% interval, against what happened.\n";

static const char HELP_PREDICT_PROMO[] =
    "Usage: stratagem predict --model PROMO_MODEL --data PANEL --out FILE\n"
    "\n"
    "Expected units for each row of a panel (store, product, week, units_hat).\n";

const char *cli_promo_help(const char *topic)
{
    if (!strcmp(topic, "train")) return HELP_TRAIN_PROMO;
    if (!strcmp(topic, "plan")) return HELP_PLAN_PROMO;
    if (!strcmp(topic, "evaluate")) return HELP_EVALUATE_PROMO;
    if (!strcmp(topic, "predict")) return HELP_PREDICT_PROMO;
    return NULL;
}

/* "a,b,c" of numbers into v (at most max); returns the count or -1. */
static int parse_numbers(const char *s, double *v, int max)
{
    int n = 0;
    while (s && *s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || (*end && *end != ',') || !isfinite(x) || n == max) return -1;
        v[n++] = x;
        s = *end ? end + 1 : end;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * train promo */

int cli_train_promo(int argc, char **argv)
{
    const char *data = NULL, *store = NULL, *product = NULL, *week = NULL, *units = NULL;
    const char *log_units = NULL, *price = NULL, *deal = NULL, *feature = NULL, *cost = NULL;
    const char *out = NULL, *grid = NULL;
    int no_cross = 0, valid = 12, recent = 0, draws = 200, help = 0, n_pos;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},         {"store", 0, OPT_STR, &store, 0},
        {"product", 0, OPT_STR, &product, 0},     {"week", 0, OPT_STR, &week, 0},
        {"units", 0, OPT_STR, &units, 0},         {"log-units", 0, OPT_STR, &log_units, 0},
        {"price", 0, OPT_STR, &price, 0},         {"deal", 0, OPT_STR, &deal, 0},
        {"feature", 0, OPT_STR, &feature, 0},     {"cost", 0, OPT_STR, &cost, 0},
        {"no-cross", 0, OPT_FLAG, &no_cross, 0},  {"valid-weeks", 0, OPT_INT, &valid, 0},
        {"recent-weeks", 0, OPT_INT, &recent, 0}, {"slope-grid", 0, OPT_STR, &grid, 0},
        {"draws", 0, OPT_INT, &draws, 0},         {"seed", 0, OPT_U64, &seed, 0},
        {"out", 'o', OPT_STR, &out, 0},           {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("train", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_TRAIN_PROMO, stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("train", "missing --data FILE");
    if (!store || !product || !week)
        return cli_usage_error("train", "train promo needs --store, --product and --week");
    if (!units == !log_units)
        return cli_usage_error("train", "train promo needs --units COL or --log-units COL (one)");
    if (!price) return cli_usage_error("train", "missing --price COL");
    if (!out) return cli_usage_error("train", "missing --out MODEL");
    if (valid < 1 || recent < 0) return cli_usage_error("train", "--valid-weeks must be >= 1 and --recent-weeks >= 0");
    if (draws < 1 || draws > 10000) return cli_usage_error("train", "--draws must be in 1..10000");
    double g[32];
    int ng = 0;
    if (grid) {
        ng = parse_numbers(grid, g, 32);
        if (ng < 1) return cli_usage_error("train", "--slope-grid: expected up to 32 numbers, got '%s'", grid);
        for (int i = 0; i < ng; i++)
            if (!(g[i] > 0)) return cli_usage_error("train", "--slope-grid: penalties must be > 0");
    }
    sg_promo_opts o;
    sg_promo_opts_default(&o);
    o.store = store;
    o.product = product;
    o.week = week;
    o.units = units;
    o.log_units = log_units;
    o.price = price;
    o.deal = deal;
    o.feature = feature;
    o.cost = cost;
    o.cross = !no_cross;
    o.valid_weeks = valid;
    o.recent_weeks = recent;
    o.n_draws = draws;
    o.seed = seed;
    if (ng) {
        o.slope_grid = g;
        o.n_slope_grid = ng;
    }
    cli_data_opts dopt = {.categorical = NULL};
    char cats[512];
    snprintf(cats, sizeof cats, "%s,%s", store, product);
    dopt.categorical = cats;   /* keys keep their text ("007" stays "007") */
    int k = 0;
    const char *req[] = {store, product, week, units ? units : log_units, price, deal, feature, cost};
    for (int i = 0; i < 8 && k < 7; i++)
        if (req[i]) dopt.required[k++] = req[i];
    sg_table *t = NULL;
    int rc = cli_load_table(data, &dopt, &t);
    if (rc) return rc;
    if (!cli_quiet) o.on_progress = cli_progress_steps;
    sg_promo *m = NULL;
    sg_promo_report rep;
    sg_error err;
    sg_error_clear(&err);
    rc = sg_promo_train(&m, t, &o, &rep, &err);
    cli_progress_end();
    sg_table_free(t);
    if (rc) return cli_fail(&err);
    printf("panel: %lld rows, %d stores, %d products, %d weeks\n", (long long)rep.n_rows,
           rep.n_stores, rep.n_products, rep.n_weeks);
    printf("last %d weeks held out: log-units RMSE %.4f (store means alone: %.4f); chosen: "
           "store-slope penalty %g, a future week's level from the last %d weeks\n", valid,
           rep.valid_rmse, rep.valid_rmse_flat, rep.slope_l2, rep.recent_weeks);
    printf("product\telasticity\tse\tstore_sd\tdeal\tse\tfeature\tse\tsigma\n");
    for (int p = 0; p < sg_promo_n_products(m); p++) {
        sg_promo_coef c;
        sg_promo_coef_get(m, p, &c);
        printf("%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", sg_promo_product_label(m, p),
               c.elasticity, c.elasticity_se, c.store_sd, c.deal, c.deal_se, c.feature,
               c.feature_se, c.sigma);
    }
    rc = sg_promo_save(m, out, &err);
    if (rc) rc = cli_fail(&err);
    else if (!cli_quiet) fprintf(stderr, "stratagem: wrote %s\n", out);
    sg_promo_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * shared: load a model and a panel with its column names */

static int load_model_and_panel(const char *cmd, const char *model, const char *data,
                                sg_promo **m, sg_table **t)
{
    *m = NULL;
    *t = NULL;
    if (!model) return cli_usage_error(cmd, "missing --model MODEL");
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    sg_error err;
    sg_error_clear(&err);
    if (sg_promo_load(m, model, &err)) return cli_fail(&err);
    char cats[512];
    snprintf(cats, sizeof cats, "%s,%s", sg_promo_role(*m, "store"), sg_promo_role(*m, "product"));
    cli_data_opts dopt = {.categorical = cats};
    int rc = cli_load_table(data, &dopt, t);
    if (rc) {
        sg_promo_free(*m);
        *m = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * predict and evaluate */

int cli_predict_promo(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    int help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},     {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("predict", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_PREDICT_PROMO, stdout);
        return EXIT_OK;
    }
    if (!out) return cli_usage_error("predict", "missing --out FILE ('-' for standard output)");
    sg_promo *m;
    sg_table *t;
    int rc = load_model_and_panel("predict", model, data, &m, &t);
    if (rc) return rc;
    int64_t n = sg_table_n_rows(t), unseen = 0;
    double *u = sg_malloc_array((size_t)(n ? n : 1), sizeof *u);
    sg_error err;
    sg_error_clear(&err);
    if (!u) rc = EXIT_RUNTIME;
    else if (sg_promo_predict(m, t, u, &unseen, &err)) rc = cli_fail(&err);
    cli_out o;
    if (!rc && !(rc = cli_out_open(&o, out))) {
        int cs = sg_table_find(t, sg_promo_role(m, "store"));
        int cp = sg_table_find(t, sg_promo_role(m, "product"));
        int cw = sg_table_find(t, sg_promo_role(m, "week"));
        char b[256];
        fprintf(o.f, "%s,%s,%s,units_hat\n", sg_promo_role(m, "store"),
                sg_promo_role(m, "product"), sg_promo_role(m, "week"));
        for (int64_t i = 0; i < n; i++) {
            cli_csv_field(o.f, sg_table_cell(t, i, cs, b, sizeof b));
            fputc(',', o.f);
            cli_csv_field(o.f, sg_table_cell(t, i, cp, b, sizeof b));
            fputc(',', o.f);
            cli_csv_field(o.f, sg_table_cell(t, i, cw, b, sizeof b));
            fprintf(o.f, ",%.6g\n", u[i]);
        }
        rc = cli_out_commit(&o);
        if (!rc && unseen)
            fprintf(stderr, "stratagem: warning: %lld rows of stores that never sold the product "
                    "in training (the product's mean store effect was used)\n", (long long)unseen);
    }
    sg_free(u);
    sg_table_free(t);
    sg_promo_free(m);
    return rc;
}

int cli_evaluate_promo(int argc, char **argv)
{
    const char *model = NULL, *data = NULL;
    int help = 0, n_pos, json = 0;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"json", 0, OPT_FLAG, &json, 0},    {"seed", 0, OPT_U64, &seed, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_EVALUATE_PROMO, stdout);
        return EXIT_OK;
    }
    sg_promo *m;
    sg_table *t;
    int rc = load_model_and_panel("evaluate", model, data, &m, &t);
    if (rc) return rc;
    sg_promo_eval ev;
    sg_error err;
    sg_error_clear(&err);
    if (sg_promo_evaluate(m, t, seed, &ev, &err)) {
        rc = cli_fail(&err);
        sg_table_free(t);
        sg_promo_free(m);
        return rc;
    }
    int has_profit = ev.n_weeks && !isnan(ev.weeks[0].profit);
    if (json) {
        json_t *root = json_object(), *wk = json_array();
        json_object_set_new(root, "rows", json_integer(ev.n_rows));
        json_object_set_new(root, "rmse_log_units", json_real(ev.rmse_log));
        json_object_set_new(root, "mae_log_units", json_real(ev.mae_log));
        json_object_set_new(root, "weeks", json_integer(ev.n_weeks));
        json_object_set_new(root, "covered_units", json_integer(ev.covered_units));
        json_object_set_new(root, "covered_revenue", json_integer(ev.covered_revenue));
        json_object_set_new(root, "forecast_over_actual_units", json_real(ev.ratio_units));
        json_object_set_new(root, "forecast_over_actual_revenue", json_real(ev.ratio_revenue));
        if (has_profit) {
            json_object_set_new(root, "covered_profit", json_integer(ev.covered_profit));
            json_object_set_new(root, "forecast_over_actual_profit", json_real(ev.ratio_profit));
        }
        for (int w = 0; w < ev.n_weeks; w++) {
            const sg_promo_week_check *c = &ev.weeks[w];
            json_t *e = json_object();
            json_object_set_new(e, "week", json_real(c->week));
            json_object_set_new(e, "rows", json_integer(c->n_rows));
            json_object_set_new(e, "units", json_real(c->units));
            json_object_set_new(e, "units_hat", json_real(c->units_hat));
            json_object_set_new(e, "units_lo", json_real(c->units_lo));
            json_object_set_new(e, "units_hi", json_real(c->units_hi));
            if (has_profit) {
                json_object_set_new(e, "profit", json_real(c->profit));
                json_object_set_new(e, "profit_hat", json_real(c->profit_hat));
                json_object_set_new(e, "profit_lo", json_real(c->profit_lo));
                json_object_set_new(e, "profit_hi", json_real(c->profit_hi));
            }
            json_array_append_new(wk, e);
        }
        json_object_set_new(root, "by_week", wk);
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8))) rc = EXIT_RUNTIME;
        putchar('\n');
        json_decref(root);
    } else {
        printf("rows %lld, weeks %d: log-units RMSE %.4f, MAE %.4f\n", (long long)ev.n_rows,
               ev.n_weeks, ev.rmse_log, ev.mae_log);
        printf("week\trows\tunits\tforecast\t90%% interval\t%s\n",
               has_profit ? "profit\tforecast\t90% interval" : "");
        for (int w = 0; w < ev.n_weeks; w++) {
            const sg_promo_week_check *c = &ev.weeks[w];
            printf("%g\t%lld\t%.0f\t%.0f\t[%.0f, %.0f]", c->week, (long long)c->n_rows, c->units,
                   c->units_hat, c->units_lo, c->units_hi);
            if (has_profit)
                printf("\t%.0f\t%.0f\t[%.0f, %.0f]", c->profit, c->profit_hat, c->profit_lo,
                       c->profit_hi);
            putchar('\n');
        }
        printf("forecast / actual over all weeks: units %.3f, revenue %.3f", ev.ratio_units,
               ev.ratio_revenue);
        if (has_profit) printf(", profit %.3f", ev.ratio_profit);
        printf("\nweeks inside the 90%% interval: units %d of %d, revenue %d", ev.covered_units,
               ev.n_weeks, ev.covered_revenue);
        if (has_profit) printf(", profit %d", ev.covered_profit);
        putchar('\n');
    }
    sg_promo_eval_deinit(&ev);
    sg_table_free(t);
    sg_promo_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * plan promo */

static json_t *total_json(const sg_promo_total *t)
{
    json_t *e = json_object();
    json_object_set_new(e, "profit", json_real(t->profit));
    json_object_set_new(e, "profit_lo", json_real(t->profit_lo));
    json_object_set_new(e, "profit_hi", json_real(t->profit_hi));
    json_object_set_new(e, "units", json_real(t->units));
    json_object_set_new(e, "revenue", json_real(t->revenue));
    json_object_set_new(e, "spend", json_real(t->spend));
    return e;
}

int cli_plan_promo(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *summary = NULL, *price_col = NULL;
    const char *cost_col = NULL, *changes = "-20,-10,0";
    double deal_cost = -1, feature_cost = -1, budget = -1;
    int max_promos = 0, extrapolate = 0, draws = 0, help = 0, n_pos;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},          {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},              {"summary", 0, OPT_STR, &summary, 0},
        {"price", 0, OPT_STR, &price_col, 0},        {"cost", 0, OPT_STR, &cost_col, 0},
        {"changes", 0, OPT_STR, &changes, 0},        {"deal-cost", 0, OPT_DOUBLE, &deal_cost, 0},
        {"feature-cost", 0, OPT_DOUBLE, &feature_cost, 0},
        {"budget", 0, OPT_DOUBLE, &budget, 0},       {"max-promos", 0, OPT_INT, &max_promos, 0},
        {"extrapolate", 0, OPT_FLAG, &extrapolate, 0}, {"draws", 0, OPT_INT, &draws, 0},
        {"seed", 0, OPT_U64, &seed, 0},              {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("plan", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_PLAN_PROMO, stdout);
        return EXIT_OK;
    }
    if (!out) return cli_usage_error("plan", "missing --out PLAN.csv");
    double ch[64];
    int nch = parse_numbers(changes, ch, 64);
    if (nch < 0) return cli_usage_error("plan", "--changes: expected up to 64 percentages, got '%s'", changes);
    for (int i = 0; i < nch; i++) {
        if (!(ch[i] > -100 && ch[i] <= 100))
            return cli_usage_error("plan", "--changes: %g%% is outside (-100, 100]", ch[i]);
        ch[i] /= 100;
    }
    /* the three default to -1 (not offered, no budget): a value given must be >= 0 */
    if (cli_has_option(argc, argv, "deal-cost") && !(deal_cost >= 0))
        return cli_usage_error("plan", "--deal-cost must be >= 0");
    if (cli_has_option(argc, argv, "feature-cost") && !(feature_cost >= 0))
        return cli_usage_error("plan", "--feature-cost must be >= 0");
    if (cli_has_option(argc, argv, "budget") && !(budget >= 0))
        return cli_usage_error("plan", "--budget must be >= 0");
    if (max_promos < 0) return cli_usage_error("plan", "--max-promos must be >= 0");
    if (draws < 0) return cli_usage_error("plan", "--draws must be >= 0");
    sg_promo *m;
    sg_table *t;
    int rc = load_model_and_panel("plan", model, data, &m, &t);
    if (rc) return rc;
    if (!price_col) price_col = sg_promo_role(m, "price");
    if (!cost_col) cost_col = sg_promo_role(m, "cost");
    int cs = sg_table_find(t, sg_promo_role(m, "store"));
    int cp = sg_table_find(t, sg_promo_role(m, "product"));
    int cpr = price_col ? sg_table_find(t, price_col) : -1;
    int cc = cost_col ? sg_table_find(t, cost_col) : -1;
    int64_t n = sg_table_n_rows(t);
    sg_promo_item *items = NULL;
    sg_promo_choice *res = NULL;
    const char *miss = cs < 0 ? sg_promo_role(m, "store") : cp < 0 ? sg_promo_role(m, "product")
                       : cpr < 0 ? (price_col ? price_col : "(price)")
                       : cc < 0 ? (cost_col ? cost_col : "(cost: give --cost COL)") : NULL;
    if (miss) {
        fprintf(stderr, "stratagem: %s: no column '%s' (store, product, regular price and unit "
                "cost are needed)\n", data, miss);
        rc = EXIT_DATA;
        goto done;
    }
    if (!sg_table_num(t, cpr) || !sg_table_num(t, cc)) {
        fprintf(stderr, "stratagem: %s: the price and cost columns must be numbers\n", data);
        rc = EXIT_DATA;
        goto done;
    }
    items = sg_malloc_array((size_t)(n ? n : 1), sizeof *items);
    res = sg_malloc_array((size_t)(n ? n : 1), sizeof *res);
    if (!items || !res) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    const double *pv = sg_table_num(t, cpr), *cv = sg_table_num(t, cc);
    for (int64_t i = 0; i < n; i++) {
        char b[256];
        long long line = (long long)sg_table_row_line(t, i);
        const char *sl = sg_table_cell(t, i, cs, b, sizeof b);
        int s = sg_promo_store_index(m, sl);
        if (s < 0) {
            fprintf(stderr, "stratagem: %s:%lld: column '%s': expected a store the model was "
                    "trained on, got \"%s\"\n", data, line, sg_table_col_name(t, cs), sl);
            rc = EXIT_DATA;
            goto done;
        }
        const char *pl = sg_table_cell(t, i, cp, b, sizeof b);
        int p = sg_promo_product_index(m, pl);
        if (p < 0) {
            fprintf(stderr, "stratagem: %s:%lld: column '%s': expected a product the model was "
                    "trained on, got \"%s\"\n", data, line, sg_table_col_name(t, cp), pl);
            rc = EXIT_DATA;
            goto done;
        }
        if (!(pv[i] > 0) || !(cv[i] >= 0)) {
            fprintf(stderr, "stratagem: %s:%lld: expected a price > 0 and a cost >= 0, got "
                    "price %g and cost %g\n", data, line, pv[i], cv[i]);
            rc = EXIT_DATA;
            goto done;
        }
        items[i] = (sg_promo_item){s, p, pv[i], cv[i]};
    }
    sg_promo_plan_opts po;
    sg_promo_plan_opts_default(&po);
    if (nch >= 0) {
        po.changes = ch;
        po.n_changes = nch;
    }
    po.deal_cost = deal_cost;
    po.feature_cost = feature_cost;
    po.budget = budget;
    po.max_promos = max_promos;
    po.extrapolate = extrapolate;
    po.n_draws = draws;
    po.seed = seed;
    sg_promo_forecast fc;
    sg_error err;
    sg_error_clear(&err);
    if (sg_promo_plan(m, items, n, &po, res, &fc, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    fprintf(o.f, "%s,%s,price,change_pct,deal,feature,units,profit,spend,base_units,base_profit\n",
            sg_promo_role(m, "store"), sg_promo_role(m, "product"));
    for (int64_t i = 0; i < n; i++) {
        const sg_promo_choice *r = &res[i];
        cli_csv_field(o.f, sg_promo_store_label(m, items[i].store));
        fputc(',', o.f);
        cli_csv_field(o.f, sg_promo_product_label(m, items[i].product));
        fprintf(o.f, ",%.6g,%.6g,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", r->price, 100 * r->change,
                r->deal, r->feature, r->units, r->profit, r->spend, r->base_units,
                r->base_profit);
    }
    if ((rc = cli_out_commit(&o))) goto done;
    printf("plan: %lld store x product items, %lld on promotion, %lld with a price change",
           (long long)n, (long long)fc.n_promoted, (long long)fc.n_changed);
    if (budget >= 0) printf("; spend %.2f of the budget %.2f", fc.plan.spend, budget);
    printf("\n");
    printf("forecast gross profit %.2f [%.2f, %.2f] (90%%), units %.0f, revenue %.2f\n",
           fc.plan.profit, fc.plan.profit_lo, fc.plan.profit_hi, fc.plan.units, fc.plan.revenue);
    printf("baseline (regular prices, no promotion) %.2f [%.2f, %.2f], units %.0f\n",
           fc.base.profit, fc.base.profit_lo, fc.base.profit_hi, fc.base.units);
    printf("lift %.2f [%.2f, %.2f]; the point estimate's %.2f less %.2f for the optimiser's "
           "curse (%d draws)\n", fc.lift, fc.lift_lo, fc.lift_hi, fc.lift_naive, fc.optimism,
           fc.n_draws);
    if (fc.n_out_of_range)
        printf("%lld price options not offered: outside the prices the store has charged "
               "(--extrapolate allows them)\n", (long long)fc.n_out_of_range);
    if (summary) {
        json_t *root = json_object();
        json_object_set_new(root, "forecast", total_json(&fc.plan));
        json_object_set_new(root, "baseline", total_json(&fc.base));
        json_t *l = json_object();
        json_object_set_new(l, "profit", json_real(fc.lift));
        json_object_set_new(l, "profit_lo", json_real(fc.lift_lo));
        json_object_set_new(l, "profit_hi", json_real(fc.lift_hi));
        json_object_set_new(l, "uncorrected", json_real(fc.lift_naive));
        json_object_set_new(l, "optimism", json_real(fc.optimism));
        json_object_set_new(root, "lift", l);
        json_object_set_new(root, "items", json_integer(n));
        json_object_set_new(root, "promoted", json_integer(fc.n_promoted));
        json_object_set_new(root, "price_changes", json_integer(fc.n_changed));
        json_object_set_new(root, "out_of_range_options", json_integer(fc.n_out_of_range));
        json_object_set_new(root, "budget", budget >= 0 ? json_real(budget) : json_null());
        json_object_set_new(root, "lambda", json_real(fc.lambda));
        json_object_set_new(root, "draws", json_integer(fc.n_draws));
        cli_out so;
        if (!(rc = cli_out_open(&so, summary))) {
            if (json_dumpf(root, so.f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) ||
                fputc('\n', so.f) == EOF) {
                cli_out_abort(&so);
                rc = EXIT_RUNTIME;
            } else {
                rc = cli_out_commit(&so);
            }
        }
        json_decref(root);
    }
done:
    sg_free(items);
    sg_free(res);
    sg_table_free(t);
    sg_promo_free(m);
    return rc;
}
