/* test_store.c -- the workspace: schema, imports, tables back out, ledger, feedback.
 *
 * Every case runs against SQLite (a file in a fresh temporary folder) and,
 * when SG_TEST_PG holds a PostgreSQL URI (scripts/pg-test.sh sets one), again
 * against PostgreSQL in a schema of its own that is dropped afterwards.
 * Without SG_TEST_PG the PostgreSQL runs are skipped with a message. */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/store.h"
#include "store/store_private.h"

/* ---------------------------------------------------------------- fixtures */

/* Allocation-failure loops fail every allocation N in turn.  Under ASan each
 * failed attempt maps and unmaps megabytes (table loads), so the sanitizer
 * build tries every N up to 16 and then every fifth; the plain build, whose
 * leak check is sg_mem_live_bytes, tries them all. */
#if defined(__SANITIZE_ADDRESS__)
#define NEXT_N(k) ((k) += (k) < 16 ? 1 : 5)
#else
#define NEXT_N(k) ((k)++)
#endif

typedef struct env {
    int pg;                 /* 0: SQLite, 1: PostgreSQL */
    char dir[256];          /* temporary folder for files */
    char ws[1024];          /* the workspace */
    char schema[64];
} env;

static int n_env;

static const char *pg_base(void) { return getenv("SG_TEST_PG"); }

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void pg_run(const char *sql)
{
    PGconn *c = PQconnectdb(pg_base());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

static int setup(void **state, int pg)
{
    env *e = calloc(1, sizeof *e);
    e->pg = pg;
    /* tmpfs when there is one: every commit fsyncs (synchronous=FULL), which a disk makes slow */
    struct stat sb;
    int shm = stat("/dev/shm", &sb) == 0 && access("/dev/shm", W_OK) == 0;
    const char *base = shm ? "/dev/shm" : "/tmp";
    snprintf(e->dir, sizeof e->dir, "%s/sg_test_store.XXXXXX", base);
    if (!mkdtemp(e->dir)) return -1;
    if (pg) {
        snprintf(e->schema, sizeof e->schema, "sgt_%d_%d", (int)getpid(), n_env++);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", e->schema);
        pg_run(sql);
        snprintf(e->ws, sizeof e->ws, "%s%soptions=-csearch_path%%3D%s", pg_base(),
                 strchr(pg_base(), '?') ? "&" : "?", e->schema);
    } else {
        snprintf(e->ws, sizeof e->ws, "%s/ws.db", e->dir);
    }
    *state = e;
    return 0;
}

static int setup_sqlite(void **state) { return setup(state, 0); }
static int setup_pg(void **state) { return setup(state, 1); }

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    env *e = *state;
    if (!e) return 0;
    /* no system("rm -rf"): forking a sanitizer build is slow */
    if (nftw(e->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0) return -1;
    char cmd[128];
    if (e->pg) {
        snprintf(cmd, sizeof cmd, "DROP SCHEMA %s CASCADE", e->schema);
        pg_run(cmd);
    }
    free(e);
    return 0;
}

#define ENV(state) env *e = *(state)

static const char *write_file(env *e, const char *name, const char *text)
{
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", e->dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static sg_store *open_ws(env *e, int mode)
{
    sg_store *s = NULL;
    sg_error err;
    int rc = sg_store_open(&s, e->ws, mode, &err);
    if (rc != SG_OK) fail_msg("open %s: %s", e->ws, err.msg);
    return s;
}

static sg_import_result import(sg_store *s, const char *path, int kind, const char *id)
{
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = kind;
    o.load.id_col = id;
    sg_import_result r;
    sg_error err;
    if (sg_store_import_csv(s, path, &o, &r, &err) != SG_OK)
        fail_msg("import %s: %s", path, err.msg);
    return r;
}

static int64_t count_of(sg_store *s, const char *sql)
{
    int64_t n = -1;
    sg_error err;
    if (store_query_i64(s, sql, NULL, &n, NULL, &err) != SG_OK) fail_msg("%s: %s", sql, err.msg);
    return n;
}

/* Assert two tables hold the same columns, types and cell texts. */
static void same_table(const sg_table *a, const sg_table *b)
{
    assert_int_equal(sg_table_n_cols(a), sg_table_n_cols(b));
    assert_int_equal(sg_table_n_rows(a), sg_table_n_rows(b));
    char x[256], y[256];
    for (int j = 0; j < sg_table_n_cols(a); j++) {
        assert_string_equal(sg_table_col_name(a, j), sg_table_col_name(b, j));
        assert_int_equal(sg_table_col_type(a, j), sg_table_col_type(b, j));
        for (int64_t i = 0; i < sg_table_n_rows(a); i++)
            assert_string_equal(sg_table_cell(a, i, j, x, sizeof x),
                                sg_table_cell(b, i, j, y, sizeof y));
    }
}

/* ---------------------------------------------------------------- 1. helpers */

/* store-1.1: SHA-256 of the FIPS 180-4 test messages */
static void sha256_vectors(void **state)
{
    (void)state;
    static const char *const msg[3] = {"", "abc",
                                       "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
    static const char *const want[3] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    };
    char hex[65];
    for (int k = 0; k < 3; k++) {
        sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, msg[k], strlen(msg[k]));
        sha256_hex(&c, hex);
        assert_string_equal(hex, want[k]);
    }
    /* a million 'a' fed in odd-sized pieces */
    sha256_ctx c;
    sha256_init(&c);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof a ? left : sizeof a;
        sha256_update(&c, a, n);
        left -= n;
    }
    sha256_hex(&c, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

typedef struct kv {
    int n;
    char key[4][32], val[4][32];
    int null[4];
} kv;

static int collect(void *ud, const char *key, const char *val)
{
    kv *c = ud;
    snprintf(c->key[c->n], 32, "%s", key);
    snprintf(c->val[c->n], 32, "%s", val ? val : "");
    c->null[c->n++] = val == NULL;
    return 0;
}

/* store-1.2: cells as JSON: escapes round-trip; PostgreSQL's spacing and \u escapes parse */
static void json_cells(void **state)
{
    (void)state;
    store_buf b = {0}, scratch = {0};
    const char *v = "a\"b\\c\nd\t\x01 \xc3\xa9";
    buf_putc(&b, '{');
    buf_json_str(&b, "k,1", 3);
    buf_putc(&b, ':');
    buf_json_str(&b, v, strlen(v));
    buf_puts(&b, ",\"m\":null}");
    kv c = {0};
    assert_int_equal(json_cells_parse(b.p, &scratch, collect, &c), SG_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.key[0], "k,1");
    assert_string_equal(c.val[0], v);
    assert_true(c.null[1]);
    memset(&c, 0, sizeof c);
    assert_int_equal(json_cells_parse("{\"x\": \"\\u00e9\\ud83d\\ude00\", \"y\": null}", &scratch,
                                      collect, &c), SG_OK);
    assert_string_equal(c.val[0], "\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(json_cells_parse("{\"x\": 1}", &scratch, collect, &c), SG_EPARSE);
    assert_int_equal(json_cells_parse("{\"x\": \"a\"", &scratch, collect, &c), SG_EPARSE);
    /* CSV fields: quoted only when needed, quotes doubled */
    b.n = 0;
    buf_csv_field(&b, "plain", 5);
    buf_putc(&b, '|');
    buf_csv_field(&b, "a,\"b\"", 5);
    assert_string_equal(b.p, "plain|\"a,\"\"b\"\"\"");
    buf_free(&b);
    buf_free(&scratch);
}

/* store-1.3: kinds and backends by name; passwords redacted */
static void names(void **state)
{
    (void)state;
    assert_int_equal(sg_store_kind_parse("campaigns"), SG_STORE_CAMPAIGNS);
    assert_int_equal(sg_store_kind_parse("campaign"), -1);
    assert_string_equal(sg_store_kind_name(SG_STORE_SPEND), "spend");
    assert_null(sg_store_kind_name(SG_STORE_N_KINDS));
    assert_true(sg_store_is_pg("postgresql://u@h/db"));
    assert_true(sg_store_is_pg("postgres:///db"));
    assert_false(sg_store_is_pg("ws.db"));
    /* passwords never reach a message */
    char *r = store_redact("postgresql://me:s3cret@db.example:5432/shop?sslmode=require");
    assert_string_equal(r, "postgresql://me:***@db.example:5432/shop?sslmode=require");
    sg_free(r);
    r = store_redact("postgresql://me@host/db");
    assert_string_equal(r, "postgresql://me@host/db");
    sg_free(r);
    r = store_redact("postgresql:///db?host=/tmp/x");
    assert_string_equal(r, "postgresql:///db?host=/tmp/x");
    sg_free(r);
}

/* ---------------------------------------------------------------- 2. schema */

/* store-2.1: init creates the schema once; reopening keeps it */
static void init_reopen(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    assert_true(sg_store_created(s));
    assert_int_equal(sg_store_found_version(s), SG_STORE_SCHEMA_VERSION);
    assert_string_equal(sg_store_backend(s), e->pg ? "postgresql" : "sqlite");
    sg_store_close(s);
    s = open_ws(e, SG_STORE_CREATE);
    assert_false(sg_store_created(s));
    sg_store_info info;
    sg_error err;
    assert_int_equal(sg_store_info_get(s, &info, &err), SG_OK);
    assert_int_equal(info.schema_version, SG_STORE_SCHEMA_VERSION);
    assert_int_equal(info.rows[SG_STORE_CAMPAIGNS], 0);
    assert_int_equal(info.n_imports, 0);
    sg_store_close(s);
    s = open_ws(e, SG_STORE_OPEN);
    sg_store_close(s);
}

/* store-2.2: a missing workspace, or a database that is not one, is refused */
static void not_a_workspace(void **state)
{
    ENV(state);
    sg_store *s = NULL;
    sg_error err;
    if (!e->pg) {
        char path[600];
        snprintf(path, sizeof path, "%s/none.db", e->dir);
        assert_int_equal(sg_store_open(&s, path, SG_STORE_OPEN, &err), SG_ENOTFOUND);
        assert_non_null(strstr(err.msg, "stratagem init"));
        struct stat sb;
        assert_int_equal(stat(path, &sb), -1);   /* nothing was created */
        const char *txt = write_file(e, "text.db", "id,x\n1,2\n");
        assert_int_equal(sg_store_open(&s, txt, SG_STORE_CREATE, &err), SG_EIO);
        assert_non_null(strstr(err.msg, "not a stratagem workspace"));
        assert_null(s);
    } else {
        assert_int_equal(sg_store_open(&s, e->ws, SG_STORE_OPEN, &err), SG_ENOTFOUND);
    }
    /* a database with someone else's tables */
    s = open_ws(e, SG_STORE_CREATE);
    assert_int_equal(s->ops->exec(s->db, "DROP TABLE outcomes; DROP TABLE plan_rows; "
                                  "DROP TABLE meta", &err), SG_OK);
    sg_store_close(s);
    s = NULL;
    assert_int_equal(sg_store_open(&s, e->ws, SG_STORE_CREATE, &err), SG_EIO);
    assert_non_null(strstr(err.msg, "not a stratagem workspace"));
}

/* store-2.3: a newer schema is refused with both versions named */
static void newer_refused(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    sg_error err;
    assert_int_equal(s->ops->exec(s->db, "UPDATE meta SET val = '99' WHERE name = 'schema_version'",
                                  &err), SG_OK);
    sg_store_close(s);
    s = NULL;
    assert_int_equal(sg_store_open(&s, e->ws, SG_STORE_OPEN, &err), SG_EIO);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_non_null(strstr(err.msg, "upgrade stratagem"));
    assert_null(s);
}

/* store-2.4: a version-1 workspace is migrated on open and then works */
static void migrate_v1(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    sg_error err;
    /* take it back to version 1 */
    assert_int_equal(s->ops->exec(s->db, "DROP TABLE spend; ALTER TABLE plan_rows DROP COLUMN "
                                  "planned_arm; ALTER TABLE plan_rows DROP COLUMN propensity; "
                                  "ALTER TABLE plan_rows DROP COLUMN planned_effect; "
                                  "ALTER TABLE outcomes DROP COLUMN propensity; UPDATE meta SET "
                                  "val = '1' WHERE name = 'schema_version'", &err), SG_OK);
    sg_store_close(s);
    sg_log_set_level(SG_LOG_WARN);
    s = open_ws(e, SG_STORE_OPEN);
    assert_int_equal(sg_store_found_version(s), 1);
    sg_import_result r = import(s, write_file(e, "spend.csv", "day,channel,amount\n"
                                              "2024-01-01,tv,100\n"), SG_STORE_SPEND, NULL);
    assert_int_equal(r.inserted, 1);
    sg_store_close(s);
    s = open_ws(e, SG_STORE_OPEN);
    assert_int_equal(sg_store_found_version(s), SG_STORE_SCHEMA_VERSION);
    sg_store_close(s);
}

/* ---------------------------------------------------------------- 3. imports */

static const char CUSTOMERS[] =
    "id,age,segment,since,note\n"
    "007,31,gold,2021-03-04,\"said \"\"hi\"\", then left\"\n"
    "c2,NA,silver,2020-01-01,\n"
    "c3,45.50,gold,,\"two\nlines\"\n"
    "c4,28,NULL,2019-12-31 08:30,plain\n";

/* store-3.1: a table comes back with the types and values the CSV gives */
static void import_roundtrip(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    const char *path = write_file(e, "customers.csv", CUSTOMERS);
    sg_import_result r = import(s, path, SG_STORE_CUSTOMERS, "id");
    assert_false(r.skipped);
    assert_int_equal(r.rows, 4);
    assert_int_equal(r.inserted, 4);
    assert_int_equal(r.updated, 0);
    assert_int_equal(r.n_new_cols, 5);
    assert_int_equal(strlen(r.sha256), 64);
    sg_table *a = NULL, *b = NULL;
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    lo.id_col = "id";
    sg_error err;
    assert_int_equal(sg_table_load_csv(&a, path, &lo, &err), SG_OK);
    assert_int_equal(sg_store_load_table(s, SG_STORE_CUSTOMERS, NULL, &b, &err), SG_OK);
    same_table(a, b);
    assert_int_equal(sg_table_col_type(b, 0), SG_COL_ID);   /* the stored id column */
    assert_int_equal(sg_table_col_type(b, 3), SG_COL_DATE);
    char buf[64];
    assert_string_equal(sg_table_cell(b, 0, 0, buf, sizeof buf), "007");
    assert_int_equal(sg_table_n_missing(b, 1), 1);
    assert_non_null(strstr(sg_table_name(b), ":customers"));
    sg_table_free(b);
    b = NULL;
    /* options apply as for a CSV: 'age' forced to category keeps its text */
    const char *cat[] = {"age", NULL};
    lo.categorical = cat;
    assert_int_equal(sg_store_load_table(s, SG_STORE_CUSTOMERS, &lo, &b, &err), SG_OK);
    assert_string_equal(sg_table_cell(b, 2, 1, buf, sizeof buf), "45.50");
    sg_table_free(a);
    sg_table_free(b);
    /* a table never imported */
    b = NULL;
    assert_int_equal(sg_store_load_table(s, SG_STORE_PRODUCTS, NULL, &b, &err), SG_ENOTFOUND);
    assert_null(b);
    sg_store_close(s);
}

/* store-3.2: the same bytes twice: the second import does nothing */
static void import_twice(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    const char *path = write_file(e, "customers.csv", CUSTOMERS);
    sg_import_result r1 = import(s, path, SG_STORE_CUSTOMERS, "id");
    sg_import_result r2 = import(s, path, SG_STORE_CUSTOMERS, NULL);
    assert_true(r2.skipped);
    assert_int_equal(r2.import_id, r1.import_id);
    assert_string_equal(r2.time, r1.time);
    assert_int_equal(count_of(s, "SELECT count(*) FROM imports"), 1);
    assert_int_equal(count_of(s, "SELECT count(*) FROM customers"), 4);
    /* as another kind it is a new import */
    sg_import_result r3 = import(s, path, SG_STORE_PRODUCTS, "id");
    assert_false(r3.skipped);
    sg_store_close(s);
}

/* store-3.3: upsert: new keys appended, known keys merged column by column */
static void import_merge(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    import(s, write_file(e, "a.csv", CUSTOMERS), SG_STORE_CUSTOMERS, "id");
    sg_import_result r = import(s, write_file(e, "b.csv", "segment,id,tier\n"
                                              "platinum,c2,1\n"
                                              ",c3,2\n"
                                              "bronze,c9,3\n"),
                                SG_STORE_CUSTOMERS, NULL);
    assert_int_equal(r.rows, 3);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(r.updated, 2);
    assert_int_equal(r.n_new_cols, 1);
    sg_table *t = NULL;
    sg_error err;
    assert_int_equal(sg_store_load_table(s, SG_STORE_CUSTOMERS, NULL, &t, &err), SG_OK);
    assert_int_equal(sg_table_n_rows(t), 5);
    assert_int_equal(sg_table_n_cols(t), 6);
    assert_string_equal(sg_table_col_name(t, 5), "tier");
    char buf[64];
    /* c2 (row 1): segment replaced, age kept (missing before), tier added */
    assert_string_equal(sg_table_cell(t, 1, 2, buf, sizeof buf), "platinum");
    assert_string_equal(sg_table_cell(t, 1, 3, buf, sizeof buf), "2020-01-01");
    assert_string_equal(sg_table_cell(t, 1, 5, buf, sizeof buf), "1");
    /* c3 (row 2): an empty segment in the new file clears it; age kept */
    assert_string_equal(sg_table_cell(t, 2, 2, buf, sizeof buf), "");
    assert_string_equal(sg_table_cell(t, 2, 1, buf, sizeof buf), "45.5");
    /* 007 untouched, tier missing; c9 appended last */
    assert_string_equal(sg_table_cell(t, 0, 5, buf, sizeof buf), "");
    assert_string_equal(sg_table_cell(t, 4, 0, buf, sizeof buf), "c9");
    assert_string_equal(sg_table_cell(t, 4, 1, buf, sizeof buf), "");
    sg_table_free(t);
    sg_store_close(s);
}

typedef struct errs {
    int n;
    char first[SG_ERRMSG_MAX];
} errs;

static void on_error(void *ud, const char *msg)
{
    errs *c = ud;
    if (c->n++ == 0) snprintf(c->first, sizeof c->first, "%s", msg);
}

/* store-3.4: a bad file fails with file:line and changes nothing */
static void import_bad(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    import(s, write_file(e, "a.csv", CUSTOMERS), SG_STORE_CUSTOMERS, "id");
    const char *bad = write_file(e, "bad.csv", "id,age,extra\nc5,40,x\nc6,41\nc5,42,y\n");
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = SG_STORE_CUSTOMERS;
    errs c = {0};
    o.load.on_error = on_error;
    o.load.ud = &c;
    sg_import_result r;
    sg_error err;
    assert_int_equal(sg_store_import_csv(s, bad, &o, &r, &err), SG_EPARSE);
    assert_int_equal(c.n, 2);
    assert_non_null(strstr(c.first, "bad.csv:3: expected 3 fields, got 2"));
    assert_non_null(strstr(err.msg, "2 errors"));
    assert_int_equal(count_of(s, "SELECT count(*) FROM customers"), 4);
    assert_int_equal(count_of(s, "SELECT count(*) FROM imports"), 1);
    assert_int_equal(count_of(s, "SELECT count(*) FROM table_columns"), 5);
    /* a missing file */
    char none[600];
    snprintf(none, sizeof none, "%s/none.csv", e->dir);
    assert_int_equal(sg_store_import_csv(s, none, &o, &r, &err), SG_EIO);
    sg_store_close(s);
}

/* store-3.5: keys and roles are checked before anything is written */
static void import_usage(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    const char *path = write_file(e, "log.csv", "cust,x,t,p,y\nc1,1,email,0.5,0\n"
                                  "c2,2,control,0.5,1\n");
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = SG_STORE_CAMPAIGNS;
    sg_import_result r;
    sg_error err;
    assert_int_equal(sg_store_import_csv(s, path, &o, &r, &err), SG_EINVAL);   /* no --id */
    assert_non_null(strstr(err.msg, "needs --id"));
    o.load.id_col = "cust";
    o.treatment = "treat";   /* no such column */
    assert_int_equal(sg_store_import_csv(s, path, &o, &r, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "'treat' not found"));
    o.treatment = "t";
    o.control = "control";
    o.propensity = "p";
    o.outcome = "y";
    assert_int_equal(sg_store_import_csv(s, path, &o, &r, &err), SG_OK);
    char buf[64];
    assert_int_equal(sg_store_role(s, SG_STORE_CAMPAIGNS, "treatment", buf, sizeof buf, &err),
                     SG_OK);
    assert_string_equal(buf, "t");
    assert_int_equal(sg_store_role(s, SG_STORE_CAMPAIGNS, "control", buf, sizeof buf, &err), SG_OK);
    assert_string_equal(buf, "control");
    /* another key column for the same table */
    sg_import_opts_default(&o);
    o.kind = SG_STORE_CAMPAIGNS;
    o.load.id_col = "x";
    const char *p2 = write_file(e, "log2.csv", "cust,x\nc3,3\n");
    assert_int_equal(sg_store_import_csv(s, p2, &o, &r, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "keyed by 'cust'"));
    /* roles belong to the campaign log */
    sg_import_opts_default(&o);
    o.kind = SG_STORE_CUSTOMERS;
    o.load.id_col = "cust";
    o.treatment = "t";
    assert_int_equal(sg_store_import_csv(s, path, &o, &r, &err), SG_EINVAL);
    assert_int_equal(count_of(s, "SELECT count(*) FROM imports"), 1);
    sg_store_close(s);
}

/* store-3.6: events without an id are appended, file after file; dedup rules apply */
static void import_append(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    import(s, write_file(e, "e1.csv", "cust,what\nc1,view\nc1,view\n"), SG_STORE_EVENTS, NULL);
    sg_import_result r = import(s, write_file(e, "e2.csv", "cust,what\nc2,buy\n"), SG_STORE_EVENTS,
                                NULL);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(count_of(s, "SELECT count(*) FROM events"), 3);
    /* duplicate ids within a file: the last row kept with SG_DEDUP_LAST */
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = SG_STORE_PRODUCTS;
    o.load.id_col = "sku";
    o.load.dedup = SG_DEDUP_LAST;
    sg_error err;
    const char *pp = write_file(e, "p.csv", "sku,price\na,1\nb,2\na,3\n");
    assert_int_equal(sg_store_import_csv(s, pp, &o, &r, &err), SG_OK);
    assert_int_equal(r.rows, 2);
    sg_table *t = NULL;
    assert_int_equal(sg_store_load_table(s, SG_STORE_PRODUCTS, NULL, &t, &err), SG_OK);
    char buf[32];
    assert_int_equal(sg_table_n_rows(t), 2);
    assert_string_equal(sg_table_cell(t, 0, 0, buf, sizeof buf), "b");
    assert_string_equal(sg_table_cell(t, 1, 1, buf, sizeof buf), "3");
    sg_table_free(t);
    sg_store_close(s);
}

/* store-3.7: every allocation failure during an import or a read fails cleanly:
 * SG_ENOMEM, nothing written, nothing leaked */
static void import_nomem(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    const char *path = write_file(e, "customers.csv", CUSTOMERS);
    sg_log_set_level(SG_LOG_NONE);
    int64_t live = sg_mem_live_bytes();
    int n_fail = 0, done = 0;
    for (int64_t k = 0; k < 10000 && !done; NEXT_N(k)) {
        sg_import_opts o;
        sg_import_opts_default(&o);
        o.kind = SG_STORE_CUSTOMERS;
        o.load.id_col = "id";
        sg_import_result r;
        sg_error err;
        sg_mem_fail_after(k);
        int rc = sg_store_import_csv(s, path, &o, &r, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            done = 1;
            break;
        }
        n_fail++;
        if (rc != SG_ENOMEM) fail_msg("failure %lld: %s", (long long)k, err.msg);
        assert_int_equal(sg_mem_live_bytes(), live);
        assert_int_equal(count_of(s, "SELECT count(*) FROM customers"), 0);
        assert_int_equal(count_of(s, "SELECT count(*) FROM imports"), 0);
    }
    assert_true(done);
    assert_true(n_fail > 10);
    assert_int_equal(sg_mem_live_bytes(), live);
    for (int64_t k = 0;; NEXT_N(k)) {
        sg_table *t = NULL;
        sg_error err;
        sg_mem_fail_after(k);
        int rc = sg_store_load_table(s, SG_STORE_CUSTOMERS, NULL, &t, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            assert_int_equal(sg_table_n_rows(t), 4);
            sg_table_free(t);
            break;
        }
        assert_int_equal(rc, SG_ENOMEM);
        assert_null(t);
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    sg_log_set_level(SG_LOG_WARN);
    sg_store_close(s);
}

/* ---------------------------------------------------------------- 4. ledger */

/* A campaign log, customer data and a plan with exploration: customers c1..cN,
 * feature x; the plan targets the customers with x > 0 with 'email' (expected
 * effect x), leaving a random fifth of them as control (propensity 0.2 of the
 * control, 0.8 of email); the others get control (propensity 1). */
typedef struct world {
    int n;
    const char *log, *customers, *plan, *results;
    double true_effect;   /* sum over targeted customers of the true effect */
    double predicted;
} world;

static void make_world(env *e, world *w, int n, int explore, double scale)
{
    sg_rng rng;
    sg_rng_init(&rng, 7);
    FILE *f;
    char path[600];
    w->n = n;
    snprintf(path, sizeof path, "%s/log.csv", e->dir);
    f = fopen(path, "w");
    fprintf(f, "cust,x,seg,treatment,propensity,margin,converted\n");
    for (int i = 0; i < 50; i++)
        fprintf(f, "L%d,%.3f,%s,%s,0.5,%d,%d\n", i, sg_rng_uniform(&rng) * 2 - 1, i % 2 ? "a" : "b",
                i % 2 ? "email" : "control", i % 3, i % 3 > 0);
    fclose(f);
    w->log = strdup(path);
    snprintf(path, sizeof path, "%s/customers.csv", e->dir);
    f = fopen(path, "w");
    fprintf(f, "cust,x,seg,extra\n");
    double *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++) {
        x[i] = sg_rng_uniform(&rng) * 2 - 1;
        fprintf(f, "c%d,%.6f,%s,e%d\n", i + 1, x[i], i % 2 ? "a" : "b", i);
    }
    fclose(f);
    w->customers = strdup(path);
    snprintf(path, sizeof path, "%s/plan.csv", e->dir);
    f = fopen(path, "w");
    fprintf(f, "cust,action,expected_effect,cost,predicted_effect,se,propensity,planned_action\n");
    char *arm = malloc((size_t)n);
    w->true_effect = w->predicted = 0;
    for (int i = 0; i < n; i++) {
        int target = x[i] > 0;
        int held = target && explore && sg_rng_uniform(&rng) < 0.2;
        arm[i] = (char)(target && !held);
        if (target) {
            w->true_effect += scale * x[i];
            w->predicted += x[i];
        }
        fprintf(f, "c%d,%s,%.6f,%.2f,%.6f,0.1,%s,%s\n", i + 1, arm[i] ? "email" : "control",
                target ? x[i] : 0.0, target ? 0.1 : 0.0, target ? x[i] : 0.0,
                !target ? "1" : held ? "0.2" : explore ? "0.8" : "1", target ? "email" : "control");
    }
    fclose(f);
    w->plan = strdup(path);
    /* results: outcome = 1 + seg + true effect if emailed + noise; plus problem rows */
    snprintf(path, sizeof path, "%s/results.csv", e->dir);
    f = fopen(path, "w");
    fprintf(f, "cust,margin\n");
    for (int i = 0; i < n; i++) {
        double y = 1 + 0.2 * (i % 2) + (arm[i] ? scale * x[i] : 0) + 0.1 * sg_rng_normal(&rng);
        fprintf(f, "c%d,%.6f\n", i + 1, y);
    }
    fprintf(f, "c1,5\n");          /* duplicate */
    fprintf(f, "zz9,1\n");         /* unknown */
    fprintf(f, "L3,1\n");          /* outside: a key of the campaign log */
    fclose(f);
    w->results = strdup(path);
    free(x);
    free(arm);
}

static void free_world(world *w)
{
    free((void *)w->log);
    free((void *)w->customers);
    free((void *)w->plan);
    free((void *)w->results);
}

static int64_t add_plan(sg_store *s, const world *w, int expect_rc)
{
    sg_table *feat = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_csv(&feat, w->customers, NULL, &err), SG_OK);
    sg_plan_input p = {0};
    p.plan_path = w->plan;
    p.model_path = w->log;   /* any file stands for the model */
    p.data = w->customers;
    p.data_sha256 = "0";
    p.summary = "{\"forecast\": {}}";
    p.objective = "value";
    p.units = "margin";
    p.control = "control";
    p.forecast.effect = w->predicted;
    p.forecast.effect_lo = w->predicted * 0.8;
    p.forecast.effect_hi = w->predicted * 1.2;
    p.forecast.cost = 1;
    p.forecast.net = w->predicted - 1;
    p.forecast.net_lo = p.forecast.effect_lo - 1;
    p.forecast.net_hi = p.forecast.effect_hi - 1;
    p.forecast.level = 0.9;
    p.features = feat;
    p.features_id = "cust";
    int64_t id = -1;
    int rc = sg_store_plan_add(s, &p, &id, &err);
    if (rc != expect_rc) fail_msg("plan_add: %d %s", rc, err.msg);
    sg_table_free(feat);
    return id;
}

static void import_log(sg_store *s, const world *w)
{
    sg_import_opts o;
    sg_import_opts_default(&o);
    o.kind = SG_STORE_CAMPAIGNS;
    o.load.id_col = "cust";
    o.treatment = "treatment";
    o.control = "control";
    o.propensity = "propensity";
    o.outcome = "margin";
    sg_import_result r;
    sg_error err;
    if (sg_store_import_csv(s, w->log, &o, &r, &err)) fail_msg("%s", err.msg);
}

typedef struct plans_seen {
    int n;
    int64_t id, customers, treated, n_outcomes;
    int has_realised;
    double realised;
} plans_seen;

static int on_plan(void *ud, const sg_plan_record *r)
{
    plans_seen *p = ud;
    p->n++;
    p->id = r->id;
    p->customers = r->customers;
    p->treated = r->treated;
    p->n_outcomes = r->n_outcomes;
    p->has_realised = r->has_realised;
    p->realised = r->realised;
    assert_string_equal(r->control, "control");
    assert_non_null(r->model_sha256);
    return 0;
}

/* store-4.1: a plan is stored whole, listed, and refused when customers are missing */
static void plan_store(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    make_world(e, &w, 200, 1, 1.0);
    int64_t id = add_plan(s, &w, SG_OK);
    assert_int_equal(id, 1);
    assert_int_equal(count_of(s, "SELECT count(*) FROM plan_rows"), 200);
    assert_int_equal(count_of(s, "SELECT count(*) FROM models"), 1);
    plans_seen p = {0};
    sg_error err;
    assert_int_equal(sg_store_plans(s, 0, on_plan, &p, &err), SG_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.customers, 200);
    assert_true(p.treated > 60 && p.treated < 140);
    assert_false(p.has_realised);
    assert_int_equal(sg_store_plans(s, 7, on_plan, &p, &err), SG_ENOTFOUND);
    /* the same model again is not stored twice */
    assert_int_equal(add_plan(s, &w, SG_OK), 2);
    assert_int_equal(count_of(s, "SELECT count(*) FROM models"), 1);
    /* a plan naming a customer that is not in the data: nothing stored */
    FILE *f = fopen(w.plan, "a");
    fprintf(f, "c999,email,0.5,0.1,0.5,0.1,1,email\n");
    fclose(f);
    add_plan(s, &w, SG_EINVAL);
    assert_int_equal(count_of(s, "SELECT count(*) FROM plans"), 2);
    assert_int_equal(count_of(s, "SELECT count(*) FROM plan_rows"), 400);
    free_world(&w);
    sg_store_close(s);
}

typedef struct problems {
    int n;
    char msg[8][SG_ERRMSG_MAX];
} problems;

static void on_problem(void *ud, const char *msg)
{
    problems *p = ud;
    if (p->n < 8) snprintf(p->msg[p->n], SG_ERRMSG_MAX, "%s", msg);
    p->n++;
}

/* store-4.2: feedback: statuses, the realised effect against the truth, the log grows */
static void feedback_loop(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    make_world(e, &w, 1000, 1, 0.5);   /* the truth is half the prediction */
    import_log(s, &w);
    int64_t id = add_plan(s, &w, SG_OK);
    sg_feedback_opts o;
    sg_feedback_opts_default(&o);
    problems pr = {0};
    o.on_problem = on_problem;
    o.ud = &pr;
    sg_feedback_report rep;
    sg_error err;
    if (sg_store_feedback(s, id, w.results, &o, &rep, &err)) fail_msg("%s", err.msg);
    assert_false(rep.skipped);
    assert_int_equal(rep.n_results, 1003);
    assert_int_equal(rep.n_ok, 1000);
    assert_int_equal(rep.n_duplicate, 1);
    assert_int_equal(rep.n_unknown, 1);
    assert_int_equal(rep.n_outside, 1);
    assert_int_equal(pr.n, 3);
    assert_non_null(strstr(pr.msg[0], "results.csv:1002: id 'c1': occurs earlier"));
    assert_string_equal(rep.outcome, "margin");
    assert_int_equal(rep.n_campaign_rows, 1000);
    assert_true(rep.identifiable);
    assert_false(rep.executed);   /* untargeted customers had no chance of an action */
    assert_true(rep.n_held_out > 50);
    /* the estimate is near the truth (half the forecast): the forecast interval misses it */
    double tol = 4 * rep.realised_se + 0.02 * fabs(w.true_effect);
    if (fabs(rep.realised - w.true_effect) > tol)
        fail_msg("realised %g, truth %g, se %g", rep.realised, w.true_effect, rep.realised_se);
    double half = rep.realised_hi - rep.realised;   /* the 90% interval: 1.6449 se */
    assert_true(fabs(half - 1.6449 * rep.realised_se) < 1e-3 * rep.realised_se);
    assert_false(rep.covered);
    assert_true(rep.ratio > 0.35 && rep.ratio < 0.65);
    assert_int_equal(rep.n_groups, 10);
    assert_true(rep.group[0].predicted > rep.group[9].predicted);
    assert_true(rep.calib_slope > 0.2 && rep.calib_slope < 0.8);
    /* every row of the file is kept, whatever its status */
    assert_int_equal(count_of(s, "SELECT count(*) FROM outcomes"), 1003);
    assert_int_equal(count_of(s, "SELECT count(*) FROM outcomes WHERE status = 'duplicate'"), 1);
    plans_seen p = {0};
    assert_int_equal(sg_store_plans(s, id, on_plan, &p, &err), SG_OK);
    assert_true(p.has_realised);
    assert_int_equal(p.n_outcomes, 1000);
    /* the campaign log grew by one row per outcome, with the snapshot's features */
    sg_table *t = NULL;
    assert_int_equal(sg_store_load_table(s, SG_STORE_CAMPAIGNS, NULL, &t, &err), SG_OK);
    assert_int_equal(sg_table_n_rows(t), 1050);
    assert_int_equal(sg_table_n_cols(t), 7);   /* 'extra' of the customer data is left out */
    char buf[64];
    int jt = sg_table_find(t, "treatment"), jx = sg_table_find(t, "x");
    assert_string_equal(sg_table_cell(t, 50, 0, buf, sizeof buf), "c1@plan1");
    assert_int_equal(sg_table_col_type(t, jt), SG_COL_CATEGORY);
    assert_int_equal(sg_table_col_type(t, jx), SG_COL_NUMBER);
    assert_int_equal(sg_table_n_missing(t, sg_table_find(t, "converted")), 1000);
    assert_int_equal(sg_table_n_missing(t, sg_table_find(t, "propensity")), 0);
    sg_table_free(t);
    /* the same file again changes nothing and reports the same */
    sg_feedback_report rep2;
    assert_int_equal(sg_store_feedback(s, id, w.results, &o, &rep2, &err), SG_OK);
    assert_true(rep2.skipped);
    assert_true(rep2.realised == rep.realised);
    assert_int_equal(count_of(s, "SELECT count(*) FROM outcomes"), 1003);
    /* another file with the same customers: all duplicates */
    FILE *f = fopen(w.results, "a");
    fprintf(f, "c2,7\n");
    fclose(f);
    assert_int_equal(sg_store_feedback(s, id, w.results, &o, &rep2, &err), SG_OK);
    assert_int_equal(rep2.n_ok, 0);
    assert_int_equal(rep2.n_duplicate, 1002);   /* 1000 recorded before, c1 and c2 twice */
    assert_int_equal(rep2.n_campaign_rows, 0);
    assert_true(fabs(rep2.realised - rep.realised) < 1e-9);
    free_world(&w);
    sg_store_close(s);
}

/* store-4.3: without held-out customers the realised effect is not guessed */
static void feedback_no_holdout(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    make_world(e, &w, 300, 0, 1.0);
    int64_t id = add_plan(s, &w, SG_OK);
    sg_feedback_report rep;
    sg_error err;
    assert_int_equal(sg_store_feedback(s, id, w.results, NULL, &rep, &err), SG_OK);
    assert_false(rep.identifiable);
    assert_true(isnan(rep.realised));
    assert_int_equal(rep.n_held_out, 0);
    assert_true(rep.n_followed > 0);
    assert_true(isfinite(rep.observed_followed));
    assert_int_equal(rep.n_campaign_rows, 0);   /* no campaign log in this workspace */
    assert_true(rep.no_log);
    assert_int_equal(rep.n_not_logged, rep.n_ok);
    assert_int_equal(rep.n_outside, 0);
    assert_int_equal(rep.n_unknown, 2);   /* L3 is no key here */
    free_world(&w);
    sg_store_close(s);
}

/* store-4.4: a bad results file is refused with file:line, and nothing is recorded */
static void feedback_bad(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    make_world(e, &w, 100, 1, 1.0);
    import_log(s, &w);
    int64_t id = add_plan(s, &w, SG_OK);
    sg_feedback_report rep;
    sg_error err;
    const char *p1 = write_file(e, "r1.csv", "cust,revenue\nc1,1\n");
    assert_int_equal(sg_store_feedback(s, id, p1, NULL, &rep, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "'revenue' is not a column of the campaign log"));
    const char *p2 = write_file(e, "r2.csv", "cust,margin\nc1,1\nc2,lots\n");
    assert_int_equal(sg_store_feedback(s, id, p2, NULL, &rep, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "r2.csv:3: column 'margin': expected a number"));
    const char *p3 = write_file(e, "r3.csv", "cust,margin,treatment\nc1,1,sms\n");
    assert_int_equal(sg_store_feedback(s, id, p3, NULL, &rep, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "r3.csv:2: column 'treatment'"));
    const char *p4 = write_file(e, "r4.csv", "cust\nc1\n");
    assert_int_equal(sg_store_feedback(s, id, p4, NULL, &rep, &err), SG_EPARSE);
    assert_int_equal(sg_store_feedback(s, 9, p1, NULL, &rep, &err), SG_ENOTFOUND);
    assert_int_equal(count_of(s, "SELECT count(*) FROM outcomes"), 0);
    assert_int_equal(count_of(s, "SELECT count(*) FROM imports WHERE kind = 'feedback'"), 0);
    assert_int_equal(count_of(s, "SELECT count(*) FROM campaigns"), 50);
    free_world(&w);
    sg_store_close(s);
}

/* store-4.5: allocation failures while storing a plan and recording feedback */
static void ledger_nomem(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    make_world(e, &w, 30, 1, 1.0);
    import_log(s, &w);
    sg_table *feat = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_csv(&feat, w.customers, NULL, &err), SG_OK);
    sg_plan_input p = {0};
    p.plan_path = w.plan;
    p.control = "control";
    p.objective = "value";
    p.units = "margin";
    p.forecast.level = 0.9;
    p.features = feat;
    p.features_id = "cust";
    sg_log_set_level(SG_LOG_NONE);
    int64_t live = sg_mem_live_bytes(), id = 0;
    for (int64_t k = 0;; NEXT_N(k)) {
        sg_mem_fail_after(k);
        int rc = sg_store_plan_add(s, &p, &id, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) break;
        if (rc != SG_ENOMEM) fail_msg("plan %lld: %s", (long long)k, err.msg);
        assert_int_equal(sg_mem_live_bytes(), live);
        assert_int_equal(count_of(s, "SELECT count(*) FROM plans"), 0);
    }
    for (int64_t k = 0;; NEXT_N(k)) {
        sg_feedback_report rep;
        sg_mem_fail_after(k);
        int rc = sg_store_feedback(s, id, w.results, NULL, &rep, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            assert_int_equal(rep.n_ok, 30);
            break;
        }
        if (rc != SG_ENOMEM) fail_msg("feedback %lld: %s", (long long)k, err.msg);
        assert_int_equal(sg_mem_live_bytes(), live);
        assert_int_equal(count_of(s, "SELECT count(*) FROM outcomes"), 0);
        assert_int_equal(count_of(s, "SELECT count(*) FROM campaigns"), 50);
    }
    sg_log_set_level(SG_LOG_WARN);
    sg_table_free(feat);
    free_world(&w);
    sg_store_close(s);
}

