/* ledger.c -- the prediction ledger: plans stored with their forecast, outcomes
 * fed back, predicted against actual.
 *
 * A plan is stored whole: every customer's action, planned action, propensity,
 * expected effect and cost, plus a snapshot of the customer's features (the
 * 'cells' of plan_rows), so that feedback can later add the executed actions
 * and their outcomes to the campaign log exactly as the customers looked when
 * the plan was made.
 *
 * Realised effect.  The forecast is the incremental outcome of the plan's
 * targeted customers (those whose planned action is not the control) against
 * leaving them alone.  Outcomes alone cannot show that unless some targeted
 * customers were left alone at random (exploration, a hold-out) with known
 * propensities.  Over the targeted customers with an outcome, with weights
 * w = 1 / propensity of the executed action, the self-normalised IPS
 * estimates of the mean outcome under the plan (rows that followed it) and
 * under the control (rows held out) are
 *     V1 = sum w y / sum w  over followed rows,   V0 = the same over held-out rows,
 * and the realised effect is n_targeted * (V1 - V0), with the delta-method
 * variance  sum w^2 (y - V)^2 / (sum w)^2  of each mean.  The interval uses the
 * forecast's level.  Without held-out rows the effect is reported as not
 * identifiable (and why), never guessed.  The same estimate per group of
 * predicted effect (deciles by default, highest first) gives the calibration:
 * the weighted least-squares slope of realised on predicted group means.
 *
 * A plan whose every customer had a random action (all propensities < 1, as
 * after plan --explore) forecasts the plan as executed, exploration included,
 * over all its customers.  Its realised effect is then that of the executed
 * policy against nobody: n_customers * (V1 - V0), V1 the plain mean outcome of
 * the customers with an outcome (the policy that logged them is the one
 * valued), V0 the self-normalised IPS mean of those executed as the control
 * (w0 = 1 / propensity), with the influence function
 * (y - V1) - w0 (y - V0) / mean(w0) for the variance, floored at the variance
 * the two means would have if every control row varied as the control rows do
 * together (a handful of held-out rows with weight 1/propensity ~ 40 whose
 * outcomes are all 0 would otherwise look precise); 'predicted' and the net
 * use every customer's expected effect and cost.  The groups still compare
 * the planned action with the control among targeted customers, ordered by the
 * planned action's expected effect ('planned_effect'). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stratagem/csv.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "store/store_private.h"

#define MAX_LABELS 64

/* ---------------------------------------------------------------------------
 * small helpers */

/* Format a double for storage as text (NULL for NaN): 17 digits round-trip. */
static const char *fmt_num(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) return NULL;
    snprintf(buf, cap, "%.17g", v);
    return buf;
}

static int label_index(char **labels, int *n, const char *v, int add)
{
    for (int k = 0; k < *n; k++)
        if (!strcmp(labels[k], v)) return k;
    if (!add) return -1;
    if (*n >= MAX_LABELS) return -2;
    if (!(labels[*n] = sg_strdup(v))) return -3;
    return (*n)++;
}

static void free_labels(char **labels, int n)
{
    for (int k = 0; k < n; k++) sg_free(labels[k]);
}

/* probit((1 + level) / 2): the normal quantile of a two-sided interval (Acklam's
 * rational approximation refined by one Newton step; |error| < 1e-9). */
static double z_of_level(double level)
{
    if (!(level > 0 && level < 1)) level = 0.9;
    double p = 0.5 + level / 2, q = p - 0.5, x;
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.97575) {
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double t = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) /
            ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    return x - e * sqrt(2 * M_PI) * exp(x * x / 2);
}

/* ---------------------------------------------------------------------------
 * plan rows in memory */

typedef struct plan_meta {
    int64_t id, customers;
    char objective[32];
    char units[SG_STORE_NAME_MAX];
    char control[SG_STORE_NAME_MAX];
    sg_forecast_in fc;
} plan_meta;

typedef struct plan_rows {
    int64_t n;
    store_buf text;            /* customer ids back to back, NUL-terminated */
    int64_t *off;              /* (n) */
    int8_t *arm, *planned;     /* (n) indices into labels */
    double *prop, *expected, *cost;   /* (n) NaN = none */
    double *rank;              /* (n) expected effect of the planned action (groups' order) */
    char *labels[MAX_LABELS];
    int n_labels;
    int control;               /* index of the control label */
    str_map map;               /* customer -> row */
} plan_rows;

static void plan_rows_free(plan_rows *p)
{
    buf_free(&p->text);
    sg_free(p->off);
    sg_free(p->arm);
    sg_free(p->planned);
    sg_free(p->prop);
    sg_free(p->expected);
    sg_free(p->cost);
    sg_free(p->rank);
    free_labels(p->labels, p->n_labels);
    map_free(&p->map);
    memset(p, 0, sizeof *p);
}

static int load_meta(sg_store *s, int64_t plan_id, plan_meta *m, sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    int rc = o->prepare(s->db, "SELECT objective, units, control, customers, effect, effect_lo, "
                        "effect_hi, cost, net, net_lo, net_hi, forecast_level FROM plans "
                        "WHERE id = $1", &st, err);
    if (rc != SG_OK) return rc;
    if ((rc = o->bind_i64(st, 1, plan_id, err)) != SG_OK) goto out;
    int r = o->step(st, err);
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (r == 0) {
        rc = sg_error_set(err, SG_ENOTFOUND, "%s: no plan %lld (see 'stratagem plans %s')", s->ws,
                          (long long)plan_id, s->ws);
        goto out;
    }
    memset(m, 0, sizeof *m);
    m->id = plan_id;
    const char *v;
    snprintf(m->objective, sizeof m->objective, "%s", (v = o->col_text(st, 0)) ? v : "value");
    snprintf(m->units, sizeof m->units, "%s", (v = o->col_text(st, 1)) ? v : "");
    snprintf(m->control, sizeof m->control, "%s", (v = o->col_text(st, 2)) ? v : "");
    m->customers = o->col_i64(st, 3);
    double *f[8] = {&m->fc.effect, &m->fc.effect_lo, &m->fc.effect_hi, &m->fc.cost, &m->fc.net,
                    &m->fc.net_lo, &m->fc.net_hi, &m->fc.level};
    for (int k = 0; k < 8; k++) *f[k] = o->col_f64(st, 4 + k);
    o->reset(st);
    rc = SG_OK;
out:
    o->finalize(st);
    return rc;
}

