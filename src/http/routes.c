/* routes.c -- the HTTP service's model endpoints (server.h): describe a model,
 * score rows with a response or uplift model, recommend items (promo models:
 * routes_promo.c).  Request rows
 * become a table through the same CSV loader as files (JSON rows are written as
 * CSV text first), so a request is checked exactly as `stratagem predict` checks
 * a file.  Uses only the public API.
 * See LICENSE for copyright. */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "stratagem/interactions.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/table.h"

#define MAX_COLUMNS 10000
#define MAX_K 1000
#define MAX_LISTED 100   /* unknown items named in a reply */

int srv_status_of(int code)
{
    switch (code) {
    case SG_ENOMEM:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case SG_EPARSE:
    case SG_EINVAL:
    case SG_ENOTFOUND:
        return MHD_HTTP_UNPROCESSABLE_CONTENT;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* ------------------------------------------------------------------ describe */

void srv_model_describe(const srv_model *m, json_t *o)
{
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "task", json_string(sg_task_name(m->task)));
    json_t *ep = json_array();
    if (m->resp) {
        const char *id = sg_response_id(m->resp);
        json_array_append_new(ep, json_string("predict"));
        json_object_set_new(o, "target", json_string(sg_response_target(m->resp)));
        json_object_set_new(o, "objective", json_string(sg_response_objective(m->resp) ==
                                                        SG_OBJECTIVE_BINARY ? "binary" : "regression"));
        json_object_set_new(o, "id", id ? json_string(id) : json_null());
    } else if (m->upl) {
        const char *id = sg_uplift_id(m->upl);
        json_array_append_new(ep, json_string("predict"));
        json_array_append_new(ep, json_string("plan"));
        json_object_set_new(o, "outcome", json_string(sg_uplift_outcome(m->upl)));
        json_object_set_new(o, "treatment", json_string(sg_uplift_treatment(m->upl)));
        json_t *arms = json_array();
        for (int a = 0; a < sg_uplift_n_arms(m->upl); a++)
            json_array_append_new(arms, json_string(sg_uplift_arm_label(m->upl, a)));
        json_object_set_new(o, "arms", arms);   /* the first is control */
        json_object_set_new(o, "conversions", json_boolean(sg_uplift_has_conv(m->upl)));
        json_object_set_new(o, "id", id ? json_string(id) : json_null());
    } else if (m->rec) {
        const sg_interactions *d = sg_recommender_data(m->rec);
        json_array_append_new(ep, json_string("recommend"));
        json_object_set_new(o, "model", json_string(sg_rec_kind_name(sg_recommender_kind(m->rec))));
        json_object_set_new(o, "items", json_integer(sg_recommender_n_items(m->rec)));
        json_object_set_new(o, "users", json_integer(sg_interactions_n_users(d)));
    } else if (m->promo) {
        json_array_append_new(ep, json_string("predict"));
        json_array_append_new(ep, json_string("plan"));
        srv_promo_describe(m, o);
    } else if (m->budget) {
        json_array_append_new(ep, json_string("plan"));
        srv_budget_describe(m, o);
    }
    json_object_set_new(o, "endpoints", ep);
}

/* ------------------------------------------------------------------ request rows */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = sg_realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* A CSV field, always quoted (a quote doubled). */
static void sb_quoted(sbuf *b, const char *s, size_t n)
{
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') sb_put(b, "\"\"", 2);
        else sb_put(b, s + i, 1);
    }
    sb_put(b, "\"", 1);
}

/* A JSON scalar as a CSV cell; 0, or -1 for an object or array. */
static int sb_cell(sbuf *b, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        sb_quoted(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        strcpy(num, "1");
        break;
    case JSON_FALSE:
        strcpy(num, "0");
        break;
    case JSON_NULL:
        num[0] = 0;   /* missing */
        break;
    default:
        return -1;
    }
    sb_put(b, num, strlen(num));
    return 0;
}

/* JSON {"rows": [{...}, ...]} -> CSV text: the columns are the union of the
 * rows' keys in order of first appearance; a key a row lacks is missing there.
 * Rows of different keys would make the table rows x columns, far more cells
 * than the body holds: more cells than 'max_cells' is refused. */
