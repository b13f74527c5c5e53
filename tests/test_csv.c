/* test_csv.c -- the streaming CSV reader: the case table tests/data/csv.cases, read
 * through every buffer size, and reads from files across buffer refills.
 *
 * The reader's source is included (llm.c style) so the tests can shrink its
 * read buffer; the library's csv.o is then not linked in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "io/csv.c"

#define CASES "tests/data/csv.cases"

/* ---------------------------------------------------------------------------
 * a growing string */

typedef struct str {
    char *s;
    size_t len, cap;
} str;

static void str_addn(str *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void str_add(str *b, const char *s) { str_addn(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3)))
static void str_addf(str *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    str_add(b, tmp);
}

/* ---------------------------------------------------------------------------
 * the case table */

/* Decode the escapes of an input line (see csv.cases) into 'out'. */
static void unescape(const char *in, str *out)
{
    out->len = 0;
    str_addn(out, "", 0);
    if (strcmp(in, "(empty)") == 0) return;
    for (const char *p = in; *p; p++) {
        char ch = *p;
        if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case '0': ch = '\0'; break;
            case '\\': ch = '\\'; break;
            case 'x': {
                char hex[3] = {p[1], p[2], 0};
                ch = (char)strtol(hex, NULL, 16);
                p += 2;
                break;
            }
            default: fail_msg("bad escape \\%c in %s", *p, in);
            }
        }
        str_addn(out, &ch, 1);
    }
}

static void render_field(str *b, const sg_csv_field *f)
{
    if (f->quoted) str_add(b, "\"");
    for (size_t i = 0; i < f->len; i++) {
        unsigned char ch = (unsigned char)f->ptr[i];
        switch (ch) {
        case '\n': str_add(b, "\\n"); break;
        case '\r': str_add(b, "\\r"); break;
        case '\t': str_add(b, "\\t"); break;
        case '\\': str_add(b, "\\\\"); break;
        case '|': str_add(b, "\\|"); break;
        case ']': str_add(b, "\\]"); break;
        case '"': str_add(b, "\\\""); break;
        default:
            if (ch < 0x20 || ch == 0x7F) str_addf(b, "\\x%02X", ch);
            else str_addn(b, (const char *)&ch, 1);
        }
    }
    if (f->quoted) str_add(b, "\"");
    assert_int_equal(f->ptr[f->len], '\0');
}

/* Read all of 'data' with a read buffer of 'bufsize' bytes and render the result. */
static void render(const char *data, size_t len, size_t bufsize, str *out)
{
    out->len = 0;
    str_addn(out, "", 0);
    csv_buf_size = bufsize;
    sg_csv *c = NULL;
    sg_error err;
    assert_int_equal(sg_csv_open_mem(&c, "t.csv", data, len, &err), SG_OK);
    const sg_csv_field *f;
    int nf, rc, n_rec = 0;
    while ((rc = sg_csv_next(c, &f, &nf, &err)) == 1) {
        if (n_rec++) str_add(out, " ");
        str_addf(out, "%lld:[", (long long)sg_csv_line(c));
        for (int k = 0; k < nf; k++) {
            if (k) str_add(out, "|");
            render_field(out, &f[k]);
        }
        str_add(out, "]");
    }
    if (rc < 0) {
        str_addf(out, "%serror: %s", n_rec ? " " : "", err.msg);
        /* the error sticks */
        sg_error err2;
        assert_int_equal(sg_csv_next(c, &f, &nf, &err2), rc);
        assert_string_equal(err2.msg, err.msg);
    } else if (n_rec == 0) {
        str_add(out, "(none)");
        assert_int_equal(sg_csv_next(c, &f, &nf, &err), 0);
    }
    sg_csv_free(c);
    csv_buf_size = SG_CSV_BUFSIZE;
}

