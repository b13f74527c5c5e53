/* store_pg.c -- the PostgreSQL backend of the workspace, through libpq (see store_private.h).
 *
 * The workspace is the current schema of the database the URI names (a
 * 'search_path' in the URI's options selects another).  Statements are
 * prepared once per use site (PQprepare, named sg_N) and read in single-row
 * mode, so a big table streams instead of being held twice in memory.  Bulk
 * writes use COPY ... FROM STDIN in text format, sent in 1 MiB chunks; rows
 * that must be merged go to a temporary table first and are merged with one
 * INSERT ... SELECT ... ON CONFLICT.  The client encoding is UTF8 (the CSV
 * reader only lets valid UTF-8 through), and server notices go to the log at
 * DEBUG level instead of stderr.  Passwords never appear in messages.
 *
 * Built without libpq (-DSG_NO_PG), opening a postgresql:// workspace fails
 * with a message saying so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "store/store_private.h"

#ifdef SG_NO_PG

static int nopg_open(store_db **out, const char *ws, int create, sg_error *err)
{
    (void)out;
    (void)ws;
    (void)create;
    return sg_error_set(err, SG_EIO, "this stratagem was built without PostgreSQL support");
}

const store_ops store_pg_ops = {.name = "postgresql", .open = nopg_open};

#else

#include <libpq-fe.h>

#define COPY_CHUNK ((size_t)1 << 20)

typedef struct pg_db {
    store_db base;
    PGconn *c;
    char *name;                 /* the URI without its password, for messages */
    int n_stmts;                /* names sg_1, sg_2, ... */
    store_buf copy;             /* pending COPY data */
    int copy_n, in_copy, staged;
    char *copy_insert;          /* the merge INSERT run at copy_end when staged */
} pg_db;

struct store_stmt {
    pg_db *db;
    char name[32];
    int n_params;
    char **params;              /* (n_params) owned texts, NULL = SQL NULL */
    int running;                /* the query was sent and results remain */
    PGresult *row;              /* the current single-row result */
};

static int fail_msg(pg_db *d, const char *what, const char *msg, const char *state, sg_error *err)
{
    char m[400];
    snprintf(m, sizeof m, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' ')) m[--n] = '\0';
    if (state && !strcmp(state, "53100"))
        return sg_error_set(err, SG_EIO, "%s: %s: the disk is full (nothing was changed)", d->name,
                            what);
    if (state && !strcmp(state, "53200"))
        return sg_error_set(err, SG_ENOMEM, "%s: %s: the server is out of memory", d->name, what);
    return sg_error_set(err, SG_EIO, "%s: %s: %s", d->name, what, m);
}

static int fail_res(pg_db *d, const char *what, PGresult *r, sg_error *err)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(d->c);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return fail_msg(d, what, msg && *msg ? msg : PQerrorMessage(d->c), state, err);
}

static void drain(pg_db *d)
{
    PGresult *r;
    while ((r = PQgetResult(d->c)) != NULL) PQclear(r);
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    SG_LOG(SG_LOG_DEBUG, "store", "postgresql: %s", message);
}

static void pg_close(store_db *db)
{
    pg_db *d = (pg_db *)db;
    if (!d) return;
    PQfinish(d->c);
    sg_free(d->name);
    buf_free(&d->copy);
    sg_free(d->copy_insert);
    sg_free(d);
}

static int pg_exec(store_db *db, const char *sql, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    PGresult *r = PQexec(d->c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = SG_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[80];
        snprintf(what, sizeof what, "'%.60s'", sql);
        rc = fail_res(d, what, r, err);
    }
    PQclear(r);
    return rc;
}

static int pg_open(store_db **out, const char *ws, int create, sg_error *err)
{
    (void)create;
    pg_db *d = sg_calloc(1, sizeof *d);
    if (!d || !(d->name = store_redact(ws))) {
        sg_free(d);
        return sg_error_set(err, SG_ENOMEM, "out of memory opening the workspace");
    }
    d->base.ops = &store_pg_ops;
    d->c = PQconnectdb(ws);
    int rc;
    if (!d->c || PQstatus(d->c) != CONNECTION_OK) {
        rc = d->c ? fail_msg(d, "cannot connect", PQerrorMessage(d->c), NULL, err)
                  : sg_error_set(err, SG_ENOMEM, "%s: out of memory connecting", d->name);
        pg_close(&d->base);
        return rc;
    }
    PQsetNoticeProcessor(d->c, on_notice, NULL);
    if (PQsetClientEncoding(d->c, "UTF8") != 0) {
        rc = fail_msg(d, "cannot use UTF-8", PQerrorMessage(d->c), NULL, err);
        pg_close(&d->base);
        return rc;
    }
    if ((rc = pg_exec(&d->base, "SET client_min_messages = warning", err)) != SG_OK) {
        pg_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return SG_OK;
}

static int pg_begin(store_db *db, sg_error *err) { return pg_exec(db, "BEGIN", err); }

static int pg_prepare(store_db *db, const char *sql, store_stmt **out, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    int n = 0;
    for (const char *p = sql; *p; p++)
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int k = atoi(p + 1);
            if (k > n) n = k;
        }
    store_stmt *st = sg_calloc(1, sizeof *st);
    if (!st || (n && !(st->params = sg_calloc((size_t)n, sizeof *st->params)))) {
        sg_free(st);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory preparing a statement", d->name);
    }
    st->db = d;
    st->n_params = n;
    snprintf(st->name, sizeof st->name, "sg_%d", ++d->n_stmts);
    PGresult *r = PQprepare(d->c, st->name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char what[80];
        snprintf(what, sizeof what, "preparing '%.50s'", sql);
        int rc = fail_res(d, what, r, err);
        PQclear(r);
        sg_free(st->params);
        sg_free(st);
        return rc;
    }
    PQclear(r);
    *out = st;
    return SG_OK;
}

