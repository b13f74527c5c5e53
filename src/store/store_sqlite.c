/* store_sqlite.c -- the SQLite backend of the workspace (see store_private.h).
 *
 * One connection per workspace.  Settings, chosen for safety first:
 *   journal_mode=WAL     a writer killed mid-transaction leaves frames that the
 *                        next open ignores; readers never see half an import
 *   synchronous=FULL     every commit is fsynced, so a committed import also
 *                        survives a power cut (NORMAL would only keep the file
 *                        consistent); an import commits once, so it costs little
 *   foreign_keys=ON, busy_timeout=10000 ms, a 64 MiB page cache for imports
 * Writes run in BEGIN IMMEDIATE transactions, so two writers queue instead of
 * failing on a lock upgrade.  Statements are prepared once per use site;
 * parameters written $N are rewritten to ?N. */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "stratagem/mem.h"
#include "store/store_private.h"

typedef struct sq_db {
    store_db base;
    sqlite3 *h;
    char *path;
    sqlite3_stmt *copy;          /* the prepared INSERT of a bulk copy */
    int copy_n;
} sq_db;

struct store_stmt {
    sq_db *db;
    sqlite3_stmt *st;
};

static int fail(sq_db *d, int rc, const char *what, sg_error *err)
{
    const char *msg = d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc);
    int sys = d->h ? sqlite3_system_errno(d->h) : 0;
    int no_space = sys == ENOSPC || sys == EFBIG || sys == EDQUOT;
    if (rc == SQLITE_FULL || (rc == SQLITE_IOERR && no_space))
        return sg_error_set(err, SG_EIO, "%s: %s: the disk is full (nothing was changed)",
                            d->path, what);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return sg_error_set(err, SG_EIO, "%s: %s: the workspace is locked by another process",
                            d->path, what);
    if (rc == SQLITE_NOTADB)
        return sg_error_set(err, SG_EIO, "%s: not a stratagem workspace (not a SQLite database)",
                            d->path);
    if (rc == SQLITE_NOMEM)
        return sg_error_set(err, SG_ENOMEM, "%s: %s: out of memory", d->path, what);
    return sg_error_set(err, SG_EIO, "%s: %s: %s", d->path, what, msg);
}

static void sq_close(store_db *db)
{
    sq_db *d = (sq_db *)db;
    if (!d) return;
    sqlite3_finalize(d->copy);
    sqlite3_close_v2(d->h);
    sg_free(d->path);
    sg_free(d);
}

static int sq_exec(store_db *db, const char *sql, sg_error *err)
{
    sq_db *d = (sq_db *)db;
    int rc = sqlite3_exec(d->h, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char what[80];
        snprintf(what, sizeof what, "'%.60s'", sql);
        return fail(d, rc, what, err);
    }
    return SG_OK;
}