static int load_plan_rows(sg_store *s, const plan_meta *m, plan_rows *p, sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    memset(p, 0, sizeof *p);
    size_t cap = (size_t)(m->customers > 0 ? m->customers : 1);
    p->off = sg_malloc_array(cap, sizeof *p->off);
    p->arm = sg_malloc_array(cap, sizeof *p->arm);
    p->planned = sg_malloc_array(cap, sizeof *p->planned);
    p->prop = sg_malloc_array(cap, sizeof *p->prop);
    p->expected = sg_malloc_array(cap, sizeof *p->expected);
    p->cost = sg_malloc_array(cap, sizeof *p->cost);
    p->rank = sg_malloc_array(cap, sizeof *p->rank);
    if (!p->off || !p->arm || !p->planned || !p->prop || !p->expected || !p->cost || !p->rank)
        goto nomem;
    if ((p->control = label_index(p->labels, &p->n_labels, m->control, 1)) < 0) goto nomem;
    int rc = o->prepare(s->db, "SELECT customer, arm, planned_arm, propensity, expected_effect, "
                        "cost, planned_effect FROM plan_rows WHERE plan_id = $1 ORDER BY seq",
                        &st, err);
    if (rc != SG_OK) goto out;
    if ((rc = o->bind_i64(st, 1, m->id, err)) != SG_OK) goto out;
    int r;
    while ((r = o->step(st, err)) == 1) {
        if ((size_t)p->n >= cap) {
            rc = sg_error_set(err, SG_EIO, "%s: plan %lld has more rows than recorded", s->ws,
                              (long long)m->id);
            goto out;
        }
        int64_t i = p->n;
        const char *cust = o->col_text(st, 0), *arm = o->col_text(st, 1),
                   *planned = o->col_text(st, 2);
        p->off[i] = (int64_t)p->text.n;
        buf_put(&p->text, cust ? cust : "", strlen(cust ? cust : "") + 1);
        int a = label_index(p->labels, &p->n_labels, arm ? arm : "", 1);
        int b = planned ? label_index(p->labels, &p->n_labels, planned, 1) : a;
        if (a == -2 || b == -2) {
            rc = sg_error_set(err, SG_EIO, "%s: plan %lld has more than %d actions", s->ws,
                              (long long)m->id, MAX_LABELS);
            goto out;
        }
        if (a < 0 || b < 0 || p->text.oom) goto nomem;
        p->arm[i] = (int8_t)a;
        p->planned[i] = (int8_t)b;
        p->prop[i] = o->col_f64(st, 3);
        p->expected[i] = o->col_f64(st, 4);
        p->cost[i] = o->col_f64(st, 5);
        p->rank[i] = o->col_f64(st, 6);
        if (isnan(p->rank[i])) p->rank[i] = p->expected[i];
        p->n++;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    for (int64_t i = 0; i < p->n; i++)
        if (map_put(&p->map, p->text.p + p->off[i], i) != SG_OK) goto nomem;
    rc = SG_OK;
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading plan %lld", s->ws,
                      (long long)m->id);
out:
    o->finalize(st);
    if (rc != SG_OK) plan_rows_free(p);
    return rc;
}

static int find_label(const plan_rows *p, const char *v)
{
    for (int k = 0; k < p->n_labels; k++)
        if (!strcmp(p->labels[k], v)) return k;
    return -1;
}

/* Find a customer id; numbers written differently ("007" vs "7") match by value. */
static int64_t find_customer(const str_map *m, const char *id)
{
    int64_t i = map_get(m, id);
    if (i >= 0) return i;
    char *end;
    double v = strtod(id, &end);
    if (end == id || *end || !isfinite(v)) return -1;
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    return strcmp(buf, id) ? map_get(m, buf) : -1;
}

/* ---------------------------------------------------------------------------
 * storing a plan */

/* Read the header of a CSV file into a NULL-terminated list (owned). */
static int read_header(const char *path, char ***out, int *n_out, sg_error *err)
{
    sg_csv *csv = NULL;
    const sg_csv_field *f;
    int nf, rc = sg_csv_open(&csv, path, err);
    if (rc != SG_OK) return rc;
    rc = sg_csv_next(csv, &f, &nf, err);
    if (rc <= 0) {
        sg_csv_free(csv);
        return rc < 0 ? rc : sg_error_set(err, SG_EPARSE, "%s: empty file: no header row", path);
    }
    char **names = sg_calloc((size_t)nf + 1, sizeof *names);
    for (int j = 0; names && j < nf; j++)
        if (!(names[j] = sg_strndup(f[j].ptr, f[j].len))) {
            store_free_list(names);
            names = NULL;
        }
    sg_csv_free(csv);
    if (!names) return sg_error_set(err, SG_ENOMEM, "%s: out of memory reading the header", path);
    *out = names;
    *n_out = nf;
    return SG_OK;
}

static int has_name(char **names, const char *name)
{
    for (int j = 0; names[j]; j++)
        if (!strcmp(names[j], name)) return j;
    return -1;
}

/* Cell text of a table, NULL when missing. */
static const char *cell(const sg_table *t, int64_t i, int j, char *buf, size_t cap)
{
    sg_table_cell(t, i, j, buf, cap);
    return buf[0] ? buf : NULL;
}

/* The JSON object of row i of 't' (every column). */
static void row_json(store_buf *b, const sg_table *t, int64_t i)
{
    char v[1024];
    buf_putc(b, '{');
    for (int j = 0; j < sg_table_n_cols(t); j++) {
        const char *name = sg_table_col_name(t, j);
        if (j) buf_putc(b, ',');
        buf_json_str(b, name, strlen(name));
        buf_putc(b, ':');
        const char *x = cell(t, i, j, v, sizeof v);
        if (x) buf_json_str(b, x, strlen(x));
        else buf_put(b, "null", 4);
    }
    buf_putc(b, '}');
}

/* id text -> row of the features table. */
static int feature_map(const sg_table *f, const char *id_col, store_buf *text, str_map *m,
                       sg_error *err)
{
    int64_t n = sg_table_n_rows(f);
    int j = id_col ? sg_table_find(f, id_col) : -1;
    if (id_col && j < 0)
        return sg_error_set(err, SG_EINVAL, "%s: no id column '%s' in the customer data",
                            sg_table_name(f), id_col);
    int64_t *off = sg_malloc_array((size_t)(n ? n : 1), sizeof *off);
    if (!off) return sg_error_set(err, SG_ENOMEM, "out of memory matching the customers");
    char buf[1024];
    for (int64_t i = 0; i < n; i++) {
        off[i] = (int64_t)text->n;
        if (j >= 0) sg_table_cell(f, i, j, buf, sizeof buf);
        else snprintf(buf, sizeof buf, "%lld", (long long)i + 1);
        buf_put(text, buf, strlen(buf) + 1);
    }
    int rc = text->oom ? SG_ENOMEM : SG_OK;
    for (int64_t i = 0; i < n && rc == SG_OK; i++) rc = map_put(m, text->p + off[i], i);
    sg_free(off);
    if (rc != SG_OK) return sg_error_set(err, SG_ENOMEM, "out of memory matching the customers");
    return SG_OK;
}

static int insert_model(sg_store *s, const sg_plan_input *p, const char *now, int64_t *model_id,
                        sg_error *err)
{
    char sha[65];
    int rc, found = 0;
    *model_id = 0;
    if (!p->model_path) return SG_OK;
    if ((rc = sg_store_sha256_file(p->model_path, sha, NULL, err)) != SG_OK) return rc;
    const char *params[] = {sha, NULL};
    if ((rc = store_query_i64(s, "SELECT id FROM models WHERE sha256 = $1", params, model_id,
                              &found, err)) != SG_OK || found)
        return rc;
    store_stmt *st = NULL;
    if ((rc = s->ops->prepare(s->db, "INSERT INTO models (path, sha256, created) VALUES ($1, $2, "
                              "$3) RETURNING id", &st, err)) != SG_OK)
        return rc;
    if (!(rc = s->ops->bind_text(st, 1, p->model_path, err)) &&
        !(rc = s->ops->bind_text(st, 2, sha, err)) && !(rc = s->ops->bind_text(st, 3, now, err))) {
        int r = s->ops->step(st, err);
        if (r == 1) {
            *model_id = s->ops->col_i64(st, 0);
            s->ops->step(st, NULL);
        }
        rc = r < 0 ? r : SG_OK;
    }
    s->ops->finalize(st);
    return rc;
}