static int set_param(store_stmt *st, int i, const char *v, sg_error *err)
{
    if (i < 1 || i > st->n_params)
        return sg_error_set(err, SG_EINTERNAL, "%s: parameter %d out of range", st->db->name, i);
    char *c = NULL;
    if (v && !(c = sg_strdup(v)))
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory binding a value", st->db->name);
    sg_free(st->params[i - 1]);
    st->params[i - 1] = c;
    return SG_OK;
}

static int pg_bind_text(store_stmt *st, int i, const char *v, sg_error *err)
{
    return set_param(st, i, v, err);
}

static int pg_bind_i64(store_stmt *st, int i, int64_t v, sg_error *err)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return set_param(st, i, b, err);
}

static int pg_bind_f64(store_stmt *st, int i, double v, sg_error *err)
{
    char b[40];
    if (!isfinite(v)) return set_param(st, i, NULL, err);
    snprintf(b, sizeof b, "%.17g", v);
    return set_param(st, i, b, err);
}

static int pg_step(store_stmt *st, sg_error *err)
{
    pg_db *d = st->db;
    PQclear(st->row);
    st->row = NULL;
    if (!st->running) {
        if (!PQsendQueryPrepared(d->c, st->name, st->n_params, (const char *const *)st->params,
                                 NULL, NULL, 0))
            return fail_msg(d, "sending a query", PQerrorMessage(d->c), NULL, err);
        PQsetSingleRowMode(d->c);
        st->running = 1;
    }
    PGresult *r = PQgetResult(d->c);
    if (!r) {
        st->running = 0;
        return 0;
    }
    switch (PQresultStatus(r)) {
    case PGRES_SINGLE_TUPLE:
        st->row = r;
        return 1;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        PQclear(r);
        drain(d);
        st->running = 0;
        return 0;
    default: {
        int rc = fail_res(d, "running a query", r, err);
        PQclear(r);
        drain(d);
        st->running = 0;
        return rc;
    }
    }
}

static const char *pg_col_text(store_stmt *st, int j)
{
    if (!st->row || PQgetisnull(st->row, 0, j)) return NULL;
    return PQgetvalue(st->row, 0, j);
}

static int64_t pg_col_i64(store_stmt *st, int j)
{
    const char *v = pg_col_text(st, j);
    return v ? strtoll(v, NULL, 10) : 0;
}

static double pg_col_f64(store_stmt *st, int j)
{
    const char *v = pg_col_text(st, j);
    return v ? strtod(v, NULL) : (double)NAN;
}

static void pg_reset(store_stmt *st)
{
    PQclear(st->row);
    st->row = NULL;
    if (st->running) drain(st->db);
    st->running = 0;
    for (int i = 0; i < st->n_params; i++) {
        sg_free(st->params[i]);
        st->params[i] = NULL;
    }
}

static void pg_finalize(store_stmt *st)
{
    if (!st) return;
    pg_reset(st);
    char sql[64];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
    PQclear(PQexec(st->db->c, sql));   /* fails harmlessly inside an aborted transaction */
    sg_free(st->params);
    sg_free(st);
}

/* ---------------------------------------------------------------- COPY */

