/* server.c -- the HTTP service's daemon: models loaded from a directory,
 * connections (libmicrohttpd, a pool of threads), limits, the bearer token, and
 * the routing of server.h.  The model endpoints themselves are in routes.c.
 *
 * A request's life: libmicrohttpd calls on_request first with the headers only
 * (a body announced above the limit is refused there, unread), then once per
 * piece of the body (appended to the request's buffer), then a last time with
 * nothing left to read: the route runs and its reply is queued.  on_completed
 * frees the buffer whatever happened.
 * See LICENSE for copyright. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"

/* The models of the directory, in name order. */
typedef struct model_set {
    srv_model *models;
    int n;
} model_set;

struct sg_server {
    struct MHD_Daemon *daemon;
    char *dir;                /* the models directory */
    model_set set;            /* the models served, swapped whole by sg_server_reload */
    pthread_rwlock_t lock;    /* read: a request using 'set'; write: a reload swapping it */
    int port;
    pthread_mutex_t compute;  /* one scoring at a time: each uses every thread */
    char *token;              /* NULL: no authentication */
    size_t max_body;
    int max_rows;
    int access_log;
};

/* One request in progress. */
typedef struct req {
    char *buf;
    size_t len, cap;
    int replied;              /* a reply was queued before the body was read */
    double t0;
} req;

void sg_server_opts_default(sg_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bind = "127.0.0.1";
    o->port = 8080;
    o->threads = 4;
    o->max_body = (size_t)8 << 20;
    o->max_rows = 100000;
    o->max_connections = 64;
    o->timeout_s = 10;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int srv_error(srv_reply *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(r->body);
    r->status = status;
    r->body = json_pack("{s:s}", "error", msg);
    if (!r->body) {   /* the message quotes a request's bytes that are not UTF-8 */
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80) *p = '?';
        r->body = json_pack("{s:s}", "error", msg);
    }
    return -1;
}

json_t *srv_real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* ------------------------------------------------------------------ models */

static int name_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_free(model_set *ms)
{
    for (int k = 0; k < ms->n; k++) {
        srv_model *m = &ms->models[k];
        sg_free(m->name);
        sg_response_free(m->resp);
        sg_uplift_free(m->upl);
        sg_recommender_free(m->rec);
        sg_promo_free(m->promo);
        sg_budget_free(m->budget);
    }
    sg_free(ms->models);
    ms->models = NULL;
    ms->n = 0;
}

static int load_one(srv_model *m, const char *path, sg_error *err)
{
    unsigned char *payload = NULL;
    size_t len = 0;
    int rc = sg_modelfile_read(path, 0, &m->task, &payload, &len, err);
    sg_free(payload);
    if (rc) return rc;
    switch (m->task) {
    case SG_TASK_RESPONSE:
        return sg_response_load(&m->resp, path, err);
    case SG_TASK_UPLIFT:
        return sg_uplift_load(&m->upl, path, err);
    case SG_TASK_RECOMMEND:
        return sg_recommender_load(&m->rec, path, err);
    case SG_TASK_PROMO:
        return sg_promo_load(&m->promo, path, err);
    case SG_TASK_BUDGET:
        return sg_budget_load(&m->budget, path, err);
    default:
        return SG_OK;   /* listed, not served */
    }
}

/* Every DIR/NAME.sgm, in name order, into *ms (empty on entry; on failure what
 * was loaded is left for set_free). */