static int rows_to_csv(const json_t *rows, int max_rows, size_t max_cells, sbuf *csv, srv_reply *r)
{
    if (!json_is_array(rows) || json_array_size(rows) == 0)
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"rows\" must be a non-empty array of objects");
    if (json_array_size(rows) > (size_t)max_rows)
        return srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "%zu rows: the limit is %d per request "
                         "(serve --max-rows)", json_array_size(rows), max_rows);
    json_t *cols = json_object();   /* name -> column index */
    json_t *names = json_array();
    if (!cols || !names) {
        json_decref(cols);
        json_decref(names);
        return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    }
    size_t i;
    const json_t *row;
    int rc = 0;
    json_array_foreach(rows, i, row) {
        if (!json_is_object(row)) {
            rc = srv_error(r, MHD_HTTP_BAD_REQUEST, "rows[%zu]: expected an object "
                           "{\"column\": value, ...}", i);
            break;
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)row, key, v) {
            if (json_object_get(cols, key)) continue;
            if (json_array_size(names) >= MAX_COLUMNS) {
                rc = srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "more than %d columns", MAX_COLUMNS);
                break;
            }
            json_object_set_new(cols, key, json_integer((json_int_t)json_array_size(names)));
            json_array_append_new(names, json_string(key));
        }
        if (rc) break;
    }
    size_t nc = json_array_size(names);
    if (!rc && nc > max_cells / json_array_size(rows))
        rc = srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "%zu rows x %zu columns: more than %zu cells "
                       "(rows with different keys make a cell of every row and key)",
                       json_array_size(rows), nc, max_cells);
    for (size_t j = 0; !rc && j < nc; j++) {
        const json_t *nm = json_array_get(names, j);
        if (j) sb_put(csv, ",", 1);
        sb_quoted(csv, json_string_value(nm), json_string_length(nm));
    }
    sb_put(csv, "\n", 1);
    json_array_foreach(rows, i, row) {
        if (rc) break;
        for (size_t j = 0; j < nc; j++) {
            const char *key = json_string_value(json_array_get(names, j));
            const json_t *v = json_object_get(row, key);
            if (j) sb_put(csv, ",", 1);
            if (v && sb_cell(csv, v)) {
                rc = srv_error(r, MHD_HTTP_BAD_REQUEST, "rows[%zu].%.100s: expected a number, a "
                               "string, true, false or null", i, key);
                break;
            }
        }
        sb_put(csv, "\n", 1);
    }
    json_decref(cols);
    json_decref(names);
    if (!rc && csv->oom) rc = srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    return rc;
}

/* A JSON lines body (one object per line) as an array of its objects; more than
 * 'max_rows' objects is refused as it is found. */
static int jsonl_rows(const srv_body *b, int max_rows, json_t **out, srv_reply *r)
{
    json_t *rows = json_array();
    if (!rows) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    size_t pos = 0;
    int line = 1;
    for (;;) {
        while (pos < b->len && (b->data[pos] == ' ' || b->data[pos] == '\t' ||
                                b->data[pos] == '\r' || b->data[pos] == '\n')) {
            if (b->data[pos] == '\n') line++;
            pos++;
        }
        if (pos >= b->len) break;
        if (json_array_size(rows) >= (size_t)max_rows) {
            json_decref(rows);
            return srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "more than %d rows: the limit is %d "
                             "per request (serve --max-rows)", max_rows, max_rows);
        }
        json_error_t je;
        json_t *o = json_loadb(b->data + pos, b->len - pos,
                               JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                               &je);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            json_decref(rows);
            if (!o)
                return srv_error(r, MHD_HTTP_BAD_REQUEST, "body:%d: %s", line + je.line - 1,
                                 je.text);
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "body:%d: expected an object "
                             "{\"column\": value, ...} (one per line)", line);
        }
        for (size_t k = pos; k < pos + (size_t)je.position; k++) line += b->data[k] == '\n';
        pos += (size_t)je.position;
        json_array_append_new(rows, o);
    }
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "no rows: send one JSON object per line");
    }
    *out = rows;
    return 0;
}

