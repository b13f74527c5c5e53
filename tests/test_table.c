/* test_table.c -- loading CSV into a typed table: inference, missing values,
 * exact numbers, every error class with its exact message, duplicate ids,
 * progress, allocation-failure injection; JSON records read the same way. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

/* ---------------------------------------------------------------------------
 * helpers */

/* Messages passed to on_error. */
typedef struct msgs {
    int n;
    char text[16][SG_ERRMSG_MAX];
} msgs;

static void on_error(void *ud, const char *msg)
{
    msgs *m = ud;
    if (m->n < 16) snprintf(m->text[m->n], SG_ERRMSG_MAX, "%s", msg);
    m->n++;
}

/* Load 'csv' (named t.csv); on failure check that nothing leaked and nothing was returned. */
static int load(const char *csv, const sg_load_opts *o, sg_table **t, sg_error *err)
{
    int64_t live = sg_mem_live_bytes();
    sg_table *sentinel = (sg_table *)(uintptr_t)0x1;
    *t = sentinel;
    int rc = sg_table_load_mem(t, "t.csv", csv, strlen(csv), o, err);
    if (rc != SG_OK) {
        assert_ptr_equal(*t, sentinel);   /* outputs unchanged on failure */
        *t = NULL;
        assert_int_equal(sg_mem_live_bytes(), live);
    } else {
        assert_ptr_not_equal(*t, sentinel);
    }
    return rc;
}

static sg_table *load_ok(const char *csv, const sg_load_opts *o)
{
    sg_table *t;
    sg_error err;
    int rc = load(csv, o, &t, &err);
    if (rc != SG_OK) fail_msg("load failed: %s", err.msg);
    return t;
}

/* Expect the load to fail with 'code' and exactly 'msg'. */
static void load_fails(const char *csv, const sg_load_opts *o, int code, const char *msg)
{
    sg_table *t;
    sg_error err;
    assert_int_equal(load(csv, o, &t, &err), code);
    assert_string_equal(err.msg, msg);
}

static const char *cell(const sg_table *t, int64_t i, int j)
{
    static char buf[256];
    return sg_table_cell(t, i, j, buf, sizeof buf);
}

/* ---------------------------------------------------------------------------
 * 1. types and values */

/* table-1.1: number, category, date and id columns are inferred; values and labels kept */
static void infer_types(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "cust";
    sg_table *t = load_ok("cust,age,city,joined,score\n"
                          "c1,34,Paris,2024-01-05,0.5\n"
                          "c2,41,Lyon,2023-12-31,-1.25e2\n"
                          "c3,29,Paris,1970-01-02T12:00,3\n", &o);
    assert_int_equal(sg_table_n_rows(t), 3);
    assert_int_equal(sg_table_n_cols(t), 5);
    assert_string_equal(sg_table_name(t), "t.csv");
    static const sg_coltype want[] = {SG_COL_ID, SG_COL_NUMBER, SG_COL_CATEGORY, SG_COL_DATE,
                                      SG_COL_NUMBER};
    for (int j = 0; j < 5; j++) assert_int_equal(sg_table_col_type(t, j), want[j]);
    assert_string_equal(sg_coltype_name(SG_COL_ID), "id");
    assert_string_equal(sg_coltype_name(SG_COL_DATE), "date");
    assert_string_equal(sg_coltype_name(SG_COL_NUMBER), "number");
    assert_string_equal(sg_coltype_name(SG_COL_CATEGORY), "category");
    assert_int_equal(sg_table_find(t, "city"), 2);
    assert_int_equal(sg_table_find(t, "nope"), -1);
    const double *age = sg_table_num(t, 1);
    assert_non_null(age);
    assert_true(age[0] == 34 && age[1] == 41 && age[2] == 29);
    assert_null(sg_table_codes(t, 1));
    const int32_t *city = sg_table_codes(t, 2);
    assert_non_null(city);
    assert_null(sg_table_num(t, 2));
    assert_int_equal(sg_table_n_labels(t, 2), 2);
    assert_true(city[0] == city[2] && city[0] != city[1]);
    assert_string_equal(sg_table_label(t, 2, city[1]), "Lyon");
    assert_null(sg_table_label(t, 2, 2));
    assert_null(sg_table_label(t, 2, -1));
    const double *joined = sg_table_num(t, 3);
    assert_true(joined[0] == 19727.0);   /* days from 1970-01-01 to 2024-01-05 */
    assert_true(joined[1] == 19722.0);
    assert_true(joined[2] == 1.5);
    assert_string_equal(cell(t, 2, 3), "1970-01-02T12:00");
    assert_string_equal(cell(t, 0, 3), "2024-01-05");
    assert_true(sg_table_num(t, 4)[1] == -125.0);
    assert_string_equal(sg_table_label(t, 0, sg_table_codes(t, 0)[2]), "c3");
    assert_string_equal(cell(t, 1, 4), "-125");
    assert_string_equal(cell(t, 1, 0), "c2");
    assert_string_equal(cell(t, 3, 0), "");   /* out of range */
    assert_null(sg_table_col_name(t, 5));
    assert_int_equal(sg_table_row_line(t, 0), 2);
    assert_int_equal(sg_table_row_line(t, 2), 4);
    assert_int_equal(sg_table_n_duplicates(t), 0);
    sg_table_free(t);
    sg_table_free(NULL);
}

