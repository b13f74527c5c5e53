/* cmd_features.c -- 'stratagem features': one row of features per customer from an
 * event history (features.h: recency, frequency, windows, amounts, category
 * shares; targets of the days after the cut-off).
 *
 * The command reads the events (a file or WS:events), parses the options and
 * writes the CSV; the features come from the library (src/prep/features.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "stratagem/features.h"
#include "stratagem/mem.h"

const char cli_features_help_text[] =
    "Usage: stratagem features --data EVENTS --customer COL --time COL --out FILE [options]\n"
    "Example: stratagem features --data ratings.csv --customer userId --time timestamp \\\n"
    "           --time-unit seconds --as-of 2015-01-01 --label-days 365 --out users.csv\n"
    "\n"
    "One row per customer from the events (an order, a visit, a rating: one row each) at or\n"
    "before the cut-off: recency_days, tenure_days, frequency, mean_gap_days, events_<W>d per\n"
    "window; with --amount amount_total, amount_mean, amount_<W>d; with --category the share\n"
    "of the customer's events in each of the most frequent categories (share_<label>,\n"
    "share_other).  With --label-days D, targets from the D days after the cut-off:\n"
    "active_next_<D>d (0/1) and with --amount amount_next_<D>d; events after the cut-off\n"
    "never enter the features.  EVENTS may be WS:events (a workspace's imported events).\n"
    "\n"
    "Options:\n"
    "  --data FILE          events: CSV, JSON lines, or WS:events (required)\n"
    "  --customer COL       the customer of each event (required; read as a category)\n"
    "  --time COL           when: a date (YYYY-MM-DD[ HH:MM[:SS]]) or a number (required)\n"
    "  --time-unit U        for a number time column: seconds (Unix time) or days; required\n"
    "                       there, never guessed\n"
    "  --amount COL         money per event (optional)\n"
    "  --category COL       category per event: department, genre, channel (optional)\n"
    "  --as-of T            the cut-off: a date, or a number in the time unit (default: the\n"
    "                       last event)\n"
    "  --windows LIST       window lengths in days (default 30,90,365)\n"
    "  --top-categories N   categories given a share column (default 10)\n"
    "  --label-days D       targets of the D days after the cut-off (needs --as-of)\n"
    "  --out FILE           the features, CSV (required)\n";

/* The cut-off 'text' in days since 1970-01-01: a date read as the table loader
 * reads one, or a number in the time unit.  0 on success. */
static int parse_as_of(const char *text, int unit, double *out)
{
    char csv[128];
    if (snprintf(csv, sizeof csv, "t\n%s\n", text) >= (int)sizeof csv) return -1;
    sg_table *t = NULL;
    sg_error err;
    if (sg_table_load_mem(&t, "--as-of", csv, strlen(csv), NULL, &err) != SG_OK) return -1;
    const double *v = sg_table_num(t, 0);
    int type = sg_table_col_type(t, 0), rc = -1;
    if (v && !isnan(v[0]) && sg_table_n_rows(t) == 1) {
        if (type == SG_COL_DATE) *out = v[0], rc = 0;
        else if (unit == SG_TIME_SECONDS) *out = v[0] / 86400, rc = 0;
        else if (unit == SG_TIME_DAYS) *out = v[0], rc = 0;
        else rc = -2;
    }
    sg_table_free(t);
    return rc;
}

static int write_features(const char *path, const char *id_name, const sg_features *f)
{
    cli_out o;
    int rc = cli_out_open(&o, path);
    if (rc) return rc;
    cli_csv_field(o.f, id_name);
    for (int j = 0; j < f->n_cols; j++) {
        fputc(',', o.f);
        cli_csv_field(o.f, f->names[j]);
    }
    fputc('\n', o.f);
    for (int64_t i = 0; i < f->n; i++) {
        cli_csv_field(o.f, f->ids[i]);
        const double *x = f->x + (size_t)i * (size_t)f->n_cols;
        for (int j = 0; j < f->n_cols; j++) {
            if (isnan(x[j])) fputc(',', o.f);
            else fprintf(o.f, ",%.10g", x[j]);
        }
        fputc('\n', o.f);
    }
    return cli_out_commit(&o);
}