int srv_body_table(const srv_body *b, int max_rows, const char *const *categorical,
                   json_t **root, sg_table **t, srv_reply *r)
{
    *root = NULL;
    *t = NULL;
    sbuf csv = {0};
    const char *data = b->data, *name = "body";
    size_t len = b->len;
    if (b->is_jsonl) {
        /* JSON lines: the objects become the "rows" array, under the same limits */
        json_t *rows = NULL;
        if (jsonl_rows(b, max_rows, &rows, r)) return -1;
        int rc = rows_to_csv(rows, max_rows, b->len < 4096 ? 4096 : b->len, &csv, r);
        json_decref(rows);
        if (rc) {
            sg_free(csv.p);
            return -1;
        }
        data = csv.p;
        len = csv.len;
        name = "rows";
    } else if (!b->rows_only) {
        json_error_t je;
        *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
        if (!*root) return srv_error(r, MHD_HTTP_BAD_REQUEST, "body:%d:%d: %s", je.line, je.column,
                                     je.text);
        if (!json_is_object(*root))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "body: expected an object {\"rows\": [...]}");
        /* a cell takes at least 4 bytes of a dense JSON body ("k":1,): a table of as
         * many cells as the body has bytes leaves room for every honest request */
        if (rows_to_csv(json_object_get(*root, "rows"), max_rows, b->len < 4096 ? 4096 : b->len,
                        &csv, r)) {
            sg_free(csv.p);
            return -1;
        }
        data = csv.p;
        len = csv.len;
        name = "rows";
    }
    sg_error err;
    sg_error_clear(&err);
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.categorical = categorical;
    int rc = sg_table_load_mem(t, name, data, len, &lo, &err);
    sg_free(csv.p);
    if (rc) return srv_error(r, srv_status_of(rc), "%s", err.msg);
    if (sg_table_n_rows(*t) > max_rows)
        return srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "%lld rows: the limit is %d per request "
                         "(serve --max-rows)", (long long)sg_table_n_rows(*t), max_rows);
    if (sg_table_n_rows(*t) == 0) return srv_error(r, MHD_HTTP_BAD_REQUEST, "no rows");
    return 0;
}

/* The column of the model's id in the request's rows, or -1 (no id, or not sent). */
static int id_column(const sg_table *t, const char *id)
{
    return id ? sg_table_find(t, id) : -1;
}

/* The id cell of row i as a JSON string, or NULL when there is no id column. */
static json_t *row_id(const sg_table *t, int id_col, int64_t i)
{
    if (id_col < 0) return NULL;
    char buf[256];
    return json_string(sg_table_cell(t, i, id_col, buf, sizeof buf));
}

/* ------------------------------------------------------------------ predict */

static void predict_response(const srv_model *m, const sg_table *t, pthread_mutex_t *compute,
                             srv_reply *r)
{
    int64_t n = sg_table_n_rows(t);
    double *score = sg_malloc_array((size_t)n, sizeof *score);
    if (!score) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        return;
    }
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_response_predict(m->resp, t, NULL, n, score, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        sg_free(score);
        return;
    }
    int id_col = id_column(t, sg_response_id(m->resp));
    json_t *preds = json_array();
    for (int64_t i = 0; i < n; i++) {
        json_t *p = json_object();
        json_t *idv = row_id(t, id_col, i);
        if (idv) json_object_set_new(p, "id", idv);
        json_object_set_new(p, "score", srv_real(score[i]));
        json_array_append_new(preds, p);
    }
    sg_free(score);
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:s,s:o}", "model", m->name, "target", sg_response_target(m->resp),
                        "predictions", preds);
}

/* Per-arm costs from {"ARM": C, ...}: every treatment arm, nothing else. */
static int parse_costs(const sg_uplift *u, const json_t *cost, double *c, srv_reply *r)
{
    int A = sg_uplift_n_arms(u);
    if (!json_is_object(cost))
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"cost\" must be an object {\"ARM\": cost, ...}");
    for (int a = 0; a < A; a++) c[a] = NAN;
    c[0] = 0.0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)cost, key, v) {
        int a = sg_uplift_find_arm(u, key);
        if (a <= 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "cost: '%.100s' is not a treatment arm of "
                             "this model (GET /models/NAME lists its arms)", key);
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "cost.%s: expected a number >= 0", key);
        c[a] = json_number_value(v);
    }
    for (int a = 1; a < A; a++) {
        if (isnan(c[a]))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "cost: arm '%s' has no cost (give every "
                             "treatment arm)", sg_uplift_arm_label(u, a));
    }
    return 0;
}