/* table-1.2: "", NA, NULL (quoted or not) are missing, never zero, in every type */
static void missing_values(void **state)
{
    (void)state;
    sg_table *t = load_ok("n,c,d,e\n"
                          "1,x,2024-01-01,\n"
                          ",NA,NULL,\"\"\n"
                          "\"NA\",\"\",\"NULL\",NA\n"
                          "2,y,2024-01-02,\n", NULL);
    assert_int_equal(sg_table_n_rows(t), 4);
    const double *n = sg_table_num(t, 0);
    assert_true(n[0] == 1 && isnan(n[1]) && isnan(n[2]) && n[3] == 2);
    assert_int_equal(sg_table_n_missing(t, 0), 2);
    const int32_t *c = sg_table_codes(t, 1);
    assert_true(c[0] >= 0 && c[1] == -1 && c[2] == -1 && c[3] >= 0);
    assert_int_equal(sg_table_n_labels(t, 1), 2);   /* "NA" is not a label */
    assert_int_equal(sg_table_col_type(t, 2), SG_COL_DATE);
    assert_int_equal(sg_table_n_missing(t, 2), 2);
    assert_true(isnan(sg_table_num(t, 2)[1]));
    /* a column with no value at all: a number column of missing values */
    assert_int_equal(sg_table_col_type(t, 3), SG_COL_NUMBER);
    assert_int_equal(sg_table_n_missing(t, 3), 4);
    for (int i = 0; i < 4; i++) assert_true(isnan(sg_table_num(t, 3)[i]));
    assert_string_equal(cell(t, 1, 0), "");
    assert_string_equal(cell(t, 1, 1), "");
    sg_table_free(t);
}

/* table-1.3: a number column meeting text becomes a category, earlier labels by "%.15g";
 * a date column meeting text likewise, labels re-created as dates */
static void number_to_category(void **state)
{
    (void)state;
    sg_table *t = load_ok("a,b,d\n"
                          "1.50,1,2024-03-01 09:30\n"
                          "007,,2024-03-02\n"
                          "1e3,x,2024-03-03 10:00\n"
                          "0.1,1,soon\n", NULL);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_NUMBER);
    assert_int_equal(sg_table_col_type(t, 1), SG_COL_CATEGORY);
    const int32_t *b = sg_table_codes(t, 1);
    assert_string_equal(sg_table_label(t, 1, b[0]), "1");
    assert_int_equal(b[1], -1);
    assert_string_equal(sg_table_label(t, 1, b[2]), "x");
    assert_int_equal(b[3], b[0]);   /* the same label after the switch */
    assert_int_equal(sg_table_n_missing(t, 1), 1);
    assert_int_equal(sg_table_col_type(t, 2), SG_COL_CATEGORY);
    assert_string_equal(cell(t, 0, 2), "2024-03-01 09:30");
    assert_string_equal(cell(t, 1, 2), "2024-03-02");
    assert_string_equal(cell(t, 3, 2), "soon");
    sg_table_free(t);

    t = load_ok("a\n1.50\n007\n1e3\n-0.000001\nabc\n", NULL);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_CATEGORY);
    const char *want[] = {"1.5", "7", "1000", "-1e-06", "abc"};
    for (int i = 0; i < 5; i++) assert_string_equal(cell(t, i, 0), want[i]);
    sg_table_free(t);
}

/* table-1.4: forced categorical keeps the text; forced numeric is checked */
static void forced_types(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    const char *cat[] = {"zip", NULL};
    const char *num[] = {"empty", "n", NULL};
    o.categorical = cat;
    o.numeric = num;
    sg_table *t = load_ok("zip,n,empty\n02134,1,\n10001,2.5,\n", &o);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_CATEGORY);
    assert_string_equal(cell(t, 0, 0), "02134");
    assert_int_equal(sg_table_col_type(t, 1), SG_COL_NUMBER);
    assert_int_equal(sg_table_col_type(t, 2), SG_COL_NUMBER);
    assert_int_equal(sg_table_n_missing(t, 2), 2);
    sg_table_free(t);
    load_fails("zip,n,empty\n1,2,3\n4,x,6\n", &o, SG_EPARSE,
               "t.csv:3: column 'n': expected a number, got \"x\"");
    load_fails("zip,n,empty\n1,2,2024-01-01\n", &o, SG_EPARSE,
               "t.csv:2: column 'empty': expected a number, got \"2024-01-01\"");
}