static int insert_plan(sg_store *s, const sg_plan_input *p, const char *now, int64_t model_id,
                       const char *plan_sha, int64_t n, int64_t treated, int64_t *plan_id,
                       sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    int rc = o->prepare(s->db, "INSERT INTO plans (created, model_id, data_spec, data_sha256, "
                        "plan_path, plan_sha256, objective, units, control, customers, treated, "
                        "effect, effect_lo, effect_hi, cost, net, net_lo, net_hi, forecast_level, "
                        "summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                        "$14, $15, $16, $17, $18, $19, $20) RETURNING id", &st, err);
    if (rc != SG_OK) return rc;
    const sg_forecast_in *f = &p->forecast;
    double fv[8] = {f->effect, f->effect_lo, f->effect_hi, f->cost, f->net, f->net_lo, f->net_hi,
                    f->level};
    if ((rc = o->bind_text(st, 1, now, err))) goto out;
    rc = model_id ? o->bind_i64(st, 2, model_id, err) : o->bind_text(st, 2, NULL, err);
    if (rc || (rc = o->bind_text(st, 3, p->data, err)) ||
        (rc = o->bind_text(st, 4, p->data_sha256, err)) ||
        (rc = o->bind_text(st, 5, p->plan_path, err)) ||
        (rc = o->bind_text(st, 6, plan_sha, err)) ||
        (rc = o->bind_text(st, 7, p->objective ? p->objective : "value", err)) ||
        (rc = o->bind_text(st, 8, p->units, err)) || (rc = o->bind_text(st, 9, p->control, err)) ||
        (rc = o->bind_i64(st, 10, n, err)) || (rc = o->bind_i64(st, 11, treated, err)))
        goto out;
    for (int k = 0; k < 8; k++)
        if ((rc = o->bind_f64(st, 12 + k, fv[k], err))) goto out;
    if ((rc = o->bind_text(st, 20, p->summary, err))) goto out;
    int r = o->step(st, err);
    if (r < 0) {
        rc = r;
        goto out;
    }
    *plan_id = o->col_i64(st, 0);
    o->step(st, NULL);
    rc = SG_OK;
out:
    o->finalize(st);
    return rc;
}

int sg_store_plan_add(sg_store *s, const sg_plan_input *p, int64_t *plan_id, sg_error *err)
{
    if (!p || !p->plan_path) return sg_error_set(err, SG_EINVAL, "plan: no plan file given");
    if (!p->control || !*p->control)
        return sg_error_set(err, SG_EINVAL, "%s: plan: the control label is not known",
                            p->plan_path);
    char **names = NULL;
    int n_names = 0, rc;
    sg_table *t = NULL;
    store_buf ftext = {0}, cells = {0};
    str_map fmap = {0};
    char plan_sha[65], now[32];
    const char *cat[3] = {NULL}, *num[7] = {NULL};
    const char *req[] = {"action", "expected_effect", "cost", NULL};

    if ((rc = sg_store_sha256_file(p->plan_path, plan_sha, NULL, err)) != SG_OK) return rc;
    if ((rc = read_header(p->plan_path, &names, &n_names, err)) != SG_OK) return rc;
    int nc = 0, nn = 0;
    static const char *const CATS[] = {"action", "planned_action"};
    static const char *const NUMS[] = {"expected_effect", "cost", "predicted_effect", "se",
                                       "propensity", "planned_effect"};
    for (int k = 0; k < 2; k++)
        if (has_name(names, CATS[k]) > 0) cat[nc++] = CATS[k];
    for (int k = 0; k < 6; k++)
        if (has_name(names, NUMS[k]) > 0) num[nn++] = NUMS[k];
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.id_col = names[0];
    lo.categorical = cat;
    lo.numeric = num;
    lo.required = req;
    if ((rc = sg_table_load_csv(&t, p->plan_path, &lo, err)) != SG_OK) goto out;
    int j_act = sg_table_find(t, "action"), j_plan = sg_table_find(t, "planned_action");
    int j_exp = sg_table_find(t, "expected_effect"), j_cost = sg_table_find(t, "cost");
    int j_pred = sg_table_find(t, "predicted_effect"), j_se = sg_table_find(t, "se");
    int j_prop = sg_table_find(t, "propensity"), j_pe = sg_table_find(t, "planned_effect");
    int64_t n = sg_table_n_rows(t), treated = 0;
    const double *prop = j_prop >= 0 ? sg_table_num(t, j_prop) : NULL;
    for (int64_t i = 0; i < n; i++) {
        const char *a = sg_table_label(t, j_act, sg_table_codes(t, j_act)[i]);
        if (!a) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column 'action': expected an action, got "
                              "\"\"", p->plan_path, (long long)sg_table_row_line(t, i));
            goto out;
        }
        if (prop && !isnan(prop[i]) && !(prop[i] > 0 && prop[i] <= 1)) {
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column 'propensity': expected a "
                              "probability in (0, 1], got %g", p->plan_path,
                              (long long)sg_table_row_line(t, i), prop[i]);
            goto out;
        }
        const char *pl = j_plan >= 0 ? sg_table_label(t, j_plan, sg_table_codes(t, j_plan)[i]) : a;
        treated += strcmp(pl ? pl : a, p->control) != 0;
    }

    /* the snapshot: every plan customer must be found in the data */
    int64_t *frow = NULL;
    if (p->features) {
        if ((rc = feature_map(p->features, p->features_id, &ftext, &fmap, err)) != SG_OK) goto out;
        if (!(frow = sg_malloc_array((size_t)(n ? n : 1), sizeof *frow))) goto nomem;
        int64_t n_missing = 0;
        char first[128] = "", buf[1024];
        for (int64_t i = 0; i < n; i++) {
            sg_table_cell(t, i, 0, buf, sizeof buf);
            frow[i] = find_customer(&fmap, buf);
            if (frow[i] < 0 && n_missing++ == 0) snprintf(first, sizeof first, "%.100s", buf);
        }
        if (n_missing) {
            sg_free(frow);
            rc = sg_error_set(err, SG_EINVAL, "%s: customer '%s' of the plan is not in the "
                              "customer data %s%s (%lld such customers)", p->plan_path, first,
                              p->data ? p->data : sg_table_name(p->features),
                              p->features_id ? "" : " (rows numbered)", (long long)n_missing);
            goto out;
        }
    }

    /* the one transaction */
    int64_t model_id = 0, id = 0;
    store_now(s, now);
    if ((rc = store_begin(s, err)) != SG_OK) goto out_frow;
    if ((rc = insert_model(s, p, now, &model_id, err)) != SG_OK) goto fail;
    if ((rc = insert_plan(s, p, now, model_id, plan_sha, n, treated, &id, err)) != SG_OK) goto fail;
    static const char *const COLS[] = {"plan_id", "seq", "customer", "arm", "planned_arm",
                                       "propensity", "expected_effect", "predicted_effect", "se",
                                       "cost", "cells", "planned_effect"};
    if ((rc = s->ops->copy_begin(s->db, "plan_rows", COLS, 12, NULL, err)) != SG_OK) goto fail;
    char sid[32], sseq[32], cust[1024], b[6][40];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    for (int64_t i = 0; i < n; i++) {
        const char *a = sg_table_label(t, j_act, sg_table_codes(t, j_act)[i]);
        const char *pl =
            j_plan >= 0 ? sg_table_label(t, j_plan, sg_table_codes(t, j_plan)[i]) : NULL;
        int js[6] = {j_prop, j_exp, j_pred, j_se, j_cost, j_pe};
        const char *v[6];
        for (int k = 0; k < 6; k++)
            v[k] = js[k] >= 0 ? fmt_num(b[k], sizeof b[k], sg_table_num(t, js[k])[i]) : NULL;
        cells.n = 0;
        if (p->features) row_json(&cells, p->features, frow[i]);
        if (cells.oom) goto nomem_tx;
        snprintf(sseq, sizeof sseq, "%lld", (long long)i);
        sg_table_cell(t, i, 0, cust, sizeof cust);
        const char *vals[12] = {sid, sseq, cust, a, pl ? pl : a, v[0], v[1], v[2], v[3], v[4],
                                p->features ? cells.p : NULL, v[5]};
        if ((rc = s->ops->copy_row(s->db, vals, err)) != SG_OK) goto fail;
    }
    if ((rc = s->ops->copy_end(s->db, err)) != SG_OK) goto fail;
    if ((rc = store_commit(s, err)) != SG_OK) goto fail;
    SG_LOG(SG_LOG_DEBUG, "store", "%s: stored plan %lld (%lld customers, %lld targeted)", s->ws,
           (long long)id, (long long)n, (long long)treated);
    *plan_id = id;
    rc = SG_OK;
    goto out_frow;
