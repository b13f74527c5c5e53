/* routes_promo.c -- the HTTP service's endpoints for promo models (promo.h):
 * describe the model (its products' elasticities and promotion effects),
 * predict a panel's expected units, and plan a week's prices, deals and
 * features with the forecast of `stratagem plan promo`.  Rows arrive as JSON
 * or CSV and go through the file loader, so errors name the row and column.
 * Uses only the public API.  See LICENSE for copyright. */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "stratagem/mem.h"

#define MAX_CHANGES 64

void srv_promo_describe(const srv_model *m, json_t *o)
{
    const sg_promo *p = m->promo;
    static const char *const roles[] = {"store", "product", "week", "units", "log_units",
                                        "price", "deal", "feature", "cost"};
    json_t *cols = json_object();
    for (size_t k = 0; k < sizeof roles / sizeof *roles; k++) {
        const char *c = sg_promo_role(p, roles[k]);
        if (c) json_object_set_new(cols, roles[k], json_string(c));
    }
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "stores", json_integer(sg_promo_n_stores(p)));
    json_t *prods = json_array();
    for (int q = 0; q < sg_promo_n_products(p); q++) {
        sg_promo_coef c;
        sg_promo_coef_get(p, q, &c);
        json_array_append_new(prods, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "product",
                                               sg_promo_product_label(p, q), "elasticity",
                                               srv_real(c.elasticity), "elasticity_se",
                                               srv_real(c.elasticity_se), "deal", srv_real(c.deal),
                                               "feature", srv_real(c.feature), "store_sd",
                                               srv_real(c.store_sd), "sigma", srv_real(c.sigma)));
    }
    json_object_set_new(o, "products", prods);
}

/* The store and product columns, kept as text ("007" stays "007"). */
static void key_columns(const sg_promo *p, const char *cats[3])
{
    cats[0] = sg_promo_role(p, "store");
    cats[1] = sg_promo_role(p, "product");
    cats[2] = NULL;
}

void srv_promo_predict(const srv_model *m, const srv_body *b, int max_rows,
                       pthread_mutex_t *compute, srv_reply *r)
{
    const char *cats[3];
    key_columns(m->promo, cats);
    json_t *root = NULL;
    sg_table *t = NULL;
    double *u = NULL;
    if (srv_body_table(b, max_rows, cats, &root, &t, r)) goto done;
    int64_t n = sg_table_n_rows(t), unseen = 0;
    if (!(u = sg_malloc_array((size_t)n, sizeof *u))) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_promo_predict(m->promo, t, u, &unseen, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        goto done;
    }
    json_t *arr = json_array();
    for (int64_t i = 0; i < n; i++) json_array_append_new(arr, srv_real(u[i]));
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:I,s:o,s:I}", "model", m->name, "rows", (json_int_t)n,
                        "units", arr, "unseen_store_rows", (json_int_t)unseen);
done:
    sg_free(u);
    sg_table_free(t);
    json_decref(root);
}

/* A non-negative finite number at key k of root into *x (absent: unchanged). */
static int get_nonneg(const json_t *root, const char *k, double *x, srv_reply *r)
{
    const json_t *v = json_object_get(root, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v)))
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"%s\" must be a number >= 0", k);
    *x = json_number_value(v);
    return 0;
}

/* The plan's options from the request (see docs/serve.md). */
static int plan_options(const json_t *root, sg_promo_plan_opts *po, double *ch, srv_reply *r)
{
    sg_promo_plan_opts_default(po);
    po->seed = 20000;
    const json_t *v = json_object_get(root, "changes");
    if (v) {
        if (!json_is_array(v) || json_array_size(v) > MAX_CHANGES)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"changes\" must be an array of at most %d "
                             "percentages", MAX_CHANGES);
        size_t k;
        json_t *x;
        json_array_foreach(v, k, x) {
            double c = json_number_value(x);
            if (!json_is_number(x) || !(c > -100 && c <= 100))
                return srv_error(r, MHD_HTTP_BAD_REQUEST, "changes[%zu]: expected a percentage in "
                                 "(-100, 100]", k);
            ch[k] = c / 100;
        }
        po->changes = ch;
        po->n_changes = (int)json_array_size(v);
    }
    if (get_nonneg(root, "deal_cost", &po->deal_cost, r) ||
        get_nonneg(root, "feature_cost", &po->feature_cost, r) ||
        get_nonneg(root, "budget", &po->budget, r))
        return -1;
    if ((v = json_object_get(root, "max_promos"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"max_promos\" must be a whole number >= 0");
        po->max_promos = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "draws"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10000)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"draws\" must be an integer in 0..10000");
        po->n_draws = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "seed"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"seed\" must be an integer >= 0");
        po->seed = (uint64_t)json_integer_value(v);
    }
    po->extrapolate = json_is_true(json_object_get(root, "extrapolate"));
    return 0;
}

