/* csv.c -- streaming RFC 4180 CSV reader (see csv.h).
 *
 * The input is read through one buffer (1 MiB by default) that grows only for
 * a record longer than it.  A record is parsed in place: an unquoted field's
 * terminator is overwritten with NUL, and a quoted field is unescaped towards
 * its start (the write pointer never passes the read pointer), so fields point
 * straight into the buffer and nothing is copied for the common case.  When a
 * record runs past the end of the data, the partial record is moved to the
 * front of the buffer, more is read, and parsing resumes where it stopped
 * (every live pointer is rebased); nothing is parsed twice.
 *
 * The byte after the data is always NUL (a sentinel) followed by zero padding,
 * so the scanning loops need no bounds check: they stop at a structural byte,
 * a NUL (the sentinel, or a real NUL which is an error) or a byte >= 0x80
 * (then validated as UTF-8).  With SSE2 the scan looks at 16 bytes at a time
 * (-DSG_CSV_NO_SIMD selects the portable byte loop, for tests).
 *
 * Line ends are LF, CRLF or a lone CR (as Python's csv module).  Inside quotes
 * line ends are data and kept as written; line numbers count LF (and lone CR
 * outside quotes).  A quote inside an unquoted field is kept as data (lenient,
 * as most readers), but text after a closing quote is an error.  Error
 * positions are "FILE:LINE:COL" with COL the 1-based byte column (a UTF-8 BOM
 * is not counted).  See LICENSE. */
#include "stratagem/csv.h"
#include "stratagem/mem.h"
#include "internal.h"
#include "jsonrows.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__) && !defined(SG_CSV_NO_SIMD)
#define CSV_SSE2 1
#include <emmintrin.h>
#endif

#ifndef SG_CSV_BUFSIZE
#define SG_CSV_BUFSIZE ((size_t)1 << 20)
#endif
#define PAD 64   /* zero bytes kept after the data: sentinel + room for 16-byte loads */

/* Initial buffer size; tests that #include this file shrink it to force refills. */
static size_t csv_buf_size = SG_CSV_BUFSIZE;

struct sg_csv {
    char *name;            /* for messages */
    int fd;                /* -1 for memory input */
    int close_fd;          /* 0 for standard input */
    const char *mem;       /* memory input (borrowed), 'mem_len' bytes, 'mem_pos' consumed */
    size_t mem_len, mem_pos;
    char *buf;             /* (cap + PAD) bytes */
    size_t cap;
    size_t pos;            /* first unconsumed byte */
    size_t end;            /* end of the data; buf[end..end+PAD) are zero */
    int eof;               /* the source is exhausted (all of it is in buf) */
    int skip_lf;           /* the last record ended with CR: one LF after it is part of it */
    int64_t line;          /* line number at 'pos' */
    int64_t rec_line;      /* line where the last record returned started */
    int64_t pending_blank; /* blank-line records still to return before the one at 'pos' */
    int64_t n_read;        /* bytes read from the source */
    int64_t size;          /* total size, -1 when unknown */
    sg_csv_field *fields;  /* (fields_cap) the last record */
    size_t *foff;          /* (fields_cap) field starts as offsets from the record start */
    int fields_cap;
    int status;            /* SG_OK, or the error that stopped the reader */
    char errmsg[SG_ERRMSG_MAX];
    sg_jsonrows *json;     /* a JSON source (jsonrows.c): every call goes to it */
};

static const char empty_str[1] = "";

/* ---------------------------------------------------------------------------
 * errors */

/* Record an error that stops the reader, and set 'err'; returns 'code'. */
__attribute__((format(printf, 3, 4)))
static int stop(sg_csv *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    c->status = code;
    return code;
}

static int stop_at(sg_csv *c, sg_error *err, int64_t line, size_t col, const char *what)
{
    stop(c, SG_EPARSE, "%s:%lld:%zu: %s", c->name, (long long)line, col, what);
    return sg_error_set(err, SG_EPARSE, "%s", c->errmsg);
}