#define SQLITE(fn) {#fn, fn, setup_sqlite, teardown, NULL}
#define PG(fn) {#fn " (postgresql)", fn, setup_pg, teardown, NULL}
/* store-4.6: a plan whose every customer was explored (plan --explore F = 0.5, two
 * actions: propensity 0.75 for the planned action, 0.25 for the other): the realised
 * effect is the executed plan's over all customers, n (V1 - V0) by hand, near the
 * truth of the executed actions; predicted and net use every row; the groups are
 * ordered by planned_effect and each holds held-out customers */
static void feedback_executed(void **state)
{
    ENV(state);
    sg_store *s = open_ws(e, SG_STORE_CREATE);
    world w;
    int n = 2000;
    make_world(e, &w, n, 1, 1.0);
    import_log(s, &w);
    sg_table *c = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_csv(&c, w.customers, NULL, &err), SG_OK);
    const double *x = sg_table_num(c, sg_table_find(c, "x"));
    sg_rng rng;
    sg_rng_init(&rng, 11);
    FILE *fp = fopen(w.plan, "w"), *fr = fopen(w.results, "w");
    fprintf(fp, "cust,action,expected_effect,cost,predicted_effect,se,propensity,planned_action,"
            "planned_effect,explored\n");
    fprintf(fr, "cust,margin\n");
    double truth = 0, pred = 0, cost = 0, sy = 0, s0 = 0, sw0 = 0;
    for (int i = 0; i < n; i++) {
        int planned = x[i] > 0, ex = sg_rng_uniform(&rng) < 0.5;
        int a = ex ? (int)sg_rng_below(&rng, 2) : planned;
        double p = a == planned ? 0.75 : 0.25;
        double y = 1 + 0.2 * (i % 2) + (a ? x[i] : 0) + 0.1 * sg_rng_normal(&rng);
        fprintf(fp, "c%d,%s,%.6f,%.2f,%.6f,0.1,%.2f,%s,%.6f,%d\n", i + 1, a ? "email" : "control",
                a ? x[i] : 0.0, a ? 0.1 : 0.0, a ? x[i] : 0.0, p, planned ? "email" : "control",
                planned ? x[i] : 0.0, ex);
        fprintf(fr, "c%d,%.6f\n", i + 1, y);
        truth += a ? x[i] : 0;
        pred += a ? x[i] : 0;
        cost += a ? 0.1 : 0;
        /* the hand computation, from the rounded numbers the files hold */
        char b[32];
        snprintf(b, sizeof b, "%.6f", y);
        double yr = atof(b);
        sy += yr;
        if (!a) {
            s0 += yr / p;
            sw0 += 1 / p;
        }
    }
    fclose(fp);
    fclose(fr);
    w.predicted = pred;
    int64_t id = add_plan(s, &w, SG_OK);
    sg_feedback_report rep;
    assert_int_equal(sg_store_feedback(s, id, w.results, NULL, &rep, &err), SG_OK);
    assert_true(rep.executed);
    assert_true(rep.identifiable);
    double want = n * (sy / n - s0 / sw0);
    assert_true(fabs(rep.realised - want) < 1e-9 * (1 + fabs(want)));
    assert_true(fabs(rep.realised_net - (rep.realised - cost)) < 1e-9 * (1 + fabs(want)));
    assert_true(fabs(rep.predicted - pred) < 1e-3);
    if (fabs(rep.realised - truth) > 4 * rep.realised_se)
        fail_msg("realised %g (se %g), truth %g", rep.realised, rep.realised_se, truth);
    assert_true(rep.realised_se > 0 && rep.realised_se < 0.2 * fabs(truth) + 10);
    assert_int_equal(rep.n_groups, 10);
    for (int g = 0; g < 10; g++) {
        assert_true(rep.group[g].n_held_out > 0);
        if (g) assert_true(rep.group[g - 1].predicted >= rep.group[g].predicted);
    }
    sg_table_free(c);
    free_world(&w);
    sg_store_close(s);
}

#define CASES(X) X(init_reopen), X(not_a_workspace), X(newer_refused), X(migrate_v1), \
    X(import_roundtrip), X(import_twice), X(import_merge), X(import_bad), X(import_usage), \
    X(import_append), X(plan_store), X(feedback_loop), X(feedback_no_holdout), X(feedback_bad), \
    X(feedback_executed)

int main(void)
{
    sg_log_set_level(SG_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(json_cells),
        cmocka_unit_test(names),
        CASES(SQLITE),
        SQLITE(import_nomem),
        SQLITE(ledger_nomem),
    };
    const struct CMUnitTest pg_tests[] = {CASES(PG)};
    int failed = cmocka_run_group_tests_name("store", tests, NULL, NULL);
    if (!pg_base()) {
        printf("store: the PostgreSQL cases are skipped: SG_TEST_PG is not set "
               "(scripts/pg-test.sh starts a server and sets it)\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("store (postgresql)", pg_tests, NULL, NULL);
}
