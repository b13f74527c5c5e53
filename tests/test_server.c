/* test_server.c -- the HTTP service (server.h) over real sockets on 127.0.0.1:
 * its routes against the library's own answers, its limits and errors, hostile
 * and concurrent clients.  Models are trained here on small generated data and
 * written to a temporary directory the server loads. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "stratagem/budget.h"
#include "stratagem/interactions.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/promo.h"
#include "stratagem/recommend.h"
#include "stratagem/response.h"
#include "stratagem/rng.h"
#include "stratagem/server.h"
#include "stratagem/uplift.h"
#include "mutate.h"

static char g_dir[] = "/tmp/sg_server_XXXXXX";
static sg_response *g_resp;       /* the models as the server loads them, for comparison */
static sg_uplift *g_upl;
static sg_recommender *g_rec;
static sg_table *g_rows;          /* rows to score: RESP_ROWS of the response table */

#define N_ROWS 400
#define RESP_ROWS 5

/* ------------------------------------------------------------------ fixtures */

static char *buf_printf(char *buf, size_t *off, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *off += (size_t)vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    return buf;
}

/* cid,x1,x2,seg,arm,prop,y: a response target y and an uplift log in one table. */
static sg_table *gen_table(void)
{
    size_t cap = (size_t)N_ROWS * 96 + 64, off = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    buf_printf(csv, &off, cap, "cid,x1,x2,seg,arm,prop,y\n");
    sg_rng r;
    sg_rng_init(&r, 11);
    const char *arms[3] = {"ctl", "a", "b"}, *segs[2] = {"north", "south"};
    for (int i = 0; i < N_ROWS; i++) {
        double x1 = sg_rng_normal(&r), x2 = sg_rng_normal(&r);
        int arm = (int)(sg_rng_uniform(&r) * 3), seg = sg_rng_uniform(&r) < 0.5;
        double p = 0.3 + 0.2 * (x1 > 0) + (arm == 1 && x2 > 0 ? 0.2 : 0) + (arm == 2 ? 0.1 : 0);
        int y = sg_rng_uniform(&r) < p;
        buf_printf(csv, &off, cap, "c%d,%.4f,%.4f,%s,%s,0.333333,%d\n", i, x1, x2, segs[seg],
                   arms[arm], y);
    }
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.id_col = "cid";
    sg_table *t = NULL;
    sg_error err;
    int rc = sg_table_load_mem(&t, "gen.csv", csv, off, &lo, &err);
    free(csv);
    assert_int_equal(rc, SG_OK);
    return t;
}

/* 60 users over 12 items i0..i11 in two taste groups. */
static sg_interactions *gen_interactions(void)
{
    char csv[16384];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "user,item\n");
    sg_rng r;
    sg_rng_init(&r, 5);
    for (int u = 0; u < 60; u++) {
        int g = u % 2;
        for (int i = 0; i < 12; i++) {
            double p = (i % 2 == g) ? 0.7 : 0.1;
            if (sg_rng_uniform(&r) < p) buf_printf(csv, &off, sizeof csv, "u%d,i%d\n", u, i);
        }
    }
    sg_table *t = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_mem(&t, "ia.csv", csv, off, NULL, &err), SG_OK);
    sg_interactions_opts io;
    sg_interactions_opts_default(&io);
    io.user_col = "user";
    io.item_col = "item";
    sg_interactions *x = NULL;
    assert_int_equal(sg_interactions_from_table(&x, t, &io, NULL, &err), SG_OK);
    sg_table_free(t);
    return x;
}

static void model_path(char *path, size_t cap, const char *name)
{
    snprintf(path, cap, "%s/%s.sgm", g_dir, name);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(g_dir)) return -1;
    sg_log_set_level(SG_LOG_WARN);
    char path[256];
    sg_error err;
    sg_table *t = gen_table();
    const char *ignore[] = {"arm", "prop", NULL};
    sg_response_opts ro;
    sg_response_opts_default(&ro);
    ro.target = "y";
    ro.id = "cid";
    ro.ignore = ignore;
    ro.learner = SG_LEARNER_LINEAR;
    sg_response *resp = NULL;
    model_path(path, sizeof path, "resp");
    if (sg_response_train(&resp, t, &ro, NULL, &err) || sg_response_save(resp, path, &err)) goto fail;
    sg_response_free(resp);
    if (sg_response_load(&g_resp, path, &err)) goto fail;

    sg_uplift_opts uo;
    sg_uplift_opts_default(&uo);
    uo.treatment = "arm";
    uo.control = "ctl";
    uo.outcome = "y";
    uo.propensity = "prop";
    uo.id = "cid";
    uo.cv_folds = 3;
    uo.repeats = 1;
    uo.gbdt.n_trees = 40;
    uo.gbdt.n_threads = 1;
    sg_uplift *upl = NULL;
    model_path(path, sizeof path, "camp");
    if (sg_uplift_train(&upl, t, &uo, NULL, &err) || sg_uplift_save(upl, path, &err)) goto fail;
    sg_uplift_free(upl);
    if (sg_uplift_load(&g_upl, path, &err)) goto fail;

    sg_interactions *x = gen_interactions();
    sg_rec_opts co;
    sg_rec_opts_default(&co, SG_REC_EASE);
    co.lambda = 10.0;
    sg_recommender *rec = NULL;
    model_path(path, sizeof path, "shop");
    int rc = sg_recommender_train(&rec, x, NULL, NULL, &co, NULL, &err);
    sg_interactions_free(x);
    if (rc || sg_recommender_save(rec, path, &err)) goto fail;
    sg_recommender_free(rec);
    if (sg_recommender_load(&g_rec, path, &err)) goto fail;

    /* the scoring rows: the first RESP_ROWS rows, features only */
    char csv[4096];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "cid,x1,x2,seg\n");
    char b1[64], b2[64], b3[64], b4[64];
    for (int i = 0; i < RESP_ROWS; i++) {
        buf_printf(csv, &off, sizeof csv, "%s,%s,%s,%s\n", sg_table_cell(t, i, 0, b1, sizeof b1),
                   sg_table_cell(t, i, 1, b2, sizeof b2), sg_table_cell(t, i, 2, b3, sizeof b3),
                   sg_table_cell(t, i, 3, b4, sizeof b4));
    }
    sg_table_free(t);
    return sg_table_load_mem(&g_rows, "rows", csv, off, NULL, &err) ? -1 : 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    sg_table_free(t);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"resp", "camp", "shop", "broken", "resp2", NULL};
    char path[256];
    for (int k = 0; names[k]; k++) {
        model_path(path, sizeof path, names[k]);
        unlink(path);
    }
    rmdir(g_dir);
    sg_response_free(g_resp);
    sg_uplift_free(g_upl);
    sg_recommender_free(g_rec);
    sg_table_free(g_rows);
    return 0;
}

static sg_server *start(const char *token, int max_conn, int timeout_s)
{
    sg_server_opts o;
    sg_server_opts_default(&o);
    o.models_dir = g_dir;
    o.port = 0;
    o.threads = 2;
    o.max_body = 64 * 1024;
    o.max_rows = 50;
    o.max_connections = max_conn;
    o.timeout_s = timeout_s;
    o.token = token;
    sg_server *s = NULL;
    sg_error err;
    int rc = sg_server_start(&s, &o, &err);
    if (rc) fprintf(stderr, "start: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_true(sg_server_port(s) > 0);
    return s;
}

/* ------------------------------------------------------------------ client */

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {10, 0};   /* a hung server fails the test instead of hanging it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until the server closes; returns the bytes (malloc'd, NUL-terminated) or
 * NULL when nothing came. */
static char *read_all(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1024 > cap) buf = realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    if (!len) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Send raw bytes on a new connection; the status line's code (0 when the server
 * sent nothing) and the body parsed as JSON (NULL when not JSON). */
