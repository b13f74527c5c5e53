/* jsonrows.c -- JSON records read as CSV records (see jsonrows.h).
 *
 * Accepted input: JSON lines (one object per line; blank lines and several
 * objects on a line are fine), or one array of objects (pretty-printed or
 * not).  A value is a number, a string, true or false (read as 1 and 0, as
 * the service reads them) or null (missing); an object or array as a value is
 * an error, as is a duplicate key in one object.  The columns are the union of
 * the objects' keys in the order they first appear; a key an object lacks is
 * missing in that row.  A number's text is passed on as written (the table
 * loader parses it as it parses CSV), so a workspace stores what the file
 * held, and an id like 12345678901234567890 stays exact text.
 *
 * Positions: a record's line is the line where its object starts, unless two
 * objects start on one line (a one-line array, as pandas writes by default):
 * then every record's "line" is its object's number in the file (1, 2, ...),
 * so that it still identifies the record (workspace keys use it).  Syntax
 * errors always name the real line and byte column (a UTF-8 byte-order mark
 * is not counted, as in CSV).
 *
 * The parser is written out here (RFC 8259's grammar, strings unescaped and
 * checked as UTF-8) rather than built on a tree library: a record's values go
 * straight into one buffer, and keys are matched to columns by expecting the
 * previous record's order, then by hash.  The file is read whole (its bytes);
 * a first pass at open checks the syntax and collects the keys, then each
 * sg_jsonrows_next parses one object again. */
#include "jsonrows.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "stratagem/mem.h"

struct sg_jsonrows {
    char *name;
    const char *data;      /* the input, 'len' bytes */
    size_t len;
    char *owned;           /* a file's bytes, read whole; NULL for memory input */
    int array;             /* the input is one array of objects */
    int state;             /* array input: 0 before '[', 1 inside, 2 after ']' */
    size_t pos;            /* next byte */
    int64_t line;          /* line of 'pos' (1-based) */
    size_t line_start;     /* offset of that line's first byte */
    int64_t rec_line;      /* line where the last record started (or its number) */
    int64_t n_obj;         /* objects read in this pass */
    int64_t prev_start;    /* line where the previous object started */
    int by_object;         /* objects share lines: records are numbered instead */
    int collecting;        /* the first pass: new keys become columns */
    int header_done;
    /* columns */
    char **names;          /* (n_cols) the keys, in order of first appearance */
    size_t *name_len;
    int n_cols, cols_cap;
    int32_t *slots;        /* open-addressing key -> column table, -1 empty */
    uint32_t n_slots;      /* a power of two, at least 2 x n_cols */
    int64_t *seen;         /* (n_cols) the object that last had the key: duplicates */
    /* the current record */
    char *arena;           /* its keys' and values' text, each NUL-terminated */
    size_t arena_len, arena_cap;
    size_t *voff;          /* (n_cols) offset of the value in 'arena', or SIZE_MAX: missing */
    sg_csv_field *fields;  /* (n_cols) */
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

/* ---------------------------------------------------------------------------
 * errors and positions */

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

/* "FILE:LINE:COL: what" at byte 'at' of the current line. */
static int syntax_at(sg_jsonrows *j, sg_error *err, size_t at, const char *what)
{
    return stop(j, err, SG_EPARSE, "%s:%lld:%zu: %s", j->name, (long long)j->line,
                at - j->line_start + 1, what);
}

static int syntax(sg_jsonrows *j, sg_error *err, const char *what)
{
    return syntax_at(j, err, j->pos, what);
}

static int nomem(sg_jsonrows *j, sg_error *err)
{
    return stop(j, err, SG_ENOMEM, "%s:%lld: out of memory reading JSON", j->name,
                (long long)j->line);
}

/* Skip white space, counting lines (strings cannot hold a raw line end). */
static void skip_space(sg_jsonrows *j)
{
    const char *d = j->data;
    size_t p = j->pos, n = j->len;
    while (p < n) {
        char ch = d[p];
        if (ch == '\n') {
            j->line++;
            j->line_start = p + 1;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            break;
        }
        p++;
    }
    j->pos = p;
}

/* ---------------------------------------------------------------------------
 * the record's text */

static int arena_put(sg_jsonrows *j, const char *s, size_t n)
{
    if (j->arena_len + n + 1 > j->arena_cap) {
        size_t cap = j->arena_cap ? j->arena_cap : 4096;
        while (cap < j->arena_len + n + 1) cap *= 2;
        char *a = sg_realloc(j->arena, cap);
        if (!a) return SG_ENOMEM;
        j->arena = a;
        j->arena_cap = cap;
    }
    memcpy(j->arena + j->arena_len, s, n);
    j->arena_len += n;
    return SG_OK;
}

static void put_utf8(char *out, unsigned cp, size_t *n)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s, unsigned *v)
{
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *v = x;
    return 0;
}