/* Effects and standard errors (n, A) of every row for 'target', under the compute
 * lock; 0, or -1 with the error reply set. */
static int uplift_effects(const sg_uplift *u, const sg_table *t, int target, double *eff,
                          double *se, pthread_mutex_t *compute, srv_reply *r)
{
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_uplift_predict(u, t, NULL, sg_table_n_rows(t), target, NULL, eff, se, &err);
    pthread_mutex_unlock(compute);
    return rc ? srv_error(r, srv_status_of(rc), "%s", err.msg) : 0;
}

static void predict_uplift(const srv_model *m, const sg_table *t, const json_t *root,
                           pthread_mutex_t *compute, srv_reply *r)
{
    const sg_uplift *u = m->upl;
    int A = sg_uplift_n_arms(u), target = SG_UPLIFT_VALUE;
    const json_t *tg = root ? json_object_get(root, "target") : NULL;
    if (tg) {
        const char *s = json_string_value(tg);
        if (s && !strcmp(s, "conversions") && sg_uplift_has_conv(u)) target = SG_UPLIFT_CONV;
        else if (!s || strcmp(s, "value") != 0) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"target\" must be \"value\"%s",
                      sg_uplift_has_conv(u) ? " or \"conversions\"" : " (this model has no "
                      "conversion part)");
            return;
        }
    }
    const json_t *cost = root ? json_object_get(root, "cost") : NULL;
    int64_t n = sg_table_n_rows(t);
    double *c = sg_malloc_array((size_t)A, sizeof *c);
    double *eff = sg_malloc_array((size_t)n * (size_t)A, sizeof *eff);
    double *se = sg_malloc_array((size_t)n * (size_t)A, sizeof *se);
    /* with costs, the rank scores the action is chosen by */
    double *score = cost ? sg_malloc_array((size_t)n * (size_t)A, sizeof *score) : NULL;
    if (!c || !eff || !se || (cost && !score)) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    if (cost && parse_costs(u, cost, c, r)) goto done;
    if (uplift_effects(u, t, target, eff, se, compute, r)) goto done;
    /* the action: as a plan without a budget chooses, by the model's rank scores among
     * the arms whose effect and score both beat their cost */
    sg_error err;
    if (cost && sg_uplift_rank(u, target, eff, n, score, &err)) {
        srv_error(r, srv_status_of(err.code), "%s", err.msg);
        goto done;
    }
    int id_col = id_column(t, sg_uplift_id(u));
    json_t *preds = json_array();
    for (int64_t i = 0; i < n; i++) {
        json_t *p = json_object(), *e = json_object(), *s = json_object();
        json_t *idv = row_id(t, id_col, i);
        if (idv) json_object_set_new(p, "id", idv);
        int best = 0;
        double best_net = 0.0, best_score = 0.0;
        for (int a = 1; a < A; a++) {
            double x = eff[(size_t)i * A + a];
            json_object_set_new(e, sg_uplift_arm_label(u, a), srv_real(x));
            json_object_set_new(s, sg_uplift_arm_label(u, a), srv_real(se[(size_t)i * A + a]));
            if (cost && x - c[a] > 0 && score[(size_t)i * A + a] - c[a] > best_score) {
                best = a;
                best_score = score[(size_t)i * A + a] - c[a];
                best_net = x - c[a];
            }
        }
        json_object_set_new(p, "effect", e);
        json_object_set_new(p, "se", s);
        if (cost) {
            json_object_set_new(p, "action", json_string(sg_uplift_arm_label(u, best)));
            json_object_set_new(p, "net", srv_real(best_net));
        }
        json_array_append_new(preds, p);
    }
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:s,s:s,s:o}", "model", m->name, "target",
                        target == SG_UPLIFT_CONV ? "conversions" : "value", "control",
                        sg_uplift_arm_label(u, 0), "predictions", preds);
done:
    sg_free(c);
    sg_free(eff);
    sg_free(se);
    sg_free(score);
}