static int raw(int port, const char *req, size_t len, json_t **body, char **whole)
{
    int fd = connect_to(port);
    send_all(fd, req, len);
    char *resp = read_all(fd);
    close(fd);
    if (body) *body = NULL;
    if (!resp) return 0;
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    const char *b = strstr(resp, "\r\n\r\n");
    if (body && b) *body = json_loads(b + 4, 0, NULL);
    if (whole) *whole = resp;
    else free(resp);
    return status;
}

/* One request; 'headers' extra lines each ending in \r\n (or NULL). */
static int request(int port, const char *method, const char *path, const char *headers,
                   const char *body, json_t **out)
{
    size_t blen = body ? strlen(body) : 0;
    size_t cap = blen + 1024 + (headers ? strlen(headers) : 0);
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s"
                     "Content-Length: %zu\r\n\r\n%s", method, path, headers ? headers : "", blen,
                     body ? body : "");
    int status = raw(port, req, (size_t)n, out, NULL);
    free(req);
    return status;
}

static const char *error_of(const json_t *j)
{
    const char *e = json_string_value(json_object_get(j, "error"));
    return e ? e : "";
}

/* {"rows": [...]} of the scoring rows, all cells as strings or numbers. */
static char *rows_json(const char *extra)
{
    json_t *rows = json_array();
    char buf[64];
    for (int64_t i = 0; i < sg_table_n_rows(g_rows); i++) {
        json_t *o = json_object();
        json_object_set_new(o, "cid", json_string(sg_table_cell(g_rows, i, 0, buf, sizeof buf)));
        json_object_set_new(o, "x1", json_real(atof(sg_table_cell(g_rows, i, 1, buf, sizeof buf))));
        json_object_set_new(o, "x2", json_real(atof(sg_table_cell(g_rows, i, 2, buf, sizeof buf))));
        json_object_set_new(o, "seg", json_string(sg_table_cell(g_rows, i, 3, buf, sizeof buf)));
        json_array_append_new(rows, o);
    }
    json_t *root = json_pack("{s:o}", "rows", rows);
    if (extra) {
        json_t *e = json_loads(extra, 0, NULL);
        assert_non_null(e);
        json_object_update(root, e);
        json_decref(e);
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* ------------------------------------------------------------------ tests */

/* serve-1.1: health, the dashboard, the model list, one model, unknown routes and methods */
static void routes(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    assert_int_equal(sg_server_n_models(s), 3);
    assert_string_equal(sg_server_model_name(s, 0), "camp");
    assert_string_equal(sg_server_model_task(s, 1), "response");
    assert_string_equal(sg_server_model_task(s, 2), "recommend");
    json_t *j;
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(j, "models")), 3);
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models", NULL, NULL, &j), 200);
    json_t *list = json_object_get(j, "models");
    assert_int_equal(json_array_size(list), 3);
    json_t *camp = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(camp, "task")), "uplift");
    json_t *arms = json_object_get(camp, "arms");
    assert_int_equal(json_array_size(arms), 3);
    assert_string_equal(json_string_value(json_array_get(arms, 0)), "ctl");
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models/shop", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "model")), "ease");
    assert_int_equal(json_integer_value(json_object_get(j, "items")), 12);
    json_decref(j);
    /* the dashboard: a page that calls the API */
    char *page = NULL;
    const char *get_page = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw(port, get_page, strlen(get_page), NULL, &page), 200);
    assert_non_null(strstr(page, "Content-Type: text/html"));
    assert_non_null(strstr(page, "fetch('/models'"));
    free(page);
    assert_int_equal(request(port, "GET", "/models/nope", NULL, NULL, &j), 404);
    assert_non_null(strstr(error_of(j), "no model 'nope'"));
    json_decref(j);
    assert_int_equal(request(port, "GET", "/admin", NULL, NULL, &j), 404);
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models/resp/explode", NULL, NULL, &j), 404);
    json_decref(j);
    char *whole = NULL;
    const char *del = "DELETE /models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw(port, del, strlen(del), NULL, &whole), 405);
    assert_non_null(strstr(whole, "Allow: GET, HEAD"));
    free(whole);
    assert_int_equal(request(port, "GET", "/models/resp/predict", NULL, NULL, &j), 405);
    json_decref(j);
    /* a route on the wrong kind of model */
    assert_int_equal(request(port, "POST", "/models/resp/recommend", NULL, "{}", &j), 404);
    assert_non_null(strstr(error_of(j), "use /predict"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/shop/predict", NULL, "{}", &j), 404);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.2: a response model's scores equal the library's, from JSON, CSV and JSON lines */
static void predict_response(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    double want[RESP_ROWS];
    sg_error err;
    assert_int_equal(sg_response_predict(g_resp, g_rows, NULL, RESP_ROWS, want, &err), SG_OK);
    char *body = rows_json(NULL);
    json_t *j;
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, body, &j), 200);
    free(body);
    json_t *p = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(p), RESP_ROWS);
    char buf[64];
    for (int i = 0; i < RESP_ROWS; i++) {
        json_t *row = json_array_get(p, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(row, "id")),
                            sg_table_cell(g_rows, i, 0, buf, sizeof buf));
        assert_true(fabs(json_real_value(json_object_get(row, "score")) - want[i]) < 1e-9);
    }
    json_decref(j);
    /* the same rows as CSV, columns in another order */
    char csv[2048];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "seg,x2,x1,cid\n");
    char b1[64], b2[64], b3[64], b4[64];
    for (int i = 0; i < RESP_ROWS; i++)
        buf_printf(csv, &off, sizeof csv, "%s,%s,%s,%s\n", sg_table_cell(g_rows, i, 3, b1, 64),
                   sg_table_cell(g_rows, i, 2, b2, 64), sg_table_cell(g_rows, i, 1, b3, 64),
                   sg_table_cell(g_rows, i, 0, b4, 64));
    assert_int_equal(request(port, "POST", "/models/resp/predict", "Content-Type: text/csv\r\n", csv,
                             &j), 200);
    p = json_object_get(j, "predictions");
    for (int i = 0; i < RESP_ROWS; i++)
        assert_true(fabs(json_real_value(json_object_get(json_array_get(p, (size_t)i), "score")) -
                         want[i]) < 1e-9);
    json_decref(j);
    /* the same rows as JSON lines (one object per line, keys in any order) */
    char jl[2048];
    off = 0;
    for (int i = 0; i < RESP_ROWS; i++)
        buf_printf(jl, &off, sizeof jl, "{\"seg\": \"%s\", \"x1\": %s, \"cid\": \"%s\", \"x2\": %s}\n",
                   sg_table_cell(g_rows, i, 3, b1, 64), sg_table_cell(g_rows, i, 1, b3, 64),
                   sg_table_cell(g_rows, i, 0, b4, 64), sg_table_cell(g_rows, i, 2, b2, 64));
    assert_int_equal(request(port, "POST", "/models/resp/predict",
                             "Content-Type: application/x-ndjson\r\n", jl, &j), 200);
    p = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(p), RESP_ROWS);
    for (int i = 0; i < RESP_ROWS; i++)
        assert_true(fabs(json_real_value(json_object_get(json_array_get(p, (size_t)i), "score")) -
                         want[i]) < 1e-9);
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/resp/predict",
                             "Content-Type: application/x-ndjson\r\n", "{\"x1\": 1}\n{\"x1\": }\n",
                             &j), 400);
    assert_non_null(strstr(error_of(j), "body:2:"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/camp/plan",
                             "Content-Type: application/x-ndjson\r\n", jl, &j), 415);
    json_decref(j);
    /* a missing feature column and a bad cell: 422 with the loader's message */
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL,
                             "{\"rows\": [{\"cid\": \"z\", \"x1\": 1}]}", &j), 422);
    assert_non_null(strstr(error_of(j), "'x2'"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL,
                             "{\"rows\": [{\"x1\": 1, \"x2\": \"abc\", \"seg\": \"north\"}]}", &j), 422);
    assert_non_null(strstr(error_of(j), "x2"));
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.3: an uplift model's effects and standard errors equal the library's;
 * with costs, the action is the arm a plan without a budget gives the row (the
 * model's rank scores, among arms of positive net), net its effect minus cost;
 * cost errors */
static void predict_uplift(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    int A = sg_uplift_n_arms(g_upl);
    double eff[RESP_ROWS * 3], se[RESP_ROWS * 3];
    assert_int_equal(A, 3);
    sg_error err;
    assert_int_equal(sg_uplift_predict(g_upl, g_rows, NULL, RESP_ROWS, SG_UPLIFT_VALUE, NULL, eff,
                                       se, &err), SG_OK);
    double cost[3] = {0, 0.02, 0.05}, sum[RESP_ROWS * 3];
    /* the effects that sum a plan: the model's forecaster's (the model itself, or
     * with additive trees kept the other model, as the server does) */
    assert_int_equal(sg_uplift_predict(sg_uplift_forecaster(g_upl), g_rows, NULL, RESP_ROWS,
                                       SG_UPLIFT_VALUE, NULL, sum, NULL, &err), SG_OK);
    sg_uplift_plan_opts po;
    sg_uplift_plan_opts_default(&po);
    po.sum_gain = sum;
    po.arm_cost = cost;
    po.n_boot = 0;
    po.baselines = 0;
    int32_t planned[RESP_ROWS];
    assert_int_equal(sg_uplift_plan(g_upl, eff, RESP_ROWS, &po, planned, NULL, &err), SG_OK);
    char extra[128];
    snprintf(extra, sizeof extra, "{\"cost\": {\"%s\": %g, \"%s\": %g}}", sg_uplift_arm_label(g_upl, 1),
             cost[1], sg_uplift_arm_label(g_upl, 2), cost[2]);
    char *body = rows_json(extra);
    json_t *j;
    assert_int_equal(request(port, "POST", "/models/camp/predict", NULL, body, &j), 200);
    free(body);
    assert_string_equal(json_string_value(json_object_get(j, "control")), "ctl");
    json_t *p = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(p), RESP_ROWS);
    int n_treated = 0;
    for (int i = 0; i < RESP_ROWS; i++) {
        json_t *row = json_array_get(p, (size_t)i);
        for (int a = 1; a < A; a++) {
            const char *arm = sg_uplift_arm_label(g_upl, a);
            double e = json_real_value(json_object_get(json_object_get(row, "effect"), arm));
            double v = json_real_value(json_object_get(json_object_get(row, "se"), arm));
            assert_true(fabs(e - eff[i * A + a]) < 1e-9);
            assert_true(fabs(v - se[i * A + a]) < 1e-9);
        }
        int best = planned[i];
        double best_net = best ? eff[i * A + best] - cost[best] : 0.0;
        n_treated += best > 0;
        assert_string_equal(json_string_value(json_object_get(row, "action")),
                            sg_uplift_arm_label(g_upl, best));
        assert_true(fabs(json_real_value(json_object_get(row, "net")) - best_net) < 1e-9);
    }
    json_decref(j);
    (void)n_treated;
    /* costs: an unknown arm, a missing arm, a negative cost, the control arm */
    const char *bad[] = {"{\"cost\": {\"zz\": 1}}", "{\"cost\": {\"a\": 0.1}}",
                         "{\"cost\": {\"a\": -1, \"b\": 0}}", "{\"cost\": {\"ctl\": 0, \"a\": 0, \"b\": 0}}",
                         "{\"cost\": [1, 2]}", "{\"target\": \"revenue\"}"};
    const char *want[] = {"'zz' is not a treatment arm", "arm 'b' has no cost", "expected a number >= 0",
                          "'ctl' is not a treatment arm", "must be an object", "\"target\""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        body = rows_json(bad[k]);
        assert_int_equal(request(port, "POST", "/models/camp/predict", NULL, body, &j), 400);
        if (!strstr(error_of(j), want[k])) fprintf(stderr, "got: %s\n", error_of(j));
        assert_non_null(strstr(error_of(j), want[k]));
        json_decref(j);
        free(body);
    }
    sg_server_stop(s);
}