/* The string at 'pos' (its opening quote), unescaped and checked, appended to
 * the arena with a NUL when 'keep'; *off and *n (NULL allowed) give where. */
static int parse_string(sg_jsonrows *j, int keep, size_t *off, size_t *n, sg_error *err)
{
    const char *d = j->data;
    size_t p = j->pos + 1, end = j->len, start = j->arena_len;
    for (;;) {
        size_t run = p;   /* plain bytes: copied in one go */
        while (p < end && d[p] != '"' && d[p] != '\\' && (unsigned char)d[p] >= 0x20 &&
               (unsigned char)d[p] < 0x80)
            p++;
        if (keep && p > run && arena_put(j, d + run, p - run)) return nomem(j, err);
        if (p >= end) return syntax_at(j, err, j->pos, "unterminated string");
        unsigned char c = (unsigned char)d[p];
        if (c == '"') break;
        if (c < 0x20) return syntax_at(j, err, p, "a control character in a string (escape it)");
        if (c >= 0x80) {
            char why[96], msg[128];
            int k = sg_utf8_check((const unsigned char *)d + p, end - p, why, sizeof why);
            if (k == 0) {
                snprintf(msg, sizeof msg, "invalid UTF-8: %s", why);
                return syntax_at(j, err, p, msg);
            }
            if (keep && arena_put(j, d + p, (size_t)k)) return nomem(j, err);
            p += (size_t)k;
            continue;
        }
        /* an escape */
        if (p + 1 >= end) return syntax_at(j, err, j->pos, "unterminated string");
        char e = d[p + 1], out[8];
        size_t m = 0;
        switch (e) {
        case '"': case '\\': case '/': out[m++] = e; break;
        case 'b': out[m++] = '\b'; break;
        case 'f': out[m++] = '\f'; break;
        case 'n': out[m++] = '\n'; break;
        case 'r': out[m++] = '\r'; break;
        case 't': out[m++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (p + 6 > end || hex4(d + p + 2, &cp))
                return syntax_at(j, err, p, "invalid \\u escape (four hex digits expected)");
            size_t used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {   /* a surrogate pair */
                if (p + 12 > end || d[p + 6] != '\\' || d[p + 7] != 'u' || hex4(d + p + 8, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return syntax_at(j, err, p, "invalid \\u escape (a lone surrogate)");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return syntax_at(j, err, p, "invalid \\u escape (a lone surrogate)");
            }
            if (cp == 0) return syntax_at(j, err, p, "a NUL character (\\u0000) in a string");
            put_utf8(out, cp, &m);
            p += used;
            if (keep && arena_put(j, out, m)) return nomem(j, err);
            continue;
        }
        default:
            return syntax_at(j, err, p, "invalid escape in a string");
        }
        p += 2;
        if (keep && arena_put(j, out, m)) return nomem(j, err);
    }
    if (keep && arena_put(j, "", 1)) return nomem(j, err);   /* the NUL */
    if (off) *off = start;
    if (n) *n = j->arena_len - start - (keep ? 1 : 0);
    j->pos = p + 1;
    return SG_OK;
}

/* A number (RFC 8259's grammar); its text appended to the arena when 'keep'. */
static int parse_number(sg_jsonrows *j, int keep, size_t *off, sg_error *err)
{
    const char *d = j->data;
    size_t p = j->pos, end = j->len;
#define DIGIT(q) ((q) < end && d[q] >= '0' && d[q] <= '9')
    if (p < end && d[p] == '-') p++;
    if (!DIGIT(p)) return syntax_at(j, err, j->pos, "invalid number");
    if (d[p] == '0') p++;
    else
        while (DIGIT(p)) p++;
    if (p < end && d[p] == '.') {
        p++;
        if (!DIGIT(p)) return syntax_at(j, err, j->pos, "invalid number");
        while (DIGIT(p)) p++;
    }
    if (p < end && (d[p] == 'e' || d[p] == 'E')) {
        p++;
        if (p < end && (d[p] == '+' || d[p] == '-')) p++;
        if (!DIGIT(p)) return syntax_at(j, err, j->pos, "invalid number");
        while (DIGIT(p)) p++;
    }
#undef DIGIT
    if (keep) {
        *off = j->arena_len;
        if (arena_put(j, d + j->pos, p - j->pos) || arena_put(j, "", 1)) return nomem(j, err);
    }
    j->pos = p;
    return SG_OK;
}

static int literal(sg_jsonrows *j, const char *word)
{
    size_t k = strlen(word);
    if (j->len - j->pos < k || memcmp(j->data + j->pos, word, k) != 0) return 0;
    j->pos += k;
    return 1;
}

/* ---------------------------------------------------------------------------
 * columns */

static uint32_t hash_key(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int find_col(const sg_jsonrows *j, const char *key, size_t n)
{
    if (!j->n_slots) return -1;
    for (uint32_t s = hash_key(key, n) & (j->n_slots - 1);; s = (s + 1) & (j->n_slots - 1)) {
        int32_t c = j->slots[s];
        if (c < 0) return -1;
        if (j->name_len[c] == n && memcmp(j->names[c], key, n) == 0) return c;
    }
}

static void slot_insert(sg_jsonrows *j, int c)
{
    uint32_t s = hash_key(j->names[c], j->name_len[c]) & (j->n_slots - 1);
    while (j->slots[s] >= 0) s = (s + 1) & (j->n_slots - 1);
    j->slots[s] = c;
}

/* A new column named key[0..n); its index, or -1 out of memory. */
static int add_col(sg_jsonrows *j, const char *key, size_t n)
{
    if (j->n_cols == j->cols_cap) {
        int cap = j->cols_cap ? 2 * j->cols_cap : 16;
        char **nm = sg_realloc(j->names, (size_t)cap * sizeof *nm);
        if (!nm) return -1;
        j->names = nm;
        size_t *nl = sg_realloc(j->name_len, (size_t)cap * sizeof *nl);
        if (!nl) return -1;
        j->name_len = nl;
        int64_t *sn = sg_realloc(j->seen, (size_t)cap * sizeof *sn);
        if (!sn) return -1;
        j->seen = sn;
        j->cols_cap = cap;
    }
    if ((uint32_t)(j->n_cols + 1) * 2 > j->n_slots) {
        uint32_t ns = j->n_slots ? 2 * j->n_slots : 64;
        int32_t *sl = sg_malloc_array(ns, sizeof *sl);
        if (!sl) return -1;
        sg_free(j->slots);
        j->slots = sl;
        j->n_slots = ns;
        memset(sl, 0xFF, ns * sizeof *sl);
        for (int c = 0; c < j->n_cols; c++) slot_insert(j, c);
    }
    char *s = sg_strndup(key, n);
    if (!s) return -1;
    int c = j->n_cols++;
    j->names[c] = s;
    j->name_len[c] = n;
    j->seen[c] = -1;
    slot_insert(j, c);
    return c;
}

/* ---------------------------------------------------------------------------
 * objects */

/* An object that runs to the end of the input, named where it starts. */
static int unterminated(sg_jsonrows *j, sg_error *err, int64_t line, size_t col)
{
    return stop(j, err, SG_EPARSE, "%s:%lld:%zu: unterminated object", j->name, (long long)line,
                col);
}

/* The object at 'pos': in the first pass its keys become columns; in the
 * second its values land in the arena, voff[c] for column c. */
static int parse_object(sg_jsonrows *j, sg_error *err)
{
    int64_t obj_line = j->line;
    size_t obj_col = j->pos - j->line_start + 1;
    int rc, expect = 0;   /* the column the next key probably is */
    j->arena_len = 0;
    if (!j->collecting)
        for (int c = 0; c < j->n_cols; c++) j->voff[c] = SIZE_MAX;
    j->pos++;   /* '{' */
    skip_space(j);
    if (j->pos < j->len && j->data[j->pos] == '}') {
        j->pos++;
        return SG_OK;
    }
    for (;;) {
        if (j->pos >= j->len || j->data[j->pos] != '"')
            return j->pos >= j->len ? unterminated(j, err, obj_line, obj_col)
                                    : syntax(j, err, "expected a key (a string in double quotes)");
        size_t key_at = j->pos, koff, kn;
        if ((rc = parse_string(j, 1, &koff, &kn, err)) != SG_OK) return rc;
        const char *key = j->arena + koff;
        int c = expect < j->n_cols && j->name_len[expect] == kn &&
                        memcmp(j->names[expect], key, kn) == 0
                    ? expect
                    : find_col(j, key, kn);
        if (c < 0) {
            if (!j->collecting)   /* cannot happen: the first pass saw every key */
                return syntax_at(j, err, key_at, "the file changed while it was read");
            if ((c = add_col(j, key, kn)) < 0) return nomem(j, err);
        }
        if (j->seen[c] == j->n_obj) {
            char msg[160];
            snprintf(msg, sizeof msg, "duplicate key '%.64s%s' in one object", key,
                     kn > 64 ? "..." : "");
            return syntax_at(j, err, key_at, msg);
        }
        j->seen[c] = j->n_obj;
        expect = c + 1;
        skip_space(j);
        if (j->pos >= j->len || j->data[j->pos] != ':')
            return syntax(j, err, "expected ':' after a key");
        j->pos++;
        skip_space(j);
        if (j->pos >= j->len) return unterminated(j, err, obj_line, obj_col);
        size_t voff = SIZE_MAX, at = j->pos;
        int keep = !j->collecting;
        char ch = j->data[j->pos];
        if (ch == '"') {
            rc = parse_string(j, keep, &voff, NULL, err);
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            rc = parse_number(j, keep, &voff, err);
        } else if (literal(j, "true") || literal(j, "false")) {
            rc = SG_OK;
            if (keep) {
                voff = j->arena_len;
                if (arena_put(j, j->data[at] == 't' ? "1" : "0", 2)) rc = nomem(j, err);
            }
        } else if (literal(j, "null")) {
            rc = SG_OK;   /* missing */
        } else {
            char msg[200];
            const char *key2 = j->arena + koff;
            if (ch == '{' || ch == '[')
                snprintf(msg, sizeof msg, "key '%.64s%s': expected a number, a string, true, "
                         "false or null, got %s", key2, kn > 64 ? "..." : "",
                         ch == '{' ? "an object" : "an array");
            else
                snprintf(msg, sizeof msg, "key '%.64s%s': expected a value", key2,
                         kn > 64 ? "..." : "");
            return syntax_at(j, err, at, msg);
        }
        if (rc != SG_OK) return rc;
        if (keep) j->voff[c] = voff;
        skip_space(j);
        if (j->pos < j->len && j->data[j->pos] == ',') {
            j->pos++;
            skip_space(j);
            continue;
        }
        if (j->pos < j->len && j->data[j->pos] == '}') {
            j->pos++;
            return SG_OK;
        }
        return j->pos >= j->len ? unterminated(j, err, obj_line, obj_col)
                                : syntax(j, err, "expected ',' or '}' after a value");
    }
}

/* Move to the next object and parse it; 1, 0 at the end, or an error. */
static int next_object(sg_jsonrows *j, sg_error *err)
{
    skip_space(j);
    if (j->array) {
        if (j->state == 0) {
            j->pos++;   /* '[' */
            skip_space(j);
            j->state = 1;
            if (j->pos < j->len && j->data[j->pos] == ']') {
                j->pos++;
                j->state = 2;
            }
        } else if (j->state == 1) {
            if (j->pos < j->len && j->data[j->pos] == ']') {
                j->pos++;
                j->state = 2;
            } else if (j->pos < j->len && j->data[j->pos] == ',') {
                j->pos++;
                skip_space(j);
            } else {
                return syntax(j, err, j->pos < j->len ? "expected ',' or ']' after an object"
                                                      : "the array is not closed (']' missing)");
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
    if (j->data[j->pos] != '{')
        return syntax(j, err, j->array
                                  ? "expected an object {\"column\": value, ...} in the array"
                                  : "expected an object {\"column\": value, ...} (one per line)");
    if (j->n_obj > 0 && j->line == j->prev_start) j->by_object = 1;
    j->prev_start = j->line;
    j->n_obj++;
    j->rec_line = j->by_object ? j->n_obj : j->line;
    int rc = parse_object(j, err);
    return rc == SG_OK ? 1 : rc;
}

/* To the first object (after a byte-order mark and white space). */
static void rewind_input(sg_jsonrows *j)
{
    j->pos = j->line_start = 0;
    j->line = 1;
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
    if (!j || !(j->name = sg_strdup(name))) {
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
    if (rc == SG_OK) {   /* the first pass: the keys */
        j->collecting = 1;
        while ((rc = next_object(j, err)) == 1) {}
        j->collecting = 0;
        if (rc == 0 && j->n_cols == 0)
            rc = stop(j, err, SG_EPARSE, "%s: no column: the file holds no object with a key",
                      name);
    }
    /* objects that share few keys would make a table far larger than the file (a
     * cell for every object and key): refuse more than 16 cells per byte */
    if (rc == SG_OK && (double)j->n_obj * j->n_cols > 16.0 * (double)j->len + 1e6)
        rc = stop(j, err, SG_EPARSE, "%s: %lld objects x %d distinct keys would make a table of "
                  "%.3g cells from %zu bytes: the objects do not share their keys", name,
                  (long long)j->n_obj, j->n_cols, (double)j->n_obj * j->n_cols, j->len);
    if (rc == SG_OK) {
        j->fields = sg_calloc((size_t)j->n_cols, sizeof *j->fields);
        j->voff = sg_malloc_array((size_t)j->n_cols, sizeof *j->voff);
        if (!j->fields || !j->voff)
            rc = stop(j, err, SG_ENOMEM, "%s: out of memory for %d columns", name, j->n_cols);
    }
    if (rc != SG_OK) {
        sg_jsonrows_free(j);
        return rc;
    }
    for (int c = 0; c < j->n_cols; c++) j->seen[c] = -1;
    rewind_input(j);
    if (fd >= 0) close(fd);   /* the bytes are in memory */
    *out = j;
    return SG_OK;
}

int sg_jsonrows_next(sg_jsonrows *j, const sg_csv_field **fields, int *n_fields, sg_error *err)
{
    if (j->status != SG_OK) return sg_error_set(err, j->status, "%s", j->errmsg);
    if (!j->header_done) {
        for (int c = 0; c < j->n_cols; c++) {
            j->fields[c].ptr = j->names[c];
            j->fields[c].len = j->name_len[c];
            j->fields[c].quoted = 0;
        }
        j->header_done = 1;
        j->rec_line = 1;
        *fields = j->fields;
        *n_fields = j->n_cols;
        return 1;
    }
    int rc = next_object(j, err);
    if (rc <= 0) return rc;
    static const char empty[1] = "";
    for (int c = 0; c < j->n_cols; c++) {
        sg_csv_field *f = &j->fields[c];
        if (j->voff[c] == SIZE_MAX) {   /* null or absent: missing */
            f->ptr = empty;
            f->len = 0;
            f->quoted = 0;
        } else {
            f->ptr = j->arena + j->voff[c];
            f->len = strlen(f->ptr);
            f->quoted = 0;   /* "" is missing, as an empty CSV cell is to the loader */
        }
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
    sg_free(j->name_len);
    sg_free(j->slots);
    sg_free(j->seen);
    sg_free(j->arena);
    sg_free(j->voff);
    sg_free(j->fields);
    sg_free(j->name);
    sg_free(j);
}