/* table-1.5: numbers are exactly strtod's, on the fast path and off it */
static void exact_numbers(void **state)
{
    (void)state;
    enum { N = 20000 };
    sg_rng rng;
    sg_rng_init(&rng, 7);
    char *csv = malloc((size_t)N * 48 + 8);
    char (*vals)[48] = malloc((size_t)N * sizeof *vals);
    assert_non_null(csv);
    assert_non_null(vals);
    size_t o = (size_t)sprintf(csv, "x\n");
    for (int i = 0; i < N; i++) {
        char *v = vals[i];
        int n = 0, nd = 1 + (int)sg_rng_below(&rng, i % 4 == 0 ? 25 : 17);
        if (sg_rng_below(&rng, 3) == 0) v[n++] = '-';
        int point = (int)sg_rng_below(&rng, (uint64_t)nd + 2) - 1;   /* -1: none */
        for (int k = 0; k < nd; k++) {
            if (k == point) v[n++] = '.';
            v[n++] = (char)('0' + sg_rng_below(&rng, 10));
        }
        if (sg_rng_below(&rng, 4) == 0)
            n += sprintf(v + n, "e%d", (int)sg_rng_below(&rng, 80) - 40);
        v[n] = '\0';
        o += (size_t)sprintf(csv + o, "%s\n", v);
    }
    /* some classic hard cases and limits */
    const char *hard[] = {"9007199254740993", "0.1", "2.2250738585072011e-308",
                          "4.9e-324", "1.7976931348623157e308", "123456789012345678901234",
                          "0.30000000000000004", "1e22", "1e23", "9007199254740992.5"};
    for (size_t k = 0; k < sizeof hard / sizeof hard[0]; k++) {
        o += (size_t)sprintf(csv + o, "%s\n", hard[k]);
    }
    sg_table *t = load_ok(csv, NULL);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_NUMBER);
    const double *x = sg_table_num(t, 0);
    for (int i = 0; i < N; i++) {
        double want = strtod(vals[i], NULL);
        if (memcmp(&want, &x[i], sizeof want) != 0)
            fail_msg("'%s': got %.17g, strtod %.17g", vals[i], x[i], want);
    }
    for (size_t k = 0; k < sizeof hard / sizeof hard[0]; k++) {
        double want = strtod(hard[k], NULL);
        assert_memory_equal(&want, &x[N + k], sizeof want);
    }
    sg_table_free(t);
    free(csv);
    free(vals);
}

/* table-1.6: dates validate the calendar; blanks around numbers and dates are ignored */
static void dates_and_blanks(void **state)
{
    (void)state;
    sg_table *t = load_ok("d,n,c,bad\n"
                          "2000-02-29, 12 ,a ,2023-02-29\n"
                          "1969-12-31 23:59:59,\t-3.5,b,2023-13-01\n", NULL);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_DATE);
    const double *d = sg_table_num(t, 0);
    assert_true(d[0] == 11016.0);
    assert_true(fabs(d[1] - (-1.0 / 86400.0)) < 1e-12);
    assert_string_equal(cell(t, 1, 0), "1969-12-31 23:59:59");
    assert_true(sg_table_num(t, 1)[0] == 12 && sg_table_num(t, 1)[1] == -3.5);
    assert_string_equal(cell(t, 0, 2), "a ");   /* labels keep their text */
    assert_int_equal(sg_table_col_type(t, 3), SG_COL_CATEGORY);   /* no Feb 29 in 2023 */
    sg_table_free(t);
}

/* table-1.7: a header alone is a table of no rows; row lines count multi-line records */
static void shapes_and_lines(void **state)
{
    (void)state;
    sg_table *t = load_ok("a,b\n", NULL);
    assert_int_equal(sg_table_n_rows(t), 0);
    assert_int_equal(sg_table_n_cols(t), 2);
    assert_non_null(sg_table_num(t, 0));
    sg_table_free(t);
    t = load_ok("\xEF\xBB\xBFid,note\r\n1,\"two\r\nlines\"\r\n2,x\r\n3,\"a\n\nb\"\n4,y", NULL);
    assert_string_equal(sg_table_col_name(t, 0), "id");
    assert_int_equal(sg_table_n_rows(t), 4);
    assert_int_equal(sg_table_row_line(t, 0), 2);
    assert_int_equal(sg_table_row_line(t, 1), 4);
    assert_int_equal(sg_table_row_line(t, 2), 5);
    assert_int_equal(sg_table_row_line(t, 3), 8);
    assert_int_equal(sg_table_row_line(t, 4), 0);
    assert_string_equal(cell(t, 0, 1), "two\r\nlines");
    sg_table_free(t);
}

/* table-1.8: loading from a file, and a missing file */
static void from_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sg_test_table_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *csv = "a,b\n1,x\n2,y\n";
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    sg_table *t = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_csv(&t, path, NULL, &err), SG_OK);
    assert_int_equal(sg_table_n_rows(t), 2);
    assert_string_equal(sg_table_name(t), path);
    sg_table_free(t);
    unlink(path);
    t = NULL;
    assert_int_equal(sg_table_load_csv(&t, path, NULL, &err), SG_EIO);
    assert_null(t);
    assert_non_null(strstr(err.msg, "cannot open"));
}