nomem_tx:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory storing the plan", p->plan_path);
fail:
    store_rollback(s);
out_frow:
    sg_free(frow);
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory storing the plan", p->plan_path);
out:
    store_free_list(names);
    sg_table_free(t);
    buf_free(&ftext);
    buf_free(&cells);
    map_free(&fmap);
    return rc;
}

int sg_store_plans(sg_store *s, int64_t plan_id, int (*fn)(void *ud, const sg_plan_record *r),
                   void *ud, sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT p.id, p.model_id, p.created, m.path, m.sha256, p.data_spec, p.data_sha256, "
             "p.plan_path, p.plan_sha256, p.objective, p.units, p.control, p.summary, p.customers, "
             "p.treated, p.n_outcomes, p.effect, p.effect_lo, p.effect_hi, p.cost, p.net, "
             "p.net_lo, p.net_hi, p.forecast_level, p.realised, p.realised_lo, p.realised_hi "
             "FROM plans p LEFT JOIN models m ON m.id = p.model_id %s ORDER BY p.id",
             plan_id > 0 ? "WHERE p.id = $1" : "");
    int rc = o->prepare(s->db, sql, &st, err);
    if (rc != SG_OK) return rc;
    if (plan_id > 0 && (rc = o->bind_i64(st, 1, plan_id, err)) != SG_OK) goto out;
    int r, n = 0;
    while ((r = o->step(st, err)) == 1) {
        sg_plan_record rec;
        memset(&rec, 0, sizeof rec);
        rec.id = o->col_i64(st, 0);
        rec.model_id = o->col_i64(st, 1);
        const char **txt[11] = {&rec.time, &rec.model, &rec.model_sha256, &rec.data,
                                &rec.data_sha256, &rec.plan_path, &rec.plan_sha256, &rec.objective,
                                &rec.units, &rec.control, &rec.summary};
        for (int k = 0; k < 11; k++) *txt[k] = o->col_text(st, 2 + k);
        rec.customers = o->col_i64(st, 13);
        rec.treated = o->col_i64(st, 14);
        rec.n_outcomes = o->col_i64(st, 15);
        double *f[8] = {&rec.forecast.effect, &rec.forecast.effect_lo, &rec.forecast.effect_hi,
                        &rec.forecast.cost, &rec.forecast.net, &rec.forecast.net_lo,
                        &rec.forecast.net_hi, &rec.forecast.level};
        for (int k = 0; k < 8; k++) *f[k] = o->col_f64(st, 16 + k);
        rec.realised = o->col_f64(st, 24);
        rec.realised_lo = o->col_f64(st, 25);
        rec.realised_hi = o->col_f64(st, 26);
        rec.has_realised = !isnan(rec.realised);
        n++;
        if ((rc = fn(ud, &rec)) != 0) goto out;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (plan_id > 0 && n == 0)
        rc = sg_error_set(err, SG_ENOTFOUND, "%s: no plan %lld (see 'stratagem plans %s')", s->ws,
                          (long long)plan_id, s->ws);
out:
    o->finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * the report */

void sg_feedback_opts_default(sg_feedback_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_groups = 10;
    o->max_listed = 10;
}

/* Self-normalised IPS mean and its delta-method variance, accumulated. */
typedef struct ipw {
    double sw, swy, sw2, sw2y, sw2yy;
    int64_t n;
} ipw;

static void ipw_add(ipw *a, double w, double y)
{
    a->sw += w;
    a->swy += w * y;
    a->sw2 += w * w;
    a->sw2y += w * w * y;
    a->sw2yy += w * w * y * y;
    a->n++;
}

static double ipw_mean(const ipw *a) { return a->swy / a->sw; }

static double ipw_var(const ipw *a)
{
    double v = ipw_mean(a);
    double ss = a->sw2yy - 2 * v * a->sw2y + v * v * a->sw2;
    return ss > 0 ? ss / (a->sw * a->sw) : 0;
}

typedef struct ranked {
    double e;
    int64_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->e != y->e) return x->e < y->e ? 1 : -1;   /* highest first */
    return (x->i > y->i) - (x->i < y->i);
}