/* csv-1.N: case N of tests/data/csv.cases, read with buffer sizes 1 B .. 1 MiB */
static void cases(void **state)
{
    (void)state;
    FILE *fp = fopen(CASES, "r");
    assert_non_null(fp);
    static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 16, 31, 64, (size_t)1 << 20};
    char line[4096];
    int lineno = 0, n_cases = 0, n_failed = 0, in_line = 0;
    char input[4096];
    str data = {0}, got = {0};
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') continue;
        if (line[0] == '\0') {
            in_line = 0;
            continue;
        }
        if (!in_line) {
            snprintf(input, sizeof input, "%s", line);
            in_line = lineno;
            continue;
        }
        n_cases++;
        unescape(input, &data);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            int64_t live = sg_mem_live_bytes();
            render(data.s, data.len, sizes[k], &got);
            assert_int_equal(sg_mem_live_bytes(), live);
            if (strcmp(got.s, line) != 0) {
                print_error("csv-1.%d (%s:%d) with a %zu-byte buffer\n  input:    %s\n"
                            "  expected: %s\n  got:      %s\n",
                            n_cases, CASES, in_line, sizes[k], input, line, got.s);
                n_failed++;
                break;
            }
        }
        in_line = 0;
    }
    fclose(fp);
    free(data.s);
    free(got.s);
    assert_true(n_cases >= 40);
    assert_int_equal(n_failed, 0);
}

/* ---------------------------------------------------------------------------
 * files and buffer refills */

/* The expected fields of generated record 'i' (see write_records). */
static void expected_fields(int i, char f[3][600])
{
    snprintf(f[0], 600, "%d", i);
    snprintf(f[1], 600, "q\"%d\"\nline,\r\n%s", i, i % 3 ? "" : "é");
    int n = (i * 37) % 500;
    for (int k = 0; k < n; k++) f[2][k] = (char)('a' + (i + k) % 26);
    memcpy(f[2] + n, "日本", 6);
    f[2][n + 6] = '\0';
}

/* Write 'n' records with quoted fields holding quotes, commas and line ends,
 * and fields of varying length, to a temporary file; returns its path. */
