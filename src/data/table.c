/* table.c -- load a CSV file into a typed, column-oriented table (see table.h).
 *
 * One streaming pass over the records of sg_csv.  Every column is built as
 * the rows arrive: numbers and dates into a double array, categories and ids
 * into an int32 code array plus a dictionary (an open-addressing hash table
 * over the distinct strings, stored back to back in one text block).  Arrays
 * grow by doubling with sg_realloc; the hash tables are freed when loading
 * ends, so the table keeps only codes, labels and numbers.
 *
 * Type inference, per column (unless forced by the options):
 *   - until its first non-missing value a column is undecided; the first value
 *     decides: a finite number -> number, an ISO date -> date, else category.
 *     A column that never has a value is a number column of missing values.
 *   - a number column that later meets text becomes a category.  The labels of
 *     its earlier cells are RE-CREATED from the parsed values with "%.15g":
 *     this is the rule, the original text is not kept ("1.50" becomes the label
 *     "1.5", "007" becomes "7").  A date column that meets a non-date likewise
 *     becomes a category, its earlier labels re-created as YYYY-MM-DD followed,
 *     when the time is not midnight, by the time in the first date-time form
 *     the column used (" HH:MM", "THH:MM:SS", ...).
 *   - a non-finite number ("inf", "nan", "1e999") in a number column is an
 *     error ("expected a finite number"), not a switch to category; as the
 *     first value of an undecided column, the words inf/nan are text and an
 *     overflowing number such as "1e999" is an error.
 *   - leading and trailing blanks (space, tab) are ignored when reading numbers
 *     and dates; category labels keep the text exactly.
 *
 * Numbers are parsed exactly: plain decimals whose significant digits fit in
 * 2^53 and whose decimal exponent is within +-22 take Clinger's fast path (one
 * correctly rounded multiply or divide by an exact power of ten); anything
 * else goes to strtod_l in the "C" locale.  Both give the same double.
 *
 * Duplicate ids: every row is parsed and checked; with SG_DEDUP_FIRST/_LAST
 * the dropped rows are removed at the end (the kept row stays at its own
 * position, so _LAST keeps the last occurrence where it appears).  Labels that
 * only dropped rows used stay in the dictionaries.
 *
 * Row lines are kept as breakpoints (row, line - row), one per place where a
 * multi-line record, a blank line or a dropped row shifts the numbering. */
#include "stratagem/table.h"
#include "stratagem/csv.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "internal.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_STEP ((int64_t)16 << 20)   /* bytes between progress callbacks */
#define VALUE_MAX 40                         /* bytes of a value shown in a message */
#define UNDECIDED (-1)
/* Initial rows of the column arrays: about 16 MiB in all, at most 64Ki rows
 * (then each double array is 512 KiB, which glibc serves with mmap, so that
 * doubling it is an mremap rather than a copy into freshly faulted pages); at
 * least 1Ki rows for very wide tables.  Shrunk to the row count at the end. */
#define INIT_BYTES ((int64_t)16 << 20)

enum { FORCE_NONE = 0, FORCE_NUM = 1, FORCE_CAT = 2 };

/* ---------------------------------------------------------------------------
 * numbers */

enum { NUM_TEXT = 0, NUM_OK = 1, NUM_OVERFLOW = 2, NUM_WORD = 3 };

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static inline int is_digit(char ch) { return (unsigned)(ch - '0') < 10; }

static int word_is(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i]) return 0;
    return 1;
}

/* Parse the whole of s[0..len) (blanks around it allowed) as a decimal number.
 * Returns NUM_OK with *out finite, NUM_OVERFLOW for a number too large for a
 * double, NUM_WORD for inf/infinity/nan (any case, signed), else NUM_TEXT.
 * This is the careful version; parse_number below is the fast front. */