/* Fill 'rep' (plan part) from the outcomes recorded for the plan. */
static int compute_report(sg_store *s, const plan_meta *m, const plan_rows *p, int n_groups,
                          sg_feedback_report *rep, sg_error *err)
{
    const store_ops *o = s->ops;
    store_stmt *st = NULL;
    int64_t n = p->n;
    double *y = sg_malloc_array((size_t)(n ? n : 1), sizeof *y);
    double *w = sg_malloc_array((size_t)(n ? n : 1), sizeof *w);
    int8_t *ex = sg_malloc_array((size_t)(n ? n : 1), sizeof *ex);
    ranked *rk = sg_malloc_array((size_t)(n ? n : 1), sizeof *rk);
    int rc;
    if (!y || !w || !ex || !rk) {
        rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory computing the report", s->ws);
        goto out;
    }
    for (int64_t i = 0; i < n; i++) y[i] = NAN;
    int conv = !strcmp(m->objective, "conversions");
    rep->conversions = conv;
    if ((rc = o->prepare(s->db, "SELECT customer, arm, propensity, outcome FROM outcomes WHERE "
                         "plan_id = $1 AND status = 'ok'", &st, err)) != SG_OK)
        goto out;
    if ((rc = o->bind_i64(st, 1, m->id, err)) != SG_OK) goto out;
    int r;
    while ((r = o->step(st, err)) == 1) {
        const char *c = o->col_text(st, 0), *a = o->col_text(st, 1);
        int64_t i = c ? map_get(&p->map, c) : -1;
        if (i < 0) continue;
        int k = a ? find_label(p, a) : p->arm[i];
        double v = o->col_f64(st, 3), pr = o->col_f64(st, 2);
        if (isnan(v) || k < 0) continue;
        y[i] = conv ? (double)(v > 0) : v;
        ex[i] = (int8_t)k;
        w[i] = pr > 0 ? 1 / pr : (double)NAN;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }

    /* rank the targeted customers by predicted effect */
    int64_t nt = 0;
    double predicted = 0, planned_cost = 0;
    ipw all1 = {0}, all0 = {0};
    double sum_fol = 0, sum_untargeted = 0;
    int64_t n_fol = 0, n_untargeted = 0;
    rep->n_customers = n;
    for (int64_t i = 0; i < n; i++) {
        int targeted = p->planned[i] != p->control;
        if (!isnan(y[i])) rep->n_with_outcome++;
        if (!targeted) {
            if (!isnan(y[i]) && ex[i] == p->control) {
                sum_untargeted += y[i];
                n_untargeted++;
            }
            continue;
        }
        rk[nt].e = isnan(p->rank[i]) ? 0 : p->rank[i];
        rk[nt].i = i;
        nt++;
        predicted += isnan(p->expected[i]) ? 0 : p->expected[i];
        planned_cost += isnan(p->cost[i]) ? 0 : p->cost[i];
    }
    qsort(rk, (size_t)nt, sizeof *rk, cmp_ranked);
    rep->n_targeted = nt;
    rep->predicted = predicted;
    /* every action drawn at random (plan --explore): the plan as executed, over everyone */
    int executed = n > 0;
    double exec_pred = 0, exec_cost = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(p->prop[i] < 1)) executed = 0;
        exec_pred += isnan(p->expected[i]) ? 0 : p->expected[i];
        exec_cost += isnan(p->cost[i]) ? 0 : p->cost[i];
    }
    rep->executed = executed;
    if (executed) rep->predicted = exec_pred;
    int G = n_groups < 1 ? 10 : SG_MIN(n_groups, SG_FEEDBACK_MAX_GROUPS);
    if (nt < G) G = nt > 0 ? (int)nt : 0;
    rep->n_groups = G;
    ipw g1[SG_FEEDBACK_MAX_GROUPS], g0[SG_FEEDBACK_MAX_GROUPS];
    double gsum_obs[SG_FEEDBACK_MAX_GROUPS];
    memset(g1, 0, sizeof g1);
    memset(g0, 0, sizeof g0);
    memset(gsum_obs, 0, sizeof gsum_obs);
    for (int g = 0; g < G; g++) {
        rep->group[g].pred_lo = INFINITY;
        rep->group[g].pred_hi = -INFINITY;
    }
    for (int64_t k = 0; k < nt; k++) {
        int64_t i = rk[k].i;
        int g = (int)(k * G / nt);
        sg_feedback_group *gr = &rep->group[g];
        gr->n++;
        gr->predicted += rk[k].e;
        gr->pred_lo = SG_MIN(gr->pred_lo, rk[k].e);
        gr->pred_hi = SG_MAX(gr->pred_hi, rk[k].e);
        if (isnan(y[i])) continue;
        gr->n_obs++;
        rep->n_targeted_obs++;
        if (ex[i] == p->planned[i]) {
            gr->n_followed++;
            rep->n_followed++;
            gsum_obs[g] += y[i];
            sum_fol += y[i];
            n_fol++;
            if (!isnan(w[i])) {
                ipw_add(&g1[g], w[i], y[i]);
                ipw_add(&all1, w[i], y[i]);
            }
        } else if (ex[i] == p->control) {
            gr->n_held_out++;
            rep->n_held_out++;
            if (!isnan(w[i])) {
                ipw_add(&g0[g], w[i], y[i]);
                ipw_add(&all0, w[i], y[i]);
            }
        }
    }
    double z = z_of_level(m->fc.level);
    rep->forecast = m->fc;
    rep->observed_followed = n_fol ? sum_fol / (double)n_fol : (double)NAN;
    rep->observed_untargeted = n_untargeted ? sum_untargeted / (double)n_untargeted : (double)NAN;
    rep->identifiable = all1.n > 0 && all0.n > 0;
    rep->realised = rep->realised_se = rep->realised_lo = rep->realised_hi = NAN;
    rep->realised_net = rep->ratio = rep->calib_slope = rep->calib_intercept = NAN;
    rep->covered = rep->net_covered = 0;
    if (rep->identifiable) {
        double d = ipw_mean(&all1) - ipw_mean(&all0);
        double se = sqrt(ipw_var(&all1) + ipw_var(&all0));
        rep->realised = (double)nt * d;
        rep->realised_se = (double)nt * se;
        rep->realised_lo = rep->realised - z * rep->realised_se;
        rep->realised_hi = rep->realised + z * rep->realised_se;
        rep->realised_net = rep->realised - (conv ? 0.0 : planned_cost);
        rep->covered = rep->realised >= m->fc.effect_lo && rep->realised <= m->fc.effect_hi;
        rep->net_covered = rep->realised_net >= m->fc.net_lo && rep->realised_net <= m->fc.net_hi;
        if (m->fc.effect != 0 && isfinite(m->fc.effect)) rep->ratio = rep->realised / m->fc.effect;
    }
    if (executed) {
        /* the executed (randomised) policy against nobody: its mean outcome is the plain
         * mean V1; the mean under control is the self-normalised IPS mean V0 over the
         * rows executed as control (w0 = 1 / propensity); influence function
         * phi = (y - V1) - w0 (y - V0) / mean(w0) */
        double sy = 0, s0 = 0, sw0 = 0;
        int64_t n_obs = 0, n_ctl = 0;
        for (int64_t i = 0; i < n; i++) {
            if (isnan(y[i])) continue;
            n_obs++;
            sy += y[i];
            if (ex[i] == p->control && !isnan(w[i])) {
                n_ctl++;
                s0 += w[i] * y[i];
                sw0 += w[i];
            }
        }
        rep->identifiable = n_obs > 0 && n_ctl > 0 && sw0 > 0;
        rep->realised = rep->realised_se = rep->realised_lo = rep->realised_hi = NAN;
        rep->realised_net = rep->ratio = NAN;
        rep->covered = rep->net_covered = 0;
        if (rep->identifiable) {
            double v1 = sy / (double)n_obs, v0 = s0 / sw0, mw0 = sw0 / (double)n_obs, e2 = 0;
            double sc = 0, sc2 = 0, sw02 = 0, s2 = 0;
            for (int64_t i = 0; i < n; i++) {
                if (isnan(y[i])) continue;
                double w0 = ex[i] == p->control && !isnan(w[i]) ? w[i] : 0.0;
                double phi = (y[i] - v1) - w0 * (y[i] - v0) / mw0;
                e2 += phi * phi;
                s2 += (y[i] - v1) * (y[i] - v1);
                if (w0 > 0) {
                    sc += y[i];
                    sc2 += y[i] * y[i];
                    sw02 += w0 * w0;
                }
            }
            /* a floor: the variance if every control row's outcome varied as the control
             * rows' do together.  A few heavily weighted rows whose outcomes happen to be
             * alike (all 0 on a mostly-0 outcome) would otherwise look precise. */
            double vc = n_ctl > 1 ? (sc2 - sc * sc / (double)n_ctl) / (double)(n_ctl - 1) : 0.0;
            double var = e2 / ((double)n_obs * (double)n_obs);
            double vfloor = s2 / ((double)n_obs * (double)n_obs) + SG_MAX(vc, 0.0) * sw02 /
                                                                   (sw0 * sw0);
            rep->realised = (double)n * (v1 - v0);
            rep->realised_se = (double)n * sqrt(SG_MAX(var, vfloor));
            rep->realised_lo = rep->realised - z * rep->realised_se;
            rep->realised_hi = rep->realised + z * rep->realised_se;
            rep->realised_net = rep->realised - (conv ? 0.0 : exec_cost);
            rep->covered = rep->realised >= m->fc.effect_lo && rep->realised <= m->fc.effect_hi;
            rep->net_covered =
                rep->realised_net >= m->fc.net_lo && rep->realised_net <= m->fc.net_hi;
            if (m->fc.effect != 0 && isfinite(m->fc.effect))
                rep->ratio = rep->realised / m->fc.effect;
        }
    }
    /* groups: means per customer, and the calibration slope over groups with an estimate */
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n_est = 0;
    for (int g = 0; g < G; g++) {
        sg_feedback_group *gr = &rep->group[g];
        gr->predicted = gr->n ? gr->predicted / (double)gr->n : (double)NAN;
        gr->observed = gr->n_followed ? gsum_obs[g] / (double)gr->n_followed : (double)NAN;
        gr->has_actual = g1[g].n > 0 && g0[g].n > 0;
        gr->actual = gr->actual_se = NAN;
        if (!gr->has_actual) continue;
        gr->actual = ipw_mean(&g1[g]) - ipw_mean(&g0[g]);
        gr->actual_se = sqrt(ipw_var(&g1[g]) + ipw_var(&g0[g]));
        /* a group whose spread is 0 (too few rows) gets the weight of one outcome */
        double wt = gr->actual_se > 0 ? 1 / (gr->actual_se * gr->actual_se) : 0;
        if (wt == 0) continue;
        sw += wt;
        sx += wt * gr->predicted;
        sy += wt * gr->actual;
        sxx += wt * gr->predicted * gr->predicted;
        sxy += wt * gr->predicted * gr->actual;
        n_est++;
    }
    if (n_est >= 2) {
        double vx = sxx / sw - (sx / sw) * (sx / sw);
        if (vx > 1e-300) {
            rep->calib_slope = (sxy / sw - (sx / sw) * (sy / sw)) / vx;
            rep->calib_intercept = sy / sw - rep->calib_slope * sx / sw;
        }
    }
    rc = SG_OK;