/* ---------------------------------------------------------------------------
 * input */

/* Drop the first 'keep' bytes of the buffer (moving the rest to the front),
 * grow the buffer if it is then full, and read more.  Sets 'eof' at the end of
 * the input.  Data that was at buf[keep + k] is afterwards at buf[k]. */
static int refill(sg_csv *c, size_t keep, sg_error *err)
{
    if (keep > 0) {
        memmove(c->buf, c->buf + keep, c->end - keep);
        c->end -= keep;
        c->pos = c->pos > keep ? c->pos - keep : 0;
    }
    if (c->end == c->cap) {
        if (c->cap > (SIZE_MAX - PAD) / 2) {
            stop(c, SG_ENOMEM, "%s:%lld: record too long", c->name, (long long)c->line);
            return sg_error_set(err, SG_ENOMEM, "%s", c->errmsg);
        }
        char *nb = sg_realloc(c->buf, 2 * c->cap + PAD);
        if (!nb) {
            stop(c, SG_ENOMEM, "%s:%lld: out of memory growing the read buffer to %zu bytes",
                 c->name, (long long)c->line, 2 * c->cap);
            return sg_error_set(err, SG_ENOMEM, "%s", c->errmsg);
        }
        c->buf = nb;
        c->cap *= 2;
    }
    size_t room = c->cap - c->end, n;
    if (c->fd < 0) {
        n = SG_MIN(room, c->mem_len - c->mem_pos);
        memcpy(c->buf + c->end, c->mem + c->mem_pos, n);
        c->mem_pos += n;
        if (c->mem_pos == c->mem_len) c->eof = 1;
    } else {
        ssize_t r;
        do {
            r = read(c->fd, c->buf + c->end, room);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            stop(c, SG_EIO, "%s: read error: %s", c->name, strerror(errno));
            return sg_error_set(err, SG_EIO, "%s", c->errmsg);
        }
        n = (size_t)r;
        if (n == 0) c->eof = 1;
    }
    c->end += n;
    c->n_read += (int64_t)n;
    memset(c->buf + c->end, 0, PAD);
    return SG_OK;
}

static int open_common(sg_csv **out, const char *name, int fd, int close_fd, const char *data,
                       size_t len, sg_error *err)
{
    sg_csv *c = sg_calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->fd = fd;
    c->close_fd = close_fd;
    c->mem = data;
    c->mem_len = len;
    c->line = 1;
    c->size = fd < 0 ? (int64_t)len : -1;
    c->cap = csv_buf_size > 0 ? csv_buf_size : 1;
    c->name = sg_strdup(name);
    c->buf = sg_malloc(c->cap + PAD);
    c->fields_cap = 16;
    c->fields = sg_malloc_array((size_t)c->fields_cap, sizeof *c->fields);
    c->foff = sg_malloc_array((size_t)c->fields_cap, sizeof *c->foff);
    if (!c->name || !c->buf || !c->fields || !c->foff) goto nomem;
    memset(c->buf, 0, PAD);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) c->size = (int64_t)st.st_size;
    }
    /* Skip a UTF-8 byte-order mark. */
    while (c->end < 3 && !c->eof) {
        int rc = refill(c, 0, err);
        if (rc != SG_OK) {
            c->close_fd = 0;   /* the caller closes its own fd on failure */
            sg_csv_free(c);
            return rc;
        }
    }
    if (c->end >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
    *out = c;
    return SG_OK;

nomem:
    if (c) c->close_fd = 0;
    sg_csv_free(c);
    return sg_error_set(err, SG_ENOMEM, "%s: out of memory opening the CSV reader", name);
}