static int parse_number_slow(const char *s, size_t len, double *out, locale_t *loc)
{
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (p == end) return NUM_TEXT;
    const char *start = p;
    int neg = 0;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    uint64_t w = 0;       /* significant digits, exact while nd <= 19 */
    int nd = 0, n_dig = 0;
    int64_t e10 = 0;
    for (; p < end && is_digit(*p); p++, n_dig++) {
        if (w == 0 && *p == '0') continue;
        w = w * 10 + (uint64_t)(*p - '0');
        nd++;
    }
    if (p < end && *p == '.') {
        for (p++; p < end && is_digit(*p); p++, n_dig++) {
            e10--;
            if (w == 0 && *p == '0') continue;
            w = w * 10 + (uint64_t)(*p - '0');
            nd++;
        }
    }
    if (n_dig == 0) {
        if (word_is(p, end, "inf") || word_is(p, end, "infinity") || word_is(p, end, "nan"))
            return NUM_WORD;
        return NUM_TEXT;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+')) eneg = *p++ == '-';
        if (p == end || !is_digit(*p)) return NUM_TEXT;
        int64_t x = 0;
        for (; p < end && is_digit(*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        e10 += eneg ? -x : x;
    }
    if (p != end) return NUM_TEXT;
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return NUM_OK;
    }
    double v;
    if (nd <= 19 && w <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        /* Clinger: w and 10^|e10| are exact doubles, so one IEEE operation rounds once. */
        v = (double)w;
        v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
        if (neg) v = -v;
    } else {
        if (!*loc) *loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        char *ep;
        v = *loc ? strtod_l(start, &ep, *loc) : strtod(start, &ep);
        if (ep != end) return NUM_TEXT;
    }
    if (!isfinite(v)) return NUM_OVERFLOW;
    *out = v;
    return NUM_OK;
}

/* As parse_number_slow, for s NUL-terminated at s[len] (CSV fields are): the
 * common plain decimal "-123.45e6" with at most 19 digits is read in one pass
 * that relies on the NUL to stop; anything else goes to the careful version. */
static inline int parse_number(const char *s, size_t len, double *out, locale_t *loc)
{
    const char *p = s;
    int neg = *p == '-';
    p += neg || *p == '+';
    const char *d0 = p;
    uint64_t w = 0;
    while (is_digit(*p)) w = w * 10 + (uint64_t)(*p++ - '0');
    int64_t n_dig = p - d0, e10 = 0;
    if (*p == '.') {
        const char *f0 = ++p;
        while (is_digit(*p)) w = w * 10 + (uint64_t)(*p++ - '0');
        e10 = -(p - f0);
        n_dig -= e10;
    }
    if (n_dig == 0 || n_dig > 19 || p != s + len || w > ((uint64_t)1 << 53) || e10 < -22)
        return parse_number_slow(s, len, out, loc);
    double v = (double)w / pow10_exact[-e10];   /* Clinger: one correctly rounded divide */
    *out = neg ? -v : v;
    return NUM_OK;
}

/* ---------------------------------------------------------------------------
 * dates */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int two_digits(const char *s, int lo, int hi, int *out)
{
    if (!is_digit(s[0]) || !is_digit(s[1])) return 0;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return *out >= lo && *out <= hi;
}

/* Parse YYYY-MM-DD[(T| )HH:MM[:SS]] (blanks around allowed) into days since
 * 1970-01-01.  *sep and *secs say which date-time form was used (0 for a date). */
static int parse_date(const char *s, size_t len, double *out, char *sep, int *secs)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len != 10 && len != 16 && len != 19) return 0;
    if (s[4] != '-' || s[7] != '-') return 0;
    int yh, yl, m, d, hh = 0, mm = 0, ss = 0;
    if (!two_digits(s, 0, 99, &yh) || !two_digits(s + 2, 0, 99, &yl)) return 0;
    if (!two_digits(s + 5, 1, 12, &m) || !two_digits(s + 8, 1, 31, &d)) return 0;
    int y = yh * 100 + yl;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap)) return 0;
    *sep = 0;
    *secs = 0;
    if (len > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':') return 0;
        if (!two_digits(s + 11, 0, 23, &hh) || !two_digits(s + 14, 0, 59, &mm)) return 0;
        if (len == 19 && (s[16] != ':' || !two_digits(s + 17, 0, 59, &ss))) return 0;
        *sep = s[10];
        *secs = len == 19;
    }
    *out = (double)days_from_civil(y, m, d) + (hh * 3600 + mm * 60 + ss) / 86400.0;
    return 1;
}

/* Format days since 1970-01-01 as YYYY-MM-DD, followed by the time when it is
 * not midnight, in the form 'sep'/'secs' the column used (' ' and HH:MM if none). */
static void format_date(char *buf, size_t cap, double days, char sep, int secs)
{
    double day = floor(days);
    int64_t z = (int64_t)day;
    int64_t sec = (int64_t)llround((days - day) * 86400.0);
    if (sec >= 86400) {
        z++;
        sec -= 86400;
    }
    int y, m, d;
    civil_from_days(z, &y, &m, &d);
    if (sec == 0) {
        snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
        return;
    }
    int hh = (int)(sec / 3600), mm = (int)(sec / 60 % 60), ss = (int)(sec % 60);
    if (!sep) sep = ' ';
    if (secs || ss != 0)
        snprintf(buf, cap, "%04d-%02d-%02d%c%02d:%02d:%02d", y, m, d, sep, hh, mm, ss);
    else
        snprintf(buf, cap, "%04d-%02d-%02d%c%02d:%02d", y, m, d, sep, hh, mm);
}

/* ---------------------------------------------------------------------------
 * dictionaries: distinct strings <-> int32 codes */

typedef struct dict {
    char *text;            /* (text_cap) labels back to back, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *off;           /* (cap + 1) label k is text + off[k], length off[k+1] - off[k] - 1 */
    int32_t n, cap;
    uint64_t *slots;       /* (mask + 1) hash << 32 | (code + 1), 0 = empty; NULL after loading */
    uint32_t mask;
} dict;

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ k) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    uint64_t k = 0;
    memcpy(&k, s, n);
    h = (h ^ k) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* memcmp(a, b, n) == 0 for the short labels of categories, without a libc call. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
    }
    for (; n > 0; a++, b++, n--)
        if (*a != *b) return 0;
    return 1;
}

static void dict_deinit(dict *d)
{
    sg_free(d->text);
    sg_free(d->off);
    sg_free(d->slots);
    memset(d, 0, sizeof *d);
}

/* Free the lookup table once no more strings will be added. */
static void dict_seal(dict *d)
{
    sg_free(d->slots);
    d->slots = NULL;
}

static const char *dict_label(const dict *d, int32_t k) { return d->text + d->off[k]; }
static size_t dict_len(const dict *d, int32_t k) { return d->off[k + 1] - d->off[k] - 1; }

static int dict_rehash(dict *d, uint32_t n_slots)
{
    uint64_t *slots = sg_calloc(n_slots, sizeof *slots);
    if (!slots) return SG_ENOMEM;
    uint32_t mask = n_slots - 1;
    for (uint32_t s = 0; d->slots && s <= d->mask; s++) {
        uint64_t v = d->slots[s];
        if (!v) continue;
        uint32_t i = (uint32_t)(v >> 32) & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = v;
    }
    sg_free(d->slots);
    d->slots = slots;
    d->mask = mask;
    return SG_OK;
}

