/* jsonrows.c -- JSON records read as CSV records (see jsonrows.h).
 *
 * Accepted input: JSON lines (one object per line; blank lines and several
 * objects on a line are fine), or one array of objects (pretty-printed or
 * not).  A value is a number, a string, true or false (read as 1 and 0, as
 * the service reads them) or null (missing); an object or array as a value is
 * an error, as is a duplicate key in one object.  The columns are the union of
 * the objects' keys in the order they first appear; a key an object lacks is
 * missing in that row.  Numbers keep the shortest text that reads back to the
 * same double (integers as written), so a workspace stores what a CSV of the
 * same values would hold.
 *
 * Positions: a record's line is the line where its object starts, unless two
 * objects start on one line (a one-line array, as pandas writes by default):
 * then every record's "line" is its object's number in the file (1, 2, ...),
 * so that it still identifies the record (workspace keys use it).  Syntax
 * errors always name the real line and byte column.
 *
 * Memory: a file is read whole (its bytes, not a tree of it); the keys are
 * collected in a first pass over all objects, at open, which is also where
 * syntax errors are found (FILE:LINE:COL, the column in bytes); then each
 * sg_jsonrows_next parses one object again.  Only the current object is ever
 * held as a tree. */
#include "jsonrows.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "stratagem/mem.h"

#define NUM_MAX 32   /* room for one number's text */

struct sg_jsonrows {
    char *name;
    const char *data;      /* the input, 'len' bytes */
    size_t len;
    char *owned;           /* a file's bytes, read whole; NULL for memory input */
    int array;             /* the input is one array of objects */
    size_t pos;            /* next byte */
    int64_t line;          /* line of 'pos' (1-based) */
    size_t line_start;     /* offset of that line's first byte */
    int64_t rec_line;      /* line where the last record started (or its number, below) */
    int64_t n_obj;         /* objects read in this pass */
    int64_t prev_start;    /* line where the previous object started */
    int by_object;         /* objects share lines (a one-line array): records are
                              numbered 1, 2, ... instead, so that the number is unique */
    int state;             /* array input: 0 before the first element, 1 after an element,
                              2 after the closing bracket */
    int header_done;
    json_t *keys;          /* key -> column index */
    char **names;          /* (n_cols) the keys, in order */
    int n_cols, names_cap;
    json_t *cur;           /* the object of the last record */
    sg_csv_field *fields;  /* (n_cols) */
    char *num;             /* (n_cols * NUM_MAX) numbers' text */
    int status;            /* SG_OK, or the error that stopped the reader */
    char errmsg[SG_ERRMSG_MAX];
};

int sg_jsonrows_is_json(const char *name)
{
    static const char *const EXT[] = {".json", ".jsonl", ".ndjson"};
    size_t n = strlen(name);
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(EXT[i]);
        if (n > k && strcasecmp(name + n - k, EXT[i]) == 0) return 1;
    }
    return 0;
}

__attribute__((format(printf, 4, 5)))
static int stop(sg_jsonrows *j, sg_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
    va_end(ap);
    j->status = code;
    return sg_error_set(err, code, "%s", j->errmsg);
}

/* Move to byte 'to', counting the line ends passed. */
static void advance(sg_jsonrows *j, size_t to)
{
    for (size_t i = j->pos; i < to; i++)
        if (j->data[i] == '\n') {
            j->line++;
            j->line_start = i + 1;
        }
    j->pos = to;
}

static void skip_space(sg_jsonrows *j)
{
    size_t p = j->pos;
    while (p < j->len && (j->data[p] == ' ' || j->data[p] == '\t' || j->data[p] == '\n' ||
                          j->data[p] == '\r'))
        p++;
    advance(j, p);
}

static int syntax(sg_jsonrows *j, sg_error *err, const char *what)
{
    return stop(j, err, SG_EPARSE, "%s:%lld:%zu: %s", j->name, (long long)j->line,
                j->pos - j->line_start + 1, what);
}

/* A short name for a JSON value's type, for messages. */
static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "true or false";
    default: return "null";
    }
}

/* Parse the next object into *obj (owned by the caller); 1, 0 at the end, or an
 * error.  Sets rec_line. */
