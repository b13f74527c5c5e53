/* store_private.h -- the backend interface of the workspace and helpers shared by
 * store.c, ledger.c, store_sqlite.c and store_pg.c (never installed).
 *
 * A backend is a table of functions (store_ops).  SQL is written once, in the
 * dialect both backends accept: parameters are $1, $2, ... (the SQLite backend
 * rewrites them as ?1, ?2), ids are "SERIAL_PK" in DDL (replaced by each
 * backend), numbers are BIGINT and DOUBLE PRECISION, text is TEXT.  Values are
 * bound and read as text, int64 or double; a NULL text is SQL NULL.
 *
 * Bulk writes go through copy_begin/copy_row/copy_end: SQLite runs one prepared
 * INSERT per row; PostgreSQL streams the rows with COPY (into a temporary table
 * first when the rows must be merged with ON CONFLICT). */
#ifndef SG_STORE_PRIVATE_H
#define SG_STORE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "stratagem/error.h"
#include "stratagem/store.h"

typedef struct store_db store_db;
typedef struct store_stmt store_stmt;

typedef struct store_ops {
    const char *name;            /* "sqlite", "postgresql" */
    const char *serial_pk;       /* DDL for an auto-increment BIGINT primary key */
    const char *merge_cells;     /* SQL merging 't.cells' with 'excluded.cells' (JSON objects) */
    /* Open 'ws'; 'create' allows creating a new database file (db->created is
     * then set when the file did not exist or was empty). */
    int (*open)(store_db **out, const char *ws, int create, sg_error *err);
    void (*close)(store_db *db);
    /* Run SQL without parameters or results (may hold several statements). */
    int (*exec)(store_db *db, const char *sql, sg_error *err);
    int (*begin)(store_db *db, sg_error *err);    /* a write transaction */
    int (*prepare)(store_db *db, const char *sql, store_stmt **out, sg_error *err);
    int (*bind_text)(store_stmt *st, int i, const char *v, sg_error *err);   /* i: 1-based */
    int (*bind_i64)(store_stmt *st, int i, int64_t v, sg_error *err);
    int (*bind_f64)(store_stmt *st, int i, double v, sg_error *err);          /* NaN = NULL */
    /* 1: a row is available, 0: done, < 0: error. */
    int (*step)(store_stmt *st, sg_error *err);
    const char *(*col_text)(store_stmt *st, int j);   /* NULL for SQL NULL; valid until step */
    int64_t (*col_i64)(store_stmt *st, int j);
    double (*col_f64)(store_stmt *st, int j);         /* NaN for NULL */
    void (*reset)(store_stmt *st);                    /* rerun with new bindings */
    void (*finalize)(store_stmt *st);                 /* NULL is a no-op */
    /* Bulk insert into 'table' (cols); 'conflict' NULL or an ON CONFLICT clause
     * (the target is aliased 't').  vals: n_cols texts, NULL = SQL NULL. */
    int (*copy_begin)(store_db *db, const char *table, const char *const *cols, int n_cols,
                      const char *conflict, sg_error *err);
    int (*copy_row)(store_db *db, const char *const *vals, sg_error *err);
    int (*copy_end)(store_db *db, sg_error *err);
    void (*copy_abort)(store_db *db);
    /* Tables that exist in the database (count), for "is this a workspace". */
    int (*n_tables)(store_db *db, int64_t *n, int *has_meta, sg_error *err);
} store_ops;

/* Every backend connection starts with this header. */
struct store_db {
    const store_ops *ops;
    int created;                 /* set by open: the database did not exist before */
};

SG_INTERNAL const store_ops store_sqlite_ops;
SG_INTERNAL const store_ops store_pg_ops;

struct sg_store {
    store_db *db;
    const store_ops *ops;
    char *ws;                    /* the workspace for messages (no password) */
    int found_version;
    int created;
    int in_tx;
    int64_t fixed_time;          /* < 0: the real clock */
};

