/* cmd_world.c -- 'stratagem world': a campaign world with known truth (world.h).
 *
 *   world log        a logged campaign on CoIL customers (the logging policy's arms,
 *                    propensities and outcomes drawn from the truth)
 *   world customers  a fresh planning set (ids from 1,000,000)
 *   world outcomes   what really happened to the customers of a plan
 *   world score      a plan's true value, the best achievable, and its forecast vs truth
 *
 * The command parses options, reads and writes the files; the truth, the draws
 * and the best plan come from the library (src/eval/world.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_budget.h"
#include "cli_uplift.h"
#include "stratagem/mem.h"
#include "stratagem/world.h"

enum { A = SG_WORLD_N_ARMS };

/* Columns of a pool that are not copied as features. */
static const char *const NOT_FEATURES[] = {"customer_id", "id", "CARAVAN", "is_test", "treatment",
                                           "propensity", "converted", "margin", NULL};

/* A customers file: its table, ids and the covariates of the truth. */
typedef struct pool {
    sg_table *t;
    int id_col;         /* -1: rows numbered from 1 */
    int64_t n;
    int64_t *id;        /* (n) */
    sg_world_x *x;      /* (n) */
} pool;

static void pool_deinit(pool *p)
{
    sg_table_free(p->t);
    sg_free(p->id);
    sg_free(p->x);
    memset(p, 0, sizeof *p);
}

/* The integer in cell (i, j), or an error message; returns 0 on success. */
static int cell_id(const sg_table *t, int64_t i, int j, int64_t *out)
{
    char buf[256], *end;
    const double *v = sg_table_num(t, j);
    if (v && sg_table_col_type(t, j) == SG_COL_NUMBER) {
        if (isfinite(v[i]) && v[i] == floor(v[i]) && fabs(v[i]) < 9e15) {
            *out = (int64_t)v[i];
            return 0;
        }
    } else {
        const char *s = sg_table_cell(t, i, j, buf, sizeof buf);
        long long x = strtoll(s, &end, 10);
        if (end != s && *end == '\0') {
            *out = x;
            return 0;
        }
    }
    fprintf(stderr, "stratagem: %s:%lld: column '%s': expected an integer customer id, got "
            "\"%s\"\n", sg_table_name(t), (long long)sg_table_row_line(t, i),
            sg_table_col_name(t, j), sg_table_cell(t, i, j, buf, sizeof buf));
    return -1;
}

/* Load a customers file: ids from 'customer_id' (else 'id', else row numbers)
 * and the covariates.  Returns an exit code. */
static int pool_load(const char *path, pool *p)
{
    memset(p, 0, sizeof *p);
    cli_data_opts dopt = {.dedup = "error"};
    int rc = cli_load_table(path, &dopt, &p->t);
    if (rc) return rc;
    p->n = sg_table_n_rows(p->t);
    p->id_col = sg_table_find(p->t, "customer_id");
    if (p->id_col < 0) p->id_col = sg_table_find(p->t, "id");
    size_t nn = (size_t)(p->n ? p->n : 1);
    p->id = sg_malloc_array(nn, sizeof *p->id);
    p->x = sg_malloc_array(nn, sizeof *p->x);
    if (!p->id || !p->x) {
        fprintf(stderr, "stratagem: out of memory\n");
        pool_deinit(p);
        return EXIT_RUNTIME;
    }
    for (int64_t i = 0; i < p->n; i++) {
        if (p->id_col < 0) p->id[i] = i + 1;
        else if (cell_id(p->t, i, p->id_col, &p->id[i])) {
            pool_deinit(p);
            return EXIT_DATA;
        }
    }
    sg_error err;
    sg_error_clear(&err);
    if (sg_world_covariates(p->t, p->x, &err)) {
        rc = cli_fail(&err);
        pool_deinit(p);
        return rc;
    }
    return EXIT_OK;
}