/* serve-1.10: a budgeted plan equals sg_uplift_plan's on the same rows, forecast and
 * baselines included; bad options */
static void plan(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    int A = sg_uplift_n_arms(g_upl);
    double gain[RESP_ROWS * 3], se[RESP_ROWS * 3], cost[3] = {0, 0.01, 0.01};
    int64_t count[3], cap[3] = {-1, 1, -1};
    double arm_eff[3];
    int32_t arm[RESP_ROWS];
    sg_error err;
    assert_int_equal(sg_uplift_predict(g_upl, g_rows, NULL, RESP_ROWS, SG_UPLIFT_VALUE, NULL, gain,
                                       se, &err), SG_OK);
    double sum[RESP_ROWS * 3];
    assert_int_equal(sg_uplift_predict(sg_uplift_forecaster(g_upl), g_rows, NULL, RESP_ROWS,
                                       SG_UPLIFT_VALUE, NULL, sum, NULL, &err), SG_OK);
    sg_uplift_plan_opts po;
    sg_uplift_plan_opts_default(&po);
    po.sum_gain = sum;
    po.budget = 0.03;
    po.arm_cost = cost;
    po.cap = cap;
    po.n_boot = 50;
    po.seed = 20000;
    sg_uplift_plan_result res;
    memset(&res, 0, sizeof res);
    res.count = count;
    res.arm_effect = arm_eff;
    assert_int_equal(sg_uplift_plan(g_upl, gain, RESP_ROWS, &po, arm, &res, &err), SG_OK);
    char extra[256];
    snprintf(extra, sizeof extra, "{\"budget\": 0.03, \"boot\": 50, \"cost\": {\"a\": 0.01, "
             "\"b\": 0.01}, \"cap\": {\"%s\": 1}}", sg_uplift_arm_label(g_upl, 1));
    char *body = rows_json(extra);
    json_t *j;
    assert_int_equal(request(port, "POST", "/models/camp/plan", NULL, body, &j), 200);
    free(body);
    json_t *rows = json_object_get(j, "plan");
    assert_int_equal(json_array_size(rows), RESP_ROWS);
    int n_treated = 0;
    for (int i = 0; i < RESP_ROWS; i++) {
        json_t *row = json_array_get(rows, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(row, "action")),
                            sg_uplift_arm_label(g_upl, arm[i]));
        double want = arm[i] ? gain[i * A + arm[i]] * res.shrink : 0.0;
        assert_true(fabs(json_real_value(json_object_get(row, "expected_effect")) - want) < 1e-9);
        n_treated += arm[i] > 0;
    }
    assert_true(n_treated >= 1 && n_treated <= 3);   /* the budget buys 3 contacts */
    json_t *fc = json_object_get(j, "forecast");
    assert_int_equal(json_integer_value(json_object_get(fc, "treated")), res.plan.treated);
    assert_true(fabs(json_real_value(json_object_get(fc, "net")) - res.plan.net) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(fc, "net_lo")) - res.plan.net_lo) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(fc, "verdict")),
                        sg_uplift_verdict(&res.plan, SG_UPLIFT_VALUE));
    json_t *bl = json_object_get(j, "baselines");
    assert_true(fabs(json_real_value(json_object_get(json_object_get(bl, "random"), "net")) -
                     res.random.net) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(fc, "arms"),
                                                                        sg_uplift_arm_label(g_upl, 1)),
                                                        "customers")), count[1]);
    assert_true(count[1] <= 1);   /* the cap */
    json_decref(j);
    /* the summary alone */
    snprintf(extra, sizeof extra, "{\"budget\": 0.03, \"boot\": 50, \"summary_only\": true, "
             "\"cost\": {\"a\": 0.01, \"b\": 0.01}, \"cap\": {\"%s\": 1}}", sg_uplift_arm_label(g_upl, 1));
    body = rows_json(extra);
    assert_int_equal(request(port, "POST", "/models/camp/plan", NULL, body, &j), 200);
    free(body);
    assert_null(json_object_get(j, "plan"));
    assert_true(fabs(json_real_value(json_object_get(json_object_get(j, "forecast"), "net")) -
                     res.plan.net) < 1e-9);
    json_decref(j);
    /* "forecast": "log": the point forecast is the log's value, the interval the same */
    snprintf(extra, sizeof extra, "{\"budget\": 0.03, \"boot\": 50, \"summary_only\": true, "
             "\"forecast\": \"log\", \"cost\": {\"a\": 0.01, \"b\": 0.01}, \"cap\": {\"%s\": 1}}",
             sg_uplift_arm_label(g_upl, 1));
    body = rows_json(extra);
    assert_int_equal(request(port, "POST", "/models/camp/plan", NULL, body, &j), 200);
    free(body);
    json_t *fl = json_object_get(j, "forecast");
    assert_string_equal(json_string_value(json_object_get(fl, "basis")), "log");
    assert_true(json_real_value(json_object_get(fl, "effect")) ==
                json_real_value(json_object_get(fl, "log_effect")));
    assert_true(fabs(json_real_value(json_object_get(fl, "log_effect")) - res.plan.log_effect) <
                1e-9);
    assert_true(fabs(json_real_value(json_object_get(fl, "net_lo")) - res.plan.net_lo) < 1e-9);
    json_decref(j);
    const char *bad[] = {"{\"budget\": 1}", "{\"budget\": -1, \"cost\": {\"a\": 0, \"b\": 0}}",
                         "{\"cost\": {\"a\": 0, \"b\": 0}, \"cap\": {\"zz\": 1}}",
                         "{\"cost\": {\"a\": 0, \"b\": 0}, \"boot\": 100001}",
                         "{\"cost\": {\"a\": 0, \"b\": 0}, \"objective\": \"profit\"}",
                         "{\"cost\": {\"a\": 0, \"b\": 0}, \"forecast\": \"model\"}"};
    const char *want[] = {"\"cost\" is required", "\"budget\"", "'zz' is not a treatment arm",
                          "\"boot\"", "\"objective\"", "\"forecast\""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        body = rows_json(bad[k]);
        assert_int_equal(request(port, "POST", "/models/camp/plan", NULL, body, &j), 400);
        if (!strstr(error_of(j), want[k])) fprintf(stderr, "got: %s\n", error_of(j));
        assert_non_null(strstr(error_of(j), want[k]));
        json_decref(j);
        free(body);
    }
    assert_int_equal(request(port, "POST", "/models/resp/plan", NULL, "{}", &j), 404);
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/camp/plan", "Content-Type: text/csv\r\n",
                             "x1\n1\n", &j), 415);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.4: recommendations equal the library's; own items and exclusions never
 * come back; a training user by id; unknown items listed; bad requests */