/* 'ws' with the password of a PostgreSQL URI replaced by "***" (owned; NULL on ENOMEM). */
SG_INTERNAL char *store_redact(const char *ws);

/* ---- transactions and small queries (store.c) ---- */
SG_INTERNAL int store_begin(sg_store *s, sg_error *err);
SG_INTERNAL int store_commit(sg_store *s, sg_error *err);
SG_INTERNAL void store_rollback(sg_store *s);
SG_INTERNAL void store_now(const sg_store *s, char buf[32]);
/* Run a query with up to 4 text parameters (NULL-terminated list) returning one
 * int64 (first column of the first row; *found 0 when there is no row). */
SG_INTERNAL int store_query_i64(sg_store *s, const char *sql, const char *const *params,
                                int64_t *out, int *found, sg_error *err);
/* The column names of data table 'kind' (registry order): owned, NULL-terminated. */
SG_INTERNAL int store_kind_columns(sg_store *s, int kind, char ***names, int *n, sg_error *err);
SG_INTERNAL void store_free_list(char **list);
/* Upsert rows into data table 'kind' (after copy_begin of store_upsert_begin). */
SG_INTERNAL int store_upsert_begin(sg_store *s, int kind, sg_error *err);
/* An earlier import of the same bytes (sha256) as 'kind' (and plan): *found, and
 * its id, rows, counts and time into 'res' (NULL allowed). */
SG_INTERNAL int store_find_import(sg_store *s, const char *kind, int64_t plan_id, const char *sha,
                                  sg_import_result *res, int *found, sg_error *err);
/* Insert an import record; sets *id. */
SG_INTERNAL int store_add_import(sg_store *s, const char *kind, int64_t plan_id,
                                 const char *source, const char *sha256, int64_t bytes,
                                 int64_t rows, int64_t inserted, int64_t updated,
                                 const char *time, int64_t *id, sg_error *err);

/* ---- growable text buffer ---- */
typedef struct store_buf {
    char *p;
    size_t n, cap;
    int oom;                     /* set once an append failed; later appends are ignored */
} store_buf;
SG_INTERNAL void buf_put(store_buf *b, const char *s, size_t n);
SG_INTERNAL void buf_puts(store_buf *b, const char *s);
SG_INTERNAL void buf_putc(store_buf *b, char c);
SG_INTERNAL void buf_printf(store_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SG_INTERNAL void buf_free(store_buf *b);
/* Append s as a JSON string literal (with quotes) / as a CSV field (quoted if needed). */
SG_INTERNAL void buf_json_str(store_buf *b, const char *s, size_t n);
SG_INTERNAL void buf_csv_field(store_buf *b, const char *s, size_t n);

/* ---- flat JSON objects of strings (the 'cells' column) ---- */
/* Parse a JSON object whose values are strings or null.  For each member fn is
 * called with the unescaped key and value (value NULL for null), both
 * NUL-terminated in scratch space.  Returns SG_OK, SG_EPARSE or SG_ENOMEM, or
 * fn's non-zero return. */
SG_INTERNAL int json_cells_parse(const char *json, store_buf *scratch,
                                 int (*fn)(void *ud, const char *key, const char *val),
                                 void *ud);

/* ---- string -> index hash map ---- */
typedef struct str_map {
    const char **keys;           /* (cap) borrowed strings, NULL = empty */
    int64_t *vals;
    int64_t n, cap;
} str_map;
SG_INTERNAL int map_put(str_map *m, const char *key, int64_t val);   /* replaces; SG_ENOMEM */
SG_INTERNAL int64_t map_get(const str_map *m, const char *key);       /* -1 if absent */
SG_INTERNAL void map_free(str_map *m);

/* ---- SHA-256 (sha256.c) ---- */
typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha256_ctx;
SG_INTERNAL void sha256_init(sha256_ctx *c);
SG_INTERNAL void sha256_update(sha256_ctx *c, const void *data, size_t n);
SG_INTERNAL void sha256_hex(sha256_ctx *c, char hex[65]);

#endif
