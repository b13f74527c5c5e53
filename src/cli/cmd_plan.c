/* cmd_plan.c -- 'stratagem plan'.
 *
 * With an uplift model: who gets which action under a budget (sg_uplift_plan),
 * the forecast of the plan with 90% intervals next to the baselines, a JSON
 * summary and an optional self-contained HTML report (inline SVG charts).
 * With a response model ('--top N'): the N best rows by predicted response,
 * with the expected number of conversions among them and a 90% interval. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_budget.h"
#include "cli_promo.h"
#include "cli_uplift.h"
#include "cli_workspace.h"

#include "stratagem/log.h"
#include "stratagem/dist.h"
#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/model.h"
#include "stratagem/response.h"
#include "stratagem/uplift.h"

/* ---------------------------------------------------------------- response: --top N */

static int plan_top(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *where = NULL, *id = NULL, *out = NULL;
    const char *summary = NULL, *cat = NULL, *num = NULL;
    int help = 0, n_pos, top = -1;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},   {"data", 'd', OPT_STR, &data, 0},
        {"where", 0, OPT_STR, &where, 0},     {"id", 0, OPT_STR, &id, 0},
        {"top", 0, OPT_INT, &top, 0},         {"out", 'o', OPT_STR, &out, 0},
        {"summary", 0, OPT_STR, &summary, 0}, {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},     {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("plan", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        cli_print_help(stdout, "plan");
        return EXIT_OK;
    }
    if (top < 0) return cli_usage_error("plan", "missing --top N (the number of rows to choose)");
    if (!out) return cli_usage_error("plan", "missing --out FILE");
    cli_scored s;
    int rc = cli_score("plan", model, data, where, id, cat, num, &s);
    int64_t *idx = NULL;
    json_t *root = NULL;
    if (rc) goto done;
    int64_t k = top < s.n ? top : s.n;
    if (top > s.n)
        fprintf(stderr, "stratagem: warning: --top %d but only %lld rows: all are chosen\n", top,
                (long long)s.n);
    idx = sg_malloc_array((size_t)(k ? k : 1), sizeof *idx);
    if (!idx || sg_topk(s.score, s.n, k, idx) < 0) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    char buf[512];
    fprintf(o.f, "%s,score\n", s.id_col >= 0 ? sg_table_col_name(s.table, s.id_col) : "row");
    double sum = 0, var = 0;
    for (int64_t r = 0; r < k; r++) {
        double p = s.score[idx[r]];
        cli_csv_field(o.f, cli_row_id(&s, idx[r], buf, sizeof buf));
        fprintf(o.f, ",%.6g\n", p);
        sum += p;
        var += p * (1 - p);
    }
    if ((rc = cli_out_commit(&o))) goto done;
    int binary = sg_response_objective(s.model) == SG_OBJECTIVE_BINARY;
    /* conversions among the chosen rows: a sum of independent Bernoullis if the
     * probabilities are calibrated; 90% interval by the normal approximation */
    double lo = binary ? fmax(0, sum - 1.645 * sqrt(var)) : (double)NAN;
    double hi = binary ? sum + 1.645 * sqrt(var) : (double)NAN;
    printf("chose %lld of %lld rows -> %s\n", (long long)k, (long long)s.n, out);
    if (binary)
        printf("expected conversions %.1f (90%% interval %.1f to %.1f), mean probability %.4f\n",
               sum, lo, hi, k ? sum / (double)k : 0);
    else
        printf("expected total %.6g, mean %.6g\n", sum, k ? sum / (double)k : 0);
    if (summary) {
        root = json_pack("{s:I, s:I, s:s, s:{s:f, s:f, s:f}}", "chosen", (json_int_t)k, "rows",
                         (json_int_t)s.n, "plan", out, "forecast", "expected", sum, "lo",
                         binary ? lo : sum, "hi", binary ? hi : sum);
        if (!root || json_dump_file(root, summary, JSON_INDENT(2)) != 0) {
            fprintf(stderr, "stratagem: %s: cannot write summary\n", summary);
            rc = EXIT_RUNTIME;
        }
    }
done:
    json_decref(root);
    sg_free(idx);
    cli_scored_deinit(&s);
    return rc;
}

int cmd_plan(int argc, char **argv)
{
    if (sg_dist_size() > 1 && !cli_model_is_uplift(argc, argv)) {
        if (sg_dist_rank() == 0)
            fprintf(stderr, "stratagem: under mpirun only 'plan' on an uplift model shares its "
                    "work across processes\n");
        return EXIT_USAGE;
    }
    if (argc > 0 && !strcmp(argv[0], "promo")) return cli_plan_promo(argc - 1, argv + 1);
    if (argc > 0 && !strcmp(argv[0], "budget")) return cli_plan_budget(argc - 1, argv + 1);
    if (cli_model_task(argc, argv) == SG_TASK_PROMO) return cli_plan_promo(argc, argv);
    if (cli_model_task(argc, argv) == SG_TASK_BUDGET) return cli_plan_budget(argc, argv);
    if (cli_model_is_uplift(argc, argv)) return cli_plan_uplift(argc, argv);
    return plan_top(argc, argv);
}