static int is_feature(const pool *p, int j)
{
    if (j == p->id_col) return 0;
    for (const char *const *s = NOT_FEATURES; *s; s++)
        if (!strcmp(sg_table_col_name(p->t, j), *s)) return 0;
    return 1;
}

/* Write customer_id, <features>[, treatment, propensity, converted, margin]. */
static int write_rows(const char *path, const pool *p, const int64_t *src, const int64_t *id,
                      int64_t n, const sg_world_row *log)
{
    cli_out o;
    int rc = cli_out_open(&o, path);
    if (rc) return rc;
    int nc = sg_table_n_cols(p->t);
    char buf[512];
    fputs("customer_id", o.f);
    for (int j = 0; j < nc; j++)
        if (is_feature(p, j)) {
            fputc(',', o.f);
            cli_csv_field(o.f, sg_table_col_name(p->t, j));
        }
    fputs(log ? ",treatment,propensity,converted,margin\n" : "\n", o.f);
    for (int64_t k = 0; k < n; k++) {
        fprintf(o.f, "%lld", (long long)id[k]);
        for (int j = 0; j < nc; j++)
            if (is_feature(p, j)) {
                fputc(',', o.f);
                cli_csv_field(o.f, sg_table_cell(p->t, src[k], j, buf, sizeof buf));
            }
        if (log)
            fprintf(o.f, ",%s,%.6f,%d,%.6f", sg_world_arm_label(log[k].arm), log[k].propensity,
                    log[k].converted, log[k].margin);
        fputc('\n', o.f);
    }
    return cli_out_commit(&o);
}

/* ---------------------------------------------------------------- log, customers */

