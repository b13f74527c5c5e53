/* store.c -- the workspace: opening, schema and migrations, imports, tables back out.
 *
 * The backend (SQLite or PostgreSQL) is chosen from the workspace string and
 * reached through store_ops (store_private.h); everything here is written once
 * for both.  The schema is created as version 1 and then brought up to date by
 * the same migration steps an old workspace goes through, so a new workspace
 * and a migrated one are identical by construction.
 *
 * Imports read the file three times: the SHA-256 of its bytes (to skip a file
 * already imported), a full validating load with sg_table_load_csv (nothing is
 * written unless every row is good), and a streaming pass with sg_csv that
 * writes each kept row's original text as a JSON object in one transaction.
 * The file is assumed not to change during the import; if the second pass
 * sees different rows the import fails and nothing is written.
 *
 * Tables come back out by writing the rows as CSV in memory and loading that
 * with sg_table_load_mem, so their types are exactly what the CSV would give. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stratagem/csv.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "store/store_private.h"

static const char *const KIND_NAMES[SG_STORE_N_KINDS] = {
    "customers", "products", "events", "campaigns", "spend",
};

const char *sg_store_kind_name(int kind)
{
    return kind >= 0 && kind < SG_STORE_N_KINDS ? KIND_NAMES[kind] : NULL;
}

int sg_store_kind_parse(const char *name)
{
    for (int k = 0; name && k < SG_STORE_N_KINDS; k++)
        if (!strcmp(name, KIND_NAMES[k])) return k;
    return -1;
}

int sg_store_is_pg(const char *ws)
{
    return ws && (!strncmp(ws, "postgresql://", 13) || !strncmp(ws, "postgres://", 11));
}

char *store_redact(const char *ws)
{
    char *s = sg_strdup(ws);
    if (!s || !sg_store_is_pg(ws)) return s;
    char *p = strstr(s, "://") + 3;
    char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (!at || (slash && slash < at)) return s;
    char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) return s;
    memmove(colon + 4, at, strlen(at) + 1);
    memcpy(colon, ":***", 4);
    return s;
}

/* ---------------------------------------------------------------------------
 * text buffers, JSON and CSV fields */

static void buf_reserve(store_buf *b, size_t extra)
{
    if (b->oom || b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = sg_realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void buf_put(store_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void buf_puts(store_buf *b, const char *s) { buf_put(b, s, strlen(s)); }
void buf_putc(store_buf *b, char c) { buf_put(b, &c, 1); }

void buf_printf(store_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    buf_reserve(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void buf_free(store_buf *b)
{
    sg_free(b->p);
    memset(b, 0, sizeof *b);
}

void buf_json_str(store_buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"': buf_put(b, "\\\"", 2); break;
        case '\\': buf_put(b, "\\\\", 2); break;
        case '\n': buf_put(b, "\\n", 2); break;
        case '\r': buf_put(b, "\\r", 2); break;
        case '\t': buf_put(b, "\\t", 2); break;
        default: buf_printf(b, "\\u%04x", ch); break;
        }
    }
    buf_put(b, s + run, n - run);
    buf_putc(b, '"');
}

void buf_csv_field(store_buf *b, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        buf_put(b, s, n);
        return;
    }
    buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"') continue;
        buf_put(b, s + run, i + 1 - run);   /* up to and including the quote ... */
        buf_putc(b, '"');                    /* ... which is doubled */
        run = i + 1;
    }
    buf_put(b, s + run, n - run);
    buf_putc(b, '"');
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r') (*p)++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static void put_utf8(store_buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        buf_put(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        buf_put(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        buf_put(b, u, 4);
    }
}

