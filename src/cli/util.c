/* util.c -- option parsing, data loading, atomic output and progress for the CLI. */
#include "cli.h"
#include "cli_workspace.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stratagem/mem.h"
#include "stratagem/model.h"

int cli_quiet;

/* ---------------------------------------------------------------- options */

static int set_value(const char *cmd, cli_opt *o, const char *v)
{
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_STR:
        *(const char **)o->dest = v;
        return 0;
    case OPT_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || errno || x < -1000000000L || x > 1000000000L) {
            cli_usage_error(cmd, "option '--%s' expects an integer, got '%s'", o->name, v);
            return -1;
        }
        *(int *)o->dest = (int)x;
        return 0;
    }
    case OPT_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-') {
            cli_usage_error(cmd, "option '--%s' expects a non-negative integer, got '%s'", o->name, v);
            return -1;
        }
        *(uint64_t *)o->dest = x;
        return 0;
    }
    case OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x)) {
            cli_usage_error(cmd, "option '--%s' expects a number, got '%s'", o->name, v);
            return -1;
        }
        *(double *)o->dest = x;
        return 0;
    }
    }
    return -1;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, char **pos, int max_pos,
              int *n_pos, int *help)
{
    *n_pos = 0;
    *help = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = 1;
            continue;
        }
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                if (*n_pos >= max_pos) return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]), -1;
                pos[(*n_pos)++] = argv[i];
            }
            break;
        }
        cli_opt *o = NULL;
        const char *val = NULL;
        if (a[0] == '-' && a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (cli_opt *p = opts; p->name; p++)
                if (strlen(p->name) == len && !strncmp(p->name, name, len)) o = p;
            if (!o) return cli_usage_error(cmd, "unrecognized option '%s'", a), -1;
            if (eq) val = eq + 1;
        } else if (a[0] == '-' && a[1] && a[2] == '\0' && a[1] != '-') {
            for (cli_opt *p = opts; p->name; p++)
                if (p->short_name == a[1]) o = p;
            if (!o) return cli_usage_error(cmd, "unrecognized option '%s'", a), -1;
        } else {
            if (*n_pos >= max_pos) return cli_usage_error(cmd, "unexpected argument '%s'", a), -1;
            pos[(*n_pos)++] = a;
            continue;
        }
        if (o->type == OPT_FLAG) {
            if (val) return cli_usage_error(cmd, "option '--%s' takes no value", o->name), -1;
            *(int *)o->dest = 1;
            o->seen = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "option '--%s' needs a value", o->name), -1;
            val = argv[++i];
        }
        if (set_value(cmd, o, val)) return -1;
        o->seen = 1;
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stratagem: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nUse 'stratagem help%s%s' for help.\n", cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

int cli_exit_code(int code)
{
    switch (code) {
    case SG_OK: return EXIT_OK;
    case SG_EPARSE:
    case SG_ENOTFOUND:
    case SG_EINVAL: return EXIT_DATA;
    default: return EXIT_RUNTIME;
    }
}

int cli_fail(const sg_error *err)
{
    cli_progress_end();
    fprintf(stderr, "stratagem: %s\n", err->msg[0] ? err->msg : sg_strerror(err->code));
    return cli_exit_code(err->code);
}

char **cli_split_list(const char *s)
{
    if (!s) return NULL;
    int n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    char **list = sg_calloc((size_t)n + 1, sizeof *list);
    if (!list) return NULL;
    int k = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == ',' || *p == '\0') {
            if (p > start) {
                list[k] = sg_strndup(start, (size_t)(p - start));
                if (!list[k]) {
                    cli_list_free(list);
                    return NULL;
                }
                k++;
            }
            if (!*p) break;
            start = p + 1;
        }
    }
    return list;
}

void cli_list_free(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) sg_free(*p);
    sg_free(list);
}

/* ---------------------------------------------------------------- loading */

static int n_printed_errors;