/* A reader that hands every call to a JSON reader; takes 'fd' (< 0 for memory). */
static int open_json(sg_csv **out, const char *name, int fd, const char *data, size_t len,
                     sg_error *err)
{
    sg_csv *c = sg_calloc(1, sizeof *c);
    if (!c || !(c->name = sg_strdup(name))) {
        sg_free(c);
        if (fd >= 0) close(fd);
        return sg_error_set(err, SG_ENOMEM, "%s: out of memory opening the JSON reader", name);
    }
    c->fd = -1;
    int rc = sg_jsonrows_open(&c->json, name, fd, data, len, err);
    if (rc != SG_OK) {
        if (fd >= 0) close(fd);
        sg_csv_free(c);
        return rc;
    }
    *out = c;
    return SG_OK;
}

int sg_csv_open(sg_csv **out, const char *path, sg_error *err)
{
    if (strcmp(path, "-") == 0) return open_common(out, "<stdin>", 0, 0, NULL, 0, err);
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return sg_error_set(err, SG_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (sg_jsonrows_is_json(path)) return open_json(out, path, fd, NULL, 0, err);
    int rc = open_common(out, path, fd, 1, NULL, 0, err);
    if (rc != SG_OK) close(fd);
    return rc;
}

int sg_csv_open_mem(sg_csv **out, const char *name, const char *data, size_t len, sg_error *err)
{
    if (sg_jsonrows_is_json(name))
        return open_json(out, name, -1, data ? data : "", data ? len : 0, err);
    return open_common(out, name, -1, 0, data ? data : "", data ? len : 0, err);
}

void sg_csv_free(sg_csv *c)
{
    if (!c) return;
    if (c->fd >= 0 && c->close_fd) close(c->fd);
    sg_jsonrows_free(c->json);
    sg_free(c->name);
    sg_free(c->buf);
    sg_free(c->fields);
    sg_free(c->foff);
    sg_free(c);
}

int64_t sg_csv_line(const sg_csv *c) { return c->json ? sg_jsonrows_line(c->json) : c->rec_line; }
const char *sg_csv_name(const sg_csv *c) { return c->name; }
int64_t sg_csv_bytes_read(const sg_csv *c)
{
    return c->json ? sg_jsonrows_bytes_read(c->json) : c->n_read;
}
int64_t sg_csv_size(const sg_csv *c) { return c->json ? sg_jsonrows_size(c->json) : c->size; }

/* ---------------------------------------------------------------------------
 * scanning */

/* First byte at or after 'p' that is ',', LF, CR, NUL or >= 0x80. */
static inline char *scan_unquoted(char *p)
{
#ifdef CSV_SSE2
    const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, zero)));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(m, v));
        if (bits) return p + __builtin_ctz(bits);
        p += 16;
    }
#else
    for (;;) {
        unsigned char ch = (unsigned char)*p;
        if (ch == ',' || ch == '\n' || ch == '\r' || ch == 0 || ch >= 0x80) return p;
        p++;
    }
#endif
}

/* First byte at or after 'p' that is '"', LF, NUL or >= 0x80. */
static inline char *scan_quoted(char *p)
{
#ifdef CSV_SSE2
    const __m128i quote = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n');
    const __m128i zero = _mm_setzero_si128();
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, lf)),
                                 _mm_cmpeq_epi8(v, zero));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(m, v));
        if (bits) return p + __builtin_ctz(bits);
        p += 16;
    }
#else
    for (;;) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\n' || ch == 0 || ch >= 0x80) return p;
        p++;
    }
#endif
}