static int set_load(model_set *ms, const char *dir, sg_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return sg_error_set(err, SG_EIO, "%s: cannot open the models directory: %s", dir,
                                strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = SG_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L <= 4 || strcmp(e->d_name + L - 4, ".sgm") != 0) continue;
        if (n == cap) {
            int nc = cap ? 2 * cap : 16;
            char **nn = sg_realloc(names, (size_t)nc * sizeof *nn);
            if (!nn) {
                rc = sg_error_set(err, SG_ENOMEM, "out of memory listing %s", dir);
                break;
            }
            names = nn;
            cap = nc;
        }
        names[n] = sg_strndup(e->d_name, L - 4);
        if (!names[n]) rc = sg_error_set(err, SG_ENOMEM, "out of memory listing %s", dir);
        else n++;
    }
    closedir(d);
    if (!rc && n == 0) rc = sg_error_set(err, SG_EINVAL, "%s: no model file (NAME.sgm) to serve", dir);
    if (!rc) {
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        ms->models = sg_calloc((size_t)n, sizeof *ms->models);
        if (!ms->models) rc = sg_error_set(err, SG_ENOMEM, "out of memory loading models");
    }
    for (int k = 0; !rc && k < n; k++) {
        srv_model *m = &ms->models[ms->n];
        if (!name_ok(names[k])) {
            rc = sg_error_set(err, SG_EINVAL, "%s/%s.sgm: a model name may hold only letters, "
                              "digits, '.', '_' and '-'", dir, names[k]);
            break;
        }
        size_t plen = strlen(dir) + strlen(names[k]) + 6;
        char *path = sg_malloc(plen);
        if (!path) {
            rc = sg_error_set(err, SG_ENOMEM, "out of memory loading models");
            break;
        }
        snprintf(path, plen, "%s/%s.sgm", dir, names[k]);
        m->name = names[k];
        names[k] = NULL;
        ms->n++;
        rc = load_one(m, path, err);
        if (rc && strncmp(err->msg, path, strlen(path)) != 0)   /* name the file once */
            sg_error_prefix(err, "%s: ", path);
        sg_free(path);
    }
    for (int k = 0; k < n; k++) sg_free(names[k]);
    sg_free(names);
    return rc;
}

static const srv_model *find_model(const sg_server *s, const char *name, size_t len)
{
    for (int k = 0; k < s->set.n; k++) {
        if (strlen(s->set.models[k].name) == len && !memcmp(s->set.models[k].name, name, len))
            return &s->set.models[k];
    }
    return NULL;
}

/* ------------------------------------------------------------------ routing */

static int is_get(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* Constant-time comparison of the Authorization header with "Bearer TOKEN". */
static int token_ok(const sg_server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    h += 7;
    size_t a = strlen(h), b = strlen(s->token);
    unsigned diff = (unsigned)(a != b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned char)(h[i < a ? i : 0] ^ s->token[i]);
    return diff == 0;
}

static void route(sg_server *s, struct MHD_Connection *c, const char *url, const char *method,
                  const req *q, srv_reply *r, const char **allow)
{
    *allow = NULL;
    if (!strcmp(url, "/")) {   /* the dashboard: a static page, the token is typed into it */
        if (!is_get(method)) {
            *allow = "GET, HEAD";
            srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s /: use GET", method);
            return;
        }
        r->status = MHD_HTTP_OK;
        r->html = srv_dashboard_html();
        return;
    }
    if (!strcmp(url, "/health")) {
        if (!is_get(method)) {
            *allow = "GET, HEAD";
            srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s /health: use GET", method);
            return;
        }
        r->status = MHD_HTTP_OK;
        r->body = json_pack("{s:s,s:i}", "status", "ok", "models", s->set.n);
        return;
    }
    if (s->token && !token_ok(s, c)) {
        srv_error(r, MHD_HTTP_UNAUTHORIZED, "missing or wrong token: send 'Authorization: Bearer TOKEN'");
        return;
    }
    if (!strcmp(url, "/models") || !strcmp(url, "/models/")) {
        if (!is_get(method)) {
            *allow = "GET, HEAD";
            srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s /models: use GET", method);
            return;
        }
        json_t *list = json_array();
        for (int k = 0; list && k < s->set.n; k++) {
            json_t *o = json_object();
            if (o) srv_model_describe(&s->set.models[k], o);
            json_array_append_new(list, o);
        }
        r->status = MHD_HTTP_OK;
        r->body = json_pack("{s:o}", "models", list);
        return;
    }
    if (strncmp(url, "/models/", 8) != 0) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "no route %s (routes: /health, /models, /models/NAME, "
                  "/models/NAME/predict, /models/NAME/plan, /models/NAME/recommend)", url);
        return;
    }
    const char *name = url + 8, *slash = strchr(name, '/');
    size_t nlen = slash ? (size_t)(slash - name) : strlen(name);
    const char *action = slash ? slash + 1 : "";
    const srv_model *m = find_model(s, name, nlen);
    if (!m) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "no model '%.*s' (GET /models lists them)",
                  (int)(nlen > 200 ? 200 : nlen), name);
        return;
    }
    if (!*action) {
        if (!is_get(method)) {
            *allow = "GET, HEAD";
            srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use GET", method, url);
            return;
        }
        r->status = MHD_HTTP_OK;
        r->body = json_object();
        if (r->body) srv_model_describe(m, r->body);
        return;
    }
    int predict = !strcmp(action, "predict"), recommend = !strcmp(action, "recommend");
    int plan = !strcmp(action, "plan");
    if (!predict && !recommend && !plan) {
        srv_error(r, MHD_HTTP_NOT_FOUND, "no route %s (a model has /predict, /plan or /recommend)",
                  url);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        *allow = "POST";
        srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use POST", method, url);
        return;
    }
    srv_body b = {q->buf, q->len, 0, 0};
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    /* text/csv is CSV, application/x-ndjson (or jsonl) JSON lines; anything else but a
     * multipart form is read as JSON (curl -d sends application/x-www-form-urlencoded) */
    if (ct && !strncasecmp(ct, "text/csv", 8)) {
        b.rows_only = 1;
    } else if (ct && (!strncasecmp(ct, "application/x-ndjson", 20) ||
                      !strncasecmp(ct, "application/jsonl", 17))) {
        b.rows_only = b.is_jsonl = 1;
    } else if (ct && !strncasecmp(ct, "multipart/", 10)) {
        srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type '%.100s': send JSON "
                  "(application/json), JSON lines (application/x-ndjson) or CSV (text/csv) as "
                  "the body", ct);
        return;
    }
    if (b.len == 0) {
        srv_error(r, MHD_HTTP_BAD_REQUEST, "empty body: send %s", predict ?
                  "{\"rows\": [{\"column\": value, ...}]} or CSV text" : plan ?
                  "{\"rows\": [...], \"budget\": B, \"cost\": {\"ARM\": C, ...}}" :
                  "{\"items\": [...]} or {\"user\": \"ID\"}");
        return;
    }
    if (predict) srv_predict(m, &b, s->max_rows, &s->compute, r);
    else if (plan) srv_plan(m, &b, s->max_rows, &s->compute, r);
    else srv_recommend(m, &b, &s->compute, r);
}