static void recommend(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    const sg_interactions *d = sg_recommender_data(g_rec);
    int i0 = sg_interactions_find_item(d, "i0"), i2 = sg_interactions_find_item(d, "i2");
    int i4 = sg_interactions_find_item(d, "i4");
    int32_t hist[2] = {i0 < i2 ? i0 : i2, i0 < i2 ? i2 : i0};
    int64_t rp[2] = {0, 2};
    unsigned char mask[12] = {0};
    mask[i4] = 1;
    int32_t top[4];
    float sc[4];
    sg_error err;
    assert_int_equal(sg_recommender_recommend(g_rec, rp, hist, 1, 4, mask, top, sc, &err), SG_OK);
    json_t *j;
    assert_int_equal(request(port, "POST", "/models/shop/recommend", NULL,
                             "{\"items\": [\"i2\", \"i0\", \"i0\", \"nope\"], \"k\": 4, "
                             "\"exclude\": [\"i4\"]}", &j), 200);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 4);
    for (int k = 0; k < 4; k++) {
        json_t *it = json_array_get(items, (size_t)k);
        const char *label = json_string_value(json_object_get(it, "item"));
        assert_string_equal(label, sg_interactions_item_label(d, top[k]));
        assert_true(strcmp(label, "i0") && strcmp(label, "i2") && strcmp(label, "i4"));
        assert_true(fabs(json_real_value(json_object_get(it, "score")) - (double)sc[k]) < 1e-6);
    }
    assert_int_equal(json_integer_value(json_object_get(j, "known_items")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "unknown_items"), 0)), "nope");
    json_decref(j);
    /* a training user: her own items never come back */
    assert_int_equal(request(port, "POST", "/models/shop/recommend", NULL,
                             "{\"user\": \"u3\", \"k\": 12}", &j), 200);
    int u = sg_interactions_find_user(d, "u3");
    const int64_t *urp = sg_interactions_row_ptr(d);
    items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 12 - (size_t)(urp[u + 1] - urp[u]));
    for (size_t k = 0; k < json_array_size(items); k++) {
        int it = sg_interactions_find_item(d, json_string_value(json_object_get(json_array_get(items, k),
                                                                                "item")));
        for (int64_t q = urp[u]; q < urp[u + 1]; q++) assert_int_not_equal(it, sg_interactions_col_idx(d)[q]);
    }
    json_decref(j);
    const char *bad[] = {"{\"user\": \"nobody\"}", "{\"items\": [\"i1\"], \"user\": \"u1\"}", "{}",
                         "{\"items\": [\"i1\"], \"k\": 0}", "{\"items\": [{\"a\": 1}]}", "[1, 2]",
                         "{\"items\": \"i1\"}"};
    int want[] = {404, 400, 400, 400, 400, 400, 400};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(request(port, "POST", "/models/shop/recommend", NULL, bad[k], &j), want[k]);
        assert_true(strlen(error_of(j)) > 0);
        json_decref(j);
    }
    sg_server_stop(s);
}