/* Length of the UTF-8 sequence that lead byte 'b' (>= 0x80) starts, 0 if it cannot start one. */
static int utf8_len(unsigned char b)
{
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

/* Check the sequence at 's' (at least utf8_len bytes readable, or 'avail' fewer at
 * the end of input).  Returns its length, or 0 and a description in 'why'. */
int sg_utf8_check(const unsigned char *s, size_t avail, char *why, size_t cap)
{
    unsigned char b = s[0];
    int n = utf8_len(b);
    if (n == 0) {
        if (b < 0xC0) snprintf(why, cap, "unexpected continuation byte 0x%02X", b);
        else if (b < 0xC2) snprintf(why, cap, "overlong encoding (byte 0x%02X)", b);
        else snprintf(why, cap, "invalid byte 0x%02X", b);
        return 0;
    }
    for (int k = 1; k < n; k++) {
        if ((size_t)k >= avail) {
            snprintf(why, cap, "truncated sequence (byte 0x%02X at end of input)", b);
            return 0;
        }
        if ((s[k] & 0xC0) != 0x80) {
            snprintf(why, cap, "truncated sequence (byte 0x%02X followed by 0x%02X)", b, s[k]);
            return 0;
        }
    }
    unsigned char b1 = s[1];
    if ((b == 0xE0 && b1 < 0xA0) || (b == 0xF0 && b1 < 0x90)) {
        snprintf(why, cap, "overlong encoding (bytes 0x%02X 0x%02X)", b, b1);
        return 0;
    }
    if (b == 0xED && b1 >= 0xA0) {
        snprintf(why, cap, "encoded surrogate (bytes 0x%02X 0x%02X)", b, b1);
        return 0;
    }
    if (b == 0xF4 && b1 >= 0x90) {
        snprintf(why, cap, "code point above U+10FFFF (bytes 0x%02X 0x%02X)", b, b1);
        return 0;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * records */

/* Parser state that must survive a refill: pointers into the buffer. */
typedef struct cursor {
    char *rec;         /* record start */
    char *p;           /* read position */
    char *e;           /* end of data (the sentinel) */
    char *fs;          /* current field start */
    char *w;           /* write position in a quoted field */
    char *line_start;  /* first byte of the current line (for columns) */
} cursor;

/* Read more input while keeping the record from 'cur->rec' on, and rebase the
 * cursor and the 'nf' fields already found. */
static int more(sg_csv *c, cursor *cur, int nf, sg_error *err)
{
    size_t o_p = (size_t)(cur->p - cur->rec), o_fs = (size_t)(cur->fs - cur->rec);
    size_t o_w = (size_t)(cur->w - cur->rec), o_ls = (size_t)(cur->line_start - cur->rec);
    int rc = refill(c, (size_t)(cur->rec - c->buf), err);
    if (rc != SG_OK) return rc;
    cur->rec = c->buf;
    cur->p = c->buf + o_p;
    cur->fs = c->buf + o_fs;
    cur->w = c->buf + o_w;
    cur->line_start = c->buf + o_ls;
    cur->e = c->buf + c->end;
    for (int k = 0; k < nf; k++) c->fields[k].ptr = c->buf + c->foff[k];
    return SG_OK;
}

/* Double the room for fields (rare: only the widest record so far gets here). */
static int grow_fields(sg_csv *c, sg_error *err)
{
    if (c->fields_cap > INT_MAX / 2) {
        stop(c, SG_EPARSE, "%s:%lld: too many fields in one record", c->name,
             (long long)c->rec_line);
        return sg_error_set(err, SG_EPARSE, "%s", c->errmsg);
    }
    int ncap = 2 * c->fields_cap;
    sg_csv_field *nf = sg_realloc(c->fields, (size_t)ncap * sizeof *nf);
    if (nf) c->fields = nf;
    size_t *no = nf ? sg_realloc(c->foff, (size_t)ncap * sizeof *no) : NULL;
    if (!no) {
        stop(c, SG_ENOMEM, "%s:%lld: out of memory for %d fields", c->name,
             (long long)c->rec_line, ncap);
        return sg_error_set(err, SG_ENOMEM, "%s", c->errmsg);
    }
    c->foff = no;
    c->fields_cap = ncap;
    return SG_OK;
}

static inline int push_field(sg_csv *c, int nf, const char *rec, const char *fs, size_t len,
                             int quoted, sg_error *err)
{
    if (nf == c->fields_cap) {
        int rc = grow_fields(c, err);
        if (rc != SG_OK) return rc;
    }
    c->fields[nf].ptr = fs;
    c->fields[nf].len = len;
    c->fields[nf].quoted = quoted;
    c->foff[nf] = (size_t)(fs - rec);
    return SG_OK;
}

/* A byte >= 0x80 at cur->p: validate the sequence, refilling if it straddles the
 * end of the data.  Returns its length (> 0) or a negative code. */
static int utf8_at(sg_csv *c, cursor *cur, int nf, int64_t line, sg_error *err)
{
    int n = utf8_len((unsigned char)*cur->p);
    while (n > 0 && cur->p + n > cur->e && !c->eof) {
        int rc = more(c, cur, nf, err);
        if (rc != SG_OK) return rc;
    }
    char why[96], msg[128];
    n = sg_utf8_check((const unsigned char *)cur->p, (size_t)(cur->e - cur->p), why, sizeof why);
    if (n > 0) return n;
    snprintf(msg, sizeof msg, "invalid UTF-8: %s", why);
    return stop_at(c, err, line, (size_t)(cur->p - cur->line_start) + 1, msg);
}

static int nul_error(sg_csv *c, sg_error *err, int64_t line, size_t col)
{
    return stop_at(c, err, line, col, "NUL byte (0x00) in input: not a text file?");
}

static void set_out(sg_csv *c, int nf, const sg_csv_field **fields, int *n_fields)
{
    *fields = c->fields;
    *n_fields = nf;
}

static int blank_record(sg_csv *c, const sg_csv_field **fields, int *n_fields)
{
    c->fields[0].ptr = empty_str;
    c->fields[0].len = 0;
    c->fields[0].quoted = 0;
    *fields = c->fields;
    *n_fields = 1;
    return 1;
}

#define CURSOR_PACK() cursor cs_ = {rec, p, e, fs, w, ls}
#define CURSOR_UNPACK() \
    (rec = cs_.rec, p = cs_.p, e = cs_.e, fs = cs_.fs, w = cs_.w, ls = cs_.line_start)
/* rc = more() / utf8_at() on the cursor held in sg_csv_next's locals. */
#define MORE(rc) \
    do { CURSOR_PACK(); (rc) = more(c, &cs_, nf, err); CURSOR_UNPACK(); } while (0)
#define UTF8_AT(rc) \
    do { CURSOR_PACK(); (rc) = utf8_at(c, &cs_, nf, line, err); CURSOR_UNPACK(); } while (0)

int sg_csv_next(sg_csv *c, const sg_csv_field **fields, int *n_fields, sg_error *err)
{
    if (c->json) return sg_jsonrows_next(c->json, fields, n_fields, err);
    if (c->status != SG_OK) return sg_error_set(err, c->status, "%s", c->errmsg);
    if (c->pending_blank > 0) {
        c->pending_blank--;
        c->rec_line = c->line++;
        return blank_record(c, fields, n_fields);
    }

    /* The cursor lives in locals (registers); it is packed into a 'cursor' only
     * for the slow paths that may move the buffer. */
    char *p = c->buf + c->pos, *e = c->buf + c->end, *rec, *fs, *w, *ls;
    int64_t n_blank = 0;
    int rc;
    /* Blank lines: a run of them that reaches the end of the input is not records;
     * otherwise each is a record with one empty field. */
    for (;;) {
        if (p == e) {
            if (c->eof) {
                c->pos = c->end;
                c->line += n_blank;
                return 0;
            }
            c->pos = (size_t)(p - c->buf);
            if ((rc = refill(c, c->pos, err)) != SG_OK) return rc;
            p = c->buf + c->pos;
            e = c->buf + c->end;
            continue;
        }
        if (*p == '\n') {
            if (c->skip_lf) c->skip_lf = 0;
            else n_blank++;
            p++;
        } else if (*p == '\r') {
            c->skip_lf = 1;
            n_blank++;
            p++;
        } else {
            c->skip_lf = 0;
            break;
        }
    }
    c->pos = (size_t)(p - c->buf);
    if (n_blank > 0) {
        c->pending_blank = n_blank - 1;
        c->rec_line = c->line++;
        return blank_record(c, fields, n_fields);
    }

    int64_t line = c->line;
    c->rec_line = line;
    rec = ls = fs = w = p;
    int nf = 0;
    unsigned char ch;
    for (;;) {   /* one field per iteration */
        if (p == e && !c->eof) {
            MORE(rc);
            if (rc != SG_OK) return rc;
        }
        fs = w = p;
        if (*p != '"') {
            /* Unquoted: up to ',', a line end or the end of input. */
            for (;;) {
                p = scan_unquoted(p);
                ch = (unsigned char)*p;
                if (ch == ',' || ch == '\n' || ch == '\r') break;
                if (ch == 0) {
                    if (p < e) return nul_error(c, err, line, (size_t)(p - ls) + 1);
                    if (c->eof) break;
                    MORE(rc);
                    if (rc != SG_OK) return rc;
                    continue;
                }
                UTF8_AT(rc);
                if (rc < 0) return rc;
                p += rc;
            }
            if ((rc = push_field(c, nf++, rec, fs, (size_t)(p - fs), 0, err)) != SG_OK)
                return rc;
            *p = '\0';
        } else {
            /* Quoted: unescape "" and keep line ends, writing at 'w' <= 'p'. */
            int64_t qline = line;
            size_t qcol = (size_t)(p - ls) + 1;
            p++;
            fs = w = p;
            for (;;) {
                char *s = p;
                p = scan_quoted(p);
                if (w != s) memmove(w, s, (size_t)(p - s));
                w += p - s;
                ch = (unsigned char)*p;
                if (ch == '"') {
                    if (p + 1 == e && !c->eof) {
                        MORE(rc);
                        if (rc != SG_OK) return rc;
                        continue;
                    }
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (ch == '\n') {
                    *w++ = '\n';
                    p++;
                    ls = p;
                    line++;
                    continue;
                }
                if (ch == 0) {
                    if (p < e) return nul_error(c, err, line, (size_t)(p - ls) + 1);
                    if (c->eof) {
                        return stop_at(c, err, qline, qcol,
                                       "unterminated quoted field: the quote opened here "
                                       "is never closed");
                    }
                    MORE(rc);
                    if (rc != SG_OK) return rc;
                    continue;
                }
                UTF8_AT(rc);
                if (rc < 0) return rc;
                if (w != p) memmove(w, p, (size_t)rc);
                w += rc;
                p += rc;
            }
            *w = '\0';
            if ((rc = push_field(c, nf++, rec, fs, (size_t)(w - fs), 1, err)) != SG_OK)
                return rc;
            if (p == e && !c->eof) {
                MORE(rc);
                if (rc != SG_OK) return rc;
            }
            ch = (unsigned char)*p;
            if (ch != ',' && ch != '\n' && ch != '\r' && !(ch == 0 && p == e)) {
                if (ch == 0) return nul_error(c, err, line, (size_t)(p - ls) + 1);
                char what[96];
                if (ch >= 0x20 && ch < 0x7F)
                    snprintf(what, sizeof what, "unexpected '%c' after a closing quote "
                             "(expected ',' or a line end)", ch);
                else
                    snprintf(what, sizeof what, "unexpected byte 0x%02X after a closing quote "
                             "(expected ',' or a line end)", ch);
                return stop_at(c, err, line, (size_t)(p - ls) + 1, what);
            }
        }
        if (ch == ',') {
            p++;
            continue;
        }
        /* End of record: a line end or the end of input. */
        if (ch == '\n' || ch == '\r') {
            c->skip_lf = ch == '\r';
            p++;
            line++;
        }
        break;
    }
    c->pos = (size_t)(p - c->buf);
    c->line = line;
    set_out(c, nf, fields, n_fields);
    return 1;
}