out:
    o->finalize(st);
    sg_free(y);
    sg_free(w);
    sg_free(ex);
    sg_free(rk);
    return rc;
}

/* Store the realised effect with the plan (inside the caller's transaction). */
static int update_plan(sg_store *s, const sg_feedback_report *rep, sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    int rc = o->prepare(s->db, "UPDATE plans SET n_outcomes = $1, realised = $2, realised_lo = $3, "
                        "realised_hi = $4 WHERE id = $5", &st, err);
    if (rc != SG_OK) return rc;
    if (!(rc = o->bind_i64(st, 1, rep->n_with_outcome, err)) &&
        !(rc = o->bind_f64(st, 2, rep->realised, err)) &&
        !(rc = o->bind_f64(st, 3, rep->realised_lo, err)) &&
        !(rc = o->bind_f64(st, 4, rep->realised_hi, err)) &&
        !(rc = o->bind_i64(st, 5, rep->plan_id, err)) && (rc = o->step(st, err)) > 0)
        rc = SG_OK;
    o->finalize(st);
    return rc;
}

int sg_store_feedback_report(sg_store *s, int64_t plan_id, const sg_feedback_opts *o,
                             sg_feedback_report *rep, sg_error *err)
{
    sg_feedback_opts def;
    if (!o) {
        sg_feedback_opts_default(&def);
        o = &def;
    }
    plan_meta m;
    plan_rows p;
    int rc = load_meta(s, plan_id, &m, err);
    if (rc != SG_OK) return rc;
    if ((rc = load_plan_rows(s, &m, &p, err)) != SG_OK) return rc;
    sg_feedback_report r;
    memset(&r, 0, sizeof r);
    r.plan_id = plan_id;
    snprintf(r.outcome, sizeof r.outcome, "%s", m.units);
    rc = compute_report(s, &m, &p, o->n_groups, &r, err);
    plan_rows_free(&p);
    if (rc == SG_OK) *rep = r;
    return rc;
}

/* ---------------------------------------------------------------------------
 * feedback */

enum { ST_OK = 0, ST_DUPLICATE, ST_OUTSIDE, ST_UNKNOWN, ST_NO_OUTCOME, N_STATUS };
static const char *const STATUS_NAMES[N_STATUS] = {"ok", "duplicate", "outside", "unknown",
                                                   "no_outcome"};

typedef struct fb_row {
    int64_t i;         /* plan row, -1 if none */
    int status;
    int exec;          /* executed action (label index), -1 if unknown */
    double prop;       /* its propensity, NaN if unknown */
    double y;
} fb_row;

/* Snapshot cells of the plan rows with an ok outcome (index by plan row). */
static int load_snapshots(sg_store *s, const plan_meta *m, const plan_rows *p, const uint8_t *want,
                          char **snap, sg_error *err)
{
    store_stmt *st = NULL;
    const store_ops *o = s->ops;
    int rc = o->prepare(s->db, "SELECT customer, cells FROM plan_rows WHERE plan_id = $1", &st,
                        err);
    if (rc != SG_OK) return rc;
    if ((rc = o->bind_i64(st, 1, m->id, err)) != SG_OK) goto out;
    int r;
    while ((r = o->step(st, err)) == 1) {
        const char *c = o->col_text(st, 0), *cells = o->col_text(st, 1);
        int64_t i = c ? map_get(&p->map, c) : -1;
        if (i < 0 || !want[i] || !cells) continue;
        if (!(snap[i] = sg_strdup(cells))) {
            rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading the plan", s->ws);
            goto out;
        }
    }
    rc = r < 0 ? r : SG_OK;
out:
    o->finalize(st);
    return rc;
}

typedef struct log_ctx {
    const str_map *cols;
    store_buf *vals;
    int64_t *off;
} log_ctx;

static int take_snapshot(void *ud, const char *key, const char *val)
{
    log_ctx *c = ud;
    int64_t j = map_get(c->cols, key);
    if (j < 0 || !val) return 0;   /* columns the log does not have are left out */
    c->off[j] = (int64_t)c->vals->n;
    buf_put(c->vals, val, strlen(val) + 1);
    return c->vals->oom ? SG_ENOMEM : 0;
}