int cmd_features(int argc, char **argv)
{
    const char *data = NULL, *customer = NULL, *time_col = NULL, *unit = NULL, *amount = NULL;
    const char *category = NULL, *as_of = NULL, *windows = NULL, *out = NULL;
    int top = 10, label = 0, help = 0, n_pos = 0;
    char *pos[1];
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},        {"customer", 0, OPT_STR, &customer, 0},
        {"time", 0, OPT_STR, &time_col, 0},      {"time-unit", 0, OPT_STR, &unit, 0},
        {"amount", 0, OPT_STR, &amount, 0},      {"category", 0, OPT_STR, &category, 0},
        {"as-of", 0, OPT_STR, &as_of, 0},        {"windows", 0, OPT_STR, &windows, 0},
        {"top-categories", 0, OPT_INT, &top, 0}, {"label-days", 0, OPT_INT, &label, 0},
        {"out", 'o', OPT_STR, &out, 0},          {NULL, 0, 0, NULL, 0},
    };
    if (cli_parse("features", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_features_help_text, stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error("features", "missing --data");
    if (!customer) return cli_usage_error("features", "missing --customer");
    if (!time_col) return cli_usage_error("features", "missing --time");
    if (!out) return cli_usage_error("features", "missing --out");
    if (label > 0 && !as_of)
        return cli_usage_error("features", "--label-days needs --as-of: targets of the days "
                               "after the cut-off need a cut-off before the last event");
    sg_features_opts fo;
    sg_features_opts_default(&fo);
    fo.customer = customer;
    fo.time = time_col;
    fo.amount = amount;
    fo.category = category;
    fo.top_categories = top;
    fo.label_days = label;
    if (unit) {
        if (!strcmp(unit, "seconds")) fo.time_unit = SG_TIME_SECONDS;
        else if (!strcmp(unit, "days")) fo.time_unit = SG_TIME_DAYS;
        else return cli_usage_error("features", "--time-unit must be seconds or days (got '%s')",
                                    unit);
    }
    if (as_of) {
        int r = parse_as_of(as_of, fo.time_unit, &fo.as_of);
        if (r == -2)
            return cli_usage_error("features", "--as-of %s is a number: give --time-unit "
                                   "(seconds or days) or a date YYYY-MM-DD", as_of);
        if (r)
            return cli_usage_error("features", "--as-of must be a date YYYY-MM-DD or a number "
                                   "(got '%s')", as_of);
    }
    int win[64], n_win = 0;
    if (windows) {
        char **list = cli_split_list(windows);
        for (int k = 0; list && list[k]; k++) {
            char *end;
            long v = strtol(list[k], &end, 10);
            if (*end || v <= 0 || v > 100000 || n_win == 64) {
                cli_list_free(list);
                return cli_usage_error("features", "--windows must be 1 to 64 day counts > 0 "
                                       "(got '%s')", windows);
            }
            win[n_win++] = (int)v;
        }
        cli_list_free(list);
        fo.windows = win;
        fo.n_windows = n_win;
    }
    char cat[1024];
    snprintf(cat, sizeof cat, "%s%s%s", customer, category ? "," : "", category ? category : "");
    cli_data_opts d = {0};
    d.categorical = cat;
    d.required[0] = customer;
    d.required[1] = time_col;
    int k = 2;
    if (amount) d.required[k++] = amount;
    if (category) d.required[k++] = category;
    sg_table *t = NULL;
    int rc = cli_load_table(data, &d, &t);
    if (rc) return rc;
    sg_features f;
    sg_error err;
    sg_error_clear(&err);
    if (sg_features_build(t, &fo, &f, &err) != SG_OK) {
        sg_table_free(t);
        return cli_fail(&err);
    }
    sg_table_free(t);
    rc = write_features(out, customer, &f);
    if (!rc && !cli_quiet) {
        char day[32];
        time_t secs = (time_t)floor(f.as_of * 86400 + 0.5);
        struct tm tm;
        strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
        fprintf(stderr, "features: %lld customers x %d columns (%d targets) as of %s UTC; %lld "
                "events used, %lld after the cut-off%s, %lld without a customer -> %s\n",
                (long long)f.n, f.n_cols, f.n_targets, day, (long long)f.n_used,
                (long long)f.n_after, label > 0 ? " (targets only)" : " (ignored)",
                (long long)f.n_no_customer, out);
    }
    sg_features_deinit(&f);
    return rc;
}