/* ---------------------------------------------------------------- report (HTML + SVG) */

typedef struct series {
    const char *name;
    const char *color;
    const double *x, *y;      /* (n) */
    const double *lo, *hi;    /* (n) band or NULL */
    int n;
    int dashed;
} series;

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A line chart, 640 x 360, axes with 5 ticks each. */
static void svg_chart(FILE *f, const char *title, const char *xlab, const char *ylab,
                      const series *s, int n_series)
{
    const double W = 640, H = 360, L = 70, R = 20, T = 30, B = 50;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++) {
            double ylo = s[k].lo ? s[k].lo[i] : s[k].y[i], yhi = s[k].hi ? s[k].hi[i] : s[k].y[i];
            if (!isfinite(s[k].x[i]) || !isfinite(ylo) || !isfinite(yhi)) continue;
            x0 = fmin(x0, s[k].x[i]);
            x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, fmin(ylo, s[k].y[i]));
            y1 = fmax(y1, fmax(yhi, s[k].y[i]));
        }
    if (!(x1 > x0)) x0 = 0, x1 = 1;
    if (!(y1 > y0)) y0 = y0 - 1, y1 = y0 + 2;
    if (!isfinite(y0)) y0 = 0, y1 = 1;
    double pad = 0.05 * (y1 - y0);
    y0 -= pad;
    y1 += pad;
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (W - L - R))
#define PY(v) (H - B - ((v) - y0) / (y1 - y0) * (H - T - B))
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
            "font-family='sans-serif' font-size='11'>\n", W, H);
    fprintf(f, "<text x='%.0f' y='18' font-size='14' font-weight='bold'>", L);
    html_escape(f, title);
    fputs("</text>\n", f);
    fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' stroke='#999'/>\n",
            L, T, W - L - R, H - T - B);
    for (int k = 0; k <= 4; k++) {
        double xv = x0 + (x1 - x0) * k / 4, yv = y0 + (y1 - y0) * k / 4;
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", PX(xv), T,
                PX(xv), H - B);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", L, PY(yv),
                W - R, PY(yv));
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%.3g</text>\n", PX(xv), H - B + 15,
                xv);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>%.3g</text>\n", L - 4,
                PY(yv) + 4, yv);
    }
    if (y0 < 0 && y1 > 0)
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#666'/>\n", L, PY(0.0),
                W - R, PY(0.0));
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>", (L + W - R) / 2, H - 12);
    html_escape(f, xlab);
    fprintf(f, "</text>\n<text x='14' y='%.1f' text-anchor='middle' "
            "transform='rotate(-90 14 %.1f)'>", (T + H - B) / 2, (T + H - B) / 2);
    html_escape(f, ylab);
    fputs("</text>\n", f);
    for (int k = 0; k < n_series; k++) {
        const series *q = &s[k];
        if (q->lo && q->hi) {
            fputs("<polygon fill-opacity='0.15' fill='", f);
            fputs(q->color, f);
            fputs("' points='", f);
            for (int i = 0; i < q->n; i++) fprintf(f, "%.1f,%.1f ", PX(q->x[i]), PY(q->hi[i]));
            for (int i = q->n - 1; i >= 0; i--) fprintf(f, "%.1f,%.1f ", PX(q->x[i]), PY(q->lo[i]));
            fputs("'/>\n", f);
        }
        fprintf(f, "<polyline fill='none' stroke-width='2' stroke='%s'%s points='", q->color,
                q->dashed ? " stroke-dasharray='5,4'" : "");
        for (int i = 0; i < q->n; i++)
            if (isfinite(q->y[i])) fprintf(f, "%.1f,%.1f ", PX(q->x[i]), PY(q->y[i]));
        fputs("'/>\n", f);
        fprintf(f, "<rect x='%.0f' y='%.0f' width='12' height='3' fill='%s'/>", L + 10,
                T + 10 + 14.0 * k, q->color);
        fprintf(f, "<text x='%.0f' y='%.0f'>", L + 28, T + 15 + 14.0 * k);
        html_escape(f, q->name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
}

static const char *COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf"};

static void report_row(FILE *f, const char *name, const sg_uplift_forecast *q, int conv)
{
    fprintf(f, "<tr><td>");
    html_escape(f, name);
    fprintf(f, "</td><td>%lld</td><td>%.4g</td><td>%.4g &ndash; %.4g</td><td>%.4g</td>"
            "<td>%.4g</td><td>%.4g &ndash; %.4g</td></tr>\n", (long long)q->treated, q->effect,
            q->effect_lo, q->effect_hi, q->cost, conv ? q->effect : q->net, q->net_lo, q->net_hi);
}

typedef struct plan_ctx {
    const char *model_path, *data, *out;
    const sg_uplift *m;
    const sg_table *t;          /* the customers (rows[0..N) of it; rows NULL = all) */
    const int64_t *rows;
    const double *gain;
    int64_t N;
    sg_uplift_plan_opts po;
    const sg_uplift_plan_result *res;
    const char *unit;
} plan_ctx;

static int write_report(const char *path, const plan_ctx *c)
{
    const sg_uplift *m = c->m;
    int A = sg_uplift_n_arms(m), conv = c->po.target == SG_UPLIFT_CONV;
    enum { K = 40, NB = 11 };
    double *qx = NULL, *qy = NULL, *qr = NULL;
    int32_t *arm = NULL;
    int rc = EXIT_OK;
    cli_out o;
    if ((rc = cli_out_open(&o, path))) return rc;
    FILE *f = o.f;
    qx = sg_malloc_array((size_t)(K + 1), sizeof *qx);
    qy = sg_malloc_array((size_t)(A * (K + 1)), sizeof *qy);
    qr = sg_malloc_array((size_t)(A * (K + 1)), sizeof *qr);
    arm = sg_malloc_array((size_t)(c->N ? c->N : 1), sizeof *arm);
    if (!qx || !qy || !qr || !arm) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    const sg_uplift_plan_result *r = c->res;
    fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>stratagem plan</title>\n"
          "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
          "text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}"
          ".note{color:#555;font-size:90%}</style></head><body>\n", f);
    fputs("<h1>Campaign plan</h1>\n<p>Model <code>", f);
    html_escape(f, c->model_path);
    fputs("</code>, customers <code>", f);
    html_escape(f, c->data);
    fprintf(f, "</code>: %lld customers; objective %s; ", (long long)c->N,
            conv ? "incremental conversions" : "incremental outcome minus cost");
    if (isinf(c->po.budget)) fputs("no budget limit.</p>\n", f);
    else fprintf(f, "budget %.6g.</p>\n", c->po.budget);
    fputs("<h2>Forecast (90% intervals)</h2>\n<table><tr><th>policy</th><th>customers treated"
          "</th><th>effect</th><th>interval</th><th>cost</th><th>net</th><th>interval</th></tr>\n",
          f);
    report_row(f, "this plan", &r->plan, conv);
    report_row(f, "nobody", &r->nobody, conv);
    char name[200];
    snprintf(name, sizeof name, "best single action (%s), random order",
             r->single_arm > 0 ? sg_uplift_arm_label(m, r->single_arm) : "-");
    report_row(f, name, &r->single, conv);
    report_row(f, "random action, random order", &r->random, conv);
    fprintf(f, "</table>\n<p class='note'>Effects in %s. The intervals replay each rule on the "
            "%lld training-log rows with out-of-fold predictions and value it doubly robustly "
            "from the logged outcomes (for this plan %.4g). The model's sum of predicted "
            "effects for the plan is %.4g%s; the forecast is %s.</p>\n", c->unit,
            (long long)r->n_log, r->plan.log_effect, r->plan.naive_effect,
            c->po.sum_gain ? " (the effects of the model with trees of any features, kept "
                             "beside the additive trees that ranked)" : "",
            r->plan.basis == SG_FORECAST_MODEL ? "that sum, which the log's 99% interval holds; "
                                                 "the plan's interval also holds the sum's own "
                                                 "(the spread of the fold models)"
                                               : "the log's value");
    fputs("<h3>Customers per action</h3><table><tr><th>action</th><th>customers</th>"
          "<th>forecast effect</th></tr>\n", f);
    for (int a = 0; a < A; a++) {
        fputs("<tr><td>", f);
        html_escape(f, sg_uplift_arm_label(m, a));
        fprintf(f, "</td><td>%lld</td><td>%.4g</td></tr>\n",
                r->count ? (long long)r->count[a] : 0LL, r->arm_effect ? r->arm_effect[a] : 0.0);
    }
    fputs("</table>\n", f);

    /* Qini curves per arm, out-of-fold on the training log */
    series s[SG_UPLIFT_MAX_ARMS * 2];
    int ns = 0;
    for (int k = 0; k <= K; k++) qx[k] = (double)k / K;
    fputs("<h2>Qini curves (held-out, training log)</h2>\n", f);
    for (int a = 1; a < A && ns + 1 < (int)(sizeof s / sizeof s[0]); a++) {
        sg_uplift_curves cv = {K, qy + a * (K + 1), NULL, NULL, NULL};
        sg_uplift_arm_metrics am;
        sg_error err;
        if (sg_uplift_oof_metrics(m, c->po.target, a, &cv, &am, &err)) continue;
        for (int k = 0; k <= K; k++) qr[a * (K + 1) + k] = qx[k] * qy[a * (K + 1) + K];
        const char *col = COLORS[(a - 1) % 8];
        s[ns++] = (series){sg_uplift_arm_label(m, a), col, qx, qy + a * (K + 1), NULL, NULL,
                           K + 1, 0};
        s[ns++] = (series){"random", col, qx, qr + a * (K + 1), NULL, NULL, K + 1, 1};
        fprintf(f, "<p class='note'>");
        html_escape(f, sg_uplift_arm_label(m, a));
        fprintf(f, ": Qini coefficient %.3f, AUUC %.3f, uplift@10%% %.4g, uplift@30%% %.4g "
                "(%lld treated, %lld control rows)</p>\n", am.s.qini_coef, am.s.auuc, am.at_k[0],
                am.at_k[2], (long long)am.n_treated, (long long)am.n_control);
    }
    svg_chart(f, "Qini: incremental outcome vs share targeted (dashed: random)",
              "share of rows targeted, by predicted effect",
              "incremental outcome (log rows, 1/propensity weights)", s, ns);
    fputs("<p class='note'>Qini coefficient and AUUC are normalised: 0 = random targeting, "
          "1 = the perfect ordering (scikit-uplift's qini_auc_score and uplift_auc_score).</p>\n",
          f);

    /* budget vs value */
    double bx[NB], by[NB], blo[NB], bhi[NB], bn[NB];
    double bmax = isinf(c->po.budget) ? r->plan.cost : 2 * c->po.budget;
    if (!(bmax > 0)) bmax = 1;
    int nb = 0, level = sg_log_get_level();
    if (level == SG_LOG_INFO) sg_log_set_level(SG_LOG_WARN);
    for (int k = 0; k < NB; k++) {
        sg_uplift_plan_opts po = c->po;
        po.budget = bmax * k / (NB - 1);
        po.baselines = 0;
        po.n_boot = 200;
        po.explore = 0;    /* the curve of the optimised rule, without exploration */
        po.thompson = 0;
        po.conv_gain = NULL;
        sg_uplift_plan_result br;
        memset(&br, 0, sizeof br);
        sg_error err;
        if (sg_uplift_plan(m, c->gain, c->N, &po, arm, &br, &err) ||
            sg_uplift_plan_model_interval(m, c->t, c->rows, c->N, arm, &po, &br, &err)) {
            fprintf(stderr, "stratagem: report: budget %.6g: %s\n", po.budget, err.msg);
            continue;
        }
        bx[nb] = po.budget;
        by[nb] = br.plan.net;
        blo[nb] = br.plan.net_lo;
        bhi[nb] = br.plan.net_hi;
        bn[nb] = br.plan.naive_effect - (conv ? 0 : br.plan.cost);
        nb++;
    }
    sg_log_set_level(level);
    series bs[2] = {{"forecast net (90% band)", COLORS[0], bx, by, blo, bhi, nb, 0},
                    {"model's own sum (uncorrected)", COLORS[1], bx, bn, NULL, NULL, nb, 1}};
    fputs("<h2>Budget vs value</h2>\n", f);
    if (c->po.explore > 0 || c->po.thompson)
        fputs("<p class='note'>The curve is that of the optimised rule, without the plan's "
              "exploration.</p>\n", f);
    svg_chart(f, conv ? "Incremental conversions by budget" : "Net value (effect - cost) by budget",
              "budget", conv ? "incremental conversions" : "net value", bs, 2);
    fputs("</body></html>\n", f);
done:
    sg_free(qx);
    sg_free(qy);
    sg_free(qr);
    sg_free(arm);
    if (rc) {
        cli_out_abort(&o);
        return rc;
    }
    return cli_out_commit(&o);
}

