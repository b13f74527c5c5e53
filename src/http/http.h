/* http.h -- what server.c (the daemon: connections, limits, auth, routing) and
 * routes.c (the model endpoints) share.  Both use only the public API.
 * See LICENSE for copyright. */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <jansson.h>
#include <pthread.h>

#include "stratagem/budget.h"
#include "stratagem/promo.h"
#include "stratagem/recommend.h"
#include "stratagem/response.h"
#include "stratagem/server.h"
#include "stratagem/uplift.h"

/* One loaded model: exactly one of resp/upl/rec/promo is set for the tasks
 * served; other tasks are listed with no endpoint. */
typedef struct srv_model {
    char *name;               /* file name without ".sgm" */
    int task;                 /* SG_TASK_* */
    sg_response *resp;
    sg_uplift *upl;
    sg_recommender *rec;
    sg_promo *promo;
    sg_budget *budget;
} srv_model;

/* The answer a route builds: an HTTP status and a JSON body (owned). */
typedef struct srv_reply {
    int status;
    json_t *body;
    const char *html;         /* instead of 'body': a static page (the dashboard) */
} srv_reply;

/* A request's body as the routes see it. */
typedef struct srv_body {
    const char *data;         /* not NUL-terminated */
    size_t len;
    int rows_only;            /* the body is rows alone, not a JSON object: CSV
                                 (Content-Type text/csv) or JSON lines (below) */
    int is_jsonl;             /* Content-Type application/x-ndjson or application/jsonl */
} srv_body;

/* Set *r to an error reply {"error": printf(fmt, ...)}; returns -1. */
int srv_error(srv_reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A finite number, or JSON null for NaN and infinities. */
json_t *srv_real(double x);

/* HTTP status for a library error: the data do not fit the model (422), or the
 * server could not (503 out of memory, 500 otherwise). */
int srv_status_of(int code);

/* The request's rows as a table: CSV as it is, JSON {"rows": [...]} written as
 * CSV first, so rows are checked as files are.  'categorical' (NULL-terminated,
 * or NULL): columns kept as text.  *root receives the parsed JSON (the route's
 * other fields), NULL for CSV.  Returns 0, or -1 with *r set. */
int srv_body_table(const srv_body *b, int max_rows, const char *const *categorical,
                   json_t **root, sg_table **t, srv_reply *r);

/* The dashboard page (dashboard.c): static, NUL-terminated. */
const char *srv_dashboard_html(void);

/* Routes of one model (routes.c).  'compute' serialises the scoring. */
void srv_model_describe(const srv_model *m, json_t *obj);
void srv_predict(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
                 srv_reply *r);
void srv_recommend(const srv_model *m, const srv_body *b, pthread_mutex_t *compute, srv_reply *r);
void srv_plan(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
              srv_reply *r);

/* Promo models (routes_promo.c): describe; predict a panel's units; plan items. */
void srv_promo_describe(const srv_model *m, json_t *obj);
void srv_promo_predict(const srv_model *m, const srv_body *b, int max_rows,
                       pthread_mutex_t *compute, srv_reply *r);
void srv_promo_plan(const srv_model *m, const srv_body *b, int max_rows, pthread_mutex_t *compute,
                    srv_reply *r);

/* Budget models (routes_budget.c): describe; split a budget across channels. */
void srv_budget_describe(const srv_model *m, json_t *obj);
void srv_budget_plan(const srv_model *m, const srv_body *b, pthread_mutex_t *compute,
                     srv_reply *r);

#endif