void srv_predict(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
                 srv_reply *r)
{
    if (m->promo) {
        srv_promo_predict(m, b, max_rows, compute, r);
        return;
    }
    if (!m->resp && !m->upl) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "model '%s' (task %s) has no /predict; %s", m->name,
                  sg_task_name(m->task), m->rec ? "use /recommend" : m->budget ? "use /plan" : "it is not served");
        return;
    }
    json_t *root = NULL;
    sg_table *t = NULL;
    if (!srv_body_table(b, max_rows, NULL, &root, &t, r)) {
        if (m->resp) predict_response(m, t, compute, r);
        else predict_uplift(m, t, root, compute, r);
    }
    sg_table_free(t);
    json_decref(root);
}

/* ------------------------------------------------------------------ plan */

static json_t *forecast_json(const sg_uplift_forecast *q, double level)
{
    json_t *o = json_object();
    json_object_set_new(o, "effect", srv_real(q->effect));
    json_object_set_new(o, "effect_lo", srv_real(q->effect_lo));
    json_object_set_new(o, "effect_hi", srv_real(q->effect_hi));
    json_object_set_new(o, "cost", srv_real(q->cost));
    json_object_set_new(o, "net", srv_real(q->net));
    json_object_set_new(o, "net_lo", srv_real(q->net_lo));
    json_object_set_new(o, "net_hi", srv_real(q->net_hi));
    json_object_set_new(o, "naive_effect", srv_real(q->naive_effect));
    json_object_set_new(o, "basis", json_string(sg_uplift_basis_name(q->basis)));
    json_object_set_new(o, "model_se", srv_real(q->model_se));
    json_object_set_new(o, "log_effect", srv_real(q->log_effect));
    json_object_set_new(o, "log_effect_lo", srv_real(q->log_lo));
    json_object_set_new(o, "log_effect_hi", srv_real(q->log_hi));
    json_object_set_new(o, "se", srv_real(q->se));
    json_object_set_new(o, "treated", json_integer(q->treated));
    json_object_set_new(o, "level", srv_real(level));
    return o;
}

/* The plan's options from the request: budget, cost (required), objective, cap,
 * min_gain, boot, seed.  'c' (A) and 'caps' (A) are the caller's. */
static int plan_options(const sg_uplift *u, const json_t *root, sg_uplift_plan_opts *po, double *c,
                        int64_t *caps, srv_reply *r)
{
    int A = sg_uplift_n_arms(u);
    sg_uplift_plan_opts_default(po);
    const json_t *v;
    if (!(v = json_object_get(root, "cost")))
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"cost\" is required: {\"ARM\": cost per "
                         "contact, ...} for every treatment arm");
    if (parse_costs(u, v, c, r)) return -1;
    po->arm_cost = c;
    if ((v = json_object_get(root, "budget")) && !json_is_null(v)) {
        if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v)))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"budget\" must be a number >= 0 (or null: "
                             "none)");
        po->budget = json_number_value(v);
    }
    if ((v = json_object_get(root, "objective"))) {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, "conversions") && sg_uplift_has_conv(u)) po->target = SG_UPLIFT_CONV;
        else if (!s || strcmp(s, "value") != 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"objective\" must be \"value\"%s",
                             sg_uplift_has_conv(u) ? " or \"conversions\"" : " (this model has no "
                             "conversion part)");
    }
    if ((v = json_object_get(root, "min_gain"))) {
        if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v)))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"min_gain\" must be a number >= 0");
        po->min_gain = json_number_value(v);
    }
    if ((v = json_object_get(root, "boot"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10000)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"boot\" must be an integer in 0..10000");
        po->n_boot = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "forecast"))) {
        const char *s = json_string_value(v);
        if (!s || (strcmp(s, "auto") != 0 && strcmp(s, "log") != 0))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"forecast\" must be \"auto\" or \"log\"");
        po->forecast_log = !strcmp(s, "log");
    }
    if ((v = json_object_get(root, "seed"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"seed\" must be an integer >= 0");
        po->seed = (uint64_t)json_integer_value(v);
    } else {
        po->seed = 20000;   /* stratagem plan's default: the same request, the same plan */
    }
    if ((v = json_object_get(root, "cap"))) {
        if (!json_is_object(v))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"cap\" must be an object {\"ARM\": "
                             "most customers, ...}");
        for (int a = 0; a < A; a++) caps[a] = -1;
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            int a = sg_uplift_find_arm(u, key);
            if (a <= 0)
                return srv_error(r, MHD_HTTP_BAD_REQUEST, "cap: '%.100s' is not a treatment arm of "
                                 "this model", key);
            if (!json_is_integer(x) || json_integer_value(x) < 0)
                return srv_error(r, MHD_HTTP_BAD_REQUEST, "cap.%s: expected a whole number >= 0", key);
            caps[a] = json_integer_value(x);
        }
        po->cap = caps;
    }
    return 0;
}