/* ---------------------------------------------------------------------------
 * 2. errors, with their exact messages */

/* table-2.1: empty file, duplicate and empty header names */
static void header_errors(void **state)
{
    (void)state;
    load_fails("", NULL, SG_EPARSE, "t.csv: empty file: no header row");
    load_fails("\xEF\xBB\xBF\r\n\n", NULL, SG_EPARSE, "t.csv: empty file: no header row");
    load_fails("a,b,a\n1,2,3\n", NULL, SG_EPARSE,
               "t.csv:1: column 3: expected a unique column name, got \"a\" (also column 1)");
    load_fails("a,,b\n", NULL, SG_EPARSE,
               "t.csv:1: column 2: expected a column name, got \"\"");
    load_fails("x,,x\n", NULL, SG_EPARSE,
               "2 errors; first: t.csv:1: column 2: expected a column name, got \"\"");
}

/* table-2.2: ragged rows */
static void ragged_rows(void **state)
{
    (void)state;
    load_fails("a,b,c\n1,2,3\n4,5\n", NULL, SG_EPARSE, "t.csv:3: expected 3 fields, got 2");
    load_fails("a,b\n1,2\n\n3,4\n", NULL, SG_EPARSE, "t.csv:3: expected 2 fields, got 1");
    load_fails("a\n1\n2,3\n", NULL, SG_EPARSE, "t.csv:3: expected 1 fields, got 2");
}

/* table-2.3: non-finite numbers in a number column */
static void non_finite(void **state)
{
    (void)state;
    load_fails("x\n1\ninf\n", NULL, SG_EPARSE,
               "t.csv:3: column 'x': expected a finite number, got \"inf\"");
    load_fails("x\n1\n-NaN\n", NULL, SG_EPARSE,
               "t.csv:3: column 'x': expected a finite number, got \"-NaN\"");
    load_fails("x\n1e999\n", NULL, SG_EPARSE,
               "t.csv:2: column 'x': expected a finite number, got \"1e999\"");
    load_fails("x\n1\n-1e400\nInfinity\n", NULL, SG_EPARSE,
               "2 errors; first: t.csv:3: column 'x': expected a finite number, got \"-1e400\"");
    /* as the first value the word is text: the column is a category */
    sg_table *t = load_ok("name\nNan\nBob\n", NULL);
    assert_int_equal(sg_table_col_type(t, 0), SG_COL_CATEGORY);
    sg_table_free(t);
}

/* table-2.4: required, id and forced columns that do not exist; the list is abbreviated */
static void missing_columns(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    const char *req[] = {"a", "price", NULL};
    o.required = req;
    load_fails("a,b\n1,2\n", &o, SG_EPARSE,
               "t.csv: required column 'price' not found; columns: a, b");
    char csv[2048];
    size_t n = 0;
    for (int j = 0; j < 60; j++) n += (size_t)sprintf(csv + n, "%scolumn_%02d", j ? "," : "", j);
    sprintf(csv + n, "\n");
    sg_table *t;
    sg_error err;
    assert_int_equal(load(csv, &o, &t, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "2 errors; first: t.csv: required column 'a' not found; "
                                    "columns: column_00, column_01, "));
    assert_non_null(strstr(err.msg, ", ... (46 more)"));
    sg_load_opts_default(&o);
    o.id_col = "key";
    load_fails("a,b\n1,2\n", &o, SG_EPARSE, "t.csv: id column 'key' not found; columns: a, b");
    const char *cat[] = {"c", NULL};
    sg_load_opts_default(&o);
    o.categorical = cat;
    load_fails("a,b\n1,2\n", &o, SG_EPARSE,
               "t.csv: categorical column 'c' not found; columns: a, b");
}

/* table-2.5: usage errors in the options are SG_EINVAL */
static void bad_options(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    const char *both[] = {"a", NULL};
    o.categorical = both;
    o.numeric = both;
    load_fails("a\n1\n", &o, SG_EINVAL, "column 'a' is forced to be numeric and categorical");
    sg_load_opts_default(&o);
    o.dedup = 7;
    load_fails("a\n1\n", &o, SG_EINVAL, "invalid duplicate-id rule 7");
}

/* table-2.6: values in messages are escaped and cut; column names too */
static void message_values(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    const char *num[] = {"p\"q", NULL};
    o.numeric = num;
    load_fails("\"p\"\"q\"\n1\n\"a\tb\nc\\\"\"d\"\n", &o, SG_EPARSE,
               "t.csv:3: column 'p\\\"q': expected a number, got \"a\\tb\\nc\\\\\\\"d\"");
    load_fails("p\"q\n1\n1234567890123456789012345678901234567890123456789x\n", &o, SG_EPARSE,
               "t.csv:3: column 'p\\\"q': expected a number, got "
               "\"1234567890123456789012345678901234567890...\"");
    /* cut at a UTF-8 boundary: 39 ASCII bytes, then a 2-byte character */
    load_fails("p\"q\n1\n123456789012345678901234567890123456789\xC3\xA9xyz\n", &o, SG_EPARSE,
               "t.csv:3: column 'p\\\"q': expected a number, got "
               "\"123456789012345678901234567890123456789...\"");
}