/* serve-1.5: malformed and oversized requests get clear errors; hostile bytes do
 * not stop the server */
static void hostile(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 2);   /* requests left hanging are closed after 2 s */
    int port = sg_server_port(s);
    json_t *j;
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, "{\"rows\": [{\"x1\": ", &j), 400);
    assert_non_null(strstr(error_of(j), "body:1:"));
    json_decref(j);
    const char *bad[] = {"{\"rows\": []}", "{\"rows\": {}}", "{\"rows\": [1]}", "[]",
                         "{\"rows\": [{\"x1\": [1]}]}", "{\"rows\": [{\"x1\": 1, \"x1\": 2}]}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, bad[k], &j), 400);
        json_decref(j);
    }
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, "", &j), 400);
    assert_non_null(strstr(error_of(j), "empty body"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/resp/predict", "Content-Type: multipart/form-data\r\n",
                             "x", &j), 415);
    json_decref(j);
    /* too many rows (the limit is 50) */
    json_t *rows = json_array();
    for (int i = 0; i < 51; i++) json_array_append_new(rows, json_pack("{s:f,s:f,s:s}", "x1", 0.1, "x2", 0.2,
                                                                      "seg", "north"));
    json_t *root = json_pack("{s:o}", "rows", rows);
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, body, &j), 413);
    free(body);
    json_decref(j);
    /* the same as JSON lines: refused at the 51st object */
    char *jl = malloc(51 * 40 + 1);
    size_t jo = 0;
    for (int i = 0; i < 51; i++) jo += (size_t)sprintf(jl + jo, "{\"x1\": 0.1, \"x2\": %d}\n", i);
    assert_int_equal(request(port, "POST", "/models/resp/predict",
                             "Content-Type: application/x-ndjson\r\n", jl, &j), 413);
    free(jl);
    json_decref(j);
    /* rows of all different keys: rows x keys cells, refused before the table is made */
    size_t cap = 40 * 1024, off = 0;
    body = malloc(cap);
    off += (size_t)snprintf(body + off, cap - off, "{\"rows\": [");
    for (int i = 0; i < 50; i++)
        off += (size_t)snprintf(body + off, cap - off, "%s{\"k%d\": 1, \"q%d\": 2}", i ? "," : "", i, i);
    snprintf(body + off, cap - off, "]}");
    assert_int_equal(request(port, "POST", "/models/resp/predict", NULL, body, &j), 413);
    assert_non_null(strstr(error_of(j), "50 rows x 100 columns"));
    free(body);
    json_decref(j);
    /* a body announced above the limit (64 KiB) is refused before it is sent */
    const char *huge = "POST /models/resp/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n";
    assert_int_equal(raw(port, huge, strlen(huge), &j, NULL), 413);
    assert_non_null(strstr(error_of(j), "limit is 65536"));
    json_decref(j);
    /* chunked past the limit: the connection is closed */
    int fd = connect_to(port);
    const char *head = "POST /models/resp/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(fd, head, strlen(head));
    char chunk[8200];
    snprintf(chunk, sizeof chunk, "2000\r\n");
    size_t hl = strlen(chunk);
    memset(chunk + hl, 'a', 8192);
    memcpy(chunk + hl + 8192, "\r\n", 2);
    for (int k = 0; k < 12; k++)
        if (send_all(fd, chunk, hl + 8194)) break;
    char *resp = read_all(fd);
    assert_true(resp == NULL || strstr(resp, " 200 ") == NULL);
    free(resp);
    close(fd);
    /* garbage, a bare newline, binary bytes, an oversized header */
    const char *garbage[] = {"GARBAGE\r\n\r\n", "\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n"};
    for (size_t k = 0; k < sizeof garbage / sizeof *garbage; k++) {
        int st = raw(port, garbage[k], strlen(garbage[k]), NULL, NULL);
        assert_true(st == 0 || st >= 400);
    }
    char bin[512];
    for (size_t k = 0; k < sizeof bin; k++) bin[k] = (char)(k * 37 + 11);
    int st = raw(port, bin, sizeof bin, NULL, NULL);
    assert_true(st == 0 || st >= 400);
    size_t big = 70000;
    char *hdr = malloc(big + 200);
    int n = snprintf(hdr, 200, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: ");
    memset(hdr + n, 'a', big);
    memcpy(hdr + n + big, "\r\n\r\n", 4);
    st = raw(port, hdr, (size_t)n + big + 4, NULL, NULL);
    assert_true(st == 0 || st == 431 || st == 413);
    free(hdr);
    /* a path that is not UTF-8, and one with a newline: 404 with a readable message */
    assert_int_equal(request(port, "GET", "/models/%ff%fe", NULL, NULL, &j), 404);
    assert_non_null(strstr(error_of(j), "no model '?" "?'"));
    json_decref(j);
    assert_int_equal(request(port, "GET", "/a%0ab", NULL, NULL, &j), 404);
    json_decref(j);
    /* still serving */
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.14: damaged request bodies (JSON and CSV, for every POST route) each
 * get a JSON answer, 200 or a 4xx with an error message: never a crash, a 5xx
 * or a dropped connection; the server serves as before afterwards.
 * SG_FUZZ_ITERS (default 40) sets the damaged bodies per route. */
static void fuzz_bodies(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 16, 10);
    int port = sg_server_port(s);
    const char *e = getenv("SG_FUZZ_ITERS");
    int iters = e && atoi(e) > 0 ? atoi(e) : 40;
    char *rows = rows_json(NULL);
    char *plan = rows_json("{\"budget\": 0.03, \"boot\": 20, \"cost\": {\"a\": 0.01, "
                           "\"b\": 0.01}, \"cap\": {\"a\": 2}}");
    char csv[2048], b1[64], b2[64], b3[64], b4[64];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "seg,x2,x1,cid\n");
    for (int i = 0; i < RESP_ROWS; i++)
        buf_printf(csv, &off, sizeof csv, "%s,%s,%s,%s\n", sg_table_cell(g_rows, i, 3, b1, 64),
                   sg_table_cell(g_rows, i, 2, b2, 64), sg_table_cell(g_rows, i, 1, b3, 64),
                   sg_table_cell(g_rows, i, 0, b4, 64));
    const struct { const char *path, *headers, *body; } seeds[] = {
        {"/models/resp/predict", "", rows},
        {"/models/resp/predict", "Content-Type: text/csv\r\n", csv},
        {"/models/camp/predict", "Content-Type: application/x-ndjson\r\n",
         "{\"cid\": \"a\", \"x1\": 0.5, \"x2\": -1, \"seg\": \"north\"}\n"
         "{\"cid\": \"b\", \"x1\": 1.5, \"x2\": 2, \"seg\": \"south\"}\n"},
        {"/models/camp/predict", "", rows},
        {"/models/camp/plan", "", plan},
        {"/models/shop/recommend", "", "{\"items\": [\"i2\", \"i0\"], \"k\": 4, \"exclude\": [\"i4\"]}"},
        {"/models/shop/recommend", "", "{\"user\": \"u3\", \"k\": 12}"},
    };
    sg_rng r;
    sg_rng_init(&r, 14);
    int ok = 0;
    for (size_t k = 0; k < sizeof seeds / sizeof *seeds; k++) {
        size_t n = strlen(seeds[k].body);
        unsigned char *body = malloc(n + 256);
        char *req = malloc(n + 256 + 512);
        for (int it = 0; it < iters; it++) {
            size_t len = mutate(&r, (const unsigned char *)seeds[k].body, n, body, 1);
            int h = snprintf(req, 512, "POST %s HTTP/1.1\r\nHost: localhost\r\nConnection: "
                             "close\r\n%sContent-Length: %zu\r\n\r\n", seeds[k].path,
                             seeds[k].headers, len);
            memcpy(req + h, body, len);
            json_t *j = NULL;
            int st = raw(port, req, (size_t)h + len, &j, NULL);
            if (!(st == 200 || st == 400 || st == 404 || st == 413 || st == 415 || st == 422) ||
                !json_is_object(j) || (st != 200 && !error_of(j)[0]))
                fail_msg("%s, damaged body %d: status %d, body %s", seeds[k].path, it, st,
                         j ? "without an error" : "not JSON");
            ok += st == 200;
            json_decref(j);
        }
        free(body);
        free(req);
    }
    assert_true(ok > 0);   /* some damage is harmless: the routes were reached */
    json_t *j;
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    json_decref(j);
    free(rows);
    free(plan);
    sg_server_stop(s);
}