static int start_copy(pg_db *d, const char *sql, sg_error *err)
{
    PGresult *r = PQexec(d->c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        int rc = fail_res(d, "starting COPY", r, err);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    d->in_copy = 1;
    return SG_OK;
}

static int pg_copy_begin(store_db *db, const char *table, const char *const *cols, int n_cols,
                         const char *conflict, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    store_buf list = {0}, q = {0};
    int rc;
    for (int j = 0; j < n_cols; j++) buf_printf(&list, "%s%s", j ? ", " : "", cols[j]);
    buf_putc(&list, '\0');
    d->copy.n = 0;
    d->copy_n = n_cols;
    d->staged = conflict != NULL;
    sg_free(d->copy_insert);
    d->copy_insert = NULL;
    if (conflict) {
        buf_printf(&q, "CREATE TEMP TABLE sg_stage AS SELECT %s FROM %s WITH NO DATA; "
                   "ALTER TABLE sg_stage ADD COLUMN sg_ord BIGSERIAL", list.p, table);
        buf_putc(&q, '\0');
        store_buf ins = {0};
        buf_printf(&ins, "INSERT INTO %s AS t (%s) SELECT %s FROM sg_stage WHERE true "
                   "ORDER BY sg_ord %s; DROP TABLE sg_stage", table, list.p, list.p, conflict);
        buf_putc(&ins, '\0');
        d->copy_insert = ins.p;
        if (ins.oom || q.oom || list.oom) goto nomem;
        if ((rc = pg_exec(db, q.p, err)) != SG_OK) goto out;
        q.n = 0;
        buf_printf(&q, "COPY sg_stage (%s) FROM STDIN", list.p);
    } else {
        buf_printf(&q, "COPY %s (%s) FROM STDIN", table, list.p);
    }
    buf_putc(&q, '\0');
    if (q.oom || list.oom) goto nomem;
    rc = start_copy(d, q.p, err);
    goto out;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory starting COPY", d->name);
out:
    buf_free(&list);
    buf_free(&q);
    return rc;
}

static int flush_copy(pg_db *d, sg_error *err)
{
    if (d->copy.n == 0) return SG_OK;
    if (PQputCopyData(d->c, d->copy.p, (int)d->copy.n) != 1)
        return fail_msg(d, "sending rows", PQerrorMessage(d->c), NULL, err);
    d->copy.n = 0;
    return SG_OK;
}

static int pg_copy_row(store_db *db, const char *const *vals, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    store_buf *b = &d->copy;
    for (int j = 0; j < d->copy_n; j++) {
        if (j) buf_putc(b, '\t');
        const char *v = vals[j];
        if (!v) {
            buf_put(b, "\\N", 2);
            continue;
        }
        const char *run = v;
        for (const char *p = v;; p++) {
            char ch = *p;
            if (ch != '\0' && ch != '\\' && ch != '\t' && ch != '\n' && ch != '\r') continue;
            buf_put(b, run, (size_t)(p - run));
            if (ch == '\0') break;
            buf_putc(b, '\\');
            buf_putc(b, ch == '\\' ? '\\' : ch == '\t' ? 't' : ch == '\n' ? 'n' : 'r');
            run = p + 1;
        }
    }
    buf_putc(b, '\n');
    if (b->oom) return sg_error_set(err, SG_ENOMEM, "%s: out of memory buffering rows", d->name);
    return b->n >= COPY_CHUNK ? flush_copy(d, err) : SG_OK;
}

static int pg_copy_end(store_db *db, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    int rc = flush_copy(d, err);
    if (rc != SG_OK) return rc;
    d->in_copy = 0;
    if (PQputCopyEnd(d->c, NULL) != 1)
        return fail_msg(d, "ending COPY", PQerrorMessage(d->c), NULL, err);
    PGresult *r = PQgetResult(d->c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = fail_res(d, "copying rows", r, err);
    PQclear(r);
    drain(d);
    if (rc == SG_OK && d->staged) rc = pg_exec(db, d->copy_insert, err);
    d->staged = 0;
    return rc;
}

static void pg_copy_abort(store_db *db)
{
    pg_db *d = (pg_db *)db;
    if (d->in_copy) {
        PQputCopyEnd(d->c, "aborted by stratagem");
        drain(d);
    }
    d->in_copy = 0;
    d->staged = 0;
    d->copy.n = 0;
}

static int pg_n_tables(store_db *db, int64_t *n, int *has_meta, sg_error *err)
{
    pg_db *d = (pg_db *)db;
    /* a search path naming a schema that does not exist leaves nowhere to create tables */
    PGresult *r = PQexec(d->c, "SELECT current_schema() IS NULL");
    int missing = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (missing)
        return sg_error_set(err, SG_EIO, "%s: the schema in the search path does not exist",
                            d->name);
    r = PQexec(d->c, "SELECT table_name FROM information_schema.tables "
                     "WHERE table_schema = current_schema()");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = fail_res(d, "listing tables", r, err);
        PQclear(r);
        return rc;
    }
    *n = PQntuples(r);
    *has_meta = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (!strcmp(PQgetvalue(r, i, 0), "meta")) *has_meta = 1;
    PQclear(r);
    return SG_OK;
}

const store_ops store_pg_ops = {
    .name = "postgresql",
    .serial_pk = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    .merge_cells = "jsonb_strip_nulls(t.cells::jsonb || excluded.cells::jsonb)::text",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_i64 = pg_bind_i64,
    .bind_f64 = pg_bind_f64,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_i64 = pg_col_i64,
    .col_f64 = pg_col_f64,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .copy_begin = pg_copy_begin,
    .copy_row = pg_copy_row,
    .copy_end = pg_copy_end,
    .copy_abort = pg_copy_abort,
    .n_tables = pg_n_tables,
};

#endif