/* table-2.7: the first 10 messages go to on_error, then only a count */
static void error_count(void **state)
{
    (void)state;
    char csv[512];
    size_t n = (size_t)sprintf(csv, "id,x\n");
    for (int i = 0; i < 13; i++)   /* a number, then 11 "inf" around one missing value */
        n += (size_t)sprintf(csv + n, "%d,%s\n", i, i == 0 ? "1" : i == 5 ? "" : "inf");
    sg_load_opts o;
    sg_load_opts_default(&o);
    msgs m = {0};
    o.on_error = on_error;
    o.ud = &m;
    load_fails(csv, &o, SG_EPARSE,
               "11 errors; first: t.csv:3: column 'x': expected a finite number, got \"inf\"");
    assert_int_equal(m.n, 10);
    assert_string_equal(m.text[0], "t.csv:3: column 'x': expected a finite number, got \"inf\"");
    assert_string_equal(m.text[9], "t.csv:13: column 'x': expected a finite number, got \"inf\"");
    m.n = 0;
    o.max_errors = 0;
    load_fails(csv, &o, SG_EPARSE,
               "11 errors; first: t.csv:3: column 'x': expected a finite number, got \"inf\"");
    assert_int_equal(m.n, 0);
}

/* table-2.8: a CSV syntax error stops the load and counts with the cell errors */
static void csv_errors(void **state)
{
    (void)state;
    load_fails("a,b\n1,2\n3,\"x\n", NULL, SG_EPARSE,
               "t.csv:3:3: unterminated quoted field: the quote opened here is never closed");
    load_fails("a,b\n1,2\n3,inf\n5,\xFF\n7,8\n", NULL, SG_EPARSE,
               "2 errors; first: t.csv:3: column 'b': expected a finite number, got \"inf\"");
    msgs m = {0};
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.on_error = on_error;
    o.ud = &m;
    load_fails("a,b\n1,2\n3,inf\n5,\xFF\n7,8\n", &o, SG_EPARSE,
               "2 errors; first: t.csv:3: column 'b': expected a finite number, got \"inf\"");
    assert_int_equal(m.n, 2);
    assert_string_equal(m.text[1], "t.csv:4:3: invalid UTF-8: invalid byte 0xFF");
    load_fails("\"a\"x\n", NULL, SG_EPARSE,
               "t.csv:1:4: unexpected 'x' after a closing quote (expected ',' or a line end)");
}

/* ---------------------------------------------------------------------------
 * 3. duplicate ids */

static const char *dup_csv = "id,v\nc1,1\nc2,2\n\"c\n3\",3\nc1,4\nc2,5\nc4,6\n";

/* table-3.1: SG_DEDUP_ERROR names the id and both lines; a missing id is an error */
static void dedup_error(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    load_fails(dup_csv, &o, SG_EPARSE,
               "2 errors; first: t.csv:6: column 'id': expected a unique id, got \"c1\" "
               "(first at line 2)");
    load_fails("id,v\nc1,1\n\"c\n2\",2\n\"c\n2\",3\n", &o, SG_EPARSE,
               "t.csv:5: column 'id': expected a unique id, got \"c\\n2\" (first at line 3)");
    load_fails("id,v\nc1,1\nNA,2\n", &o, SG_EPARSE,
               "t.csv:3: column 'id': expected an id, got \"NA\"");
}

/* table-3.2: SG_DEDUP_FIRST keeps the first row of each id */
static void dedup_first(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    o.dedup = SG_DEDUP_FIRST;
    sg_table *t = load_ok(dup_csv, &o);
    assert_int_equal(sg_table_n_rows(t), 4);
    assert_int_equal(sg_table_n_duplicates(t), 2);
    const char *ids[] = {"c1", "c2", "c\n3", "c4"};
    const double want[] = {1, 2, 3, 6};
    const int64_t lines[] = {2, 3, 4, 8};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(cell(t, i, 0), ids[i]);
        assert_true(sg_table_num(t, 1)[i] == want[i]);
        assert_int_equal(sg_table_row_line(t, i), lines[i]);
    }
    assert_int_equal(sg_table_n_missing(t, 1), 0);
    sg_table_free(t);
}

/* table-3.3: SG_DEDUP_LAST keeps the last row of each id, where it appears */
static void dedup_last(void **state)
{
    (void)state;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    o.dedup = SG_DEDUP_LAST;
    sg_table *t = load_ok("id,v\nc1,1\nc2,\nc1,\nc3,3\nc2,5\nc1,6\n", &o);
    assert_int_equal(sg_table_n_rows(t), 3);
    assert_int_equal(sg_table_n_duplicates(t), 3);
    const char *ids[] = {"c3", "c2", "c1"};
    const double want[] = {3, 5, 6};
    const int64_t lines[] = {5, 6, 7};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(cell(t, i, 0), ids[i]);
        assert_true(sg_table_num(t, 1)[i] == want[i]);
        assert_int_equal(sg_table_row_line(t, i), lines[i]);
    }
    assert_int_equal(sg_table_n_missing(t, 1), 0);   /* the missing values were dropped */
    assert_int_equal(sg_table_n_labels(t, 0), 3);
    sg_table_free(t);
}