/* Find s[0..len); -1 if absent, and then *slot is where it would go. */
static inline int32_t dict_find(const dict *d, const char *s, size_t len, uint32_t h,
                                uint32_t *slot)
{
    uint32_t i = h & d->mask;
    for (uint64_t v; (v = d->slots[i]) != 0; i = (i + 1) & d->mask) {
        int32_t k = (int32_t)(uint32_t)v - 1;
        if ((uint32_t)(v >> 32) == h && dict_len(d, k) == len &&
            same_bytes(dict_label(d, k), s, len))
            return k;
    }
    *slot = i;
    return -1;
}

/* Find or add s[0..len).  Sets *code; returns 1 if added, 0 if found, or SG_ENOMEM. */
static int dict_intern(dict *d, const char *s, size_t len, int32_t *code)
{
    if (!d->slots || (uint64_t)2 * ((uint64_t)d->n + 1) > (uint64_t)d->mask + 1) {
        if (d->slots && d->mask >= 0x7FFFFFFFu) return SG_ENOMEM;
        if (dict_rehash(d, d->slots ? 2 * (d->mask + 1) : 64) != SG_OK) return SG_ENOMEM;
    }
    uint32_t h = hash_bytes(s, len), i = 0;
    int32_t k = dict_find(d, s, len, h, &i);
    if (k >= 0) {
        *code = k;
        return 0;
    }
    if (d->n == d->cap) {
        if (d->cap >= INT32_MAX / 2) return SG_ENOMEM;
        int32_t ncap = d->cap ? 2 * d->cap : 16;
        size_t *off = sg_realloc(d->off, ((size_t)ncap + 1) * sizeof *off);
        if (!off) return SG_ENOMEM;
        if (!d->off) off[0] = 0;
        d->off = off;
        d->cap = ncap;
    }
    if (d->text_len + len + 1 > d->text_cap) {
        size_t ncap = d->text_cap ? d->text_cap : 256;
        while (ncap < d->text_len + len + 1) ncap *= 2;
        char *t = sg_realloc(d->text, ncap);
        if (!t) return SG_ENOMEM;
        d->text = t;
        d->text_cap = ncap;
    }
    memcpy(d->text + d->text_len, s, len);
    d->text[d->text_len + len] = '\0';
    d->text_len += len + 1;
    d->off[d->n + 1] = d->text_len;
    d->slots[i] = (uint64_t)h << 32 | (uint32_t)(d->n + 1);
    *code = d->n++;
    return 1;
}

/* ---------------------------------------------------------------------------
 * the table */

typedef struct column {
    char *name;
    int type;          /* sg_coltype, or UNDECIDED while loading */
    int forced;        /* FORCE_* */
    double *num;       /* (n_rows) NUMBER, DATE; NaN = missing */
    int32_t *codes;    /* (n_rows) CATEGORY, ID; -1 = missing */
    dict dict;         /* labels of 'codes' */
    int64_t n_missing;
    char date_sep;     /* 'T' or ' ' once a date with a time was seen, else 0 */
    char date_secs;    /* and whether that one had seconds */
} column;

struct sg_table {
    char *name;
    int64_t n_rows;
    int n_cols;
    column *cols;      /* (n_cols) */
    int64_t n_dups;
    int64_t *bp_row;   /* (n_bp) row i has line i + bp_off[k], k the last with bp_row[k] <= i */
    int64_t *bp_off;
    int64_t n_bp;
};

static void columns_free(column *cols, int n)
{
    if (!cols) return;
    for (int j = 0; j < n; j++) {
        sg_free(cols[j].name);
        sg_free(cols[j].num);
        sg_free(cols[j].codes);
        dict_deinit(&cols[j].dict);
    }
    sg_free(cols);
}

void sg_table_free(sg_table *t)
{
    if (!t) return;
    columns_free(t->cols, t->n_cols);
    sg_free(t->name);
    sg_free(t->bp_row);
    sg_free(t->bp_off);
    sg_free(t);
}

void sg_load_opts_default(sg_load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dedup = SG_DEDUP_ERROR;
    o->max_errors = 10;
}

/* ---------------------------------------------------------------------------
 * loading: state and error collection */

typedef struct loader {
    sg_csv *csv;
    const sg_load_opts *o;
    const char *file;       /* name for messages (borrowed from csv) */
    column *cols;           /* (n_cols) */
    int n_cols;
    int64_t n_rows, cap;    /* rows stored; capacity of every column array */
    int64_t line;           /* line of the current record */
    int id_j;               /* id column, or -1 */
    int64_t *id_row;        /* (id_cap) the kept row of each id code */
    int64_t id_cap;
    int64_t *dropped;       /* (dropped_cap) rows removed as duplicates */
    int64_t n_dropped, dropped_cap;
    int64_t *bp_row, *bp_off;
    int64_t n_bp, bp_cap;
    int64_t n_errors;
    char first_error[SG_ERRMSG_MAX];
    locale_t loc;           /* "C" numeric locale for strtod_l, made on first use */
} loader;

static int want_message(const loader *ld)
{
    return ld->n_errors == 0 || ld->n_errors < ld->o->max_errors;
}