/* serve-1.6: with a token every route but / and /health needs it */
static void auth(void **state)
{
    (void)state;
    sg_server *s = start("s3cret-token", 16, 10);
    int port = sg_server_port(s);
    json_t *j;
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    json_decref(j);
    char *whole = NULL;
    const char *page = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw(port, page, strlen(page), NULL, &whole), 200);   /* the token is typed there */
    free(whole);
    const char *plain = "GET /models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw(port, plain, strlen(plain), NULL, &whole), 401);
    assert_non_null(strstr(whole, "WWW-Authenticate: Bearer"));
    free(whole);
    assert_int_equal(request(port, "GET", "/models", "Authorization: Bearer s3cret-toke\r\n", NULL, &j), 401);
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models", "Authorization: Bearer s3cret-token-and-more\r\n",
                             NULL, &j), 401);
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models", "Authorization: Basic s3cret-token\r\n", NULL, &j), 401);
    json_decref(j);
    assert_int_equal(request(port, "GET", "/models", "Authorization: Bearer s3cret-token\r\n", NULL, &j), 200);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.7: concurrent clients all get right answers */
typedef struct load_arg {
    int port, n, ok;
    const char *body;
    double want0;
} load_arg;

static void *load_worker(void *p)
{
    load_arg *a = p;
    for (int k = 0; k < a->n; k++) {
        json_t *j = NULL;
        int st = k % 5 == 4 ? request(a->port, "GET", "/health", NULL, NULL, &j)
                            : request(a->port, "POST", "/models/resp/predict", NULL, a->body, &j);
        if (st == 200 && (k % 5 == 4 ||
                          fabs(json_real_value(json_object_get(json_array_get(json_object_get(j, "predictions"), 0),
                                                               "score")) - a->want0) < 1e-9))
            a->ok++;
        json_decref(j);
    }
    return NULL;
}

static void load(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 32, 10);
    double want[RESP_ROWS];
    sg_error err;
    assert_int_equal(sg_response_predict(g_resp, g_rows, NULL, RESP_ROWS, want, &err), SG_OK);
    char *body = rows_json(NULL);
    enum { T = 6, N = 40 };
    pthread_t th[T];
    load_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (load_arg){sg_server_port(s), N, 0, body, want[0]};
        assert_int_equal(pthread_create(&th[t], NULL, load_worker, &args[t]), 0);
    }
    int ok = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ok += args[t].ok;
    }
    assert_int_equal(ok, T * N);
    free(body);
    sg_server_stop(s);
}

/* serve-1.8: idle connections are closed; connections over the limit wait their turn */
static void connection_limits(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 3, 2);
    int port = sg_server_port(s);
    /* a client that sends half a request is closed after the 2 s idle timeout */
    int fd = connect_to(port);
    const char *half = "POST /models/resp/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ro";
    send_all(fd, half, strlen(half));
    char c;
    errno = 0;
    ssize_t n = recv(fd, &c, 1, 0);   /* 0: closed by the server (not -1: our 10 s timeout) */
    assert_int_equal(n, 0);
    close(fd);
    /* three idle connections fill the limit: a fourth waits unanswered (libmicrohttpd
     * stops accepting) until the idle ones time out, then it is served */
    int idle[3];
    for (int k = 0; k < 3; k++) idle[k] = connect_to(port);
    usleep(100000);
    int extra = connect_to(port);
    const char *get = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(extra, get, strlen(get));
    struct timeval short_tv = {0, 300000};
    setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof short_tv);
    errno = 0;
    n = recv(extra, &c, 1, 0);
    assert_int_equal(n, -1);   /* nothing yet: the limit holds */
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    struct timeval long_tv = {10, 0};
    setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &long_tv, sizeof long_tv);
    char *resp = read_all(extra);
    assert_non_null(resp);
    assert_non_null(strstr(resp, " 200 "));
    free(resp);
    close(extra);
    for (int k = 0; k < 3; k++) {
        n = recv(idle[k], &c, 1, 0);   /* closed by the server's timeout */
        assert_int_equal(n, 0);
        close(idle[k]);
    }
    json_t *j;
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.11: a reload swaps the model set while clients keep getting right answers;
 * a bad file leaves the old set served */
/* serve-1.12: a promo model in its own directory: described with its
 * elasticities, a panel's units and a week's plan equal to the library's, and
 * rows that do not fit get 422 naming them */