/* ---------------------------------------------------------------- uplift plan */

/* Effects (and standard errors, NULL allowed) of rows[0..n) (NULL: all rows)
 * into eff, se (n, A).  Under mpirun the processes split the rows (scoring is a
 * plan's heavy part) and the sums give every process all of them, exactly: each
 * value is one process's, the others add zeros. */
static int predict_shared(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                          int A, int target, double *eff, double *se, sg_error *err)
{
    const int R = sg_dist_size(), me = sg_dist_rank();
    if (R == 1) return sg_uplift_predict(m, t, rows, n, target, NULL, eff, se, err);
    int64_t lo = n * me / R, hi = n * (me + 1) / R, *own = NULL;
    memset(eff, 0, (size_t)n * (size_t)A * sizeof *eff);
    if (se) memset(se, 0, (size_t)n * (size_t)A * sizeof *se);
    if (!rows && hi > lo) {
        if (!(own = sg_malloc_array((size_t)(hi - lo), sizeof *own)))
            return sg_error_set(err, SG_ENOMEM, "plan: out of memory for %lld rows",
                                (long long)(hi - lo));
        for (int64_t i = lo; i < hi; i++) own[i - lo] = i;
    }
    int rc = SG_OK;
    if (hi > lo)
        rc = sg_uplift_predict(m, t, rows ? rows + lo : own, hi - lo, target, NULL,
                               eff + (size_t)lo * (size_t)A, se ? se + (size_t)lo * (size_t)A : NULL,
                               err);
    sg_free(own);
    if (!rc) rc = sg_dist_sum_f64(eff, (size_t)n * (size_t)A, err);
    if (!rc && se) rc = sg_dist_sum_f64(se, (size_t)n * (size_t)A, err);
    return rc;
}