/* ---------------------------------------------------------------------------
 * 4. progress and memory */

typedef struct progress {
    int n;
    int64_t last_bytes, total, rows;
} progress;

static void on_progress(void *ud, int64_t done, int64_t total, int64_t rows)
{
    progress *p = ud;
    assert_true(done >= p->last_bytes);
    p->n++;
    p->last_bytes = done;
    p->total = total;
    p->rows = rows;
}

/* table-4.1: progress is reported every 16 MiB of input and at the end */
static void progress_calls(void **state)
{
    (void)state;
    enum { ROWS = 17 * 1024, W = 1024 };   /* 17 MiB of 1 KiB rows */
    char *csv = malloc((size_t)ROWS * W + 8);
    assert_non_null(csv);
    size_t n = (size_t)sprintf(csv, "x\n");
    for (int i = 0; i < ROWS; i++) {
        memset(csv + n, 'a' + i % 3, W - 1);
        csv[n + W - 1] = '\n';
        n += W;
    }
    csv[n] = '\0';
    progress p = {0};
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.on_progress = on_progress;
    o.ud = &p;
    sg_table *t = load_ok(csv, &o);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.last_bytes, (int64_t)n);
    assert_int_equal(p.total, (int64_t)n);
    assert_int_equal(p.rows, ROWS);
    assert_int_equal(sg_table_n_labels(t, 0), 3);
    sg_table_free(t);
    free(csv);
}