static void deliver(loader *ld, const char *msg)
{
    if (ld->n_errors == 0) snprintf(ld->first_error, sizeof ld->first_error, "%s", msg);
    if (ld->n_errors < ld->o->max_errors && ld->o->on_error) ld->o->on_error(ld->o->ud, msg);
    ld->n_errors++;
}

__attribute__((format(printf, 2, 3)))
static void report(loader *ld, const char *fmt, ...)
{
    if (!want_message(ld)) {
        ld->n_errors++;
        return;
    }
    char msg[SG_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    deliver(ld, msg);
}

/* Escape s[0..len) for a message: \" \\ \n \r \t \xHH; cut after 'max' bytes (at a
 * UTF-8 boundary) with "...".  'cap' >= 4 * max + 4. */
static void escape(char *dst, size_t cap, const char *s, size_t len, size_t max)
{
    size_t n = len, o = 0;
    int cut = 0;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        cut = 1;
    }
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = NULL;
        switch (ch) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            memcpy(dst + o, esc, 2);
            o += 2;
        } else if (ch < 0x20 || ch == 0x7F) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02X", ch);
        } else {
            dst[o++] = (char)ch;
        }
    }
    if (cut && o + 4 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* Report "FILE:LINE: column 'NAME': expected WHAT, got "VALUE"EXTRA". */
static void cell_error(loader *ld, int j, const char *what, const char *s, size_t len,
                       const char *extra)
{
    if (!want_message(ld)) {
        ld->n_errors++;
        return;
    }
    char v[4 * VALUE_MAX + 8], name[4 * 64 + 8];
    escape(v, sizeof v, s, len, VALUE_MAX);
    escape(name, sizeof name, ld->cols[j].name, strlen(ld->cols[j].name), 64);
    report(ld, "%s:%lld: column '%s': expected %s, got \"%s\"%s", ld->file,
           (long long)ld->line, name, what, v, extra ? extra : "");
}

static int nomem(loader *ld, sg_error *err)
{
    return sg_error_set(err, SG_ENOMEM, "%s:%lld: out of memory loading the table (%lld rows read)",
                        ld->file, (long long)ld->line, (long long)ld->n_rows);
}

/* ---------------------------------------------------------------------------
 * loading: columns */

static int64_t line_of(const int64_t *bp_row, const int64_t *bp_off, int64_t n_bp, int64_t i)
{
    int64_t lo = 0, hi = n_bp - 1;
    if (n_bp == 0 || i < bp_row[0]) return 0;
    while (lo < hi) {   /* last k with bp_row[k] <= i */
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (bp_row[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    return i + bp_off[lo];
}

static int push_i64(int64_t **a, int64_t *n, int64_t *cap, int64_t v)
{
    if (*n == *cap) {
        int64_t ncap = *cap ? 2 * *cap : 64;
        int64_t *na = sg_realloc(*a, (size_t)ncap * sizeof *na);
        if (!na) return SG_ENOMEM;
        *a = na;
        *cap = ncap;
    }
    (*a)[(*n)++] = v;
    return SG_OK;
}

static int push_bp(int64_t **row, int64_t **off, int64_t *n, int64_t *cap, int64_t r, int64_t o)
{
    if (*n == *cap) {
        int64_t ncap = *cap ? 2 * *cap : 64;
        int64_t *nr = sg_realloc(*row, (size_t)ncap * sizeof *nr);
        if (!nr) return SG_ENOMEM;
        *row = nr;
        int64_t *no = sg_realloc(*off, (size_t)ncap * sizeof *no);
        if (!no) return SG_ENOMEM;
        *off = no;
        *cap = ncap;
    }
    (*row)[*n] = r;
    (*off)[*n] = o;
    (*n)++;
    return SG_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Give column 'c' its storage for the current type, with rows [0, r) missing. */
static int col_alloc(loader *ld, column *c, int64_t r)
{
    size_t cap = (size_t)SG_MAX(ld->cap, 1);
    if (c->type == SG_COL_NUMBER || c->type == SG_COL_DATE) {
        c->num = sg_malloc_array(cap, sizeof *c->num);
        if (!c->num) return SG_ENOMEM;
        for (int64_t i = 0; i < r; i++) c->num[i] = NAN;
    } else {
        c->codes = sg_malloc_array(cap, sizeof *c->codes);
        if (!c->codes) return SG_ENOMEM;
        for (int64_t i = 0; i < r; i++) c->codes[i] = -1;
    }
    return SG_OK;
}

static int grow_rows(loader *ld)
{
    int64_t ncap = ld->cap * 2;
    if (ncap == 0)
        for (ncap = (int64_t)1 << 16; ncap > 1024 && ncap * 8 * ld->n_cols > INIT_BYTES;) ncap /= 2;
    for (int j = 0; j < ld->n_cols; j++) {
        column *c = &ld->cols[j];
        if (c->type == UNDECIDED) continue;   /* no storage until its first value */
        if (c->type == SG_COL_NUMBER || c->type == SG_COL_DATE) {
            double *p = sg_realloc(c->num, (size_t)ncap * sizeof *p);
            if (!p) return SG_ENOMEM;
            c->num = p;
        } else {
            int32_t *p = sg_realloc(c->codes, (size_t)ncap * sizeof *p);
            if (!p) return SG_ENOMEM;
            c->codes = p;
        }
    }
    ld->cap = ncap;
    return SG_OK;
}

/* A number or date column meets text at row 'r': turn it into a category whose
 * earlier labels are re-created from the values ("%.15g", or the date form). */
static int to_category(loader *ld, column *c, int64_t r)
{
    int32_t *codes = sg_malloc_array((size_t)SG_MAX(ld->cap, 1), sizeof *codes);
    if (!codes) return SG_ENOMEM;
    dict d = {0};
    char buf[64];
    for (int64_t i = 0; i < r; i++) {
        double v = c->num[i];
        if (isnan(v)) {
            codes[i] = -1;
            continue;
        }
        if (c->type == SG_COL_DATE) format_date(buf, sizeof buf, v, c->date_sep, c->date_secs);
        else snprintf(buf, sizeof buf, "%.15g", v);
        if (dict_intern(&d, buf, strlen(buf), &codes[i]) < 0) {
            sg_free(codes);
            dict_deinit(&d);
            return SG_ENOMEM;
        }
    }
    SG_LOG(SG_LOG_DEBUG, "table", "%s:%lld: column '%s' becomes a category", ld->file,
           (long long)ld->line, c->name);
    sg_free(c->num);
    c->num = NULL;
    c->codes = codes;
    c->dict = d;
    c->type = SG_COL_CATEGORY;
    return SG_OK;
}

static inline int is_missing(const char *s, size_t len)
{
    return len == 0 || (len == 2 && s[0] == 'N' && s[1] == 'A') ||
           (len == 4 && memcmp(s, "NULL", 4) == 0);
}

/* An id at row 'r' that was seen before, at row 'prev'. */
static int duplicate_id(loader *ld, int j, int64_t r, int32_t code, const sg_csv_field *f)
{
    int64_t prev = ld->id_row[code];
    if (ld->o->dedup == SG_DEDUP_FIRST)
        return push_i64(&ld->dropped, &ld->n_dropped, &ld->dropped_cap, r);
    if (ld->o->dedup == SG_DEDUP_LAST) {
        ld->id_row[code] = r;
        return push_i64(&ld->dropped, &ld->n_dropped, &ld->dropped_cap, prev);
    }
    char extra[48];
    snprintf(extra, sizeof extra, " (first at line %lld)",
             (long long)line_of(ld->bp_row, ld->bp_off, ld->n_bp, prev));
    cell_error(ld, j, "a unique id", f->ptr, f->len, extra);
    return SG_OK;
}

/* Store field 'f' as row 'r' of column 'j'.  Bad values are reported and stored
 * as missing; only SG_ENOMEM is returned as an error. */
static int put_cell(loader *ld, int j, int64_t r, const sg_csv_field *f)
{
    column *c = &ld->cols[j];
    const char *s = f->ptr;
    size_t len = f->len;
    double v;
    int k, rc;
    char sep;
    int secs;

    switch (c->type) {
    case SG_COL_NUMBER:
        k = parse_number(s, len, &v, &ld->loc);
        if (k == NUM_OK) {
            c->num[r] = v;
            return SG_OK;
        }
        c->num[r] = NAN;
        if (is_missing(s, len)) {
            c->n_missing++;
            return SG_OK;
        }
        if (k != NUM_TEXT) {
            cell_error(ld, j, "a finite number", s, len, NULL);
            return SG_OK;
        }
        if (c->forced == FORCE_NUM) {
            cell_error(ld, j, "a number", s, len, NULL);
            return SG_OK;
        }
        if ((rc = to_category(ld, c, r)) != SG_OK) return rc;
        break;
    case SG_COL_DATE:
        if (parse_date(s, len, &v, &sep, &secs)) {
            if (sep && !c->date_sep) {
                c->date_sep = sep;
                c->date_secs = (char)secs;
            }
            c->num[r] = v;
            return SG_OK;
        }
        c->num[r] = NAN;
        if (is_missing(s, len)) {
            c->n_missing++;
            return SG_OK;
        }
        if ((rc = to_category(ld, c, r)) != SG_OK) return rc;
        break;
    case UNDECIDED:
        if (is_missing(s, len)) {
            c->n_missing++;
            return SG_OK;
        }
        k = parse_number(s, len, &v, &ld->loc);
        if (k == NUM_OK || k == NUM_OVERFLOW) {
            c->type = SG_COL_NUMBER;
            if ((rc = col_alloc(ld, c, r)) != SG_OK) return rc;
            c->num[r] = k == NUM_OK ? v : (double)NAN;
            if (k != NUM_OK) cell_error(ld, j, "a finite number", s, len, NULL);
            return SG_OK;
        }
        if (parse_date(s, len, &v, &sep, &secs)) {
            c->type = SG_COL_DATE;
            if ((rc = col_alloc(ld, c, r)) != SG_OK) return rc;
            c->date_sep = sep;
            c->date_secs = (char)secs;
            c->num[r] = v;
            return SG_OK;
        }
        c->type = SG_COL_CATEGORY;
        if ((rc = col_alloc(ld, c, r)) != SG_OK) return rc;
        break;
    case SG_COL_ID: {
        int32_t code = -1;
        if (is_missing(s, len)) {
            cell_error(ld, j, "an id", s, len, NULL);
        } else {
            if ((rc = dict_intern(&c->dict, s, len, &code)) < 0) return rc;
            if (code >= ld->id_cap) {
                int64_t ncap = ld->id_cap ? 2 * ld->id_cap : 1024;
                int64_t *p = sg_realloc(ld->id_row, (size_t)ncap * sizeof *p);
                if (!p) return SG_ENOMEM;
                ld->id_row = p;
                ld->id_cap = ncap;
            }
            if (rc == 1) ld->id_row[code] = r;
            else if ((rc = duplicate_id(ld, j, r, code, f)) != SG_OK) return rc;
        }
        c->codes[r] = code;
        return SG_OK;
    }
    default:
        break;
    }
    /* SG_COL_CATEGORY, or a column that has just become one */
    if (is_missing(s, len)) {
        c->codes[r] = -1;
        c->n_missing++;
        return SG_OK;
    }
    if ((rc = dict_intern(&c->dict, s, len, &c->codes[r])) < 0) return rc;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * loading: header and options */

/* "a, b, c, ... (N more)" into buf. */
static void list_columns(const loader *ld, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int j = 0; j < ld->n_cols; j++) {
        size_t n = strlen(ld->cols[j].name);
        if (o + n + 2 > 160 || o + n + 2 >= cap) {
            snprintf(buf + o, cap - o, "... (%d more)", ld->n_cols - j);
            return;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", ld->cols[j].name,
                              j + 1 < ld->n_cols ? ", " : "");
    }
}

static int find_col(const dict *names, const char *name)
{
    if (!names->slots) return -1;
    size_t len = strlen(name);
    uint32_t slot;
    return dict_find(names, name, len, hash_bytes(name, len), &slot);
}

static void not_found(loader *ld, const char *role, const char *name)
{
    char list[200], nm[4 * 64 + 8];
    list_columns(ld, list, sizeof list);
    escape(nm, sizeof nm, name, strlen(name), 64);
    report(ld, "%s: %s column '%s' not found; columns: %s", ld->file, role, nm, list);
}

/* Read the header row, create the columns and apply the options' column lists. */
static int read_header(loader *ld, sg_error *err)
{
    const sg_csv_field *f;
    int nf;
    sg_error cerr;
    int rc = sg_csv_next(ld->csv, &f, &nf, &cerr);
    if (rc < 0 && rc != SG_EPARSE) {
        if (err) *err = cerr;
        return rc;
    }
    if (rc < 0) {
        deliver(ld, cerr.msg);
        return SG_OK;
    }
    if (rc == 0) return sg_error_set(err, SG_EPARSE, "%s: empty file: no header row", ld->file);
    ld->line = sg_csv_line(ld->csv);
    ld->cols = sg_calloc((size_t)nf, sizeof *ld->cols);
    if (!ld->cols) return nomem(ld, err);
    ld->n_cols = nf;
    dict names = {0};   /* code k = column k, as long as names are distinct */
    int32_t *col_of = sg_malloc_array((size_t)nf, sizeof *col_of);  /* name code -> first column */
    if (!col_of) goto nomem;
    for (int j = 0; j < nf; j++) {
        column *c = &ld->cols[j];
        c->type = UNDECIDED;
        c->name = sg_strndup(f[j].ptr, f[j].len);
        if (!c->name) goto nomem;
        if (f[j].len == 0) {
            report(ld, "%s:%lld: column %d: expected a column name, got \"\"", ld->file,
                   (long long)ld->line, j + 1);
            continue;
        }
        int32_t code;
        if ((rc = dict_intern(&names, f[j].ptr, f[j].len, &code)) < 0) goto nomem;
        if (rc == 1) {
            col_of[code] = j;
            continue;
        }
        char nm[4 * 64 + 8];
        escape(nm, sizeof nm, f[j].ptr, f[j].len, 64);
        report(ld, "%s:%lld: column %d: expected a unique column name, got \"%s\" "
               "(also column %d)", ld->file, (long long)ld->line, j + 1, nm, col_of[code] + 1);
    }

    /* Options naming columns: conflicts are usage errors, unknown names data errors. */
    const sg_load_opts *o = ld->o;
    ld->id_j = -1;
    if (o->id_col) {
        int k = find_col(&names, o->id_col);
        if (k < 0) not_found(ld, "id", o->id_col);
        else ld->id_j = col_of[k];
    }
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass == 0 ? o->categorical : o->numeric;
        for (int i = 0; list && list[i]; i++) {
            int k = find_col(&names, list[i]);
            if (k < 0) {
                not_found(ld, pass == 0 ? "categorical" : "numeric", list[i]);
                continue;
            }
            column *c = &ld->cols[col_of[k]];
            int want = pass == 0 ? FORCE_CAT : FORCE_NUM;
            if ((c->forced && c->forced != want) || (want == FORCE_NUM && col_of[k] == ld->id_j)) {
                rc = sg_error_set(err, SG_EINVAL, "column '%s' is forced to be numeric and %s",
                                  c->name, c->forced ? "categorical" : "the id");
                goto out;
            }
            c->forced = want;
        }
    }
    for (int i = 0; o->required && o->required[i]; i++)
        if (find_col(&names, o->required[i]) < 0) not_found(ld, "required", o->required[i]);
    for (int j = 0; j < nf; j++) {
        column *c = &ld->cols[j];
        if (j == ld->id_j) c->type = SG_COL_ID;
        else if (c->forced == FORCE_CAT) c->type = SG_COL_CATEGORY;
        else if (c->forced == FORCE_NUM) c->type = SG_COL_NUMBER;
    }
    rc = SG_OK;
    goto out;
nomem:
    rc = nomem(ld, err);
out:
    dict_deinit(&names);
    sg_free(col_of);
    return rc;
}

/* ---------------------------------------------------------------------------
 * loading: the pass over the rows, and finishing */

/* Remove the dropped duplicate rows from every column and the line map. */
static int compact(loader *ld)
{
    int64_t *d = ld->dropped, nd = ld->n_dropped, n = ld->n_rows;
    for (int64_t k = 1; k < nd; k++) {
        if (d[k] < d[k - 1]) {
            qsort(d, (size_t)nd, sizeof *d, cmp_i64);
            break;
        }
    }
    for (int j = 0; j < ld->n_cols; j++) {
        column *c = &ld->cols[j];
        int64_t w = 0, k = 0, miss = 0;
        for (int64_t i = 0; i < n; i++) {
            if (k < nd && d[k] == i) {
                k++;
                continue;
            }
            if (c->num) miss += isnan(c->num[w] = c->num[i]);
            else if (c->codes) miss += (c->codes[w] = c->codes[i]) < 0;
            w++;
        }
        c->n_missing = c->num || c->codes ? miss : n - nd;
    }
    /* New breakpoints: walk the kept rows in order. */
    int64_t *br = NULL, *bo = NULL, nb = 0, cb = 0, cur = INT64_MIN, w = 0;
    int64_t k = 0, b = 0;
    for (int64_t i = 0; i < n; i++) {
        while (b + 1 < ld->n_bp && ld->bp_row[b + 1] <= i) b++;
        if (k < nd && d[k] == i) {
            k++;
            continue;
        }
        int64_t off = i + ld->bp_off[b] - w;
        if (off != cur) {
            if (push_bp(&br, &bo, &nb, &cb, w, off) != SG_OK) {
                sg_free(br);
                sg_free(bo);
                return SG_ENOMEM;
            }
            cur = off;
        }
        w++;
    }
    sg_free(ld->bp_row);
    sg_free(ld->bp_off);
    ld->bp_row = br;
    ld->bp_off = bo;
    ld->n_bp = nb;
    ld->n_rows = n - nd;
    return SG_OK;
}

/* Give every column its final form: undecided ones become numbers of missing
 * values, arrays shrink to the rows, lookup tables are freed. */
static int finish_columns(loader *ld)
{
    for (int j = 0; j < ld->n_cols; j++) {
        column *c = &ld->cols[j];
        if (c->type == UNDECIDED) c->type = SG_COL_NUMBER;
        if (!c->num && !c->codes && col_alloc(ld, c, ld->n_rows) != SG_OK) return SG_ENOMEM;
    }
    if (ld->n_dropped && compact(ld) != SG_OK) return SG_ENOMEM;
    size_t n = (size_t)SG_MAX(ld->n_rows, 1);
    for (int j = 0; j < ld->n_cols; j++) {
        column *c = &ld->cols[j];
        /* Shrinking never needs to succeed: a failed realloc keeps the block. */
        void *p;
        if (c->num && (p = sg_realloc(c->num, n * sizeof *c->num))) c->num = p;
        if (c->codes && (p = sg_realloc(c->codes, n * sizeof *c->codes))) c->codes = p;
        dict *d = &c->dict;
        dict_seal(d);
        if (d->text && (p = sg_realloc(d->text, d->text_len))) d->text = p;
        if (d->off && (p = sg_realloc(d->off, ((size_t)d->n + 1) * sizeof *d->off))) d->off = p;
    }
    return SG_OK;
}

static int load(sg_table **out, sg_csv *csv, const sg_load_opts *opts, sg_error *err)
{
    sg_load_opts defaults;
    if (!opts) {
        sg_load_opts_default(&defaults);
        opts = &defaults;
    }
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.csv = csv;
    ld.o = opts;
    ld.file = sg_csv_name(csv);
    ld.id_j = -1;
    sg_table *t = NULL;
    int rc;
    if (opts->dedup < SG_DEDUP_ERROR || opts->dedup > SG_DEDUP_LAST) {
        rc = sg_error_set(err, SG_EINVAL, "invalid duplicate-id rule %d", opts->dedup);
        goto out;
    }
    if (opts->max_errors < 0) {
        rc = sg_error_set(err, SG_EINVAL, "invalid max_errors %d", opts->max_errors);
        goto out;
    }
    if ((rc = read_header(&ld, err)) != SG_OK) goto out;
    if (ld.n_errors) goto bad;

    const sg_csv_field *f;
    int nf;
    sg_error cerr;
    int64_t next_progress = PROGRESS_STEP, cur_off = INT64_MIN;
    for (;;) {
        rc = sg_csv_next(csv, &f, &nf, &cerr);
        if (rc == 0) break;
        if (rc < 0) {
            if (rc != SG_EPARSE) {
                if (err) *err = cerr;
                goto out;
            }
            deliver(&ld, cerr.msg);
            break;
        }
        ld.line = sg_csv_line(csv);
        if (nf != ld.n_cols) {
            report(&ld, "%s:%lld: expected %d fields, got %d", ld.file, (long long)ld.line,
                   ld.n_cols, nf);
            continue;
        }
        if (ld.n_rows == ld.cap && grow_rows(&ld) != SG_OK) goto nomem;
        int64_t r = ld.n_rows;
        if (ld.line - r != cur_off) {
            cur_off = ld.line - r;
            if (push_bp(&ld.bp_row, &ld.bp_off, &ld.n_bp, &ld.bp_cap, r, cur_off) != SG_OK)
                goto nomem;
        }
        for (int j = 0; j < ld.n_cols; j++)
            if (put_cell(&ld, j, r, &f[j]) != SG_OK) goto nomem;
        ld.n_rows++;
        if (opts->on_progress && sg_csv_bytes_read(csv) >= next_progress) {
            opts->on_progress(opts->ud, sg_csv_bytes_read(csv), sg_csv_size(csv), ld.n_rows);
            next_progress = sg_csv_bytes_read(csv) + PROGRESS_STEP;
        }
    }
    if (ld.n_errors) goto bad;
    if (finish_columns(&ld) != SG_OK) goto nomem;

    t = sg_calloc(1, sizeof *t);
    if (!t || !(t->name = sg_strdup(ld.file))) goto nomem;
    t->n_rows = ld.n_rows;
    t->n_cols = ld.n_cols;
    t->cols = ld.cols;
    t->n_dups = ld.n_dropped;
    t->bp_row = ld.bp_row;
    t->bp_off = ld.bp_off;
    t->n_bp = ld.n_bp;
    ld.cols = NULL;
    ld.bp_row = ld.bp_off = NULL;
    if (opts->on_progress)
        opts->on_progress(opts->ud, sg_csv_bytes_read(csv), sg_csv_size(csv), t->n_rows);
    SG_LOG(SG_LOG_DEBUG, "table", "%s: %lld rows, %d columns, %lld duplicates dropped",
           t->name, (long long)t->n_rows, t->n_cols, (long long)t->n_dups);
    *out = t;
    t = NULL;
    rc = SG_OK;
    goto out;

bad:
    if (ld.n_errors == 1)
        rc = sg_error_set(err, SG_EPARSE, "%s", ld.first_error);
    else
        rc = sg_error_set(err, SG_EPARSE, "%lld errors; first: %s", (long long)ld.n_errors,
                          ld.first_error);
    goto out;
nomem:
    rc = nomem(&ld, err);
out:
    sg_table_free(t);
    columns_free(ld.cols, ld.n_cols);
    sg_free(ld.id_row);
    sg_free(ld.dropped);
    sg_free(ld.bp_row);
    sg_free(ld.bp_off);
    if (ld.loc) freelocale(ld.loc);
    return rc;
}

int sg_table_load_csv(sg_table **out, const char *path, const sg_load_opts *o, sg_error *err)
{
    sg_csv *csv = NULL;
    int rc = sg_csv_open(&csv, path, err);
    if (rc != SG_OK) return rc;
    rc = load(out, csv, o, err);
    sg_csv_free(csv);
    return rc;
}

int sg_table_load_mem(sg_table **out, const char *name, const char *data, size_t len,
                      const sg_load_opts *o, sg_error *err)
{
    sg_csv *csv = NULL;
    int rc = sg_csv_open_mem(&csv, name, data, len, err);
    if (rc != SG_OK) return rc;
    rc = load(out, csv, o, err);
    sg_csv_free(csv);
    return rc;
}

/* ---------------------------------------------------------------------------
 * accessors */

int64_t sg_table_n_rows(const sg_table *t) { return t->n_rows; }
int sg_table_n_cols(const sg_table *t) { return t->n_cols; }
const char *sg_table_name(const sg_table *t) { return t->name; }
int64_t sg_table_n_duplicates(const sg_table *t) { return t->n_dups; }

static const column *col_at(const sg_table *t, int j)
{
    return j >= 0 && j < t->n_cols ? &t->cols[j] : NULL;
}

const char *sg_table_col_name(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c ? c->name : NULL;
}

sg_coltype sg_table_col_type(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c ? (sg_coltype)c->type : SG_COL_NUMBER;
}

const char *sg_coltype_name(sg_coltype type)
{
    switch (type) {
    case SG_COL_NUMBER: return "number";
    case SG_COL_CATEGORY: return "category";
    case SG_COL_ID: return "id";
    case SG_COL_DATE: return "date";
    default: return "unknown";
    }
}

int sg_table_find(const sg_table *t, const char *name)
{
    for (int j = 0; j < t->n_cols; j++)
        if (strcmp(t->cols[j].name, name) == 0) return j;
    return -1;
}

int64_t sg_table_n_missing(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c ? c->n_missing : 0;
}

int64_t sg_table_row_line(const sg_table *t, int64_t i)
{
    if (i < 0 || i >= t->n_rows) return 0;
    return line_of(t->bp_row, t->bp_off, t->n_bp, i);
}

const double *sg_table_num(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c && (c->type == SG_COL_NUMBER || c->type == SG_COL_DATE) ? c->num : NULL;
}

const int32_t *sg_table_codes(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c && (c->type == SG_COL_CATEGORY || c->type == SG_COL_ID) ? c->codes : NULL;
}

int32_t sg_table_n_labels(const sg_table *t, int j)
{
    const column *c = col_at(t, j);
    return c && c->codes ? c->dict.n : 0;
}

const char *sg_table_label(const sg_table *t, int j, int32_t code)
{
    const column *c = col_at(t, j);
    if (!c || !c->codes || code < 0 || code >= c->dict.n) return NULL;
    return dict_label(&c->dict, code);
}

const char *sg_table_cell(const sg_table *t, int64_t i, int j, char *buf, size_t cap)
{
    const column *c = col_at(t, j);
    if (cap == 0) return buf;
    buf[0] = '\0';
    if (!c || i < 0 || i >= t->n_rows) return buf;
    if (c->codes) {
        if (c->codes[i] >= 0) snprintf(buf, cap, "%s", dict_label(&c->dict, c->codes[i]));
    } else if (!isnan(c->num[i])) {
        if (c->type == SG_COL_DATE) format_date(buf, cap, c->num[i], c->date_sep, c->date_secs);
        else snprintf(buf, cap, "%.15g", c->num[i]);
    }
    return buf;
}