static json_t *total_json(const sg_promo_total *t)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "profit", srv_real(t->profit), "profit_lo",
                     srv_real(t->profit_lo), "profit_hi", srv_real(t->profit_hi), "units",
                     srv_real(t->units), "revenue", srv_real(t->revenue), "spend",
                     srv_real(t->spend));
}

void srv_promo_plan(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
                    srv_reply *r)
{
    const sg_promo *p = m->promo;
    if (b->rows_only) {
        srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "/plan takes JSON {\"rows\": [...], "
                  "\"budget\": B, ...}");
        return;
    }
    const char *cats[3];
    key_columns(p, cats);
    json_t *root = NULL;
    sg_table *t = NULL;
    sg_promo_item *items = NULL;
    sg_promo_choice *res = NULL;
    double ch[MAX_CHANGES];
    sg_promo_plan_opts po;
    if (srv_body_table(b, max_rows, cats, &root, &t, r) || plan_options(root, &po, ch, r))
        goto done;
    const char *price = sg_promo_role(p, "price"), *cost = sg_promo_role(p, "cost");
    int cs = sg_table_find(t, cats[0]), cp = sg_table_find(t, cats[1]);
    int cpr = price ? sg_table_find(t, price) : -1, cc = cost ? sg_table_find(t, cost) : -1;
    if (cs < 0 || cp < 0 || cpr < 0 || cc < 0 || !sg_table_num(t, cpr) || !sg_table_num(t, cc)) {
        srv_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "each row needs \"%s\", \"%s\", \"%s\" (the "
                  "regular price) and \"%s\" (the unit cost), the last two numbers", cats[0],
                  cats[1], price ? price : "price", cost ? cost : "cost");
        goto done;
    }
    int64_t n = sg_table_n_rows(t);
    items = sg_malloc_array((size_t)n, sizeof *items);
    res = sg_malloc_array((size_t)n, sizeof *res);
    if (!items || !res) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    const double *pv = sg_table_num(t, cpr), *cv = sg_table_num(t, cc);
    for (int64_t i = 0; i < n; i++) {
        char b1[256], b2[256];
        const char *sl = sg_table_cell(t, i, cs, b1, sizeof b1);
        const char *pl = sg_table_cell(t, i, cp, b2, sizeof b2);
        int s = sg_promo_store_index(p, sl), q = sg_promo_product_index(p, pl);
        if (s < 0 || q < 0) {
            srv_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "rows[%lld]: %s '%.100s' is not one the "
                      "model was trained on", (long long)i, s < 0 ? "store" : "product",
                      s < 0 ? sl : pl);
            goto done;
        }
        if (!(pv[i] > 0) || !(cv[i] >= 0)) {
            srv_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "rows[%lld]: expected a price > 0 and a "
                      "cost >= 0", (long long)i);
            goto done;
        }
        items[i] = (sg_promo_item){s, q, pv[i], cv[i]};
    }
    sg_promo_forecast fc;
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_promo_plan(p, items, n, &po, res, &fc, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        goto done;
    }
    json_t *lift = json_pack("{s:o,s:o,s:o,s:o,s:o}", "profit", srv_real(fc.lift), "profit_lo",
                             srv_real(fc.lift_lo), "profit_hi", srv_real(fc.lift_hi),
                             "uncorrected", srv_real(fc.lift_naive), "optimism",
                             srv_real(fc.optimism));
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:I,s:o,s:o,s:o,s:I,s:I,s:I,s:o,s:i}", "model", m->name, "items",
                        (json_int_t)n, "forecast", total_json(&fc.plan), "baseline",
                        total_json(&fc.base), "lift", lift, "promoted",
                        (json_int_t)fc.n_promoted, "price_changes", (json_int_t)fc.n_changed,
                        "out_of_range_options", (json_int_t)fc.n_out_of_range, "budget",
                        po.budget >= 0 ? json_real(po.budget) : json_null(), "draws", fc.n_draws);
    if (!json_is_true(json_object_get(root, "summary_only"))) {
        json_t *rows = json_array();
        for (int64_t i = 0; i < n; i++) {
            const sg_promo_choice *c = &res[i];
            json_array_append_new(rows, json_pack(
                "{s:s,s:s,s:o,s:o,s:b,s:b,s:o,s:o,s:o,s:o,s:o}", cats[0],
                sg_promo_store_label(p, items[i].store), cats[1],
                sg_promo_product_label(p, items[i].product), "price", srv_real(c->price),
                "change_pct", srv_real(100 * c->change), "deal", c->deal, "feature", c->feature,
                "units", srv_real(c->units), "profit", srv_real(c->profit), "spend",
                srv_real(c->spend), "base_units", srv_real(c->base_units), "base_profit",
                srv_real(c->base_profit)));
        }
        json_object_set_new(r->body, "plan", rows);
    }
done:
    sg_free(items);
    sg_free(res);
    sg_table_free(t);
    json_decref(root);
}