/* ------------------------------------------------------------------ libmicrohttpd glue */

/* Copy 's' into 'out' (cap bytes, truncated), bytes outside printable ASCII as '?'. */
static void printable(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++) out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    out[n] = 0;
}

static void access_log(const sg_server *s, struct MHD_Connection *c, const char *url,
                       const char *method, const req *q, int status)
{
    if (!s->access_log) return;
    char ip[INET_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, ip,
                  sizeof ip);
    char path[201], meth[17];   /* as sent, but printable ASCII only: one request, one line */
    printable(path, sizeof path, url);
    printable(meth, sizeof meth, method);
    SG_LOG(SG_LOG_INFO, "serve", "%s %s %s %d %.1f ms", ip, meth, path, status, now_ms() - q->t0);
}

static enum MHD_Result send_page(sg_server *s, struct MHD_Connection *c, const char *url,
                                 const char *method, req *q, srv_reply *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(r->html), (void *)r->html,
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'; "
                            "script-src 'unsafe-inline'; style-src 'unsafe-inline'");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    access_log(s, c, url, method, q, r->status);
    return ok;
}

static enum MHD_Result send_reply(sg_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, req *q, srv_reply *r, const char *allow)
{
    if (r->html) return send_page(s, c, url, method, q, r);
    /* 12 significant digits: exact enough for any score, and readable */
    char *text = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    if (!text) {   /* out of memory building or printing the reply */
        r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        text = strdup("{\"error\":\"out of memory\"}");
        if (!text) return MHD_NO;
    }
    size_t len = strlen(text);
    char *body = realloc(text, len + 2);
    if (!body) {
        free(text);
        return MHD_NO;
    }
    body[len++] = '\n';
    body[len] = 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    access_log(s, c, url, method, q, r->status);
    json_decref(r->body);
    r->body = NULL;
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    sg_server *s = cls;
    req *q = *con_cls;
    (void)version;
    if (!q) {
        q = sg_calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->t0 = now_ms();
        *con_cls = q;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || end == cl || v > s->max_body) {
                /* refused before the body is read; libmicrohttpd then closes the connection */
                srv_reply r = {0};
                srv_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "body of %.30s bytes: the limit is %zu "
                          "(serve --max-body)", cl, s->max_body);
                q->replied = 1;
                return send_reply(s, c, url, method, q, &r, NULL);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (q->replied) return MHD_YES;
        if (n > s->max_body - q->len) return MHD_NO;   /* chunked past the limit: close */
        if (q->len + n > q->cap) {
            size_t nc = q->cap ? q->cap : 4096;
            while (nc < q->len + n) nc *= 2;
            if (nc > s->max_body) nc = s->max_body;
            char *nb = sg_realloc(q->buf, nc);
            if (!nb) return MHD_NO;
            q->buf = nb;
            q->cap = nc;
        }
        memcpy(q->buf + q->len, upload, n);
        q->len += n;
        return MHD_YES;
    }
    if (q->replied) return MHD_YES;
    srv_reply r = {0};
    const char *allow = NULL;
    pthread_rwlock_rdlock(&s->lock);   /* the model set stays while the route uses it */
    route(s, c, url, method, q, &r, &allow);
    pthread_rwlock_unlock(&s->lock);
    return send_reply(s, c, url, method, q, &r, allow);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    req *q = *con_cls;
    if (!q) return;
    sg_free(q->buf);
    sg_free(q);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    SG_LOG(SG_LOG_DEBUG, "serve", "libmicrohttpd: %s", msg);
}