/* Parse a JSON string at *p (at its opening quote) onto b, NUL-terminated. */
static int json_string(const char **p, store_buf *b)
{
    const char *s = *p + 1;
    for (;;) {
        const char *run = s;
        while (*s && *s != '"' && *s != '\\') s++;
        buf_put(b, run, (size_t)(s - run));
        if (*s == '"') break;
        if (*s != '\\') return SG_EPARSE;
        s++;
        unsigned cp;
        switch (*s) {
        case '"': buf_putc(b, '"'); break;
        case '\\': buf_putc(b, '\\'); break;
        case '/': buf_putc(b, '/'); break;
        case 'b': buf_putc(b, '\b'); break;
        case 'f': buf_putc(b, '\f'); break;
        case 'n': buf_putc(b, '\n'); break;
        case 'r': buf_putc(b, '\r'); break;
        case 't': buf_putc(b, '\t'); break;
        case 'u':
            if (!hex4(s + 1, &cp)) return SG_EPARSE;
            s += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (s[1] != '\\' || s[2] != 'u' || !hex4(s + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return SG_EPARSE;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            put_utf8(b, cp);
            break;
        default: return SG_EPARSE;
        }
        s++;
    }
    buf_putc(b, '\0');
    *p = s + 1;
    return b->oom ? SG_ENOMEM : SG_OK;
}

int json_cells_parse(const char *json, store_buf *scratch,
                     int (*fn)(void *ud, const char *key, const char *val), void *ud)
{
    const char *p = json;
    skip_ws(&p);
    if (*p++ != '{') return SG_EPARSE;
    skip_ws(&p);
    if (*p == '}') return SG_OK;
    for (;;) {
        scratch->n = 0;
        skip_ws(&p);
        if (*p != '"') return SG_EPARSE;
        int rc = json_string(&p, scratch);
        if (rc != SG_OK) return rc;
        size_t v0 = scratch->n;
        skip_ws(&p);
        if (*p++ != ':') return SG_EPARSE;
        skip_ws(&p);
        int is_null = 0;
        if (*p == '"') {
            if ((rc = json_string(&p, scratch)) != SG_OK) return rc;
        } else if (!strncmp(p, "null", 4)) {
            p += 4;
            is_null = 1;
        } else {
            return SG_EPARSE;
        }
        if ((rc = fn(ud, scratch->p, is_null ? NULL : scratch->p + v0)) != 0) return rc;
        skip_ws(&p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '}') return SG_EPARSE;
        return SG_OK;
    }
}

/* ---------------------------------------------------------------------------
 * string -> index map (open addressing, keys borrowed) */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

int map_put(str_map *m, const char *key, int64_t val)
{
    if (2 * (m->n + 1) > m->cap) {
        int64_t cap = m->cap ? 2 * m->cap : 64;
        const char **keys = sg_calloc((size_t)cap, sizeof *keys);
        int64_t *vals = sg_malloc_array((size_t)cap, sizeof *vals);
        if (!keys || !vals) {
            sg_free(keys);
            sg_free(vals);
            return SG_ENOMEM;
        }
        for (int64_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            int64_t k = (int64_t)(hash_str(m->keys[i]) & (uint64_t)(cap - 1));
            while (keys[k]) k = (k + 1) & (cap - 1);
            keys[k] = m->keys[i];
            vals[k] = m->vals[i];
        }
        sg_free(m->keys);
        sg_free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    int64_t k = (int64_t)(hash_str(key) & (uint64_t)(m->cap - 1));
    while (m->keys[k] && strcmp(m->keys[k], key)) k = (k + 1) & (m->cap - 1);
    if (!m->keys[k]) m->n++;
    m->keys[k] = key;
    m->vals[k] = val;
    return SG_OK;
}

int64_t map_get(const str_map *m, const char *key)
{
    if (!m->cap) return -1;
    int64_t k = (int64_t)(hash_str(key) & (uint64_t)(m->cap - 1));
    for (; m->keys[k]; k = (k + 1) & (m->cap - 1))
        if (!strcmp(m->keys[k], key)) return m->vals[k];
    return -1;
}

void map_free(str_map *m)
{
    sg_free(m->keys);
    sg_free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------
 * small helpers on an open store */

void store_now(const sg_store *s, char buf[32])
{
    time_t t = s->fixed_time >= 0 ? (time_t)s->fixed_time : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sg_store_set_time(sg_store *s, int64_t t) { s->fixed_time = t; }

int store_begin(sg_store *s, sg_error *err)
{
    int rc = s->ops->begin(s->db, err);
    if (rc == SG_OK) s->in_tx = 1;
    return rc;
}

int store_commit(sg_store *s, sg_error *err)
{
    int rc = s->ops->exec(s->db, "COMMIT", err);
    if (rc == SG_OK) s->in_tx = 0;
    return rc;
}

void store_rollback(sg_store *s)
{
    if (!s->in_tx) return;
    s->ops->copy_abort(s->db);
    s->ops->exec(s->db, "ROLLBACK", NULL);
    s->in_tx = 0;
}

int store_query_i64(sg_store *s, const char *sql, const char *const *params, int64_t *out,
                    int *found, sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, sql, &st, err);
    if (rc != SG_OK) return rc;
    for (int i = 0; params && params[i] && rc == SG_OK; i++)
        rc = s->ops->bind_text(st, i + 1, params[i], err);
    if (rc == SG_OK) {
        int r = s->ops->step(st, err);
        if (r < 0) {
            rc = r;
        } else {
            if (found) *found = r == 1;
            *out = r == 1 ? s->ops->col_i64(st, 0) : 0;
            if (r == 1) s->ops->reset(st);
        }
    }
    s->ops->finalize(st);
    return rc;
}

/* One text value (first column, first row) into buf; "" when no row or NULL. */
static int query_text(sg_store *s, const char *sql, const char *const *params, char *buf,
                      size_t cap, sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, sql, &st, err);
    if (rc != SG_OK) return rc;
    for (int i = 0; params && params[i] && rc == SG_OK; i++)
        rc = s->ops->bind_text(st, i + 1, params[i], err);
    buf[0] = '\0';
    if (rc == SG_OK) {
        int r = s->ops->step(st, err);
        if (r < 0) rc = r;
        if (r == 1) {
            const char *v = s->ops->col_text(st, 0);
            snprintf(buf, cap, "%s", v ? v : "");
            s->ops->reset(st);
        }
    }
    s->ops->finalize(st);
    return rc;
}

void store_free_list(char **list)
{
    for (int i = 0; list && list[i]; i++) sg_free(list[i]);
    sg_free(list);
}

int store_kind_columns(sg_store *s, int kind, char ***names, int *n, sg_error *err)
{
    store_stmt *st = NULL;
    char **list = NULL;
    int count = 0, cap = 0, rc, r;
    if ((rc = s->ops->prepare(s->db, "SELECT name FROM table_columns WHERE kind = $1 ORDER BY pos",
                              &st, err)) != SG_OK)
        return rc;
    if ((rc = s->ops->bind_text(st, 1, KIND_NAMES[kind], err)) != SG_OK) goto out;
    while ((r = s->ops->step(st, err)) == 1) {
        if (count + 2 > cap) {
            int ncap = cap ? 2 * cap : 16;
            char **nl = sg_realloc(list, (size_t)ncap * sizeof *nl);
            if (!nl) goto nomem;
            list = nl;
            cap = ncap;
        }
        const char *v = s->ops->col_text(st, 0);
        if (!(list[count] = sg_strdup(v ? v : ""))) goto nomem;
        list[++count] = NULL;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (!list && !(list = sg_calloc(1, sizeof *list))) goto nomem;
    *names = list;
    *n = count;
    list = NULL;
    rc = SG_OK;
    goto out;
nomem:
    if (list) list[count] = NULL;
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading the columns of %s", s->ws,
                      KIND_NAMES[kind]);
out:
    store_free_list(list);
    s->ops->finalize(st);
    return rc;
}

int sg_store_role(sg_store *s, int kind, const char *role, char *buf, size_t cap, sg_error *err)
{
    if (kind < 0 || kind >= SG_STORE_N_KINDS)
        return sg_error_set(err, SG_EINVAL, "invalid table kind %d", kind);
    const char *params[] = {KIND_NAMES[kind], role, NULL};
    return query_text(s, "SELECT val FROM table_roles WHERE kind = $1 AND role = $2", params, buf,
                      cap, err);
}

static int set_role(sg_store *s, const char *kind, const char *role, const char *val,
                    sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, "INSERT INTO table_roles (kind, role, val) VALUES ($1, $2, $3) "
                             "ON CONFLICT (kind, role) DO UPDATE SET val = excluded.val", &st, err);
    if (rc == SG_OK) rc = s->ops->bind_text(st, 1, kind, err);
    if (rc == SG_OK) rc = s->ops->bind_text(st, 2, role, err);
    if (rc == SG_OK) rc = s->ops->bind_text(st, 3, val, err);
    if (rc == SG_OK && (rc = s->ops->step(st, err)) > 0) rc = SG_OK;
    s->ops->finalize(st);
    return rc;
}

int store_add_import(sg_store *s, const char *kind, int64_t plan_id, const char *source,
                     const char *sha256, int64_t bytes, int64_t rows, int64_t inserted,
                     int64_t updated, const char *time, int64_t *id, sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, "INSERT INTO imports (kind, plan_id, source, sha256, bytes, "
                             "n_rows, inserted, updated, created) VALUES ($1, $2, $3, $4, $5, $6, "
                             "$7, $8, $9) RETURNING id", &st, err);
    if (rc != SG_OK) return rc;
    const store_ops *o = s->ops;
    if ((rc = o->bind_text(st, 1, kind, err)) || (rc = o->bind_i64(st, 2, plan_id, err)) ||
        (rc = o->bind_text(st, 3, source, err)) || (rc = o->bind_text(st, 4, sha256, err)) ||
        (rc = o->bind_i64(st, 5, bytes, err)) || (rc = o->bind_i64(st, 6, rows, err)) ||
        (rc = o->bind_i64(st, 7, inserted, err)) || (rc = o->bind_i64(st, 8, updated, err)) ||
        (rc = o->bind_text(st, 9, time, err)))
        goto out;
    int r = o->step(st, err);
    if (r < 0) {
        rc = r;
        goto out;
    }
    *id = r == 1 ? o->col_i64(st, 0) : 0;
    if (r == 1) o->step(st, NULL);   /* finish the statement (PostgreSQL sends the end) */
    rc = SG_OK;
out:
    o->finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * schema and migrations */

#define DATA_TABLE(name) \
    "CREATE TABLE " name " (seq SERIAL_PK, row_key TEXT NOT NULL UNIQUE, cells TEXT NOT NULL, " \
    "import_id BIGINT NOT NULL REFERENCES imports (id))"

/* Version 1: the first layout. */
static const char *const SCHEMA_V1[] = {
    "CREATE TABLE meta (name TEXT PRIMARY KEY, val TEXT NOT NULL)",
    "CREATE TABLE imports (id SERIAL_PK, kind TEXT NOT NULL, plan_id BIGINT NOT NULL DEFAULT 0, "
    "source TEXT NOT NULL, sha256 TEXT NOT NULL, bytes BIGINT NOT NULL, n_rows BIGINT NOT NULL, "
    "inserted BIGINT NOT NULL, updated BIGINT NOT NULL, created TEXT NOT NULL, "
    "UNIQUE (kind, plan_id, sha256))",
    "CREATE TABLE table_columns (kind TEXT NOT NULL, pos BIGINT NOT NULL, name TEXT NOT NULL, "
    "PRIMARY KEY (kind, pos), UNIQUE (kind, name))",
    "CREATE TABLE table_roles (kind TEXT NOT NULL, role TEXT NOT NULL, val TEXT NOT NULL, "
    "PRIMARY KEY (kind, role))",
    DATA_TABLE("customers"),
    DATA_TABLE("products"),
    DATA_TABLE("events"),
    DATA_TABLE("campaigns"),
    "CREATE TABLE models (id SERIAL_PK, path TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, "
    "created TEXT NOT NULL)",
    "CREATE TABLE plans (id SERIAL_PK, created TEXT NOT NULL, "
    "model_id BIGINT REFERENCES models (id), data_spec TEXT, data_sha256 TEXT, "
    "plan_path TEXT NOT NULL, plan_sha256 TEXT NOT NULL, "
    "objective TEXT NOT NULL, units TEXT, control TEXT NOT NULL, customers BIGINT NOT NULL, "
    "treated BIGINT NOT NULL, effect DOUBLE PRECISION, effect_lo DOUBLE PRECISION, "
    "effect_hi DOUBLE PRECISION, cost DOUBLE PRECISION, net DOUBLE PRECISION, "
    "net_lo DOUBLE PRECISION, net_hi DOUBLE PRECISION, forecast_level DOUBLE PRECISION, "
    "summary TEXT, n_outcomes BIGINT NOT NULL DEFAULT 0, realised DOUBLE PRECISION, "
    "realised_lo DOUBLE PRECISION, realised_hi DOUBLE PRECISION)",
    "CREATE TABLE plan_rows (plan_id BIGINT NOT NULL REFERENCES plans (id), seq BIGINT NOT NULL, "
    "customer TEXT NOT NULL, arm TEXT NOT NULL, expected_effect DOUBLE PRECISION, "
    "predicted_effect DOUBLE PRECISION, se DOUBLE PRECISION, cost DOUBLE PRECISION, cells TEXT, "
    "PRIMARY KEY (plan_id, customer))",
    "CREATE TABLE outcomes (import_id BIGINT NOT NULL REFERENCES imports (id), "
    "line BIGINT NOT NULL, plan_id BIGINT NOT NULL REFERENCES plans (id), "
    "customer TEXT NOT NULL, status TEXT NOT NULL, "
    "arm TEXT, outcome DOUBLE PRECISION, cells TEXT, PRIMARY KEY (import_id, line))",
    "CREATE INDEX outcomes_plan ON outcomes (plan_id, customer)",
    "INSERT INTO meta (name, val) VALUES ('application', 'stratagem')",
    "INSERT INTO meta (name, val) VALUES ('schema_version', '1')",
    NULL,
};

/* Version 1 -> 2: the spend table, and exploration (planned arm, propensities). */
static const char *const MIGRATE_1_2[] = {
    DATA_TABLE("spend"),
    "ALTER TABLE plan_rows ADD COLUMN planned_arm TEXT",
    "ALTER TABLE plan_rows ADD COLUMN propensity DOUBLE PRECISION",
    "ALTER TABLE outcomes ADD COLUMN propensity DOUBLE PRECISION",
    "UPDATE meta SET val = '2' WHERE name = 'schema_version'",
    NULL,
};

/* Version 2 -> 3: the expected effect of each customer's planned action (exploration). */
static const char *const MIGRATE_2_3[] = {
    "ALTER TABLE plan_rows ADD COLUMN planned_effect DOUBLE PRECISION",
    "UPDATE meta SET val = '3' WHERE name = 'schema_version'",
    NULL,
};

/* MIGRATIONS[v - 1] takes a workspace from version v to v + 1. */
static const char *const *const MIGRATIONS[SG_STORE_SCHEMA_VERSION - 1] = {MIGRATE_1_2,
                                                                           MIGRATE_2_3};

/* Run DDL, with "SERIAL_PK" replaced by the backend's auto-increment key. */
static int run_ddl(sg_store *s, const char *const *stmts, sg_error *err)
{
    for (int i = 0; stmts[i]; i++) {
        store_buf b = {0};
        const char *p = stmts[i], *hit;
        while ((hit = strstr(p, "SERIAL_PK")) != NULL) {
            buf_put(&b, p, (size_t)(hit - p));
            buf_puts(&b, s->ops->serial_pk);
            p = hit + 9;
        }
        buf_puts(&b, p);
        if (b.oom) {
            buf_free(&b);
            return sg_error_set(err, SG_ENOMEM, "%s: out of memory creating the schema", s->ws);
        }
        int rc = s->ops->exec(s->db, b.p, err);
        buf_free(&b);
        if (rc != SG_OK) return rc;
    }
    return SG_OK;
}

/* Bring the schema from version 'from' (0: nothing yet) to the current one in one transaction. */
static int upgrade(sg_store *s, int from, sg_error *err)
{
    int rc = store_begin(s, err);
    if (rc != SG_OK) return rc;
    if (from == 0) {
        char now[32];
        store_now(s, now);
        store_stmt *st = NULL;
        if ((rc = run_ddl(s, SCHEMA_V1, err)) != SG_OK) goto fail;
        if ((rc = s->ops->prepare(s->db, "INSERT INTO meta (name, val) VALUES ('created', $1)",
                                  &st, err)) != SG_OK)
            goto fail;
        rc = s->ops->bind_text(st, 1, now, err);
        if (rc == SG_OK && (rc = s->ops->step(st, err)) > 0) rc = SG_OK;
        s->ops->finalize(st);
        if (rc != SG_OK) goto fail;
        from = 1;
    }
    for (int v = from; v < SG_STORE_SCHEMA_VERSION; v++)
        if ((rc = run_ddl(s, MIGRATIONS[v - 1], err)) != SG_OK) goto fail;
    if ((rc = store_commit(s, err)) != SG_OK) goto fail;
    return SG_OK;
fail:
    store_rollback(s);
    return rc;
}

int sg_store_open(sg_store **out, const char *ws, int mode, sg_error *err)
{
    if (!ws || !*ws) return sg_error_set(err, SG_EINVAL, "no workspace given");
    sg_store *s = sg_calloc(1, sizeof *s);
    if (!s || !(s->ws = store_redact(ws))) {
        sg_free(s);
        return sg_error_set(err, SG_ENOMEM, "out of memory opening the workspace");
    }
    s->fixed_time = -1;
    s->ops = sg_store_is_pg(ws) ? &store_pg_ops : &store_sqlite_ops;
    int rc = s->ops->open(&s->db, ws, mode == SG_STORE_CREATE, err);
    if (rc != SG_OK) {
        sg_free(s->ws);
        sg_free(s);
        return rc;
    }
    int new_file = s->db->created;
    int64_t n_tables = 0;
    int has_meta = 0;
    if ((rc = s->ops->n_tables(s->db, &n_tables, &has_meta, err)) != SG_OK) goto fail;
    if (!has_meta) {
        if (n_tables > 0) {
            rc = sg_error_set(err, SG_EIO, "%s: not a stratagem workspace (it holds %lld other "
                              "tables)", s->ws,
                              (long long)n_tables);
            goto fail;
        }
        if (mode != SG_STORE_CREATE) {
            rc = sg_error_set(err, SG_ENOTFOUND, "no workspace at %s (create one with "
                              "'stratagem init WS')", s->ws);
            goto fail;
        }
        if ((rc = upgrade(s, 0, err)) != SG_OK) goto fail;
        s->created = 1;
        s->found_version = SG_STORE_SCHEMA_VERSION;
        *out = s;
        return SG_OK;
    }
    char app[64], ver[32];
    const char *p_app[] = {"application", NULL}, *p_ver[] = {"schema_version", NULL};
    if ((rc = query_text(s, "SELECT val FROM meta WHERE name = $1", p_app, app, sizeof app, err)) ||
        (rc = query_text(s, "SELECT val FROM meta WHERE name = $1", p_ver, ver, sizeof ver, err)))
        goto fail;
    char *end;
    long v = strtol(ver, &end, 10);
    if (strcmp(app, "stratagem") || end == ver || *end || v < 1) {
        rc = sg_error_set(err, SG_EIO, "%s: not a stratagem workspace (meta application '%s', "
                          "schema_version '%s')", s->ws, app, ver);
        goto fail;
    }
    s->found_version = (int)v;
    if (v > SG_STORE_SCHEMA_VERSION) {
        rc = sg_error_set(err, SG_EIO, "%s: the workspace has schema version %ld, newer than this "
                          "stratagem supports (%d); upgrade stratagem to use it", s->ws, v,
                          SG_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (v < SG_STORE_SCHEMA_VERSION) {
        if ((rc = upgrade(s, (int)v, err)) != SG_OK) {
            sg_error_prefix(err, "migrating the workspace from schema version %ld to %d: ", v,
                            SG_STORE_SCHEMA_VERSION);
            goto fail;
        }
        SG_LOG(SG_LOG_INFO, "store", "%s: migrated the workspace from schema version %ld to %d",
               s->ws, v, SG_STORE_SCHEMA_VERSION);
    }
    *out = s;
    return SG_OK;
fail:
    s->ops->close(s->db);
    /* a SQLite file this call created and could not make a workspace is removed again */
    if (new_file && s->ops == &store_sqlite_ops && mode == SG_STORE_CREATE && !has_meta &&
        n_tables == 0) {
        char side[4200];
        unlink(ws);
        snprintf(side, sizeof side, "%s-wal", ws);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", ws);
        unlink(side);
    }
    sg_free(s->ws);
    sg_free(s);
    return rc;
}

void sg_store_close(sg_store *s)
{
    if (!s) return;
    store_rollback(s);
    s->ops->close(s->db);
    sg_free(s->ws);
    sg_free(s);
}

const char *sg_store_backend(const sg_store *s) { return s->ops->name; }
const char *sg_store_path(const sg_store *s) { return s->ws; }
int sg_store_found_version(const sg_store *s) { return s->found_version; }
int sg_store_created(const sg_store *s) { return s->created; }

int sg_store_sha256_file(const char *path, char hex[65], int64_t *bytes, sg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return sg_error_set(err, SG_EIO, "%s: cannot open: %s", path, strerror(errno));
    sha256_ctx c;
    sha256_init(&c);
    char buf[1 << 16];
    size_t n;
    int64_t total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&c, buf, n);
        total += (int64_t)n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return sg_error_set(err, SG_EIO, "%s: read error", path);
    sha256_hex(&c, hex);
    if (bytes) *bytes = total;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * imports */

void sg_import_opts_default(sg_import_opts *o)
{
    memset(o, 0, sizeof *o);
    sg_load_opts_default(&o->load);
    o->kind = -1;
}

static int is_missing(const char *s, size_t len)
{
    return len == 0 || (len == 2 && s[0] == 'N' && s[1] == 'A') ||
           (len == 4 && memcmp(s, "NULL", 4) == 0);
}

/* Look for an earlier import of the same bytes as the same kind. */
int store_find_import(sg_store *s, const char *kind, int64_t plan_id, const char *sha,
                      sg_import_result *res, int *found, sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, "SELECT id, n_rows, inserted, updated, created, bytes FROM "
                             "imports WHERE kind = $1 AND plan_id = $2 AND sha256 = $3", &st, err);
    if (rc != SG_OK) return rc;
    if ((rc = s->ops->bind_text(st, 1, kind, err)) ||
        (rc = s->ops->bind_i64(st, 2, plan_id, err)) ||
        (rc = s->ops->bind_text(st, 3, sha, err)))
        goto out;
    int r = s->ops->step(st, err);
    if (r < 0) {
        rc = r;
        goto out;
    }
    *found = r == 1;
    if (r == 1 && res) {
        res->import_id = s->ops->col_i64(st, 0);
        res->rows = s->ops->col_i64(st, 1);
        res->inserted = s->ops->col_i64(st, 2);
        res->updated = s->ops->col_i64(st, 3);
        const char *t = s->ops->col_text(st, 4);
        snprintf(res->time, sizeof res->time, "%s", t ? t : "");
        res->bytes = s->ops->col_i64(st, 5);
    }
    if (r == 1) s->ops->reset(st);
    rc = SG_OK;
out:
    s->ops->finalize(st);
    return rc;
}

static int count_rows(sg_store *s, int kind, int64_t *n, sg_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", KIND_NAMES[kind]);
    return store_query_i64(s, sql, NULL, n, NULL, err);
}

int store_upsert_begin(sg_store *s, int kind, sg_error *err)
{
    static const char *const cols[] = {"row_key", "cells", "import_id"};
    char conflict[256];
    snprintf(conflict, sizeof conflict, "ON CONFLICT (row_key) DO UPDATE SET cells = %s, "
             "import_id = excluded.import_id", s->ops->merge_cells);
    return s->ops->copy_begin(s->db, KIND_NAMES[kind], cols, 3, conflict, err);
}

/* Add the header's new columns to the registry of 'kind'. */
static int register_columns(sg_store *s, int kind, const sg_table *t, int *n_new, sg_error *err)
{
    char **have = NULL;
    int n_have = 0, rc;
    store_stmt *st = NULL;
    *n_new = 0;
    if ((rc = store_kind_columns(s, kind, &have, &n_have, err)) != SG_OK) return rc;
    if ((rc = s->ops->prepare(s->db, "INSERT INTO table_columns (kind, pos, name) VALUES ($1, $2, "
                              "$3)", &st, err)) != SG_OK)
        goto out;
    for (int j = 0; j < sg_table_n_cols(t); j++) {
        const char *name = sg_table_col_name(t, j);
        int known = 0;
        for (int k = 0; k < n_have && !known; k++) known = !strcmp(have[k], name);
        if (known) continue;
        s->ops->reset(st);
        if ((rc = s->ops->bind_text(st, 1, KIND_NAMES[kind], err)) ||
            (rc = s->ops->bind_i64(st, 2, n_have + *n_new, err)) ||
            (rc = s->ops->bind_text(st, 3, name, err)))
            goto out;
        int r = s->ops->step(st, err);
        if (r < 0) {
            rc = r;
            goto out;
        }
        (*n_new)++;
    }
    rc = SG_OK;
out:
    s->ops->finalize(st);
    store_free_list(have);
    return rc;
}

/* The second pass: stream the file and write every kept row.  'lines' (n) are
 * the source lines of the rows the validating load kept, in file order. */
static int write_rows(sg_store *s, const char *path, int kind, int id_j, const int64_t *lines,
                      int64_t n, int64_t import_id, const sg_load_opts *lo, sg_error *err)
{
    sg_csv *csv = NULL;
    store_buf cells = {0}, key = {0};
    char **names = NULL;   /* pre-escaped '"name":' */
    int n_cols = 0, rc, nf;
    const sg_csv_field *f;
    char idbuf[32];
    if ((rc = sg_csv_open(&csv, path, err)) != SG_OK) return rc;
    if ((rc = sg_csv_next(csv, &f, &nf, err)) != 1) {
        if (rc >= 0) rc = sg_error_set(err, SG_EIO, "%s: the file changed during the import", path);
        goto out;
    }
    n_cols = nf;
    if (!(names = sg_calloc((size_t)n_cols + 1, sizeof *names))) goto nomem;
    for (int j = 0; j < n_cols; j++) {
        store_buf b = {0};
        buf_json_str(&b, f[j].ptr, f[j].len);
        buf_putc(&b, ':');
        if (b.oom) {
            buf_free(&b);
            goto nomem;
        }
        names[j] = b.p;
    }
    if ((rc = store_upsert_begin(s, kind, err)) != SG_OK) goto out;
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)import_id);
    int64_t next = 0, next_progress = (int64_t)16 << 20;
    while (next < n) {
        rc = sg_csv_next(csv, &f, &nf, err);
        if (rc <= 0) {
            if (rc == 0 || rc == SG_EPARSE)
                rc = sg_error_set(err, SG_EIO, "%s: the file changed during the import", path);
            goto out;
        }
        int64_t line = sg_csv_line(csv);
        if (line < lines[next]) continue;   /* a duplicate the load dropped */
        if (line > lines[next] || nf != n_cols) {
            rc = sg_error_set(err, SG_EIO, "%s:%lld: the file changed during the import", path,
                              (long long)line);
            goto out;
        }
        cells.n = 0;
        key.n = 0;
        buf_putc(&cells, '{');
        for (int j = 0; j < n_cols; j++) {
            if (j) buf_putc(&cells, ',');
            buf_puts(&cells, names[j]);
            if (is_missing(f[j].ptr, f[j].len)) buf_put(&cells, "null", 4);
            else buf_json_str(&cells, f[j].ptr, f[j].len);
        }
        buf_putc(&cells, '}');
        if (id_j >= 0) buf_put(&key, f[id_j].ptr, f[id_j].len);
        else buf_printf(&key, "%lld:%lld", (long long)import_id, (long long)line);
        if (cells.oom || key.oom) goto nomem;
        const char *vals[3] = {key.p, cells.p, idbuf};
        if ((rc = s->ops->copy_row(s->db, vals, err)) != SG_OK) goto out;
        next++;
        if (lo->on_progress && sg_csv_bytes_read(csv) >= next_progress) {
            lo->on_progress(lo->ud, sg_csv_bytes_read(csv), sg_csv_size(csv), next);
            next_progress = sg_csv_bytes_read(csv) + ((int64_t)16 << 20);
        }
    }
    if ((rc = s->ops->copy_end(s->db, err)) != SG_OK) goto out;
    if (lo->on_progress) lo->on_progress(lo->ud, sg_csv_bytes_read(csv), sg_csv_size(csv), n);
    rc = SG_OK;
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory writing the rows", path);
out:
    sg_csv_free(csv);
    buf_free(&cells);
    buf_free(&key);
    store_free_list(names);
    return rc;
}

int sg_store_import_csv(sg_store *s, const char *path, const sg_import_opts *o,
                        sg_import_result *res, sg_error *err)
{
    if (!o || o->kind < 0 || o->kind >= SG_STORE_N_KINDS)
        return sg_error_set(err, SG_EINVAL, "import: no valid table kind given");
    int kind = o->kind;
    const char *kname = KIND_NAMES[kind];
    const char *roles[5] = {o->treatment, o->control, o->outcome, o->propensity, o->value};
    static const char *const ROLE_NAMES[5] = {"treatment", "control", "outcome", "propensity",
                                              "value"};
    if (kind != SG_STORE_CAMPAIGNS)
        for (int r = 0; r < 5; r++)
            if (roles[r])
                return sg_error_set(err, SG_EINVAL, "import: --%s is a role of the campaign log; "
                                    "%s have none", ROLE_NAMES[r], kname);
    sg_import_result rr;
    memset(&rr, 0, sizeof rr);
    sg_table *t = NULL;
    int64_t *lines = NULL;
    const char **required = NULL;
    char stored_id[SG_STORE_NAME_MAX];
    int rc, found = 0;

    if ((rc = sg_store_sha256_file(path, rr.sha256, &rr.bytes, err)) != SG_OK) return rc;
    if ((rc = store_find_import(s, kname, 0, rr.sha256, &rr, &found, err)) != SG_OK) return rc;
    if (found) {
        rr.skipped = 1;
        *res = rr;
        return SG_OK;
    }

    /* the key column: the stored one, or the first import's --id */
    if ((rc = sg_store_role(s, kind, "id", stored_id, sizeof stored_id, err)) != SG_OK) return rc;
    char **have = NULL;
    int n_have = 0;
    if ((rc = store_kind_columns(s, kind, &have, &n_have, err)) != SG_OK) return rc;
    store_free_list(have);
    const char *id = o->load.id_col;
    if (stored_id[0] && id && strcmp(id, stored_id))
        return sg_error_set(err, SG_EINVAL, "%s: the %s table is keyed by '%s'; --id '%s' would "
                            "key it differently (use --id %s, or another workspace)", path, kname,
                            stored_id, id, stored_id);
    if (!id && stored_id[0]) id = stored_id;
    if (!id && kind != SG_STORE_EVENTS && kind != SG_STORE_SPEND)
        return sg_error_set(err, SG_EINVAL, "%s: the first import of %s needs --id COL (the column "
                            "that identifies a row)", path, kname);
    if (id && !stored_id[0] && n_have > 0)
        return sg_error_set(err, SG_EINVAL, "%s: the %s table was imported without an id; it "
                            "cannot be keyed by '%s' now", path, kname, id);

    /* validation: every role column must exist, as must the id */
    int n_req = 0;
    for (int i = 0; o->load.required && o->load.required[i]; i++) n_req++;
    if (!(required = sg_calloc((size_t)n_req + 6, sizeof *required))) goto nomem;
    int k = 0;
    for (int i = 0; i < n_req; i++) required[k++] = o->load.required[i];
    for (int r = 0; r < 5; r++)
        if (roles[r] && r != 1) required[k++] = roles[r];
    sg_load_opts lo = o->load;
    lo.id_col = id;
    lo.required = required;
    if ((rc = sg_table_load_csv(&t, path, &lo, err)) != SG_OK) goto out;
    int64_t n = sg_table_n_rows(t);
    rr.rows = n;
    if (!(lines = sg_malloc_array((size_t)(n ? n : 1), sizeof *lines))) goto nomem;
    for (int64_t i = 0; i < n; i++) lines[i] = sg_table_row_line(t, i);
    int id_j = id ? sg_table_find(t, id) : -1;

    /* the one transaction; another process may have imported the same bytes meanwhile */
    if ((rc = store_begin(s, err)) != SG_OK) goto out;
    if ((rc = store_find_import(s, kname, 0, rr.sha256, &rr, &found, err)) != SG_OK) goto fail;
    if (found) {
        store_rollback(s);
        rr.skipped = 1;
        *res = rr;
        goto out;
    }
    store_now(s, rr.time);
    if ((rc = register_columns(s, kind, t, &rr.n_new_cols, err)) != SG_OK) goto fail;
    if (id && !stored_id[0] && (rc = set_role(s, kname, "id", id, err)) != SG_OK) goto fail;
    for (int r = 0; r < 5; r++)
        if (roles[r] && (rc = set_role(s, kname, ROLE_NAMES[r], roles[r], err)) != SG_OK) goto fail;
    if ((rc = store_add_import(s, kname, 0, path, rr.sha256, rr.bytes, n, 0, 0, rr.time,
                               &rr.import_id, err)) != SG_OK)
        goto fail;
    int64_t n_before = 0;
    if ((rc = count_rows(s, kind, &n_before, err)) != SG_OK) goto fail;
    if ((rc = write_rows(s, path, kind, id_j, lines, n, rr.import_id, &o->load, err)) != SG_OK)
        goto fail;
    int64_t n_after = 0;
    if ((rc = count_rows(s, kind, &n_after, err)) != SG_OK) goto fail;
    rr.inserted = n_after - n_before;
    rr.updated = n - rr.inserted;
    {
        store_stmt *st = NULL;
        if ((rc = s->ops->prepare(s->db, "UPDATE imports SET inserted = $1, updated = $2 WHERE "
                                  "id = $3", &st, err)) != SG_OK)
            goto fail;
        if (!(rc = s->ops->bind_i64(st, 1, rr.inserted, err)) &&
            !(rc = s->ops->bind_i64(st, 2, rr.updated, err)) &&
            !(rc = s->ops->bind_i64(st, 3, rr.import_id, err)) && (rc = s->ops->step(st, err)) > 0)
            rc = SG_OK;
        s->ops->finalize(st);
        if (rc != SG_OK) goto fail;
    }
    if ((rc = store_commit(s, err)) != SG_OK) goto fail;
    SG_LOG(SG_LOG_DEBUG, "store", "%s: imported %s as %s: %lld rows (%lld new, %lld merged)", s->ws,
           path, kname, (long long)n, (long long)rr.inserted, (long long)rr.updated);
    *res = rr;
    rc = SG_OK;
    goto out;
fail:
    store_rollback(s);
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory importing", path);
out:
    sg_table_free(t);
    sg_free(lines);
    sg_free(required);
    return rc;
}

/* ---------------------------------------------------------------------------
 * tables back out */

typedef struct row_ctx {
    const str_map *cols;      /* name -> column */
    store_buf *vals;          /* this row's values back to back */
    int64_t *off;             /* (n_cols) offset into vals, -1 = missing */
} row_ctx;

static int take_cell(void *ud, const char *key, const char *val)
{
    row_ctx *c = ud;
    int64_t j = map_get(c->cols, key);
    if (j < 0 || !val) return 0;   /* a column unknown to the registry cannot happen; ignore */
    c->off[j] = (int64_t)c->vals->n;
    buf_put(c->vals, val, strlen(val) + 1);
    return c->vals->oom ? SG_ENOMEM : 0;
}

int sg_store_load_table(sg_store *s, int kind, const sg_load_opts *o, sg_table **out,
                        sg_error *err)
{
    if (kind < 0 || kind >= SG_STORE_N_KINDS)
        return sg_error_set(err, SG_EINVAL, "invalid table kind %d", kind);
    char **names = NULL;
    int n_cols = 0, rc;
    store_stmt *st = NULL;
    store_buf csv = {0}, vals = {0}, scratch = {0};
    str_map cols = {0};
    int64_t *off = NULL;
    char name[4200], id[SG_STORE_NAME_MAX];
    snprintf(name, sizeof name, "%s:%s", s->ws, KIND_NAMES[kind]);
    if ((rc = store_kind_columns(s, kind, &names, &n_cols, err)) != SG_OK) return rc;
    if (n_cols == 0) {
        rc = sg_error_set(err, SG_ENOTFOUND, "%s: nothing was imported as %s yet", s->ws,
                          KIND_NAMES[kind]);
        goto out;
    }
    if ((rc = sg_store_role(s, kind, "id", id, sizeof id, err)) != SG_OK) goto out;
    if (!(off = sg_malloc_array((size_t)n_cols, sizeof *off))) goto nomem;
    for (int j = 0; j < n_cols; j++) {
        if (map_put(&cols, names[j], j) != SG_OK) goto nomem;
        if (j) buf_putc(&csv, ',');
        buf_csv_field(&csv, names[j], strlen(names[j]));
    }
    buf_putc(&csv, '\n');
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT cells FROM %s ORDER BY seq", KIND_NAMES[kind]);
    if ((rc = s->ops->prepare(s->db, sql, &st, err)) != SG_OK) goto out;
    row_ctx ctx = {&cols, &vals, off};
    int r;
    int64_t row = 0;
    while ((r = s->ops->step(st, err)) == 1) {
        const char *cells = s->ops->col_text(st, 0);
        vals.n = 0;
        for (int j = 0; j < n_cols; j++) off[j] = -1;
        rc = cells ? json_cells_parse(cells, &scratch, take_cell, &ctx) : SG_EPARSE;
        if (rc == SG_ENOMEM) goto nomem;
        if (rc != SG_OK) {
            rc = sg_error_set(err, SG_EIO, "%s: row %lld: damaged cells", name, (long long)row + 1);
            goto out;
        }
        for (int j = 0; j < n_cols; j++) {
            if (j) buf_putc(&csv, ',');
            if (off[j] >= 0) {
                const char *v = vals.p + off[j];
                buf_csv_field(&csv, v, strlen(v));
            }
        }
        buf_putc(&csv, '\n');
        if (csv.oom) goto nomem;
        row++;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    s->ops->finalize(st);
    st = NULL;
    sg_load_opts lo;
    if (o) lo = *o;
    else sg_load_opts_default(&lo);
    if (!lo.id_col && id[0]) lo.id_col = id;
    rc = sg_table_load_mem(out, name, csv.p, csv.n, &lo, err);
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading the table", name);
out:
    s->ops->finalize(st);
    store_free_list(names);
    buf_free(&csv);
    buf_free(&vals);
    buf_free(&scratch);
    map_free(&cols);
    sg_free(off);
    return rc;
}

/* ---------------------------------------------------------------------------
 * status */

int sg_store_info_get(sg_store *s, sg_store_info *out, sg_error *err)
{
    sg_store_info info;
    memset(&info, 0, sizeof info);
    info.schema_version = SG_STORE_SCHEMA_VERSION;
    int rc;
    for (int k = 0; k < SG_STORE_N_KINDS; k++) {
        char **names = NULL;
        if ((rc = count_rows(s, k, &info.rows[k], err)) != SG_OK) return rc;
        if ((rc = store_kind_columns(s, k, &names, &info.n_cols[k], err)) != SG_OK) return rc;
        store_free_list(names);
        if ((rc = sg_store_role(s, k, "id", info.id_col[k], sizeof info.id_col[k], err)) != SG_OK)
            return rc;
    }
    static const char *const Q[5] = {
        "SELECT count(*) FROM imports", "SELECT count(*) FROM models",
        "SELECT count(*) FROM plans", "SELECT count(*) FROM plan_rows",
        "SELECT count(*) FROM outcomes",
    };
    int64_t *dst[5] = {&info.n_imports, &info.n_models, &info.n_plans, &info.n_plan_rows,
                       &info.n_outcomes};
    for (int q = 0; q < 5; q++)
        if ((rc = store_query_i64(s, Q[q], NULL, dst[q], NULL, err)) != SG_OK) return rc;
    *out = info;
    return SG_OK;
}

int sg_store_imports(sg_store *s, int (*fn)(void *ud, const sg_import_record *r), void *ud,
                     sg_error *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s->db, "SELECT id, plan_id, kind, source, sha256, created, bytes, "
                             "n_rows, inserted, updated FROM imports ORDER BY id", &st, err);
    if (rc != SG_OK) return rc;
    int r;
    while ((r = s->ops->step(st, err)) == 1) {
        sg_import_record rec;
        rec.id = s->ops->col_i64(st, 0);
        rec.plan_id = s->ops->col_i64(st, 1);
        rec.kind = s->ops->col_text(st, 2);
        rec.source = s->ops->col_text(st, 3);
        rec.sha256 = s->ops->col_text(st, 4);
        rec.time = s->ops->col_text(st, 5);
        rec.bytes = s->ops->col_i64(st, 6);
        rec.rows = s->ops->col_i64(st, 7);
        rec.inserted = s->ops->col_i64(st, 8);
        rec.updated = s->ops->col_i64(st, 9);
        if ((rc = fn(ud, &rec)) != 0) break;
    }
    if (r < 0) rc = r;
    s->ops->finalize(st);
    return rc;
}