static void print_load_error(void *ud, const char *msg)
{
    (void)ud;
    cli_progress_end();
    fprintf(stderr, "stratagem: %s\n", msg);
    n_printed_errors++;
}

int cli_load_table(const char *path, const cli_data_opts *o, sg_table **out)
{
    if (cli_is_ws_table(path)) return cli_load_ws_table(path, o, out);
    sg_load_opts lo;
    sg_load_opts_default(&lo);
    char **cat = cli_split_list(o->categorical), **num = cli_split_list(o->numeric);
    lo.id_col = o->id;
    if (o->dedup) {
        if (!strcmp(o->dedup, "first")) lo.dedup = SG_DEDUP_FIRST;
        else if (!strcmp(o->dedup, "last")) lo.dedup = SG_DEDUP_LAST;
        else if (!strcmp(o->dedup, "error")) lo.dedup = SG_DEDUP_ERROR;
        else {
            cli_list_free(cat);
            cli_list_free(num);
            return cli_usage_error(NULL, "--dedup must be first, last or error (got '%s')", o->dedup);
        }
    }
    lo.categorical = (const char *const *)cat;
    lo.numeric = (const char *const *)num;
    lo.required = o->required;
    lo.on_error = print_load_error;
    lo.on_progress = cli_quiet ? NULL : cli_progress_bytes;
    sg_error err;
    sg_error_clear(&err);
    n_printed_errors = 0;
    int rc = sg_table_load_csv(out, path, &lo, &err);
    cli_progress_end();
    cli_list_free(cat);
    cli_list_free(num);
    if (rc) {
        /* the per-row messages were printed already; the summary says how many */
        if (n_printed_errors == 0 || rc != SG_EPARSE) return cli_fail(&err);
        /* one error was printed already; several get a closing count */
        if (n_printed_errors > 1) fprintf(stderr, "stratagem: %s: %s\n", path, err.msg);
        return cli_exit_code(rc);
    }
    if (!cli_quiet) {
        fprintf(stderr, "stratagem: %s: %lld rows, %d columns", path,
                (long long)sg_table_n_rows(*out), sg_table_n_cols(*out));
        if (sg_table_n_duplicates(*out))
            fprintf(stderr, ", %lld duplicate ids dropped (--dedup %s)",
                    (long long)sg_table_n_duplicates(*out), o->dedup);
        fprintf(stderr, "\n");
    }
    return EXIT_OK;
}

int cli_filter_rows(const sg_table *t, const char *spec, int64_t **rows, int64_t *n)
{
    *rows = NULL;
    *n = sg_table_n_rows(t);
    if (!spec) return EXIT_OK;
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) return cli_usage_error(NULL, "--where expects COL=VALUE, got '%s'", spec);
    char col[256];
    size_t len = (size_t)(eq - spec);
    if (len >= sizeof col) return cli_usage_error(NULL, "--where: column name too long");
    memcpy(col, spec, len);
    col[len] = '\0';
    int j = sg_table_find(t, col);
    if (j < 0) {
        fprintf(stderr, "stratagem: %s: --where: no column '%s'\n", sg_table_name(t), col);
        return EXIT_DATA;
    }
    const char *val = eq + 1;
    int64_t N = sg_table_n_rows(t), k = 0;
    int64_t *r = sg_malloc_array((size_t)(N ? N : 1), sizeof *r);
    if (!r) {
        fprintf(stderr, "stratagem: out of memory\n");
        return EXIT_RUNTIME;
    }
    const double *num = sg_table_num(t, j);
    char *end;
    double want = strtod(val, &end);
    int numeric = num && end != val && *end == '\0';
    char buf[512];
    for (int64_t i = 0; i < N; i++) {
        int hit = numeric ? num[i] == want : !strcmp(sg_table_cell(t, i, j, buf, sizeof buf), val);
        if (hit) r[k++] = i;
    }
    *rows = r;
    *n = k;
    if (!cli_quiet) fprintf(stderr, "stratagem: --where %s: %lld of %lld rows\n", spec, (long long)k, (long long)N);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- output */