static int next_object(sg_jsonrows *j, json_t **obj, sg_error *err)
{
    skip_space(j);
    if (j->array) {
        if (j->state == 1) {
            if (j->pos < j->len && j->data[j->pos] == ']') {
                advance(j, j->pos + 1);
                j->state = 2;
            } else if (j->pos < j->len && j->data[j->pos] == ',') {
                advance(j, j->pos + 1);
                skip_space(j);
            } else {
                return syntax(j, err, j->pos < j->len ? "expected ',' or ']' after an object"
                                                      : "the array is not closed (']' missing)");
            }
        } else if (j->state == 0) {
            advance(j, j->pos + 1);   /* the '[' */
            skip_space(j);
            j->state = 1;
            if (j->pos < j->len && j->data[j->pos] == ']') {
                advance(j, j->pos + 1);
                j->state = 2;
            }
        }
        if (j->state == 2) {
            skip_space(j);
            if (j->pos < j->len) return syntax(j, err, "text after the closing ']'");
            return 0;
        }
        if (j->pos >= j->len) return syntax(j, err, "the array is not closed (']' missing)");
    } else if (j->pos >= j->len) {
        return 0;
    }
    size_t col0 = j->pos - j->line_start + 1;
    if (j->n_obj > 0 && j->line == j->prev_start) j->by_object = 1;
    j->prev_start = j->line;
    j->n_obj++;
    j->rec_line = j->by_object ? j->n_obj : j->line;
    json_error_t je;
    json_t *v = json_loadb(j->data + j->pos, j->len - j->pos,
                           JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v) {
        /* jansson counts lines and columns from where this object started */
        int64_t line = j->line + (je.line > 0 ? je.line - 1 : 0);
        size_t col = je.line > 1 ? (size_t)je.column : j->pos - j->line_start + (size_t)je.column;
        const char *what = strstr(je.text, "JSON_ALLOW_NUL") ? "a NUL character (\\u0000) in a string"
                                                               : je.text;
        return stop(j, err, SG_EPARSE, "%s:%lld:%zu: %s", j->name, (long long)line, col, what);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return syntax(j, err, j->array ? "expected an object {\"column\": value, ...} in the array"
                                       : "expected an object {\"column\": value, ...} (one per line)");
    }
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (json_is_object(val) || json_is_array(val)) {
            stop(j, err, SG_EPARSE, "%s:%lld:%zu: key '%.64s%s': expected a number, a string, "
                 "true, false or null, got %s", j->name, (long long)j->line, col0, key,
                 strlen(key) > 64 ? "..." : "", type_name(val));
            json_decref(v);
            return j->status;
        }
    }
    advance(j, j->pos + (size_t)je.position);
    *obj = v;
    return 1;
}

/* The first pass: every object's keys, in order of first appearance. */
static int collect_keys(sg_jsonrows *j, sg_error *err)
{
    json_t *obj;
    int rc;
    while ((rc = next_object(j, &obj, err)) == 1) {
        const char *key;
        json_t *val;
        json_object_foreach(obj, key, val) {
            if (json_object_get(j->keys, key)) continue;
            if (j->n_cols == j->names_cap) {
                int cap = j->names_cap ? 2 * j->names_cap : 16;
                char **nn = sg_realloc(j->names, (size_t)cap * sizeof *nn);
                if (!nn) goto nomem;
                j->names = nn;
                j->names_cap = cap;
            }
            if (!(j->names[j->n_cols] = sg_strdup(key)) ||
                json_object_set_new(j->keys, key, json_integer(j->n_cols)) != 0)
                goto nomem;
            j->n_cols++;
        }
        json_decref(obj);
        continue;
    nomem:
        json_decref(obj);
        return stop(j, err, SG_ENOMEM, "%s:%lld: out of memory reading the keys", j->name,
                    (long long)j->rec_line);
    }
    if (rc < 0) return rc;
    if (j->n_cols == 0)
        return stop(j, err, SG_EPARSE, "%s: no column: the file holds no object with a key",
                    j->name);
    return SG_OK;
}

/* Back to the first object, for the second pass. */
static void rewind_input(sg_jsonrows *j)
{
    j->pos = 0;
    j->line = 1;
    j->line_start = 0;
    j->state = 0;
    j->n_obj = 0;
    if (j->len >= 3 && memcmp(j->data, "\xEF\xBB\xBF", 3) == 0) j->pos = j->line_start = 3;
    skip_space(j);
    j->array = j->pos < j->len && j->data[j->pos] == '[';
}

/* Read a file whole (not mapped: a file cut short while it is read must give
 * an error, not SIGBUS). */
