/* cli.h -- helpers shared by the subcommands of the stratagem program.
 *
 * The CLI uses only the public API (include/stratagem/).  Each subcommand is
 * 'int cmd_<name>(int argc, char **argv)' returning the process exit code:
 *   0 success, 1 runtime failure, 2 usage error, 3 bad input data, 130 interrupted. */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "stratagem/error.h"
#include "stratagem/table.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_INTERRUPT = 130 };

/* ---- option parsing ---- */
enum { OPT_STR, OPT_INT, OPT_DOUBLE, OPT_FLAG, OPT_U64 };

typedef struct cli_opt {
    const char *name;    /* long name without "--" */
    char short_name;     /* 0 if none */
    int type;
    void *dest;          /* const char **, int *, double *, int * (flag), uint64_t * */
    int seen;            /* set by the parser */
} cli_opt;

/* Parse argv[0..argc) (argv[0] is the first argument after the command name).
 * Positional arguments are stored into pos (up to max_pos; *n_pos set).
 * '--help' / '-h' sets *help.  On a bad option prints a message naming it, with
 * a hint to 'stratagem help CMD', and returns -1. */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, char **pos, int max_pos,
              int *n_pos, int *help);

/* Print "stratagem: CMD: message" and the help hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "stratagem: message" for a library error and map its code to an exit code. */
int cli_fail(const sg_error *err);
int cli_exit_code(int sg_code);

/* Split "a,b,c" into a NULL-terminated array (owned: cli_list_free). NULL for NULL. */
char **cli_split_list(const char *s);
void cli_list_free(char **list);

/* The task (SG_TASK_*, model.h) of the model file that argv names with
 * '--model FILE', '-m FILE' or '--model=FILE', read from the file's header
 * (the last such option counts); 0 when there is none or it is not a model
 * file (the command's own loading then says what is wrong). */
int cli_model_task(int argc, char **argv);

/* ---- data loading ---- */
typedef struct cli_data_opts {
    const char *id, *dedup, *categorical, *numeric;
    const char *required[8];   /* NULL-terminated roles that must exist */
} cli_data_opts;

/* Load a CSV with progress and error printing (first 10 errors, then a count).
 * Returns an exit code; *out set on success. */
int cli_load_table(const char *path, const cli_data_opts *o, sg_table **out);

/* Rows matching "COL=VALUE" (NULL spec = all rows: *rows NULL, *n = n_rows).
 * Returns an exit code. */
int cli_filter_rows(const sg_table *t, const char *spec, int64_t **rows, int64_t *n);

/* ---- output ---- */
/* Open an output file to be written atomically: data goes to a temporary file
 * that cli_out_commit renames into place ("-" = stdout). */
typedef struct cli_out {
    FILE *f;
    char path[4096], tmp[4200];
    int is_stdout;
    int direct;      /* a device or FIFO (/dev/null, a pipe): written in place, no rename */
} cli_out;
int cli_out_open(cli_out *o, const char *path);
int cli_out_commit(cli_out *o);   /* returns an exit code */
void cli_out_abort(cli_out *o);
/* Write a CSV field, quoted if needed. */
void cli_csv_field(FILE *f, const char *s);

/* ---- progress on stderr ---- */
void cli_progress_bytes(void *ud, int64_t done, int64_t total, int64_t rows);
void cli_progress_steps(void *ud, const char *stage, int done, int total);
void cli_progress_end(void);

/* set by main.c: -q / -v */
extern int cli_quiet;

/* ---- scoring a data file with a response model (predict, evaluate, plan) ---- */
typedef struct sg_response sg_response;
typedef struct cli_scored {
    sg_response *model;
    sg_table *table;
    int64_t *rows;      /* selected rows (NULL = all) */
    int64_t n;
    double *score;      /* (n) */
    int id_col;         /* column index of the id, -1 if none */
} cli_scored;
/* Load the model and the data, filter by --where, score.  Returns an exit code. */
int cli_score(const char *cmd, const char *model, const char *data, const char *where,
              const char *id, const char *cat, const char *num, cli_scored *s);
void cli_scored_deinit(cli_scored *s);
/* The id text of selected row k (the id column, else the 1-based row number). */
const char *cli_row_id(const cli_scored *s, int64_t k, char *buf, size_t cap);

/* ---- customer ids (idmap.c) ---- */
/* A map from id text to a row number (open addressing).  Keys are borrowed:
 * they must outlive the map. */
typedef struct cli_idmap {
    int64_t cap;
    const char **key;
    int64_t *val;
} cli_idmap;
/* Room for n keys; -1 when out of memory (cli_idmap_deinit is then still safe). */
int cli_idmap_init(cli_idmap *m, int64_t n);
void cli_idmap_deinit(cli_idmap *m);
/* 1 if inserted; 0 if the key was already there (its value is kept). */
int cli_idmap_put(cli_idmap *m, const char *k, int64_t v);
/* 1 and *v if found, else 0. */
int cli_idmap_get(const cli_idmap *m, const char *k, int64_t *v);
/* EXIT_OK if column 'col' of rows[0..n) (NULL = 0..n-1) holds no id twice; else
 * prints "FILE:LINE: customer 'X' appears twice (first at line M)" and returns
 * EXIT_DATA (EXIT_RUNTIME when out of memory). */
int cli_check_unique_ids(const sg_table *t, int col, const int64_t *rows, int64_t n);

/* ---- subcommands ---- */
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_world(int argc, char **argv);   /* cmd_world.c: log, customers, outcomes, score */
int cmd_serve(int argc, char **argv);   /* cmd_serve.c: the HTTP service */
int cmd_features(int argc, char **argv);   /* cmd_features.c: customer features from events */
extern const char cli_features_help_text[];
const char *cli_serve_help(const char *cmd);

/* Help text of a core command (NULL if unknown). */
const char *cli_help_text(const char *cmd);
/* Print all help sections for a command (core and task modules); returns how many. */
int cli_print_help(FILE *f, const char *cmd);

#endif