/* predict_shared into a new array *out (n, A, the caller frees); 0 or an exit code,
 * the error printed. */
static int predict_new(const sg_uplift *m, const sg_table *t, const int64_t *rows, int64_t n,
                       int A, int target, double **out)
{
    sg_error err;
    sg_error_clear(&err);
    *out = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof **out);
    if (!*out) {
        fprintf(stderr, "stratagem: out of memory\n");
        return EXIT_RUNTIME;
    }
    return predict_shared(m, t, rows, n, A, target, *out, NULL, &err) ? cli_fail(&err) : 0;
}

static json_t *forecast_json(const sg_uplift_forecast *q, double level)
{
    json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s}", "effect", q->effect,
                          "effect_lo", q->effect_lo, "effect_hi", q->effect_hi, "cost", q->cost,
                          "net", q->net, "net_lo", q->net_lo, "net_hi", q->net_hi,
                          "naive_effect", q->naive_effect, "basis",
                          sg_uplift_basis_name(q->basis));
    json_object_set_new(o, "model_se", json_real(q->model_se));
    json_object_set_new(o, "log_effect", json_real(q->log_effect));
    json_object_set_new(o, "log_effect_lo", json_real(q->log_lo));
    json_object_set_new(o, "log_effect_hi", json_real(q->log_hi));
    json_object_set_new(o, "se", json_real(q->se));
    json_object_set_new(o, "treated", json_integer((json_int_t)q->treated));
    json_object_set_new(o, "level", json_real(level));
    return o;
}