static int read_all(sg_jsonrows *j, int fd, sg_error *err)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = sg_malloc(cap);
    if (!buf) return stop(j, err, SG_ENOMEM, "%s: out of memory reading", j->name);
    for (;;) {
        if (n == cap) {
            char *nb = sg_realloc(buf, 2 * cap);
            if (!nb) {
                sg_free(buf);
                return stop(j, err, SG_ENOMEM, "%s: out of memory reading %zu bytes", j->name, n);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            sg_free(buf);
            return stop(j, err, SG_EIO, "%s: read error: %s", j->name, strerror(errno));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    j->owned = buf;
    j->data = buf;
    j->len = n;
    return SG_OK;
}

int sg_jsonrows_open(sg_jsonrows **out, const char *name, int fd, const char *data, size_t len,
                     sg_error *err)
{
    sg_jsonrows *j = sg_calloc(1, sizeof *j);
    if (!j || !(j->name = sg_strdup(name)) || !(j->keys = json_object())) {
        if (j) sg_free(j->name);
        sg_free(j);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory opening the JSON reader", name);
    }
    int rc = SG_OK;
    if (fd >= 0) {
        rc = read_all(j, fd, err);
    } else {
        j->data = data;
        j->len = len;
    }
    if (rc == SG_OK) {
        rewind_input(j);
        if (j->pos >= j->len) rc = stop(j, err, SG_EPARSE, "%s: empty file", name);
    }
    if (rc == SG_OK && (rc = collect_keys(j, err)) == SG_OK) {
        j->fields = sg_calloc((size_t)j->n_cols, sizeof *j->fields);
        j->num = sg_malloc((size_t)j->n_cols * NUM_MAX);
        if (!j->fields || !j->num)
            rc = stop(j, err, SG_ENOMEM, "%s: out of memory for %d columns", name, j->n_cols);
    }
    if (rc != SG_OK) {
        sg_jsonrows_free(j);
        return rc;
    }
    rewind_input(j);
    if (fd >= 0) close(fd);   /* the data are in memory */
    *out = j;
    return SG_OK;
}

/* The shortest text that reads back to 'v' (15 significant digits usually do). */
static void format_real(char *buf, double v)
{
    snprintf(buf, NUM_MAX, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, NUM_MAX, "%.17g", v);
}

int sg_jsonrows_next(sg_jsonrows *j, const sg_csv_field **fields, int *n_fields, sg_error *err)
{
    if (j->status != SG_OK) return sg_error_set(err, j->status, "%s", j->errmsg);
    if (!j->header_done) {
        for (int c = 0; c < j->n_cols; c++) {
            j->fields[c].ptr = j->names[c];
            j->fields[c].len = strlen(j->names[c]);
            j->fields[c].quoted = 0;
        }
        j->header_done = 1;
        j->rec_line = 1;
        *fields = j->fields;
        *n_fields = j->n_cols;
        return 1;
    }
    json_decref(j->cur);
    j->cur = NULL;
    int rc = next_object(j, &j->cur, err);
    if (rc <= 0) return rc;
    for (int c = 0; c < j->n_cols; c++) {
        sg_csv_field *f = &j->fields[c];
        char *num = j->num + (size_t)c * NUM_MAX;
        const json_t *v = json_object_get(j->cur, j->names[c]);
        f->quoted = 0;
        f->ptr = num;
        num[0] = '\0';
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_STRING:
            f->ptr = json_string_value(v);
            f->len = json_string_length(v);
            f->quoted = 1;
            continue;
        case JSON_INTEGER:
            snprintf(num, NUM_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            break;
        case JSON_REAL:
            format_real(num, json_real_value(v));
            break;
        case JSON_TRUE:
            strcpy(num, "1");
            break;
        case JSON_FALSE:
            strcpy(num, "0");
            break;
        default:   /* null or absent: missing */
            break;
        }
        f->len = strlen(num);
    }
    *fields = j->fields;
    *n_fields = j->n_cols;
    return 1;
}

int64_t sg_jsonrows_line(const sg_jsonrows *j) { return j->rec_line; }
int64_t sg_jsonrows_bytes_read(const sg_jsonrows *j) { return (int64_t)j->pos; }
int64_t sg_jsonrows_size(const sg_jsonrows *j) { return (int64_t)j->len; }

void sg_jsonrows_free(sg_jsonrows *j)
{
    if (!j) return;
    sg_free(j->owned);
    for (int c = 0; c < j->n_cols; c++) sg_free(j->names[c]);
    sg_free(j->names);
    json_decref(j->keys);
    json_decref(j->cur);
    sg_free(j->fields);
    sg_free(j->num);
    sg_free(j->name);
    sg_free(j);
}