int sg_store_feedback(sg_store *s, int64_t plan_id, const char *path, const sg_feedback_opts *o,
                      sg_feedback_report *rep, sg_error *err)
{
    sg_feedback_opts def;
    if (!o) {
        sg_feedback_opts_default(&def);
        o = &def;
    }
    const store_ops *ops = s->ops;
    plan_meta m;
    plan_rows p;
    memset(&p, 0, sizeof p);
    sg_feedback_report r;
    memset(&r, 0, sizeof r);
    r.plan_id = plan_id;
    char sha[65], now[32];
    int64_t bytes = 0;
    char **names = NULL, **logcols = NULL;
    int n_names = 0, n_logcols = 0, rc, found = 0;
    sg_table *t = NULL;
    fb_row *rows = NULL;
    uint8_t *seen = NULL, *want = NULL;
    char **snap = NULL;
    str_map logmap = {0};
    store_buf cells = {0}, vals = {0}, scratch = {0}, key = {0};
    int64_t *off = NULL;
    store_stmt *look = NULL;
    const char **cat = NULL, **num = NULL;
    char role_id[SG_STORE_NAME_MAX], role_treat[SG_STORE_NAME_MAX], role_prop[SG_STORE_NAME_MAX];
    char role_out[SG_STORE_NAME_MAX];

    if ((rc = load_meta(s, plan_id, &m, err)) != SG_OK) return rc;
    if ((rc = sg_store_sha256_file(path, sha, &bytes, err)) != SG_OK) return rc;
    sg_import_result prev;
    if ((rc = store_find_import(s, "feedback", plan_id, sha, &prev, &found, err)) != SG_OK)
        return rc;
    if (found) {
        if ((rc = sg_store_feedback_report(s, plan_id, o, &r, err)) != SG_OK) return rc;
        r.skipped = 1;
        *rep = r;
        return SG_OK;
    }

    /* the campaign log: its columns and roles */
    int camp = SG_STORE_CAMPAIGNS;
    if ((rc = store_kind_columns(s, camp, &logcols, &n_logcols, err)) != SG_OK) goto out;
    if ((rc = sg_store_role(s, camp, "id", role_id, sizeof role_id, err)) ||
        (rc = sg_store_role(s, camp, "treatment", role_treat, sizeof role_treat, err)) ||
        (rc = sg_store_role(s, camp, "propensity", role_prop, sizeof role_prop, err)) ||
        (rc = sg_store_role(s, camp, "outcome", role_out, sizeof role_out, err)))
        goto out;

    /* the results file: id, then outcome columns (and optionally treatment, propensity) */
    if ((rc = read_header(path, &names, &n_names, err)) != SG_OK) goto out;
    int j_treat = role_treat[0] ? has_name(names, role_treat) : -1;
    int j_prop = role_prop[0] ? has_name(names, role_prop) : -1;
    if (j_treat == 0) j_treat = -1;
    if (j_prop == 0) j_prop = -1;
    int j_y = -1, n_outcome_cols = 0;
    for (int j = 1; j < n_names; j++) {
        if (j == j_treat || j == j_prop) continue;
        if (n_logcols > 0 && has_name(logcols, names[j]) < 0) {
            store_buf list = {0};
            for (int k = 0; k < n_logcols && k < 12; k++)
                buf_printf(&list, "%s%s", k ? ", " : "", logcols[k]);
            if (n_logcols > 12) buf_printf(&list, ", ... (%d more)", n_logcols - 12);
            rc = sg_error_set(err, SG_EPARSE, "%s:1: column '%s' is not a column of the campaign "
                              "log (name outcomes as in the log: %s)", path, names[j],
                              list.p ? list.p : "");
            buf_free(&list);
            goto out;
        }
        n_outcome_cols++;
    }
    if (n_outcome_cols == 0) {
        rc = sg_error_set(err, SG_EPARSE, "%s:1: no outcome column: expected the id column, then "
                          "the outcome column named as in the campaign log", path);
        goto out;
    }
    const char *pick = o->outcome;
    if (pick && has_name(names, pick) <= 0) {
        rc = sg_error_set(err, SG_EPARSE, "%s:1: no outcome column '%s'", path, pick);
        goto out;
    }
    if (!pick && m.units[0] && has_name(names, m.units) > 0) pick = m.units;
    if (!pick && role_out[0] && has_name(names, role_out) > 0) pick = role_out;
    for (int j = 1; !pick && j < n_names; j++)
        if (j != j_treat && j != j_prop) pick = names[j];
    j_y = has_name(names, pick);
    if (j_y == j_treat || j_y == j_prop) {
        rc = sg_error_set(err, SG_EPARSE, "%s:1: column '%s' is the campaign log's %s, not an "
                          "outcome", path, pick, j_y == j_treat ? "treatment" : "propensity");
        goto out;
    }
    snprintf(r.outcome, sizeof r.outcome, "%s", pick);
    r.conversions = !strcmp(m.objective, "conversions");
    if (!(cat = sg_calloc(3, sizeof *cat)) || !(num = sg_calloc(3, sizeof *num))) goto nomem;
    cat[0] = names[0];
    if (j_treat > 0) cat[1] = names[j_treat];
    num[0] = names[j_y];
    if (j_prop > 0) num[1] = names[j_prop];
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.categorical = cat;
    lo.numeric = num;
    if ((rc = sg_table_load_csv(&t, path, &lo, err)) != SG_OK) goto out;
    int64_t nr = sg_table_n_rows(t);
    r.n_results = nr;

    /* the plan */
    if ((rc = load_plan_rows(s, &m, &p, err)) != SG_OK) goto out;
    if (!(rows = sg_calloc((size_t)(nr ? nr : 1), sizeof *rows)) ||
        !(seen = sg_calloc((size_t)(p.n ? p.n : 1), 1)) ||
        !(want = sg_calloc((size_t)(p.n ? p.n : 1), 1)) ||
        !(snap = sg_calloc((size_t)(p.n ? p.n : 1), sizeof *snap)))
        goto nomem;
    {
        store_stmt *st = NULL;
        if ((rc = ops->prepare(s->db, "SELECT customer FROM outcomes WHERE plan_id = $1 AND "
                               "status = 'ok'", &st, err)) != SG_OK)
            goto out;
        int rr = ops->bind_i64(st, 1, plan_id, err);
        while (rr == SG_OK && (rr = ops->step(st, err)) == 1) {
            const char *c = ops->col_text(st, 0);
            int64_t i = c ? map_get(&p.map, c) : -1;
            if (i >= 0) seen[i] = 2;   /* an outcome from an earlier file */
            rr = SG_OK;
        }
        ops->finalize(st);
        if (rr < 0) {
            rc = rr;
            goto out;
        }
    }
    if ((rc = ops->prepare(s->db, "SELECT 1 FROM customers WHERE row_key = $1 UNION ALL "
                           "SELECT 1 FROM campaigns WHERE row_key = $1", &look, err)) != SG_OK)
        goto out;

    /* classify every row */
    const double *yv = sg_table_num(t, j_y);
    const double *pv = j_prop > 0 ? sg_table_num(t, j_prop) : NULL;
    int64_t listed[N_STATUS] = {0};
    char id[1024];
    for (int64_t k = 0; k < nr; k++) {
        fb_row *row = &rows[k];
        int64_t line = sg_table_row_line(t, k);
        sg_table_cell(t, k, 0, id, sizeof id);
        row->i = id[0] ? find_customer(&p.map, id) : -1;
        row->y = yv[k];
        row->exec = -1;
        row->prop = NAN;
        const char *why = NULL;
        char whybuf[160];
        if (row->i < 0) {
            int in_ws = 0;
            if (id[0]) {
                ops->reset(look);
                if ((rc = ops->bind_text(look, 1, id, err)) != SG_OK) goto out;
                int q = ops->step(look, err);
                if (q < 0) {
                    rc = q;
                    goto out;
                }
                in_ws = q == 1;
                ops->reset(look);
            }
            row->status = in_ws ? ST_OUTSIDE : ST_UNKNOWN;
            why = in_ws ? "a customer of the workspace, but not in this plan"
                        : "not in this plan nor in the workspace";
        } else if (seen[row->i]) {
            row->status = ST_DUPLICATE;
            why = seen[row->i] == 2 ? "already has an outcome for this plan (kept the first)"
                                    : "occurs earlier in this file (kept the first)";
        } else if (isnan(row->y)) {
            row->status = ST_NO_OUTCOME;
            seen[row->i] = 1;
            snprintf(whybuf, sizeof whybuf, "no value in '%.120s'", pick);
            why = whybuf;
        } else {
            row->status = ST_OK;
            seen[row->i] = 1;
        }
        /* the executed action and its propensity */
        int64_t i = row->i;
        if (j_treat > 0) {
            const char *a = sg_table_label(t, j_treat, sg_table_codes(t, j_treat)[k]);
            row->exec = a ? label_index(p.labels, &p.n_labels, a, 0) : (i >= 0 ? p.arm[i] : -1);
            if (a && row->exec < 0) {
                store_buf list = {0};
                for (int q = 0; q < p.n_labels; q++)
                    buf_printf(&list, "%s%s", q ? ", " : "", p.labels[q]);
                rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected one of the "
                                  "plan's actions (%s), got \"%s\"", path, (long long)line,
                                  names[j_treat], list.p ? list.p : "", a);
                buf_free(&list);
                goto out;
            }
        } else if (i >= 0) {
            row->exec = p.arm[i];
        }
        if (pv && !isnan(pv[k])) {
            if (!(pv[k] > 0 && pv[k] <= 1)) {
                rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected a probability "
                                  "in (0, 1], got %g", path, (long long)line, names[j_prop], pv[k]);
                goto out;
            }
            row->prop = pv[k];
        } else if (i >= 0 && row->exec == p.arm[i]) {
            row->prop = isnan(p.prop[i]) ? 1.0 : p.prop[i];
        }
        if (row->status == ST_OK) {
            r.n_ok++;
            want[i] = 1;
        } else {
            int64_t *cnt[N_STATUS] = {NULL, &r.n_duplicate, &r.n_outside, &r.n_unknown,
                                      &r.n_no_outcome};
            (*cnt[row->status])++;
            if (o->on_problem && listed[row->status]++ < o->max_listed) {
                char msg[SG_ERRMSG_MAX];
                snprintf(msg, sizeof msg, "%.200s:%lld: id '%.100s': %.160s", path, (long long)line,
                         id, why);
                o->on_problem(o->ud, msg);
            }
        }
    }
    ops->finalize(look);
    look = NULL;

    /* campaign-log rows from the snapshots */
    int can_log = n_logcols > 0 && role_treat[0];
    if (can_log) {
        if ((rc = load_snapshots(s, &m, &p, want, snap, err)) != SG_OK) goto out;
        if (!(off = sg_malloc_array((size_t)n_logcols, sizeof *off))) goto nomem;
        for (int j = 0; j < n_logcols; j++)
            if (map_put(&logmap, logcols[j], j) != SG_OK) goto nomem;
    }

    /* the one transaction */
    int64_t import_id = 0;
    store_now(s, now);
    if ((rc = store_begin(s, err)) != SG_OK) goto out;
    if ((rc = store_add_import(s, "feedback", plan_id, path, sha, bytes, nr, r.n_ok, 0, now,
                               &import_id, err)) != SG_OK)
        goto fail;
    static const char *const OCOLS[] = {"import_id", "line", "plan_id", "customer", "status", "arm",
                                        "propensity", "outcome", "cells"};
    if ((rc = ops->copy_begin(s->db, "outcomes", OCOLS, 9, NULL, err)) != SG_OK) goto fail;
    char simp[32], sline[32], splan[32], sprop[40], sy[40];
    snprintf(simp, sizeof simp, "%lld", (long long)import_id);
    snprintf(splan, sizeof splan, "%lld", (long long)plan_id);
    for (int64_t k = 0; k < nr; k++) {
        fb_row *row = &rows[k];
        snprintf(sline, sizeof sline, "%lld", (long long)sg_table_row_line(t, k));
        sg_table_cell(t, k, 0, id, sizeof id);
        cells.n = 0;
        row_json(&cells, t, k);
        if (cells.oom) goto nomem_tx;
        const char *v[9] = {simp, sline, splan, id, STATUS_NAMES[row->status],
                            row->exec >= 0 ? p.labels[row->exec] : NULL,
                            fmt_num(sprop, sizeof sprop, row->prop), fmt_num(sy, sizeof sy, row->y),
                            cells.p};
        if ((rc = ops->copy_row(s->db, v, err)) != SG_OK) goto fail;
    }
    if ((rc = ops->copy_end(s->db, err)) != SG_OK) goto fail;
    if (can_log) {
        if ((rc = store_upsert_begin(s, camp, err)) != SG_OK) goto fail;
        char vbuf[1024];
        for (int64_t k = 0; k < nr; k++) {
            fb_row *row = &rows[k];
            if (row->status != ST_OK) continue;
            if (!snap[row->i] || isnan(row->prop) || row->exec < 0) {
                r.n_not_logged++;
                continue;
            }
            vals.n = 0;
            for (int j = 0; j < n_logcols; j++) off[j] = -1;
            log_ctx lc = {&logmap, &vals, off};
            rc = json_cells_parse(snap[row->i], &scratch, take_snapshot, &lc);
            if (rc == SG_ENOMEM) goto nomem_tx;
            if (rc != SG_OK) {
                rc = sg_error_set(err, SG_EIO, "%s: plan %lld: damaged snapshot of customer '%s'",
                                  s->ws, (long long)plan_id, p.text.p + p.off[row->i]);
                goto fail;
            }
            key.n = 0;
            buf_printf(&key, "%s@plan%lld", p.text.p + p.off[row->i], (long long)plan_id);
            /* overrides: key, executed action, propensity, the outcome columns */
            cells.n = 0;
            buf_putc(&cells, '{');
            for (int j = 0; j < n_logcols; j++) {
                const char *name = logcols[j], *x = off[j] >= 0 ? vals.p + off[j] : NULL;
                int jr = has_name(names, name);
                if (role_id[0] && !strcmp(name, role_id)) x = key.p;
                else if (!strcmp(name, role_treat)) x = p.labels[row->exec];
                else if (role_prop[0] && !strcmp(name, role_prop))
                    x = fmt_num(sprop, sizeof sprop, row->prop);
                else if (jr > 0) x = cell(t, k, jr, vbuf, sizeof vbuf);
                if (j) buf_putc(&cells, ',');
                buf_json_str(&cells, name, strlen(name));
                buf_putc(&cells, ':');
                if (x) buf_json_str(&cells, x, strlen(x));
                else buf_put(&cells, "null", 4);
            }
            buf_putc(&cells, '}');
            if (cells.oom || key.oom) goto nomem_tx;
            const char *v3[3] = {key.p, cells.p, simp};
            if ((rc = ops->copy_row(s->db, v3, err)) != SG_OK) goto fail;
            r.n_campaign_rows++;
        }
        if ((rc = ops->copy_end(s->db, err)) != SG_OK) goto fail;
    } else {
        r.no_log = 1;
        r.n_not_logged = r.n_ok;
    }
    if ((rc = compute_report(s, &m, &p, o->n_groups, &r, err)) != SG_OK) goto fail;
    if ((rc = update_plan(s, &r, err)) != SG_OK) goto fail;
    if ((rc = store_commit(s, err)) != SG_OK) goto fail;
    *rep = r;
    rc = SG_OK;
    goto out;
nomem_tx:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory recording the outcomes", path);
fail:
    store_rollback(s);
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading the outcomes", path);
out:
    ops->finalize(look);
    store_free_list(names);
    store_free_list(logcols);
    sg_table_free(t);
    sg_free(rows);
    sg_free(seen);
    sg_free(want);
    for (int64_t i = 0; snap && i < p.n; i++) sg_free(snap[i]);
    sg_free(snap);
    map_free(&logmap);
    buf_free(&cells);
    buf_free(&vals);
    buf_free(&scratch);
    buf_free(&key);
    sg_free(off);
    sg_free(cat);
    sg_free(num);
    plan_rows_free(&p);
    return rc;
}