int cli_out_open(cli_out *o, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        o->is_stdout = 1;
        return EXIT_OK;
    }
    snprintf(o->path, sizeof o->path, "%s", path);
    /* a regular file is written under a temporary name and renamed over, so a
     * failure never leaves half a file; a device or FIFO is written in place
     * (renaming over /dev/null would replace the device with a file) */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "stratagem: %s: cannot write: it is a directory\n", path);
            return EXIT_RUNTIME;
        }
        o->direct = 1;
        o->f = fopen(path, "w");
    } else {
        snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
        o->f = fopen(o->tmp, "w");
    }
    if (!o->f) {
        fprintf(stderr, "stratagem: %s: cannot write: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int cli_out_commit(cli_out *o)
{
    if (o->is_stdout) return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
    int ok = fflush(o->f) == 0 && !ferror(o->f);
    if (fclose(o->f) != 0) ok = 0;
    o->f = NULL;
    if (o->direct) {
        if (!ok) fprintf(stderr, "stratagem: %s: cannot write: %s\n", o->path, strerror(errno));
        return ok ? EXIT_OK : EXIT_RUNTIME;
    }
    if (!ok || rename(o->tmp, o->path) != 0) {
        fprintf(stderr, "stratagem: %s: cannot write: %s\n", o->path, strerror(errno));
        unlink(o->tmp);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

void cli_out_abort(cli_out *o)
{
    if (o->is_stdout || !o->f) return;
    fclose(o->f);
    o->f = NULL;
    if (!o->direct) unlink(o->tmp);
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---------------------------------------------------------------- progress */

/* On a terminal: one line redrawn in place with rate and ETA.  Otherwise a
 * plain line at most every 2 seconds (logs stay readable). */
static double t_start, t_last;
static int bar_active;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_line(const char *what, double frac, const char *rate)
{
    double t = now_s();
    if (!bar_active) {
        t_start = t;
        t_last = 0;
        bar_active = 1;
    }
    int tty = isatty(2);
    /* without a terminal: nothing for work shorter than 2 s, then a line every 2 s */
    if (!tty && t - t_start < 2.0) return;
    if (t - t_last < (tty ? 0.1 : 2.0) && frac < 1) return;
    t_last = t;
    double el = t - t_start, eta = frac > 0 ? el * (1 - frac) / frac : 0;
    if (tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : ' ';
        bar[30] = '\0';
        fprintf(stderr, "\r%-16s [%s] %5.1f%% %s ETA %4.0fs ", what, bar, 100 * frac, rate, eta);
    } else {
        fprintf(stderr, "stratagem: %s %.1f%% %s, %.0fs elapsed\n", what, 100 * frac, rate, el);
    }
}

void cli_progress_bytes(void *ud, int64_t done, int64_t total, int64_t rows)
{
    (void)ud;
    char rate[64];
    double el = now_s() - (bar_active ? t_start : now_s());
    snprintf(rate, sizeof rate, "%lld rows %.0f MB/s", (long long)rows,
             el > 0 ? (double)done / 1e6 / el : 0.0);
    progress_line("reading", total > 0 ? (double)done / (double)total : 0, rate);
}

void cli_progress_steps(void *ud, const char *stage, int done, int total)
{
    (void)ud;
    char rate[64];
    snprintf(rate, sizeof rate, "%d/%d", done, total);
    progress_line(stage, total > 0 ? (double)done / total : 0, rate);
}

void cli_progress_end(void)
{
    if (bar_active && isatty(2)) fprintf(stderr, "\r%80s\r", "");
    bar_active = 0;
}

int cli_model_task(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if ((!strcmp(argv[i], "--model") || !strcmp(argv[i], "-m")) && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--model=", 8))
            path = argv[i] + 8;
    }
    return sg_modelfile_task(path);
}