static void promo_routes(void **state)
{
    (void)state;
    /* 3 stores x 2 products x 30 weeks, log units = 5 - 2 log price + 0.6 feature + noise */
    char csv[160000];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "store,product,week,units,price,deal,feat,cost\n");
    sg_rng rng;
    sg_rng_init(&rng, 3);
    for (int w = 1; w <= 30; w++)
        for (int st = 0; st < 3; st++)
            for (int p = 1; p <= 2; p++) {
                double lp = log(2.0 + p) + 0.15 * sg_rng_normal(&rng);
                int f = sg_rng_uniform(&rng) < 0.2;
                double y = 5 + 0.2 * st - 2 * lp + 0.6 * f + 0.1 * sg_rng_normal(&rng);
                buf_printf(csv, &off, sizeof csv, "s%d,%d,%d,%.6g,%.6g,0,%d,%.6g\n", st, p, w,
                           exp(y), exp(lp), f, 0.6 * (2.0 + p));
            }
    static const char *const cats[] = {"store", "product", NULL};
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.categorical = cats;
    sg_table *t = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_mem(&t, "panel", csv, off, &lo, &err), SG_OK);
    sg_promo_opts po;
    sg_promo_opts_default(&po);
    po.store = "store";
    po.product = "product";
    po.week = "week";
    po.units = "units";
    po.price = "price";
    po.deal = "deal";
    po.feature = "feat";
    po.cost = "cost";
    po.valid_weeks = 6;
    po.n_draws = 30;
    sg_promo *m = NULL;
    assert_int_equal(sg_promo_train(&m, t, &po, NULL, &err), SG_OK);
    sg_table_free(t);
    char dir[] = "/tmp/sg_server_promo_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/oj.sgm", dir);
    assert_int_equal(sg_promo_save(m, path, &err), SG_OK);
    sg_server_opts o;
    sg_server_opts_default(&o);
    o.models_dir = dir;
    o.port = 0;
    o.threads = 2;
    sg_server *s = NULL;
    assert_int_equal(sg_server_start(&s, &o, &err), SG_OK);
    int port = sg_server_port(s);
    json_t *j;
    assert_int_equal(request(port, "GET", "/models/oj", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "task")), "promo");
    json_t *prods = json_object_get(j, "products");
    assert_int_equal(json_array_size(prods), 2);
    sg_promo_coef c;
    sg_promo_coef_get(m, 0, &c);
    assert_true(fabs(json_real_value(json_object_get(json_array_get(prods, 0), "elasticity")) -
                     c.elasticity) < 1e-9);
    json_decref(j);
    /* a later week's units */
    const char *rows = "{\"rows\": [{\"store\": \"s1\", \"product\": 2, \"week\": 31, "
                       "\"price\": 4.2, \"deal\": 0, \"feat\": 1}, {\"store\": \"s2\", "
                       "\"product\": 1, \"week\": 31, \"price\": 3, \"deal\": 0, \"feat\": 0}]}";
    assert_int_equal(request(port, "POST", "/models/oj/predict", NULL, rows, &j), 200);
    const char *pcsv = "store,product,week,price,deal,feat\ns1,2,31,4.2,0,1\ns2,1,31,3,0,0\n";
    assert_int_equal(sg_table_load_mem(&t, "p", pcsv, strlen(pcsv), &lo, &err), SG_OK);
    double u[2];
    assert_int_equal(sg_promo_predict(m, t, u, NULL, &err), SG_OK);
    sg_table_free(t);
    json_t *units = json_object_get(j, "units");
    for (int i = 0; i < 2; i++)
        assert_true(fabs(json_real_value(json_array_get(units, (size_t)i)) - u[i]) <
                    1e-9 * u[i]);
    json_decref(j);
    /* a plan: the same as sg_promo_plan's */
    const char *plan = "{\"rows\": [{\"store\": \"s0\", \"product\": 1, \"price\": 3, "
                       "\"cost\": 1.8}, {\"store\": \"s0\", \"product\": 2, \"price\": 4, "
                       "\"cost\": 2.4}, {\"store\": \"s2\", \"product\": 1, \"price\": 3, "
                       "\"cost\": 1.8}], \"changes\": [-10, 0, 10], \"feature_cost\": 20, "
                       "\"budget\": 30, \"max_promos\": 1, \"draws\": 20}";
    assert_int_equal(request(port, "POST", "/models/oj/plan", NULL, plan, &j), 200);
    sg_promo_item items[3] = {{0, 0, 3, 1.8}, {0, 1, 4, 2.4}, {2, 0, 3, 1.8}};
    const double ch[3] = {-0.1, 0, 0.1};
    sg_promo_plan_opts pp;
    sg_promo_plan_opts_default(&pp);
    pp.changes = ch;
    pp.n_changes = 3;
    pp.feature_cost = 20;
    pp.budget = 30;
    pp.max_promos = 1;
    pp.n_draws = 20;
    sg_promo_choice res[3];
    sg_promo_forecast fc;
    assert_int_equal(sg_promo_plan(m, items, 3, &pp, res, &fc, &err), SG_OK);
    json_t *lift = json_object_get(j, "lift");
    assert_true(fabs(json_real_value(json_object_get(lift, "profit")) - fc.lift) <
                1e-9 * fabs(fc.lift) + 1e-9);
    assert_true(fabs(json_real_value(json_object_get(lift, "profit_lo")) - fc.lift_lo) <
                1e-9 * fabs(fc.lift_lo) + 1e-9);
    json_t *pl = json_object_get(j, "plan");
    assert_int_equal(json_array_size(pl), 3);
    for (int i = 0; i < 3; i++) {
        json_t *row = json_array_get(pl, (size_t)i);
        assert_true(fabs(json_real_value(json_object_get(row, "price")) - res[i].price) < 1e-9);
        assert_int_equal(json_is_true(json_object_get(row, "feature")), res[i].feature);
    }
    json_decref(j);
    /* rows that do not fit */
    const char *bad = "{\"rows\": [{\"store\": \"s9\", \"product\": 1, \"price\": 3, "
                      "\"cost\": 1}]}";
    assert_int_equal(request(port, "POST", "/models/oj/plan", NULL, bad, &j), 422);
    assert_non_null(strstr(error_of(j), "store 's9' is not one the model was trained on"));
    json_decref(j);
    const char *nocost = "{\"rows\": [{\"store\": \"s0\", \"product\": 1, \"price\": 3}]}";
    assert_int_equal(request(port, "POST", "/models/oj/plan", NULL, nocost, &j), 422);
    assert_non_null(strstr(error_of(j), "(the unit cost)"));
    json_decref(j);
    const char *badopt = "{\"rows\": [{\"store\": \"s0\", \"product\": 1, \"price\": 3, "
                         "\"cost\": 1}], \"changes\": [-100]}";
    assert_int_equal(request(port, "POST", "/models/oj/plan", NULL, badopt, &j), 400);
    json_decref(j);
    const char *badprod = "{\"rows\": [{\"store\": \"s0\", \"product\": 7, \"week\": 31, "
                          "\"price\": 3, \"deal\": 0, \"feat\": 0}]}";
    assert_int_equal(request(port, "POST", "/models/oj/predict", NULL, badprod, &j), 422);
    assert_non_null(strstr(error_of(j), "a product the model was trained on"));
    json_decref(j);
    sg_server_stop(s);
    sg_promo_free(m);
    unlink(path);
    rmdir(dir);
}

/* serve-1.13: a budget (media-mix) model: described with its channels'
 * curves and returns, a split equal to the library's, bad options 400 and a
 * budget below the least spends 422 */