static int sq_open(store_db **out, const char *ws, int create, sg_error *err)
{
    struct stat sb;
    int existed = stat(ws, &sb) == 0;
    if (!existed && !create)
        return sg_error_set(err, SG_ENOTFOUND, "no workspace at %s (create one with "
                            "'stratagem init %s')", ws, ws);
    if (existed && S_ISDIR(sb.st_mode))
        return sg_error_set(err, SG_EIO, "%s: is a directory, not a workspace", ws);
    sq_db *d = sg_calloc(1, sizeof *d);
    if (!d || !(d->path = sg_strdup(ws))) {
        sg_free(d);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory opening the workspace", ws);
    }
    d->base.ops = &store_sqlite_ops;
    d->base.created = !existed || sb.st_size == 0;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(ws, &d->h, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(d, rc, "cannot open", err);
        sq_close(&d->base);
        return rc;
    }
    sqlite3_extended_result_codes(d->h, 0);
    sqlite3_busy_timeout(d->h, 10000);
    /* journal_mode is the first statement that reads the file: a non-database fails here */
    if ((rc = sq_exec(&d->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536", err)) != SG_OK) {
        sq_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return SG_OK;
}

static int sq_begin(store_db *db, sg_error *err) { return sq_exec(db, "BEGIN IMMEDIATE", err); }

/* Rewrite $N parameters as ?N (our SQL never has '$' inside literals). */
static char *rewrite_params(const char *sql)
{
    char *s = sg_strdup(sql);
    if (!s) return NULL;
    for (char *p = s; *p; p++)
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') *p = '?';
    return s;
}

static int sq_prepare(store_db *db, const char *sql, store_stmt **out, sg_error *err)
{
    sq_db *d = (sq_db *)db;
    store_stmt *st = sg_calloc(1, sizeof *st);
    char *q = rewrite_params(sql);
    if (!st || !q) {
        sg_free(st);
        sg_free(q);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory preparing a statement", d->path);
    }
    int rc = sqlite3_prepare_v2(d->h, q, -1, &st->st, NULL);
    sg_free(q);
    if (rc != SQLITE_OK) {
        char what[80];
        snprintf(what, sizeof what, "preparing '%.50s'", sql);
        sg_free(st);
        return fail(d, rc, what, err);
    }
    st->db = d;
    *out = st;
    return SG_OK;
}

static int bind_check(store_stmt *st, int rc, sg_error *err)
{
    return rc == SQLITE_OK ? SG_OK : fail(st->db, rc, "binding a value", err);
}

static int sq_bind_text(store_stmt *st, int i, const char *v, sg_error *err)
{
    int rc = v ? sqlite3_bind_text(st->st, i, v, -1, SQLITE_TRANSIENT)
               : sqlite3_bind_null(st->st, i);
    return bind_check(st, rc, err);
}

static int sq_bind_i64(store_stmt *st, int i, int64_t v, sg_error *err)
{
    return bind_check(st, sqlite3_bind_int64(st->st, i, v), err);
}

static int sq_bind_f64(store_stmt *st, int i, double v, sg_error *err)
{
    int rc = isfinite(v) ? sqlite3_bind_double(st->st, i, v) : sqlite3_bind_null(st->st, i);
    return bind_check(st, rc, err);
}

static int sq_step(store_stmt *st, sg_error *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    char what[80];
    snprintf(what, sizeof what, "running '%.50s'", sqlite3_sql(st->st));
    return fail(st->db, rc, what, err);
}

static const char *sq_col_text(store_stmt *st, int j)
{
    return (const char *)sqlite3_column_text(st->st, j);
}

static int64_t sq_col_i64(store_stmt *st, int j) { return sqlite3_column_int64(st->st, j); }

static double sq_col_f64(store_stmt *st, int j)
{
    if (sqlite3_column_type(st->st, j) == SQLITE_NULL) return NAN;
    return sqlite3_column_double(st->st, j);
}

static void sq_reset(store_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

static void sq_finalize(store_stmt *st)
{
    if (!st) return;
    sqlite3_finalize(st->st);
    sg_free(st);
}

static int sq_copy_begin(store_db *db, const char *table, const char *const *cols, int n_cols,
                         const char *conflict, sg_error *err)
{
    sq_db *d = (sq_db *)db;
    store_buf b = {0};
    buf_printf(&b, "INSERT INTO %s AS t (", table);
    for (int j = 0; j < n_cols; j++) buf_printf(&b, "%s%s", j ? ", " : "", cols[j]);
    buf_puts(&b, ") VALUES (");
    for (int j = 0; j < n_cols; j++) buf_printf(&b, "%s?%d", j ? ", " : "", j + 1);
    buf_puts(&b, ")");
    if (conflict) buf_printf(&b, " %s", conflict);
    buf_putc(&b, '\0');
    if (b.oom) {
        buf_free(&b);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory", d->path);
    }
    sqlite3_finalize(d->copy);
    d->copy = NULL;
    int rc = sqlite3_prepare_v2(d->h, b.p, -1, &d->copy, NULL);
    buf_free(&b);
    if (rc != SQLITE_OK) return fail(d, rc, "preparing a bulk insert", err);
    d->copy_n = n_cols;
    return SG_OK;
}

static int sq_copy_row(store_db *db, const char *const *vals, sg_error *err)
{
    sq_db *d = (sq_db *)db;
    for (int j = 0; j < d->copy_n; j++) {
        int rc = vals[j] ? sqlite3_bind_text(d->copy, j + 1, vals[j], -1, SQLITE_STATIC)
                         : sqlite3_bind_null(d->copy, j + 1);
        if (rc != SQLITE_OK) return fail(d, rc, "binding a value", err);
    }
    int rc = sqlite3_step(d->copy);
    sqlite3_reset(d->copy);
    if (rc != SQLITE_DONE) return fail(d, rc, "inserting a row", err);
    return SG_OK;
}

static int sq_copy_end(store_db *db, sg_error *err)
{
    (void)err;
    sq_db *d = (sq_db *)db;
    sqlite3_finalize(d->copy);
    d->copy = NULL;
    return SG_OK;
}

static void sq_copy_abort(store_db *db)
{
    sq_db *d = (sq_db *)db;
    sqlite3_finalize(d->copy);
    d->copy = NULL;
}

static int sq_n_tables(store_db *db, int64_t *n, int *has_meta, sg_error *err)
{
    sq_db *d = (sq_db *)db;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(d->h, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) return fail(d, rc, "listing tables", err);
    *n = 0;
    *has_meta = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        (*n)++;
        if (name && !strcmp(name, "meta")) *has_meta = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SG_OK : fail(d, rc, "listing tables", err);
}

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .serial_pk = "INTEGER PRIMARY KEY",
    .merge_cells = "json_patch(t.cells, excluded.cells)",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_i64 = sq_bind_i64,
    .bind_f64 = sq_bind_f64,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_i64 = sq_col_i64,
    .col_f64 = sq_col_f64,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .copy_begin = sq_copy_begin,
    .copy_row = sq_copy_row,
    .copy_end = sq_copy_end,
    .copy_abort = sq_copy_abort,
    .n_tables = sq_n_tables,
};
