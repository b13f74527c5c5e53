/* routes_budget.c -- the HTTP service's endpoints for budget (media-mix)
 * models (budget.h): describe the model (each channel's curve and returns)
 * and split a budget across its channels with the forecast of `stratagem plan
 * budget`.  Uses only the public API.  See LICENSE for copyright. */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "stratagem/mem.h"

void srv_budget_describe(const srv_model *m, json_t *o)
{
    const sg_budget *b = m->budget;
    json_object_set_new(o, "period", json_string(sg_budget_role(b, "period")));
    json_object_set_new(o, "outcome", json_string(sg_budget_role(b, "outcome")));
    json_t *ch = json_array();
    for (int c = 0; c < sg_budget_n_channels(b); c++) {
        sg_budget_channel s;
        sg_budget_channel_get(b, c, &s);
        json_array_append_new(ch, json_pack(
            "{s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name",
            sg_budget_channel_name(b, c), "carryover", srv_real(s.lambda), "shape",
            s.alpha == 1 ? "concave" : "S", "half_saturation", srv_real(s.k), "spend_week",
            srv_real(s.spend_week), "spend_week_min", srv_real(s.spend_week_min),
            "spend_week_max", srv_real(s.spend_week_max), "contribution",
            srv_real(s.contribution), "return", srv_real(s.roi), "return_lo", srv_real(s.roi_lo),
            "return_hi", srv_real(s.roi_hi), "marginal_return", srv_real(s.mroi),
            "marginal_return_lo", srv_real(s.mroi_lo), "marginal_return_hi",
            srv_real(s.mroi_hi)));
    }
    json_object_set_new(o, "channels", ch);
}

/* {"CH": X, ...} into v (NaN where not named); -1 with *r set on a bad one. */
static int bounds(const sg_budget *b, const json_t *root, const char *key, double *v,
                  srv_reply *r)
{
    for (int c = 0; c < sg_budget_n_channels(b); c++) v[c] = (double)NAN;
    const json_t *o = json_object_get(root, key);
    if (!o) return 0;
    if (!json_is_object(o))
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "\"%s\" must be an object {\"channel\": spend "
                         "per period, ...}", key);
    const char *name;
    json_t *x;
    json_object_foreach((json_t *)o, name, x) {
        int c = sg_budget_channel_index(b, name);
        if (c < 0)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "%s: '%.100s' is not a channel of this "
                             "model", key, name);
        double d = json_number_value(x);
        if (!json_is_number(x) || !(d >= 0) || !isfinite(d))
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "%s.%s: expected a number >= 0", key, name);
        v[c] = d;
    }
    return 0;
}

static json_t *value_json(const sg_budget_value *v, double margin)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "spend", srv_real(v->spend), "effect",
                     srv_real(v->effect), "effect_lo", srv_real(v->effect_lo), "effect_hi",
                     srv_real(v->effect_hi), "net", margin > 0 ? srv_real(v->net) : json_null(),
                     "net_lo", margin > 0 ? srv_real(v->net_lo) : json_null(), "net_hi",
                     margin > 0 ? srv_real(v->net_hi) : json_null());
}

void srv_budget_plan(const srv_model *m, const srv_body *body, pthread_mutex_t *compute,
                     srv_reply *r)
{
    const sg_budget *b = m->budget;
    if (body->rows_only) {
        srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "/plan on a budget model takes JSON "
                  "{\"budget\": B, \"weeks\": H, ...}");
        return;
    }
    json_error_t je;
    json_t *root = json_loadb(body->data, body->len, 0, &je);
    int C = sg_budget_n_channels(b);
    double *lo = sg_malloc_array((size_t)C, sizeof *lo), *hi = sg_malloc_array((size_t)C, sizeof *hi);
    sg_budget_plan p = {0};
    if (!lo || !hi) {
        srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        goto done;
    }
    if (!json_is_object(root)) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object {\"budget\": B, ...}%s%s",
                  root ? "" : ": ", root ? "" : je.text);
        goto done;
    }
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    const json_t *v = json_object_get(root, "budget");
    po.budget = json_number_value(v);
    if (!json_is_number(v) || !(po.budget > 0) || !isfinite(po.budget)) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "\"budget\" must be a number > 0");
        goto done;
    }
    if ((v = json_object_get(root, "weeks"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 520) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"weeks\" must be a whole number in 1..520");
            goto done;
        }
        po.weeks = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "margin"))) {
        po.margin = json_number_value(v);
        if (!json_is_number(v) || !(po.margin >= 0) || !isfinite(po.margin)) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"margin\" must be a number >= 0");
            goto done;
        }
    }
    if ((v = json_object_get(root, "steps"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 10 || json_integer_value(v) > 2000) {
            srv_error(r, MHD_HTTP_BAD_REQUEST, "\"steps\" must be a whole number in 10..2000");
            goto done;
        }
        po.steps = (int)json_integer_value(v);
    }
    if (bounds(b, root, "min", lo, r) || bounds(b, root, "max", hi, r)) goto done;
    po.min_week = lo;
    po.max_week = hi;
    sg_error err;
    sg_error_clear(&err);
    pthread_mutex_lock(compute);
    int rc = sg_budget_plan_make(b, &po, &p, &err);
    pthread_mutex_unlock(compute);
    if (rc) {
        srv_error(r, srv_status_of(rc), "%s", err.msg);
        goto done;
    }
    json_t *ch = json_array();
    for (int c = 0; c < C; c++)
        json_array_append_new(ch, json_pack(
            "{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name", sg_budget_channel_name(b, c),
            "week_spend", srv_real(p.week_spend[c]), "min_week", srv_real(p.min_week[c]),
            "max_week", srv_real(p.max_week[c]), "mix_week_spend", srv_real(p.mix_week[c]),
            "effect", srv_real(p.effect[c]), "effect_lo", srv_real(p.effect_lo[c]), "effect_hi",
            srv_real(p.effect_hi[c]), "marginal_return", srv_real(p.mroi[c])));
    json_t *fc = value_json(&p.forecast, po.margin);
    json_object_set_new(fc, "uncorrected", srv_real(p.forecast.effect + p.optimism));
    json_object_set_new(fc, "optimism", srv_real(p.optimism));
    r->status = MHD_HTTP_OK;
    r->body = json_pack("{s:s,s:o,s:i,s:o,s:i,s:o,s:{s:o,s:o,s:o},s:o}", "model", m->name,
                        "budget", json_real(po.budget), "weeks", po.weeks, "margin",
                        json_real(po.margin), "steps", po.steps, "forecast", fc, "baselines",
                        "current_mix", value_json(&p.current_mix, po.margin), "equal_split",
                        value_json(&p.equal_split, po.margin), "nothing",
                        value_json(&p.nothing, po.margin), "channels", ch);
done:
    sg_budget_plan_deinit(&p);
    sg_free(lo);
    sg_free(hi);
    json_decref(root);
}