static void print_forecast(const char *name, const sg_uplift_forecast *q, int conv)
{
    printf("  %-30s %8lld  %10.4g [%10.4g, %10.4g]  %10.4g", name, (long long)q->treated,
           q->effect, q->effect_lo, q->effect_hi, q->cost);
    if (!conv) printf("  %10.4g [%10.4g, %10.4g]", q->net, q->net_lo, q->net_hi);
    printf("\n");
}

int cli_plan_uplift(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *where = NULL, *id = NULL, *out = NULL;
    const char *summary = NULL, *report = NULL, *cat = NULL, *num = NULL, *cost = NULL;
    const char *cap = NULL, *objective = "value", *ws = NULL, *basis = "auto";
    double budget = INFINITY, min_gain = 0, explore = 0;
    int help = 0, n_pos, n_boot = 1000, top = -1, thompson = 0, n_draws = 100;
    uint64_t seed = 20000;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},     {"data", 'd', OPT_STR, &data, 0},
        {"where", 0, OPT_STR, &where, 0},       {"id", 0, OPT_STR, &id, 0},
        {"out", 'o', OPT_STR, &out, 0},         {"summary", 0, OPT_STR, &summary, 0},
        {"report", 0, OPT_STR, &report, 0},     {"cost", 0, OPT_STR, &cost, 0},
        {"cap", 0, OPT_STR, &cap, 0},           {"objective", 0, OPT_STR, &objective, 0},
        {"budget", 0, OPT_DOUBLE, &budget, 0},  {"min-gain", 0, OPT_DOUBLE, &min_gain, 0},
        {"boot", 0, OPT_INT, &n_boot, 0},       {"seed", 0, OPT_U64, &seed, 0},
        {"top", 0, OPT_INT, &top, 0},           {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},       {"workspace", 0, OPT_STR, &ws, 0},
        {"explore", 0, OPT_DOUBLE, &explore, 0}, {"thompson", 0, OPT_FLAG, &thompson, 0},
        {"draws", 0, OPT_INT, &n_draws, 0},     {"forecast", 0, OPT_STR, &basis, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("plan", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        cli_print_help(stdout, "plan");
        return EXIT_OK;
    }
    if (!(explore >= 0 && explore < 1))
        return cli_usage_error("plan", "--explore must be in [0, 1) (got %g)", explore);
    if (n_draws < 1 || n_draws > 100000)
        return cli_usage_error("plan", "--draws must be 1..100000");
    if (strcmp(basis, "auto") != 0 && strcmp(basis, "log") != 0)
        return cli_usage_error("plan", "--forecast must be auto or log (got '%s')", basis);
    if (top >= 0) return cli_usage_error("plan", "--top is for response models; an uplift model "
                                         "plans with --budget B --cost ARM=C,...");
    if (!out) return cli_usage_error("plan", "missing --out FILE");
    if (ws && !strcmp(out, "-"))
        return cli_usage_error("plan", "--workspace needs the plan in a file (--out FILE)");
    if (!cost) return cli_usage_error("plan", "missing --cost ARM=C,... (cost per contact of "
                                      "every action)");
    if (!(budget >= 0)) return cli_usage_error("plan", "--budget must be >= 0");
    if (!(min_gain >= 0)) return cli_usage_error("plan", "--min-gain must be >= 0");
    if (n_boot < 0 || n_boot > 100000) return cli_usage_error("plan", "--boot must be 0..100000");
    int target;
    if (!strcmp(objective, "value")) target = SG_UPLIFT_VALUE;
    else if (!strcmp(objective, "conversions") || !strcmp(objective, "conversion"))
        target = SG_UPLIFT_CONV;
    else return cli_usage_error("plan", "--objective must be value or conversions (got '%s')",
                                objective);

    sg_error err;
    sg_error_clear(&err);
    sg_uplift *m = NULL;
    sg_table *t = NULL;
    int64_t *rows = NULL, n = 0;
    double *gain = NULL, *se = NULL, *prop = NULL, *cgain = NULL, *sgain = NULL;
    int32_t *arm = NULL, *planned = NULL;
    uint8_t *explored = NULL;
    json_t *root = NULL;
    int rc;
    if (!model) return cli_usage_error("plan", "missing --model MODEL");
    if (!data) return cli_usage_error("plan", "missing --data FILE");
    if (sg_uplift_load(&m, model, &err)) return cli_fail(&err);
    int A = sg_uplift_n_arms(m);
    char *labels[SG_UPLIFT_MAX_ARMS];
    for (int a = 0; a < A; a++) labels[a] = (char *)sg_uplift_arm_label(m, a);
    double arm_cost[SG_UPLIFT_MAX_ARMS] = {0}, capv[SG_UPLIFT_MAX_ARMS];
    int64_t caps[SG_UPLIFT_MAX_ARMS], count[SG_UPLIFT_MAX_ARMS];
    double arm_eff[SG_UPLIFT_MAX_ARMS];
    uint8_t seen[SG_UPLIFT_MAX_ARMS];
    if ((rc = cli_parse_arm_values("plan", "--cost", cost, labels, A, arm_cost, seen))) goto done;
    for (int a = 1; a < A; a++)
        if (!seen[a]) {
            rc = cli_usage_error("plan", "--cost: no cost for arm '%s' (every action needs one)",
                                 labels[a]);
            goto done;
        }
    for (int a = 0; a < A; a++) caps[a] = -1;
    if (cap) {
        if ((rc = cli_parse_arm_values("plan", "--cap", cap, labels, A, capv, seen))) goto done;
        for (int a = 1; a < A; a++)
            if (seen[a]) {
                if (capv[a] != floor(capv[a])) {
                    rc = cli_usage_error("plan", "--cap: arm '%s': expected a whole number",
                                         labels[a]);
                    goto done;
                }
                caps[a] = (int64_t)capv[a];
            }
    }
    if (target == SG_UPLIFT_CONV && !sg_uplift_has_conv(m)) {
        fprintf(stderr, "stratagem: %s: the outcome '%s' is a plain number, so the model cannot "
                "count conversions; use --objective value\n", model, sg_uplift_outcome(m));
        rc = EXIT_USAGE;
        goto done;
    }
    if (!id) id = sg_uplift_id(m);
    cli_data_opts dopt = {.id = NULL, .dedup = "error", .categorical = cat, .numeric = num};
    if ((rc = cli_load_table(data, &dopt, &t))) goto done;
    int id_col = id ? sg_table_find(t, id) : -1;
    if (id && id_col < 0 && !cli_quiet)
        fprintf(stderr, "stratagem: %s: no id column '%s'; rows are numbered instead\n", data, id);
    if ((rc = cli_filter_rows(t, where, &rows, &n))) goto done;
    if (id_col >= 0 && (rc = cli_check_unique_ids(t, id_col, rows, n))) goto done;
    gain = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof *gain);
    se = sg_malloc_array((size_t)(n ? n : 1) * (size_t)A, sizeof *se);
    arm = sg_malloc_array((size_t)(n ? n : 1), sizeof *arm);
    planned = sg_malloc_array((size_t)(n ? n : 1), sizeof *planned);
    prop = sg_malloc_array((size_t)(n ? n : 1), sizeof *prop);
    explored = sg_malloc_array((size_t)(n ? n : 1), sizeof *explored);
    root = json_object();
    if (!gain || !se || !arm || !planned || !prop || !explored || !root) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (predict_shared(m, t, rows, n, A, target, gain, se, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    /* a model that ranks with its effects and sums with its forecaster's */
    const sg_uplift *fm = sg_uplift_forecaster(m);
    if (fm != m && (rc = predict_new(fm, t, rows, n, A, target, &sgain))) goto done;
    const double *sum = sgain ? sgain : gain;
    /* a money plan on a model with a conversion part: its conversions are forecast too */
    if (target == SG_UPLIFT_VALUE && sg_uplift_has_conv(m) &&
        (rc = predict_new(fm, t, rows, n, A, SG_UPLIFT_CONV, &cgain)))
        goto done;
    /* under mpirun the scoring was shared; rank 0 solves, forecasts and writes */
    if (sg_dist_rank() > 0) {
        rc = EXIT_OK;
        goto done;
    }
    sg_uplift_plan_opts po;
    sg_uplift_plan_opts_default(&po);
    po.target = target;
    po.budget = budget;
    po.arm_cost = arm_cost;
    po.cap = cap ? caps : NULL;
    po.min_gain = min_gain;
    po.n_boot = n_boot;
    po.seed = seed;
    po.explore = explore;
    po.thompson = thompson;
    po.se = se;
    po.n_draws = n_draws;
    po.conv_gain = cgain;
    po.sum_gain = sgain;
    po.forecast_log = !strcmp(basis, "log");
    int exploring = explore > 0 || thompson;
    sg_uplift_plan_result res;
    memset(&res, 0, sizeof res);
    res.count = count;
    res.arm_effect = arm_eff;
    res.planned = planned;
    res.propensity = prop;
    res.explored = explored;
    if (sg_uplift_plan(m, gain, n, &po, arm, &res, &err) ||
        sg_uplift_plan_model_interval(m, t, rows, n, arm, &po, &res, &err)) {
        rc = cli_fail(&err);
        goto done;
    }

    /* plan.csv: id, action, expected effect (corrected), cost, predicted effect, se
     * [, propensity, planned_action, explored] */
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    char buf[512];
    cli_csv_field(o.f, id_col >= 0 ? sg_table_col_name(t, id_col) : "row");
    fputs(",action,expected_effect,cost,predicted_effect,se", o.f);
    fputs(exploring ? ",propensity,planned_action,planned_effect,explored\n" : "\n", o.f);
    for (int64_t k = 0; k < n; k++) {
        int64_t i = rows ? rows[k] : k;
        int a = arm[k];
        if (id_col >= 0) cli_csv_field(o.f, sg_table_cell(t, i, id_col, buf, sizeof buf));
        else fprintf(o.f, "%lld", (long long)(i + 1));
        fputc(',', o.f);
        cli_csv_field(o.f, labels[a]);
        if (a) fprintf(o.f, ",%.6g,%.6g,%.6g,%.6g", sum[k * A + a] * res.shrink, arm_cost[a],
                       gain[k * A + a], se[k * A + a]);
        else fputs(",0,0,0,0", o.f);
        if (exploring) {
            int b = planned[k];
            fprintf(o.f, ",%.6g,", prop[k]);
            cli_csv_field(o.f, labels[b]);
            fprintf(o.f, ",%.6g,%d", b ? sum[k * A + b] * res.shrink : 0.0, explored[k]);
        }
        fputc('\n', o.f);
    }
    if ((rc = cli_out_commit(&o))) goto done;

    /* summary */
    int conv = target == SG_UPLIFT_CONV;
    const char *unit = conv ? "incremental conversions" : sg_uplift_outcome(m);
    printf("plan: %lld of %lld customers get an action (", (long long)res.plan.treated,
           (long long)n);
    for (int a = 1; a < A; a++)
        printf("%s%s %lld", a > 1 ? ", " : "", labels[a], (long long)count[a]);
    printf("); cost %.6g", res.plan.cost);
    if (!isinf(budget)) printf(" of budget %.6g", budget);
    printf(" -> %s\n", out);
    if (exploring) {
        printf("exploration: ");
        if (explore > 0)
            printf("%lld customers (share %g) got a random action, costing %.6g%s; ",
                   (long long)res.n_explored, explore, res.explore_cost,
                   isinf(budget) ? "" : " (taken off the budget first)");
        if (thompson) printf("Thompson sampling over %d draws; ", n_draws);
        printf("the forecast is of the plan as executed\n");
    }
    printf("forecast with 90%% intervals, effect in %s (corrected for selection on %lld log "
           "rows):\n", unit, (long long)res.n_log);
    printf("  %-30s %8s  %36s  %10s%s\n", "policy", "treated", "effect [interval]", "cost",
           conv ? "" : "  net [interval]");
    print_forecast("this plan", &res.plan, conv);
    print_forecast("nobody", &res.nobody, conv);
    char name[160];
    snprintf(name, sizeof name, "best single arm (%s)",
             res.single_arm > 0 ? labels[res.single_arm] : "-");
    print_forecast(name, &res.single, conv);
    print_forecast("random arm", &res.random, conv);
    if (res.has_conversions)
        printf("the same plan's incremental conversions: %.4g [%.4g, %.4g] (the model's own "
               "sum %.4g)\n", res.conversions.effect, res.conversions.effect_lo,
               res.conversions.effect_hi, res.conversions.naive_effect);
    /* Which of the two the point forecast is: the model's calibrated sum where the log's
     * 99% interval holds it; else the log's value, which over the model's sum is the winner's
     * curse taken out (up to 1) or the log valuing the customers above the model. */
    printf("the model's sum of predicted effects for the plan is %.6g%s; the log's doubly "
           "robust value of the same rule %.6g [%.6g, %.6g]\n", res.plan.naive_effect,
           sgain ? " (the effects of the model with trees of any features, kept beside the "
                   "additive trees that ranked)" : "",
           res.plan.log_effect, res.plan.log_lo, res.plan.log_hi);
    if (res.plan.basis == SG_FORECAST_MODEL)
        printf("the log's 99%% interval holds the model's sum, so the forecast is the model's sum, "
               "and its interval holds the model's own too (se %.4g over the fold models; "
               "--forecast log: the log's value and interval)\n", res.plan.model_se);
    else if (po.forecast_log || res.plan.treated == 0)
        printf("the forecast is the log's value\n");
    else if (res.shrink <= 1.0)
        printf("the forecast is the log's value, %.3f of the model's sum (winner's curse "
               "correction)\n", res.shrink);
    else
        printf("the forecast is the log's value, %.3f times the model's sum (the log's outcomes "
               "value these customers above the model)\n", res.shrink);
    /* The verdict against doing nothing: the net in money, the effect for conversions
     * (whose cost is in other units). */
    double v_lo = conv ? res.plan.effect_lo : res.plan.net_lo;
    double v_hi = conv ? res.plan.effect_hi : res.plan.net_hi;
    const char *what = conv ? "effect" : "net", *verdict = sg_uplift_verdict(&res.plan, target);
    if (!strcmp(verdict, "nothing")) {
        printf("verdict: NOTHING to do: no customer's predicted gain beats the cost of an "
               "action\n");
    } else if (!strcmp(verdict, "gain")) {
        printf("verdict: GAIN: the plan's %s is above zero with 90%% confidence\n", what);
    } else if (!strcmp(verdict, "loss")) {
        printf("verdict: LOSS: the plan's %s is forecast below zero (90%% interval %.4g to %.4g); "
               "doing nothing is better\n", what, v_lo, v_hi);
    } else {
        printf("verdict: UNCLEAR: the 90%% interval of the plan's %s (%.4g to %.4g) includes "
               "zero; this log cannot show that the plan beats doing nothing\n", what, v_lo, v_hi);
    }

    json_t *fc = forecast_json(&res.plan, po.level), *arms = json_object(), *costs = json_object();
    for (int a = 0; a < A; a++) {
        json_object_set_new(arms, labels[a], json_pack("{s:I, s:f}", "customers",
                                                       (json_int_t)count[a], "effect", arm_eff[a]));
        if (a) json_object_set_new(costs, labels[a], json_real(arm_cost[a]));
    }
    json_object_set_new(fc, "arms", arms);
    if (res.has_conversions)
        json_object_set_new(fc, "conversions",
                            json_pack("{s:f, s:f, s:f, s:f, s:f, s:s, s:f, s:f, s:f, s:f}",
                                      "effect", res.conversions.effect, "effect_lo",
                                      res.conversions.effect_lo, "effect_hi",
                                      res.conversions.effect_hi, "se", res.conversions.se,
                                      "naive_effect", res.conversions.naive_effect, "basis",
                                      sg_uplift_basis_name(res.conversions.basis), "model_se",
                                      res.conversions.model_se, "log_effect",
                                      res.conversions.log_effect, "log_effect_lo",
                                      res.conversions.log_lo, "log_effect_hi",
                                      res.conversions.log_hi));
    json_object_set_new(fc, "verdict", json_string(verdict));
    json_object_set_new(root, "model", json_string(model));
    json_object_set_new(root, "customers", json_integer(n));
    json_object_set_new(root, "objective", json_string(conv ? "conversions" : "value"));
    json_object_set_new(root, "units", json_string(unit));
    json_object_set_new(root, "budget", isinf(budget) ? json_null() : json_real(budget));
    json_object_set_new(root, "cost", costs);
    json_object_set_new(root, "plan", json_string(out));
    json_object_set_new(root, "control", json_string(labels[0]));
    if (exploring)
        json_object_set_new(root, "exploration",
                            json_pack("{s:f, s:b, s:i, s:I, s:f}", "share", explore, "thompson",
                                      thompson, "draws", thompson ? n_draws : 0, "explored",
                                      (json_int_t)res.n_explored, "cost", res.explore_cost));
    json_object_set_new(root, "forecast", fc);
    json_t *bl = json_object(), *single = forecast_json(&res.single, po.level);
    json_object_set_new(single, "arm",
                        json_string(res.single_arm > 0 ? labels[res.single_arm] : ""));
    json_object_set_new(bl, "nobody", forecast_json(&res.nobody, po.level));
    json_object_set_new(bl, "best_single_arm", single);
    json_object_set_new(bl, "random", forecast_json(&res.random, po.level));
    json_object_set_new(root, "baselines", bl);
    json_object_set_new(root, "solver", json_pack("{s:f, s:f, s:f, s:i}", "objective",
                                                  res.stats.value, "bound", res.stats.bound,
                                                  "lambda", res.stats.lambda, "rounds",
                                                  res.stats.rounds));
    json_object_set_new(root, "log", json_pack("{s:I, s:I, s:o, s:f, s:i, s:f}", "rows",
                                               (json_int_t)res.n_log, "treated_by_rule",
                                               (json_int_t)res.n_log_treated, "budget_of_rule",
                                               isinf(res.budget_log) ? json_null()
                                                                     : json_real(res.budget_log),
                                               "ess", res.log_ess,
                                               "bootstrap", res.n_boot, "correction", res.shrink));
    if (ws) {
        /* stored before the summary is written, so the summary carries "plan_id" */
        int64_t plan_id = 0;
        if ((rc = cli_ledger_store_plan(ws, out, root, model, data, &plan_id))) goto done;
        printf("stored plan %lld in %s\n", (long long)plan_id, ws);
    }
    if (summary) {
        cli_out so;
        if ((rc = cli_out_open(&so, summary))) goto done;
        if (json_dumpf(root, so.f, JSON_INDENT(2) | JSON_REAL_PRECISION(10))) {
            fprintf(stderr, "stratagem: %s: cannot write the summary\n", summary);
            cli_out_abort(&so);
            rc = EXIT_RUNTIME;
            goto done;
        }
        fputc('\n', so.f);
        if ((rc = cli_out_commit(&so))) goto done;
    }
    if (report) {
        plan_ctx c = {model, data, out, m, t, rows, gain, n, po, &res, unit};
        if ((rc = write_report(report, &c))) goto done;
        if (!cli_quiet) fprintf(stderr, "stratagem: wrote the report %s\n", report);
    }
    rc = EXIT_OK;
done:
    json_decref(root);
    sg_free(gain);
    sg_free(cgain);
    sg_free(sgain);
    sg_free(se);
    sg_free(arm);
    sg_free(planned);
    sg_free(prop);
    sg_free(explored);
    sg_free(rows);
    sg_table_free(t);
    sg_uplift_free(m);
    return rc;
}