void srv_plan(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
              srv_reply *r)
{
    if (m->promo) {
        srv_promo_plan(m, b, max_rows, compute, r);
        return;
    }
    if (m->budget) {
        srv_budget_plan(m, b, compute, r);
        return;
    }
    if (!m->upl) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "model '%s' (task %s) has no /plan: plans need an uplift, "
                  "a promo or a budget model", m->name, sg_task_name(m->task));
        return;
    }
    if (b->rows_only) {
        srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "/plan takes JSON {\"rows\": [...], "
                  "\"budget\": B, \"cost\": {...}}");
        return;
    }
    const sg_uplift *u = m->upl;
    int A = sg_uplift_n_arms(u);
    json_t *root = NULL;
    sg_table *t = NULL;
    double c[SG_UPLIFT_MAX_ARMS], arm_eff[SG_UPLIFT_MAX_ARMS];
    int64_t caps[SG_UPLIFT_MAX_ARMS], count[SG_UPLIFT_MAX_ARMS];
    double *gain = NULL, *se = NULL, *cgain = NULL, *sgain = NULL;
    int32_t *arm = NULL;
    sg_uplift_plan_opts po;
    if (srv_body_table(b, max_rows, NULL, &root, &t, r) || plan_options(u, root, &po, c, caps, r))
        goto done;
    int64_t n = sg_table_n_rows(t);
    gain = sg_malloc_array((size_t)n * (size_t)A, sizeof *gain);
    se = sg_malloc_array((size_t)n * (size_t)A, sizeof *se);
    arm = sg_malloc_array((size_t)n, sizeof *arm);
    if (!gain || !se || !arm) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    if (uplift_effects(u, t, po.target, gain, se, compute, r)) goto done;
    /* a model that sums its plans with its forecaster's effects (as the CLI) */
    const sg_uplift *fm = sg_uplift_forecaster(u);
    if (fm != u) {
        if (!(sgain = sg_malloc_array((size_t)n * (size_t)A, sizeof *sgain))) {
            srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
            goto done;
        }
        if (uplift_effects(fm, t, po.target, sgain, NULL, compute, r)) goto done;
        po.sum_gain = sgain;
    }
    const double *sum = sgain ? sgain : gain;
    /* a money plan on a model with a conversion part: its conversions too (as the CLI) */
    if (po.target == SG_UPLIFT_VALUE && sg_uplift_has_conv(u)) {
        if (!(cgain = sg_malloc_array((size_t)n * (size_t)A, sizeof *cgain))) {
            srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
            goto done;
        }
        if (uplift_effects(fm, t, SG_UPLIFT_CONV, cgain, NULL, compute, r)) goto done;
        po.conv_gain = cgain;
    }
    sg_uplift_plan_result res;
    memset(&res, 0, sizeof res);
    res.count = count;
    res.arm_effect = arm_eff;
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_uplift_plan(u, gain, n, &po, arm, &res, &err);
    if (!rc) rc = sg_uplift_plan_model_interval(u, t, NULL, n, arm, &po, &res, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        goto done;
    }
    /* the rows as plan.csv has them: the expected effect is the predicted one times the
     * forecast's selection correction */
    int id_col = id_column(t, sg_uplift_id(u));
    json_t *rows = json_array();
    for (int64_t i = 0; i < n; i++) {
        int a = arm[i];
        json_t *p = json_object();
        json_t *idv = row_id(t, id_col, i);
        if (idv) json_object_set_new(p, "id", idv);
        json_object_set_new(p, "action", json_string(sg_uplift_arm_label(u, a)));
        json_object_set_new(p, "expected_effect", srv_real(a ? sum[i * A + a] * res.shrink : 0.0));
        json_object_set_new(p, "cost", srv_real(a ? c[a] : 0.0));
        json_object_set_new(p, "predicted_effect", srv_real(a ? gain[i * A + a] : 0.0));
        json_object_set_new(p, "se", srv_real(a ? se[i * A + a] : 0.0));
        json_array_append_new(rows, p);
    }
    json_t *fc = forecast_json(&res.plan, po.level), *arms = json_object();
    for (int a = 0; a < A; a++)
        json_object_set_new(arms, sg_uplift_arm_label(u, a),
                            json_pack("{s:I,s:o}", (const char *)"customers", (json_int_t)count[a],
                                      "effect", srv_real(arm_eff[a])));
    json_object_set_new(fc, "arms", arms);
    json_object_set_new(fc, "verdict", json_string(sg_uplift_verdict(&res.plan, po.target)));
    if (res.has_conversions)
        json_object_set_new(fc, "conversions",
                            json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "effect",
                                      srv_real(res.conversions.effect), "effect_lo",
                                      srv_real(res.conversions.effect_lo), "effect_hi",
                                      srv_real(res.conversions.effect_hi), "se",
                                      srv_real(res.conversions.se), "naive_effect",
                                      srv_real(res.conversions.naive_effect), "basis",
                                      sg_uplift_basis_name(res.conversions.basis),
                                      "model_se", srv_real(res.conversions.model_se),
                                      "log_effect", srv_real(res.conversions.log_effect),
                                      "log_effect_lo", srv_real(res.conversions.log_lo),
                                      "log_effect_hi", srv_real(res.conversions.log_hi)));
    json_t *single = forecast_json(&res.single, po.level);
    json_object_set_new(single, "arm", json_string(res.single_arm > 0 ?
                                                   sg_uplift_arm_label(u, res.single_arm) : ""));
    json_t *bl = json_pack("{s:o,s:o,s:o}", "nobody", forecast_json(&res.nobody, po.level),
                           "best_single_arm", single, "random", forecast_json(&res.random, po.level));
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:I,s:s,s:o,s:s,s:o,s:o,s:{s:I,s:I,s:o,s:i}}", "model", m->name,
                        "customers", (json_int_t)n, "objective",
                        po.target == SG_UPLIFT_CONV ? "conversions" : "value", "budget",
                        isinf(po.budget) ? json_null() : json_real(po.budget), "control",
                        sg_uplift_arm_label(u, 0), "forecast", fc, "baselines", bl,
                        "log", "rows", (json_int_t)res.n_log, "treated_by_rule",
                        (json_int_t)res.n_log_treated, "correction", srv_real(res.shrink),
                        "bootstrap", res.n_boot);
    if (json_is_true(json_object_get(root, "summary_only"))) json_decref(rows);
    else json_object_set_new(r->body, "plan", rows);