/* table-4.2: every allocation failure during a load is a clean SG_ENOMEM, no leak */
static void alloc_failures(void **state)
{
    (void)state;
    const char *csv = "id,n,c,d,sw,q\n"
                      "a,1,x,2024-01-01,1,\"q\"\"1\"\n"
                      "b,2.5,y,2024-01-02,text,\"q\n2\"\n"
                      "a,NA,x,,2,q3\n"
                      "c,1e300,z,2024-01-03 10:00,3,\n";
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    o.dedup = SG_DEDUP_LAST;
    int64_t live = sg_mem_live_bytes();
    int k, done = 0;
    for (k = 0; k < 500 && !done; k++) {
        sg_table *t = NULL;
        sg_error err;
        sg_mem_fail_after(k);
        int rc = sg_table_load_mem(&t, "t.csv", csv, strlen(csv), &o, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            assert_int_equal(sg_table_n_rows(t), 3);
            assert_string_equal(cell(t, 2, 4), "3");
            assert_string_equal(cell(t, 0, 4), "text");
            assert_string_equal(cell(t, 1, 4), "2");
            sg_table_free(t);
            done = 1;
        } else {
            if (rc != SG_ENOMEM) fail_msg("k=%d: rc %d: %s", k, rc, err.msg);
            assert_null(t);
            assert_non_null(strstr(err.msg, "out of memory"));
        }
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    assert_true(done);
    assert_true(k > 10);   /* the load does allocate, so failures were exercised */
}

/* ---------------------------------------------------------------------------
 * 5. JSON records (a name ending in .json, .jsonl or .ndjson) */

static int load_named(const char *name, const char *text, const sg_load_opts *o, sg_table **t,
                      sg_error *err)
{
    int64_t live = sg_mem_live_bytes();
    *t = NULL;
    int rc = sg_table_load_mem(t, name, text, strlen(text), o, err);
    if (rc != SG_OK) {
        assert_null(*t);
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    return rc;
}

/* table-5.1: JSON lines give the table the same CSV would (types, values, missing
 * values, booleans as 1/0); columns are the union of the keys in order of first
 * appearance; lines are the objects' lines */
static void json_lines(void **state)
{
    (void)state;
    const char *json = "{\"id\": \"c1\", \"age\": 34, \"seg\": \"north\", \"spend\": 12.5}\n"
                       "\n"
                       "{\"id\": \"c2\", \"seg\": \"south, east\", \"spend\": null, \"vip\": true}\r\n"
                       "{\"spend\": 0.1, \"age\": 51.25, \"id\": \"c3\", \"seg\": \"NA\", \"vip\": false}\n";
    const char *csv = "id,age,seg,spend,vip\n"
                      "c1,34,north,12.5,\n"
                      "c2,,\"south, east\",,1\n"
                      "c3,51.25,NA,0.1,0\n";
    sg_table *tj, *tc;
    sg_error err;
    if (load_named("t.jsonl", json, NULL, &tj, &err)) fail_msg("%s", err.msg);
    tc = load_ok(csv, NULL);
    assert_int_equal(sg_table_n_rows(tj), 3);
    assert_int_equal(sg_table_n_cols(tj), sg_table_n_cols(tc));
    for (int j = 0; j < sg_table_n_cols(tc); j++) {
        assert_string_equal(sg_table_col_name(tj, j), sg_table_col_name(tc, j));
        assert_int_equal(sg_table_col_type(tj, j), sg_table_col_type(tc, j));
        assert_int_equal(sg_table_n_missing(tj, j), sg_table_n_missing(tc, j));
        for (int64_t i = 0; i < 3; i++) {
            char a[64];
            assert_string_equal(sg_table_cell(tj, i, j, a, sizeof a), cell(tc, i, j));
        }
    }
    assert_int_equal(sg_table_row_line(tj, 0), 1);
    assert_int_equal(sg_table_row_line(tj, 1), 3);
    assert_int_equal(sg_table_row_line(tj, 2), 4);
    sg_table_free(tj);
    sg_table_free(tc);
    /* escapes and \u escapes (a surrogate pair too) become UTF-8; a number keeps its
     * text, so a 20-digit id read as a category is exact */
    sg_load_opts o;
    sg_load_opts_default(&o);
    static const char *const cat[] = {"big", NULL};
    o.categorical = cat;
    if (load_named("t.jsonl", "{\"s\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/\\t\", "
                   "\"big\": 12345678901234567890}\n", &o, &tj, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(cell(tj, 0, 0), "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ /\t");
    assert_string_equal(cell(tj, 0, 1), "12345678901234567890");
    sg_table_free(tj);
    /* the name decides: .json and .ndjson too, any case; a .csv name is CSV */
    if (load_named("T.NDJSON", json, NULL, &tj, &err)) fail_msg("%s", err.msg);
    sg_table_free(tj);
    assert_int_equal(load_named("t.csv", json, NULL, &tj, &err), SG_EPARSE);
}

/* table-5.2: an array of objects, pretty-printed (lines are where each object
 * starts) or on one line (records numbered 1, 2, ... so each is still named
 * uniquely); numbers keep their exact value; an id column deduplicates */
static void json_arrays(void **state)
{
    (void)state;
    sg_table *t;
    sg_error err;
    const char *pretty = "\xEF\xBB\xBF[\n  {\"id\": \"a\", \"x\": 0.30000000000000004},\n"
                         "  {\"id\": \"b\",\n   \"x\": 1e-7},\n  {\"id\": \"c\", \"x\": 123456789012}\n]\n";
    if (load_named("t.json", pretty, NULL, &t, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sg_table_n_rows(t), 3);
    assert_int_equal(sg_table_row_line(t, 0), 2);
    assert_int_equal(sg_table_row_line(t, 1), 3);
    assert_int_equal(sg_table_row_line(t, 2), 5);
    const double *x = sg_table_num(t, 1);
    assert_true(x[0] == 0.30000000000000004 && x[1] == 1e-7 && x[2] == 123456789012.0);
    sg_table_free(t);
    const char *flat = "[{\"id\":\"a\",\"x\":1},{\"id\":\"b\",\"x\":2},{\"id\":\"a\",\"x\":3}]";
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    assert_int_equal(load_named("t.json", flat, &o, &t, &err), SG_EPARSE);
    assert_string_equal(err.msg, "t.json:3: column 'id': expected a unique id, got \"a\" "
                                 "(first at line 1)");
    o.dedup = SG_DEDUP_LAST;
    if (load_named("t.json", flat, &o, &t, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sg_table_n_rows(t), 2);
    assert_int_equal(sg_table_row_line(t, 0), 2);   /* the last "a" is kept, where it is */
    assert_int_equal(sg_table_row_line(t, 1), 3);
    assert_string_equal(cell(t, 1, 1), "3");
    sg_table_free(t);
    assert_int_equal(load_named("t.json", "[]", NULL, &t, &err), SG_EPARSE);
    assert_string_equal(err.msg, "t.json: no column: the file holds no object with a key");
}

/* table-5.3: JSON errors name file, line and column (or key) and what was expected */
static void json_errors(void **state)
{
    (void)state;
    static const struct { const char *name, *text, *msg; } cases[] = {
        {"t.jsonl", "{\"a\": 1}\n{\"a\": [1]}\n",
         "t.jsonl:2:7: key 'a': expected a number, a string, true, false or null, got an array"},
        {"t.jsonl", "{\"a\": 1}\n{\"a\": 2,\n \"b\": }\n", "t.jsonl:3:7: key 'b': expected a value"},
        {"t.jsonl", "{\"a\": 1, \"a\": 2}\n", "t.jsonl:1:10: duplicate key 'a' in one object"},
        {"t.jsonl", "{\"a\": 1} 17\n",
         "t.jsonl:1:10: expected an object {\"column\": value, ...} (one per line)"},
        {"t.jsonl", "{\"a\": \"x\\u0000y\"}\n", "t.jsonl:1:9: a NUL character (\\u0000) in a string"},
        {"t.jsonl", "{\"a\": \"\\ud800x\"}\n", "t.jsonl:1:8: invalid \\u escape (a lone surrogate)"},
        {"t.jsonl", "{\"a\": \"tab\there\"}\n",
         "t.jsonl:1:11: a control character in a string (escape it)"},
        {"t.jsonl", "{\"a\": \"\xC3\"}\n",
         "t.jsonl:1:8: invalid UTF-8: truncated sequence (byte 0xC3 followed by 0x22)"},
        {"t.jsonl", "{\"a\" 1}\n", "t.jsonl:1:6: expected ':' after a key"},
        {"t.jsonl", "{\"a\": 01}\n", "t.jsonl:1:8: expected ',' or '}' after a value"},
        {"t.jsonl", "{\"a\": -x}\n", "t.jsonl:1:7: invalid number"},
        {"t.jsonl", "{\"a\": 1\n", "t.jsonl:1:1: unterminated object"},
        {"t.json", "[{\"a\": 1} {\"a\": 2}]", "t.json:1:11: expected ',' or ']' after an object"},
        {"t.json", "[{\"a\": 1},\n", "t.json:2:1: the array is not closed (']' missing)"},
        {"t.json", "[{\"a\": 1}] x", "t.json:1:12: text after the closing ']'"},
        {"t.json", "[1, 2]", "t.json:1:2: expected an object {\"column\": value, ...} in the array"},
        {"t.json", " \n ", "t.json: empty file"},
        /* a value the loader refuses: as for CSV, with the JSON line */
        {"t.jsonl", "{\"id\": \"a\", \"n\": 1}\n{\"id\": \"b\", \"n\": 1e400}\n",
         "t.jsonl:2: column 'n': expected a finite number, got \"1e400\""},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sg_table *t;
        sg_error err;
        assert_int_equal(load_named(cases[k].name, cases[k].text, NULL, &t, &err), SG_EPARSE);
        if (strcmp(err.msg, cases[k].msg)) fail_msg("case %zu: got '%s'", k, err.msg);
    }
    /* objects that share no key: a cell for every object and key, refused */
    {
        size_t cap = 20000 * 24, off = 0;
        char *sparse = malloc(cap);
        for (int i = 0; i < 20000; i++)
            off += (size_t)snprintf(sparse + off, cap - off, "{\"k%d\": 1}\n", i);
        sg_table *t;
        sg_error err;
        assert_int_equal(load_named("t.jsonl", sparse, NULL, &t, &err), SG_EPARSE);
        assert_non_null(strstr(err.msg, "20000 objects x 20000 distinct keys"));
        free(sparse);
    }
    /* a forced number column: the cell error names the JSON line and the key */
    sg_load_opts o;
    sg_load_opts_default(&o);
    static const char *const num[] = {"n", NULL};
    o.numeric = num;
    sg_table *t;
    sg_error err;
    assert_int_equal(load_named("t.jsonl", "{\"n\": 1}\n\n{\"n\": \"many\"}\n", &o, &t, &err),
                     SG_EPARSE);
    assert_string_equal(err.msg, "t.jsonl:3: column 'n': expected a number, got \"many\"");
}

/* table-5.4: a JSON file on disk, and allocation failures while reading JSON */
static void json_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sg_table_XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    assert_true(fd >= 0);
    const char *text = "{\"id\": 1, \"v\": 2.5}\n{\"id\": 2, \"v\": null}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sg_table *t = NULL;
    sg_error err;
    if (sg_table_load_csv(&t, path, NULL, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sg_table_n_rows(t), 2);
    assert_int_equal(sg_table_n_missing(t, 1), 1);
    sg_table_free(t);
    int64_t live = sg_mem_live_bytes();
    int k, done = 0;
    for (k = 0; k < 200 && !done; k++) {
        t = NULL;
        sg_mem_fail_after(k);
        int rc = sg_table_load_csv(&t, path, NULL, &err);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            assert_int_equal(sg_table_n_rows(t), 2);
            sg_table_free(t);
            done = 1;
        } else {
            if (rc != SG_ENOMEM) fail_msg("k=%d: rc %d: %s", k, rc, err.msg);
            assert_null(t);
        }
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    assert_true(done);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(infer_types),
        cmocka_unit_test(missing_values),
        cmocka_unit_test(number_to_category),
        cmocka_unit_test(forced_types),
        cmocka_unit_test(exact_numbers),
        cmocka_unit_test(dates_and_blanks),
        cmocka_unit_test(shapes_and_lines),
        cmocka_unit_test(from_file),
        cmocka_unit_test(header_errors),
        cmocka_unit_test(ragged_rows),
        cmocka_unit_test(non_finite),
        cmocka_unit_test(missing_columns),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(message_values),
        cmocka_unit_test(error_count),
        cmocka_unit_test(csv_errors),
        cmocka_unit_test(dedup_error),
        cmocka_unit_test(dedup_first),
        cmocka_unit_test(dedup_last),
        cmocka_unit_test(progress_calls),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(json_lines),
        cmocka_unit_test(json_arrays),
        cmocka_unit_test(json_errors),
        cmocka_unit_test(json_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