int sg_server_start(sg_server **out, const sg_server_opts *o, sg_error *err)
{
    *out = NULL;
    if (!o || !o->models_dir) return sg_error_set(err, SG_EINVAL, "serve: no models directory");
    const char *bind = o->bind ? o->bind : "127.0.0.1";
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1)
        return sg_error_set(err, SG_EINVAL, "serve: bind address '%s' is not an IPv4 address", bind);
    if (o->port < 0 || o->port > 65535)
        return sg_error_set(err, SG_EINVAL, "serve: port %d outside 0..65535", o->port);
    if (o->threads < 1 || o->threads > 256 || o->max_rows < 1 || o->max_connections < 1 ||
        o->timeout_s < 1 || o->max_body < 16)
        return sg_error_set(err, SG_EINVAL, "serve: threads must be 1..256, and max_rows, "
                            "max_connections, timeout_s at least 1, max_body at least 16");
    addr.sin_port = htons((uint16_t)o->port);
    sg_server *s = sg_calloc(1, sizeof *s);
    if (!s) return sg_error_set(err, SG_ENOMEM, "serve: out of memory");
    s->max_body = o->max_body;
    s->max_rows = o->max_rows;
    s->access_log = o->access_log;
    pthread_mutex_init(&s->compute, NULL);
    /* a reload must not wait forever behind a stream of requests: writers first */
    pthread_rwlockattr_t la;
    pthread_rwlockattr_init(&la);
    pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &la);
    pthread_rwlockattr_destroy(&la);
    int rc = SG_OK;
    if (o->token && !*o->token) rc = sg_error_set(err, SG_EINVAL, "serve: empty token");
    if (!rc && o->token && !(s->token = sg_strdup(o->token)))
        rc = sg_error_set(err, SG_ENOMEM, "serve: out of memory");
    if (!rc && !(s->dir = sg_strdup(o->models_dir)))
        rc = sg_error_set(err, SG_ENOMEM, "serve: out of memory");
    if (!rc) rc = set_load(&s->set, o->models_dir, err);
    if (!rc) {
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)o->port, NULL, NULL, on_request, s,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
            MHD_OPTION_END);
        if (!s->daemon) {
            rc = sg_error_set(err, SG_EIO, "serve: cannot listen on %s:%d (in use, or not allowed)",
                              bind, o->port);
        }
    }
    if (!rc) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : o->port;
        *out = s;
        return SG_OK;
    }
    sg_server_stop(s);
    return rc;
}

int sg_server_port(const sg_server *s)
{
    return s->port;
}

int sg_server_n_models(const sg_server *s)
{
    return s->set.n;
}

const char *sg_server_model_name(const sg_server *s, int k)
{
    return k >= 0 && k < s->set.n ? s->set.models[k].name : NULL;
}

const char *sg_server_model_task(const sg_server *s, int k)
{
    return k >= 0 && k < s->set.n ? sg_task_name(s->set.models[k].task) : NULL;
}

int sg_server_reload(sg_server *s, sg_error *err)
{
    model_set fresh = {NULL, 0};
    int rc = set_load(&fresh, s->dir, err);   /* slow part, outside the lock */
    if (rc) {
        set_free(&fresh);
        return rc;
    }
    pthread_rwlock_wrlock(&s->lock);
    model_set old = s->set;
    s->set = fresh;
    pthread_rwlock_unlock(&s->lock);
    set_free(&old);
    return SG_OK;
}

void sg_server_stop(sg_server *s)
{
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    set_free(&s->set);
    pthread_mutex_destroy(&s->compute);
    pthread_rwlock_destroy(&s->lock);
    sg_free(s->dir);
    sg_free(s->token);
    sg_free(s);
}