static void write_records(char *path, int n)
{
    strcpy(path, "/tmp/sg_test_csv_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    fputs("\xEF\xBB\xBFid,text,long\r\n", fp);
    char f[3][600];
    for (int i = 0; i < n; i++) {
        expected_fields(i, f);
        fprintf(fp, "%s,\"", f[0]);
        for (const char *p = f[1]; *p; p++) {
            if (*p == '"') fputc('"', fp);
            fputc(*p, fp);
        }
        fprintf(fp, "\",%s%s", f[2], i % 2 ? "\n" : "\r\n");
    }
    fclose(fp);
}

static void read_records(const char *path, int n, size_t bufsize)
{
    csv_buf_size = bufsize;
    sg_csv *c = NULL;
    sg_error err;
    assert_int_equal(sg_csv_open(&c, path, &err), SG_OK);
    const sg_csv_field *f;
    int nf;
    assert_int_equal(sg_csv_next(c, &f, &nf, &err), 1);
    assert_int_equal(nf, 3);
    assert_string_equal(f[0].ptr, "id");
    char want[3][600];
    for (int i = 0; i < n; i++) {
        int rc = sg_csv_next(c, &f, &nf, &err);
        if (rc != 1) fail_msg("record %d: rc %d: %s", i, rc, err.msg);
        assert_int_equal(nf, 3);
        /* every record spans 3 lines, after the header line */
        assert_int_equal(sg_csv_line(c), 2 + 3 * (int64_t)i);
        expected_fields(i, want);
        for (int k = 0; k < 3; k++) {
            assert_string_equal(f[k].ptr, want[k]);
            assert_int_equal(f[k].len, strlen(want[k]));
            assert_int_equal(f[k].quoted, k == 1);
        }
    }
    assert_int_equal(sg_csv_next(c, &f, &nf, &err), 0);
    assert_int_equal(sg_csv_bytes_read(c), sg_csv_size(c));
    sg_csv_free(c);
    csv_buf_size = SG_CSV_BUFSIZE;
}

/* csv-2.1: records straddling refills of a 7-byte and a 100-byte buffer, from a file */
static void file_small_buffer(void **state)
{
    (void)state;
    char path[64];
    int64_t live = sg_mem_live_bytes();
    write_records(path, 300);
    read_records(path, 300, 7);
    read_records(path, 300, 100);
    unlink(path);
    assert_int_equal(sg_mem_live_bytes(), live);
}

/* csv-2.2: the default 1 MiB buffer, with a file several times larger than it */
static void file_large(void **state)
{
    (void)state;
    char path[64];
    write_records(path, 12000);
    read_records(path, 12000, SG_CSV_BUFSIZE);
    unlink(path);
}

/* csv-2.3: a missing file is SG_EIO naming the path */
static void file_missing(void **state)
{
    (void)state;
    sg_csv *c = NULL;
    sg_error err;
    assert_int_equal(sg_csv_open(&c, "/nonexistent/x.csv", &err), SG_EIO);
    assert_null(c);
    assert_non_null(strstr(err.msg, "/nonexistent/x.csv: cannot open"));
    sg_csv_free(NULL);
}

/* csv-2.4: a record much longer than the buffer grows it; memory input reports its size */
static void long_record(void **state)
{
    (void)state;
    size_t n = 100000;
    char *data = malloc(n + 8);
    assert_non_null(data);
    data[0] = '"';
    for (size_t i = 1; i < n; i++) data[i] = (char)('a' + i % 26);
    memcpy(data + n, "\",x\nb", 5);
    csv_buf_size = 1000;
    sg_csv *c;
    sg_error err;
    assert_int_equal(sg_csv_open_mem(&c, "m.csv", data, n + 5, &err), SG_OK);
    assert_int_equal(sg_csv_size(c), (int64_t)n + 5);
    const sg_csv_field *f;
    int nf;
    assert_int_equal(sg_csv_next(c, &f, &nf, &err), 1);
    assert_int_equal(nf, 2);
    assert_int_equal(f[0].len, n - 1);
    assert_memory_equal(f[0].ptr, data + 1, n - 1);
    assert_string_equal(f[1].ptr, "x");
    assert_int_equal(sg_csv_next(c, &f, &nf, &err), 1);
    assert_string_equal(f[0].ptr, "b");
    assert_int_equal(sg_csv_line(c), 2);
    assert_int_equal(sg_csv_next(c, &f, &nf, &err), 0);
    assert_string_equal(sg_csv_name(c), "m.csv");
    sg_csv_free(c);
    csv_buf_size = SG_CSV_BUFSIZE;
    free(data);
}

/* csv-2.5: every allocation failure while opening and reading is a clean SG_ENOMEM */
static void alloc_failures(void **state)
{
    (void)state;
    const char *data = "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t\n\"long field\",2\n";
    int64_t live = sg_mem_live_bytes();
    int ok = 0;
    csv_buf_size = 4;
    for (int k = 0; k < 50 && !ok; k++) {
        sg_mem_fail_after(k);
        sg_csv *c = NULL;
        sg_error err;
        int rc = sg_csv_open_mem(&c, "t.csv", data, strlen(data), &err);
        const sg_csv_field *f;
        int nf;
        while (rc == SG_OK && (rc = sg_csv_next(c, &f, &nf, &err)) == 1) rc = SG_OK;
        sg_csv_free(c);
        sg_mem_fail_after(-1);
        if (rc == 0) ok = 1;
        else assert_int_equal(rc, SG_ENOMEM);
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    csv_buf_size = SG_CSV_BUFSIZE;
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases),
        cmocka_unit_test(file_small_buffer),
        cmocka_unit_test(file_large),
        cmocka_unit_test(file_missing),
        cmocka_unit_test(long_record),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