done:
    sg_table_free(t);
    json_decref(root);
    sg_free(gain);
    sg_free(cgain);
    sg_free(sgain);
    sg_free(se);
    sg_free(arm);
}

/* ------------------------------------------------------------------ recommend */

/* An item or user label: a string as it is, a number as the interactions print it. */
static int label_of(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v)) return -1;   /* a NUL inside */
        snprintf(buf, cap, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, cap, "%.15g", json_real_value(v));
    } else {
        return -1;
    }
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void srv_recommend(const srv_model *m, const srv_body *b, pthread_mutex_t *compute, srv_reply *r)
{
    if (!m->rec) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "model '%s' (task %s) has no /recommend%s", m->name,
                  sg_task_name(m->task), m->resp || m->upl ? "; use /predict" : "");
        return;
    }
    if (b->rows_only) {
        srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "/recommend takes JSON {\"items\": [...]} "
                  "or {\"user\": \"ID\"}");
        return;
    }
    const sg_interactions *d = sg_recommender_data(m->rec);
    int I = sg_recommender_n_items(m->rec);
    json_error_t je;
    json_t *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
    int32_t *ci = NULL, *top = NULL;
    float *score = NULL;
    unsigned char *mask = NULL;
    json_t *unknown = NULL;
    char label[1024];
    if (!root) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "body:%d:%d: %s", je.line, je.column, je.text);
        return;
    }
    const json_t *items = json_object_get(root, "items"), *user = json_object_get(root, "user");
    const json_t *kv = json_object_get(root, "k"), *excl = json_object_get(root, "exclude");
    if (!json_is_object(root) || (items != NULL) == (user != NULL)) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "body: give exactly one of \"items\": [...] (a customer "
                  "folded in) or \"user\": \"ID\" (a customer the model was trained on)");
        goto done;
    }
    json_int_t k = 20;
    if (kv) {
        if (!json_is_integer(kv) || json_integer_value(kv) < 1 || json_integer_value(kv) > MAX_K) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"k\" must be an integer in 1..%d", MAX_K);
            goto done;
        }
        k = json_integer_value(kv);
    }
    if (excl && !json_is_array(excl)) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "\"exclude\" must be an array of items");
        goto done;
    }
    if (items && !json_is_array(items)) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "\"items\" must be an array of items");
        goto done;
    }
    size_t n_hist = 0;
    if (user) {
        if (label_of(user, label, sizeof label)) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"user\" must be a string or a number");
            goto done;
        }
        int u = sg_interactions_find_user(d, label);
        if (u < 0) {
            srv_error(r, MHD_HTTP_NOT_FOUND, "user '%.200s' is not in the model's training data; "
                      "give a new customer's items as \"items\"", label);
            goto done;
        }
        const int64_t *rp = sg_interactions_row_ptr(d);
        n_hist = (size_t)(rp[u + 1] - rp[u]);
        ci = sg_malloc_array(n_hist + 1, sizeof *ci);
        if (ci && n_hist) memcpy(ci, sg_interactions_col_idx(d) + rp[u], n_hist * sizeof *ci);
    } else {
        ci = sg_malloc_array(json_array_size(items) + 1, sizeof *ci);
    }
    unknown = json_array();
    mask = sg_calloc((size_t)I, 1);
    top = sg_malloc_array((size_t)k, sizeof *top);
    score = sg_malloc_array((size_t)k, sizeof *score);
    if (!ci || !unknown || !mask || !top || !score) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    size_t idx;
    const json_t *v;
    json_int_t n_unknown = 0;
    for (int pass = 0; pass < 2; pass++) {   /* 0: the customer's items, 1: exclusions */
        const json_t *list = pass ? excl : items;
        if (!list) continue;
        json_array_foreach(list, idx, v) {
            if (label_of(v, label, sizeof label)) {
                srv_error(r, MHD_HTTP_BAD_REQUEST, "%s[%zu]: expected a string or a number",
                          pass ? "exclude" : "items", idx);
                goto done;
            }
            int it = sg_interactions_find_item(d, label);
            if (it < 0) {
                if (!pass && n_unknown++ < MAX_LISTED) json_array_append_new(unknown, json_string(label));
                continue;
            }
            if (pass) mask[it] = 1;
            else ci[n_hist++] = it;
        }
    }
    qsort(ci, n_hist, sizeof *ci, cmp_i32);
    size_t w = 0;
    for (size_t j = 0; j < n_hist; j++)
        if (!w || ci[j] != ci[w - 1]) ci[w++] = ci[j];
    int64_t rp1[2] = {0, (int64_t)w};
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_recommender_recommend(m->rec, rp1, ci, 1, (int)k, mask, top, score, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        goto done;
    }
    json_t *out = json_array();
    for (json_int_t j = 0; j < k && top[j] >= 0; j++) {
        json_array_append_new(out, json_pack("{s:s,s:o}", "item",
                                             sg_interactions_item_label(d, top[j]), "score",
                                             srv_real(score[j])));
    }
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:I,s:o,s:I,s:O}", "model", m->name, "known_items", (json_int_t)w,
                        "items", out, "unknown_count", n_unknown, "unknown_items", unknown);
done:
    json_decref(root);
    json_decref(unknown);
    sg_free(ci);
    sg_free(top);
    sg_free(score);
    sg_free(mask);
}