static void budget_routes(void **state)
{
    (void)state;
    enum { N = 120 };
    static double base[N], x[4 * N], y[N], q[N];
    for (int t = 0; t < N; t++) base[t] = 10000 * (1 + 0.15 * sin(2 * M_PI * t / 52.0));
    sg_budget_truth tr;
    sg_error err;
    assert_int_equal(sg_budget_world(base, N, 10000, 4, x, y, q, &tr, &err), SG_OK);
    char csv[40000];
    size_t off = 0;
    buf_printf(csv, &off, sizeof csv, "week,queries,tv,search,social,display,sales\n");
    for (int t = 0; t < N; t++)
        buf_printf(csv, &off, sizeof csv, "%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", t + 1, q[t], x[t],
                   x[N + t], x[2 * N + t], x[3 * N + t], y[t]);
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    sg_table *t = NULL;
    assert_int_equal(sg_table_load_mem(&t, "series", csv, off, &lo, &err), SG_OK);
    static const char *const chans[] = {"tv", "search", "social", "display"};
    static const char *const ctrl[] = {"queries"};
    sg_budget_opts bo;
    sg_budget_opts_default(&bo);
    bo.period = "week";
    bo.outcome = "sales";
    bo.channels = chans;
    bo.n_channels = 4;
    bo.controls = ctrl;
    bo.n_controls = 1;
    bo.season = 52;
    bo.n_draws = 20;
    sg_budget *m = NULL;
    assert_int_equal(sg_budget_train(&m, t, &bo, NULL, &err), SG_OK);
    sg_table_free(t);
    char dir[] = "/tmp/sg_server_budget_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/mmm.sgm", dir);
    assert_int_equal(sg_budget_save(m, path, &err), SG_OK);
    sg_server_opts o;
    sg_server_opts_default(&o);
    o.models_dir = dir;
    o.port = 0;
    o.threads = 2;
    sg_server *s = NULL;
    assert_int_equal(sg_server_start(&s, &o, &err), SG_OK);
    int port = sg_server_port(s);
    json_t *j;
    assert_int_equal(request(port, "GET", "/models/mmm", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "task")), "budget");
    json_t *chs = json_object_get(j, "channels");
    assert_int_equal(json_array_size(chs), 4);
    sg_budget_channel c0;
    sg_budget_channel_get(m, 0, &c0);
    assert_true(fabs(json_real_value(json_object_get(json_array_get(chs, 0), "return")) - c0.roi) <
                1e-9 * c0.roi + 1e-12);
    json_decref(j);
    /* a split: the same as sg_budget_plan_make's */
    const char *req = "{\"budget\": 26000, \"weeks\": 13, \"max\": {\"display\": 100}}";
    assert_int_equal(request(port, "POST", "/models/mmm/plan", NULL, req, &j), 200);
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = 26000;
    double mx[4] = {NAN, NAN, NAN, 100};
    po.max_week = mx;
    sg_budget_plan p;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_OK);
    json_t *pch = json_object_get(j, "channels");
    assert_int_equal(json_array_size(pch), 4);
    for (int c = 0; c < 4; c++)
        assert_true(fabs(json_real_value(json_object_get(json_array_get(pch, (size_t)c),
                                                         "week_spend")) - p.week_spend[c]) < 1e-9);
    json_t *fc = json_object_get(j, "forecast");
    assert_true(fabs(json_real_value(json_object_get(fc, "effect")) - p.forecast.effect) <
                1e-9 * fabs(p.forecast.effect));
    assert_true(json_is_null(json_object_get(fc, "net")));
    assert_true(p.week_spend[3] <= 100 + 1e-9);
    sg_budget_plan_deinit(&p);
    json_decref(j);
    /* bad options and a budget that cannot be met */
    assert_int_equal(request(port, "POST", "/models/mmm/plan", NULL, "{\"budget\": 0}", &j), 400);
    assert_non_null(strstr(error_of(j), "\"budget\" must be a number > 0"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/mmm/plan", NULL,
                             "{\"budget\": 26000, \"min\": {\"radio\": 1}}", &j), 400);
    assert_non_null(strstr(error_of(j), "'radio' is not a channel of this model"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/mmm/plan", NULL, "{\"budget\": 10}", &j), 422);
    assert_non_null(strstr(error_of(j), "more than the budget 10"));
    json_decref(j);
    assert_int_equal(request(port, "POST", "/models/mmm/predict", NULL, "{\"rows\": []}", &j), 404);
    assert_non_null(strstr(error_of(j), "use /plan"));
    json_decref(j);
    sg_server_stop(s);
    sg_budget_free(m);
    unlink(path);
    rmdir(dir);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static void reload(void **state)
{
    (void)state;
    sg_server *s = start(NULL, 32, 10);
    int port = sg_server_port(s);
    double want[RESP_ROWS];
    sg_error err;
    assert_int_equal(sg_response_predict(g_resp, g_rows, NULL, RESP_ROWS, want, &err), SG_OK);
    char *body = rows_json(NULL);
    enum { T = 2, N = 30 };
    pthread_t th[T];
    load_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (load_arg){port, N, 0, body, want[0]};
        assert_int_equal(pthread_create(&th[t], NULL, load_worker, &args[t]), 0);
    }
    char from[256], to[256];
    model_path(from, sizeof from, "resp");
    model_path(to, sizeof to, "resp2");
    copy_file(from, to);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(sg_server_reload(s, &err), SG_OK);
        usleep(20000);
    }
    int ok = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ok += args[t].ok;
    }
    assert_int_equal(ok, T * N);   /* every request answered right through the reloads */
    free(body);
    assert_int_equal(sg_server_n_models(s), 4);
    json_t *j;
    assert_int_equal(request(port, "GET", "/models/resp2", NULL, NULL, &j), 200);
    json_decref(j);
    /* a broken file: the reload fails naming it, the four models stay served */
    char path[256];
    model_path(path, sizeof path, "broken");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a model", f);
    fclose(f);
    assert_int_not_equal(sg_server_reload(s, &err), SG_OK);
    assert_non_null(strstr(err.msg, "broken.sgm"));
    assert_int_equal(request(port, "GET", "/health", NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "models")), 4);
    json_decref(j);
    unlink(path);
    unlink(to);
    assert_int_equal(sg_server_reload(s, &err), SG_OK);
    assert_int_equal(request(port, "GET", "/models/resp2", NULL, NULL, &j), 404);
    json_decref(j);
    sg_server_stop(s);
}

/* serve-1.9: start-up errors name what is wrong */
static void start_errors(void **state)
{
    (void)state;
    sg_server_opts o;
    sg_server_opts_default(&o);
    o.port = 0;
    sg_server *s = NULL;
    sg_error err;
    o.models_dir = "/nonexistent/models";
    assert_int_equal(sg_server_start(&s, &o, &err), SG_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/models"));
    assert_null(s);
    char empty[] = "/tmp/sg_server_empty_XXXXXX";
    assert_non_null(mkdtemp(empty));
    o.models_dir = empty;
    assert_int_equal(sg_server_start(&s, &o, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "no model file"));
    rmdir(empty);
    o.models_dir = g_dir;
    o.bind = "localhost";
    assert_int_equal(sg_server_start(&s, &o, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "not an IPv4 address"));
    o.bind = "127.0.0.1";
    o.token = "";
    assert_int_equal(sg_server_start(&s, &o, &err), SG_EINVAL);
    o.token = NULL;
    /* the port of a running server is taken */
    sg_server *first = start(NULL, 4, 10);
    o.port = sg_server_port(first);
    assert_int_equal(sg_server_start(&s, &o, &err), SG_EIO);
    assert_non_null(strstr(err.msg, "cannot listen"));
    sg_server_stop(first);
    /* a corrupt model file is named */
    char path[256];
    model_path(path, sizeof path, "broken");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("SGM1 this is not a model", f);
    fclose(f);
    o.port = 0;
    int rc = sg_server_start(&s, &o, &err);
    assert_true(rc == SG_EPARSE || rc == SG_EIO);
    assert_non_null(strstr(err.msg, "broken.sgm"));
    unlink(path);
    assert_null(s);
    sg_server_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes),           cmocka_unit_test(predict_response),
        cmocka_unit_test(predict_uplift),   cmocka_unit_test(plan),
        cmocka_unit_test(recommend),        cmocka_unit_test(promo_routes),
        cmocka_unit_test(budget_routes),
        cmocka_unit_test(hostile),          cmocka_unit_test(auth),
        cmocka_unit_test(fuzz_bodies),      cmocka_unit_test(load),
        cmocka_unit_test(connection_limits),
        cmocka_unit_test(start_errors),     cmocka_unit_test(reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