static int world_sample(int argc, char **argv, int is_log)
{
    const char *cmd = is_log ? "world log" : "world customers";
    const char *customers = NULL, *out = NULL;
    int help = 0, n_pos, rows = is_log ? 20000 : 10000;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"customers", 0, OPT_STR, &customers, 0}, {"rows", 0, OPT_INT, &rows, 0},
        {"seed", 0, OPT_U64, &seed, 0},           {"out", 'o', OPT_STR, &out, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        cli_print_help(stdout, "world");
        return EXIT_OK;
    }
    if (!customers) return cli_usage_error(cmd, "missing --customers FILE (CoIL 2000 rows)");
    if (!out) return cli_usage_error(cmd, "missing --out FILE");
    if (rows < 1) return cli_usage_error(cmd, "--rows must be >= 1");
    pool p;
    int rc = pool_load(customers, &p);
    if (rc) return rc;
    sg_error err;
    sg_error_clear(&err);
    int64_t *src = sg_malloc_array((size_t)rows, sizeof *src);
    int64_t *id = sg_malloc_array((size_t)rows, sizeof *id);
    sg_world_row *log = is_log ? sg_malloc_array((size_t)rows, sizeof *log) : NULL;
    if (!src || !id || (is_log && !log)) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (is_log) {
        if (sg_world_log(p.x, p.id, p.n, rows, seed, log, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        for (int64_t k = 0; k < rows; k++) {
            src[k] = log[k].src;
            id[k] = log[k].id;
        }
    } else if (sg_world_customers(p.id, p.n, rows, seed, src, id, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if ((rc = write_rows(out, &p, src, id, rows, log))) goto done;

    /* summary: the log's arms and outcomes, or the planning set's truth */
    if (is_log) {
        int64_t cnt[A] = {0};
        double conv = 0, margin = 0, pmin = 1;
        for (int64_t k = 0; k < rows; k++) {
            cnt[log[k].arm]++;
            conv += log[k].converted;
            margin += log[k].margin;
            if (log[k].propensity < pmin) pmin = log[k].propensity;
        }
        printf("world log: seed %llu: %d rows (", (unsigned long long)seed, rows);
        for (int a = 0; a < A; a++)
            printf("%s%s %lld", a ? ", " : "", sg_world_arm_label(a), (long long)cnt[a]);
        printf("); conversion %.4f, mean margin %.4f, min propensity %.4f -> %s\n",
               conv / rows, margin / rows, pmin, out);
    } else {
        double mu_sum[A] = {0}, p0 = 0;
        for (int64_t k = 0; k < rows; k++) {
            double pk[A], mu[A];
            sg_world_truth(&p.x[src[k]], pk, mu);
            p0 += pk[0];
            for (int a = 0; a < A; a++) mu_sum[a] += mu[a];
        }
        printf("world customers: seed %llu: %d customers, true mean p_control %.4f, mean margin "
               "by arm:", (unsigned long long)seed, rows, p0 / rows);
        for (int a = 0; a < A; a++)
            printf(" %s %.4f", sg_world_arm_label(a), mu_sum[a] / rows);
        printf(" -> %s\n", out);
    }
    rc = EXIT_OK;
done:
    sg_free(src);
    sg_free(id);
    sg_free(log);
    pool_deinit(&p);
    return rc;
}

/* ---------------------------------------------------------------- plans */

typedef struct id_row { int64_t id, row; } id_row;

static int cmp_id_row(const void *a, const void *b)
{
    const id_row *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* A plan over the customers of pool p: for each plan row k, the customer's pool
 * row and arm, and the propensity (the plan's column, else 1). */
typedef struct plan {
    sg_table *t;
    int64_t n;
    int64_t *row;    /* (n) */
    int32_t *arm;    /* (n) */
    double *prop;    /* (n) */
} plan;

static void plan_deinit(plan *q)
{
    sg_table_free(q->t);
    sg_free(q->row);
    sg_free(q->arm);
    sg_free(q->prop);
    memset(q, 0, sizeof *q);
}

static int plan_load(const char *path, const pool *p, plan *q)
{
    memset(q, 0, sizeof *q);
    cli_data_opts dopt = {.dedup = "error", .required = {"action"}};
    int rc = cli_load_table(path, &dopt, &q->t);
    if (rc) return rc;
    const sg_table *t = q->t;
    q->n = sg_table_n_rows(t);
    int id_col = p->id_col >= 0 ? sg_table_find(t, sg_table_col_name(p->t, p->id_col)) : -1;
    if (id_col < 0) id_col = sg_table_find(t, "customer_id");
    if (id_col < 0) id_col = 0;
    int act = sg_table_find(t, "action"), pcol = sg_table_find(t, "propensity");
    const double *pv = pcol >= 0 ? sg_table_num(t, pcol) : NULL;
    if (pcol >= 0 && !pv) {
        fprintf(stderr, "stratagem: %s: column 'propensity': expected numbers in (0, 1]\n", path);
        plan_deinit(q);
        return EXIT_DATA;
    }
    size_t nn = (size_t)(q->n ? q->n : 1), np = (size_t)(p->n ? p->n : 1);
    q->row = sg_malloc_array(nn, sizeof *q->row);
    q->arm = sg_malloc_array(nn, sizeof *q->arm);
    q->prop = sg_malloc_array(nn, sizeof *q->prop);
    id_row *map = sg_malloc_array(np, sizeof *map);
    int64_t *first = sg_malloc_array(np, sizeof *first);
    if (!q->row || !q->arm || !q->prop || !map || !first) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto fail;
    }
    for (int64_t i = 0; i < p->n; i++) {
        map[i] = (id_row){p->id[i], i};
        first[i] = -1;
    }
    qsort(map, (size_t)p->n, sizeof *map, cmp_id_row);
    for (int64_t i = 1; i < p->n; i++)
        if (map[i].id == map[i - 1].id) {
            fprintf(stderr, "stratagem: %s:%lld: customer %lld appears twice\n",
                    sg_table_name(p->t), (long long)sg_table_row_line(p->t, map[i].row),
                    (long long)map[i].id);
            rc = EXIT_DATA;
            goto fail;
        }
    char buf[512];
    for (int64_t k = 0; k < q->n; k++) {
        int64_t line = sg_table_row_line(t, k), cid;
        if (cell_id(t, k, id_col, &cid)) {
            rc = EXIT_DATA;
            goto fail;
        }
        id_row key = {cid, 0};
        id_row *hit = bsearch(&key, map, (size_t)p->n, sizeof *map, cmp_id_row);
        if (!hit) {
            fprintf(stderr, "stratagem: %s:%lld: customer %lld is not in %s\n", path,
                    (long long)line, (long long)cid, sg_table_name(p->t));
            rc = EXIT_DATA;
            goto fail;
        }
        if (first[hit->row] >= 0) {
            fprintf(stderr, "stratagem: %s:%lld: customer %lld appears twice (first at line "
                    "%lld); a plan gives each customer at most one action\n", path,
                    (long long)line, (long long)cid, (long long)first[hit->row]);
            rc = EXIT_DATA;
            goto fail;
        }
        first[hit->row] = line;
        const char *label = sg_table_cell(t, k, act, buf, sizeof buf);
        int a = sg_world_arm_index(label);
        if (a < 0) {
            fprintf(stderr, "stratagem: %s:%lld: column 'action': expected control, email, "
                    "coupon10 or coupon20, got \"%s\"\n", path, (long long)line, label);
            rc = EXIT_DATA;
            goto fail;
        }
        double pr = pv ? pv[k] : 1.0;
        if (!(pr > 0 && pr <= 1)) {
            fprintf(stderr, "stratagem: %s:%lld: column 'propensity': expected a number in "
                    "(0, 1], got \"%s\"\n", path, (long long)line,
                    sg_table_cell(t, k, pcol, buf, sizeof buf));
            rc = EXIT_DATA;
            goto fail;
        }
        q->row[k] = hit->row;
        q->arm[k] = a;
        q->prop[k] = pr;
    }
    sg_free(map);
    sg_free(first);
    return EXIT_OK;
fail:
    sg_free(map);
    sg_free(first);
    plan_deinit(q);
    return rc;
}

/* ---------------------------------------------------------------- outcomes */

static int world_outcomes(int argc, char **argv)
{
    const char *cmd = "world outcomes", *customers = NULL, *plan_path = NULL, *out = NULL;
    int help = 0, n_pos;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"customers", 0, OPT_STR, &customers, 0}, {"plan", 0, OPT_STR, &plan_path, 0},
        {"seed", 0, OPT_U64, &seed, 0},           {"out", 'o', OPT_STR, &out, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        cli_print_help(stdout, "world");
        return EXIT_OK;
    }
    if (!customers) return cli_usage_error(cmd, "missing --customers FILE");
    if (!plan_path) return cli_usage_error(cmd, "missing --plan FILE");
    if (!out) return cli_usage_error(cmd, "missing --out FILE");
    pool p;
    plan q;
    int rc = pool_load(customers, &p);
    if (rc) return rc;
    if ((rc = plan_load(plan_path, &p, &q))) {
        pool_deinit(&p);
        return rc;
    }
    size_t nn = (size_t)(q.n ? q.n : 1);
    sg_world_x *x = sg_malloc_array(nn, sizeof *x);
    int64_t *id = sg_malloc_array(nn, sizeof *id);
    int *conv = sg_malloc_array(nn, sizeof *conv);
    double *margin = sg_malloc_array(nn, sizeof *margin);
    sg_error err;
    sg_error_clear(&err);
    cli_out o;
    if (!x || !id || !conv || !margin) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int64_t k = 0; k < q.n; k++) {
        x[k] = p.x[q.row[k]];
        id[k] = p.id[q.row[k]];
    }
    if (sg_world_outcomes(x, id, q.arm, q.n, seed, conv, margin, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if ((rc = cli_out_open(&o, out))) goto done;
    fputs("customer_id,treatment,propensity,converted,margin\n", o.f);
    int64_t cnt[A] = {0}, cv[A] = {0};
    double mg[A] = {0};
    for (int64_t k = 0; k < q.n; k++) {
        fprintf(o.f, "%lld,%s,%.6g,%d,%.6f\n", (long long)id[k], sg_world_arm_label(q.arm[k]),
                q.prop[k], conv[k], margin[k]);
        cnt[q.arm[k]]++;
        cv[q.arm[k]] += conv[k];
        mg[q.arm[k]] += margin[k];
    }
    if ((rc = cli_out_commit(&o))) goto done;
    printf("world outcomes: seed %llu: %lld customers;", (unsigned long long)seed,
           (long long)q.n);
    for (int a = 0; a < A; a++)
        if (cnt[a])
            printf(" %s %lld (converted %lld, margin %.2f)", sg_world_arm_label(a),
                   (long long)cnt[a], (long long)cv[a], mg[a]);
    printf(" -> %s\n", out);
    rc = EXIT_OK;
done:
    sg_free(x);
    sg_free(id);
    sg_free(conv);
    sg_free(margin);
    plan_deinit(&q);
    pool_deinit(&p);
    return rc;
}

/* ---------------------------------------------------------------- score */

/* forecast.{effect,net,net_lo,net_hi,effect_lo,effect_hi} of a plan summary, then
 * forecast.conversions.{effect,effect_lo,effect_hi} (fc[6..8]) and forecast.log_effect
 * (fc[9]: the log's value, where the point forecast may be the model's); NaN when absent. */
static int read_forecast(const char *path, double *fc)
{
    static const char *const KEYS[] = {"effect", "effect_lo", "effect_hi", "net", "net_lo",
                                       "net_hi"};
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        fprintf(stderr, "stratagem: %s:%d: %s\n", path, je.line, je.text);
        return EXIT_DATA;
    }
    json_t *f = json_object_get(root, "forecast");
    if (!json_is_object(f)) {
        fprintf(stderr, "stratagem: %s: no \"forecast\" object (a summary of 'stratagem plan "
                "--summary')\n", path);
        json_decref(root);
        return EXIT_DATA;
    }
    for (int k = 0; k < 6; k++) {
        json_t *v = json_object_get(f, KEYS[k]);
        fc[k] = json_is_number(v) ? json_number_value(v) : (double)NAN;
    }
    json_t *c = json_object_get(f, "conversions");
    for (int k = 0; k < 3; k++) {
        json_t *v = json_is_object(c) ? json_object_get(c, KEYS[k]) : NULL;
        fc[6 + k] = json_is_number(v) ? json_number_value(v) : (double)NAN;
    }
    json_t *le = json_object_get(f, "log_effect");
    fc[9] = json_is_number(le) ? json_number_value(le) : (double)NAN;
    json_decref(root);
    if (isnan(fc[3])) {
        fprintf(stderr, "stratagem: %s: forecast has no \"net\"\n", path);
        return EXIT_DATA;
    }
    return EXIT_OK;
}

static json_t *counts_json(const int64_t *cnt)
{
    json_t *o = json_object();
    for (int a = 1; a < A; a++)
        json_object_set_new(o, sg_world_arm_label(a), json_integer((json_int_t)cnt[a]));
    return o;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static void print_counts(const int64_t *cnt)
{
    for (int a = 1; a < A; a++)
        printf("%s%s %lld", a > 1 ? ", " : "", sg_world_arm_label(a), (long long)cnt[a]);
}

static int world_score(int argc, char **argv)
{
    const char *cmd = "world score", *customers = NULL, *plan_path = NULL, *cost = NULL;
    const char *summary = NULL;
    double budget = NAN;
    int help = 0, n_pos, json = 0;
    cli_opt opts[] = {
        {"customers", 0, OPT_STR, &customers, 0}, {"plan", 0, OPT_STR, &plan_path, 0},
        {"budget", 0, OPT_DOUBLE, &budget, 0},    {"cost", 0, OPT_STR, &cost, 0},
        {"summary", 0, OPT_STR, &summary, 0},     {"json", 0, OPT_FLAG, &json, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        cli_print_help(stdout, "world");
        return EXIT_OK;
    }
    if (!customers) return cli_usage_error(cmd, "missing --customers FILE");
    if (!plan_path) return cli_usage_error(cmd, "missing --plan FILE");
    if (isnan(budget)) return cli_usage_error(cmd, "missing --budget B");
    if (budget < 0) return cli_usage_error(cmd, "--budget must be >= 0");
    if (!cost) return cli_usage_error(cmd, "missing --cost ARM=C,... (cost of every action)");
    char *labels[A];
    for (int a = 0; a < A; a++) labels[a] = (char *)sg_world_arm_label(a);
    double arm_cost[A] = {0}, fc[10];
    for (int k = 0; k < 10; k++) fc[k] = (double)NAN;
    uint8_t seen[A];
    int rc = cli_parse_arm_values(cmd, "--cost", cost, labels, A, arm_cost, seen);
    if (rc) return rc;
    for (int a = 1; a < A; a++) {
        if (!seen[a])
            return cli_usage_error(cmd, "--cost: no cost for arm '%s' (every action needs one)",
                                   labels[a]);
        if (!(arm_cost[a] >= 0)) return cli_usage_error(cmd, "--cost: costs must be >= 0");
    }
    if (summary && (rc = read_forecast(summary, fc))) return rc;
    pool p;
    plan q;
    if ((rc = pool_load(customers, &p))) return rc;
    if ((rc = plan_load(plan_path, &p, &q))) {
        pool_deinit(&p);
        return rc;
    }
    int32_t *arm = sg_calloc((size_t)(p.n ? p.n : 1), sizeof *arm);   /* absent = control */
    json_t *root = NULL;
    sg_error err;
    sg_error_clear(&err);
    sg_world_score s;
    if (!arm) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int64_t k = 0; k < q.n; k++) arm[q.row[k]] = q.arm[k];
    if (sg_world_score_plan(p.x, p.n, arm, arm_cost, budget, &s, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    double ratio = s.net != 0 ? fc[3] / s.net : (double)NAN;
    double eratio = s.effect != 0 ? fc[0] / s.effect : (double)NAN;
    int covers = summary && fc[4] <= s.net && s.net <= fc[5];
    int ecovers = summary && fc[1] <= s.effect && s.effect <= fc[2];
    int has_conv = summary && !isnan(fc[6]);
    double cratio = s.conversions != 0 ? fc[6] / s.conversions : (double)NAN;
    int ccovers = has_conv && fc[7] <= s.conversions && s.conversions <= fc[8];
    if (json) {
        root = json_pack("{s:I, s:f, s:{s:f, s:f, s:f}, s:b}", "customers", (json_int_t)s.n,
                         "budget", budget, "cost", labels[1], arm_cost[1], labels[2],
                         arm_cost[2], labels[3], arm_cost[3], "feasible", s.feasible);
        json_t *pl = json_pack("{s:f, s:f, s:f, s:f}", "effect", s.effect, "conversions",
                               s.conversions, "cost", s.cost, "net", s.net);
        json_object_set_new(pl, "contacts", counts_json(s.count));
        json_object_set_new(root, "plan", pl);
        json_t *be = json_pack("{s:f, s:f, s:f, s:f}", "effect", s.best_effect, "cost",
                               s.best_cost, "net", s.best_net, "bound", s.best_bound);
        json_object_set_new(be, "contacts", counts_json(s.best_count));
        json_object_set_new(root, "best", be);
        json_object_set_new(root, "share_of_best", num_or_null(s.share));
        if (summary) {
            json_t *f = json_object();
            json_object_set_new(f, "effect", num_or_null(fc[0]));
            json_object_set_new(f, "effect_lo", num_or_null(fc[1]));
            json_object_set_new(f, "effect_hi", num_or_null(fc[2]));
            json_object_set_new(f, "net", num_or_null(fc[3]));
            json_object_set_new(f, "net_lo", num_or_null(fc[4]));
            json_object_set_new(f, "net_hi", num_or_null(fc[5]));
            json_object_set_new(f, "net_ratio", num_or_null(ratio));
            json_object_set_new(f, "effect_ratio", num_or_null(eratio));
            json_object_set_new(f, "net_covered", json_boolean(covers));
            json_object_set_new(f, "effect_covered", json_boolean(ecovers));
            if (!isnan(fc[9])) {   /* the log's value of the plan, net of the same cost */
                double log_net = fc[9] - (fc[0] - fc[3]);
                json_object_set_new(f, "log_effect", num_or_null(fc[9]));
                json_object_set_new(f, "log_net_ratio",
                                    num_or_null(s.net != 0 ? log_net / s.net : (double)NAN));
            }
            if (has_conv)
                json_object_set_new(f, "conversions",
                                    json_pack("{s:f, s:f, s:f, s:o, s:b}", "effect", fc[6],
                                              "effect_lo", fc[7], "effect_hi", fc[8], "ratio",
                                              num_or_null(cratio), "covered", ccovers));
            json_object_set_new(root, "forecast", f);
        }
        if (!root || json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10))) {
            fprintf(stderr, "stratagem: cannot write the JSON\n");
            rc = EXIT_RUNTIME;
            goto done;
        }
        printf("\n");
    } else {
        printf("world score: %lld customers, budget %.6g, cost", (long long)s.n, budget);
        for (int a = 1; a < A; a++) printf(" %s=%.6g", labels[a], arm_cost[a]);
        printf("\n  plan contacts       %lld (", (long long)(s.n - s.count[0]));
        print_counts(s.count);
        printf("), cost %.4f%s\n", s.cost, s.feasible ? "" : "  OVER THE BUDGET");
        printf("  plan TRUE effect    %.4f  (incremental conversions %.2f)\n", s.effect,
               s.conversions);
        printf("  plan TRUE net       %.4f\n", s.net);
        printf("  best achievable net %.4f  (cost %.4f, bound %.4f; contacts ", s.best_net,
               s.best_cost, s.best_bound);
        print_counts(s.best_count);
        printf(")\n  share of best       %.4f\n", s.share);
        if (summary) {
            printf("  forecast net        %.4f [%.4f, %.4f]: forecast / truth %.3f; the 90%% "
                   "interval %s the truth\n", fc[3], fc[4], fc[5], ratio,
                   covers ? "covers" : "MISSES");
            printf("  forecast effect     %.4f [%.4f, %.4f]: forecast / truth %.3f; %s\n", fc[0],
                   fc[1], fc[2], eratio, ecovers ? "covered" : "NOT covered");
            if (has_conv)
                printf("  forecast conversions %.2f [%.2f, %.2f]: forecast / truth %.3f; %s\n",
                       fc[6], fc[7], fc[8], cratio, ccovers ? "covered" : "NOT covered");
        }
    }
    rc = EXIT_OK;
done:
    json_decref(root);
    sg_free(arm);
    plan_deinit(&q);
    pool_deinit(&p);
    return rc;
}

/* ---------------------------------------------------------------- dispatch */

int cmd_world(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        cli_print_help(argc < 1 ? stderr : stdout, "world");
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[0];
    if (!strcmp(sub, "log")) return world_sample(argc - 1, argv + 1, 1);
    if (!strcmp(sub, "customers")) return world_sample(argc - 1, argv + 1, 0);
    if (!strcmp(sub, "outcomes")) return world_outcomes(argc - 1, argv + 1);
    if (!strcmp(sub, "score")) return world_score(argc - 1, argv + 1);
    if (!strcmp(sub, "budget") || !strcmp(sub, "budget-score"))
        return cli_world_budget(sub, argc - 1, argv + 1);
    return cli_usage_error("world", "unknown subcommand '%s' (log, customers, outcomes, score, "
                           "budget, budget-score)", sub);
}
