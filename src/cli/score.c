/* score.c -- load a response model and a data file, filter rows, score them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stratagem/mem.h"
#include "stratagem/response.h"

int cli_score(const char *cmd, const char *model, const char *data, const char *where,
              const char *id, const char *cat, const char *num, cli_scored *s)
{
    memset(s, 0, sizeof *s);
    s->id_col = -1;
    if (!model) return cli_usage_error(cmd, "missing --model MODEL");
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    sg_error err;
    sg_error_clear(&err);
    if (sg_response_load(&s->model, model, &err)) return cli_fail(&err);
    if (!id) id = sg_response_id(s->model);
    cli_data_opts dopt = {.id = NULL, .dedup = "error", .categorical = cat, .numeric = num};
    /* the id is loaded as a plain column here: predictions are per row, and a
     * duplicated id in a scoring file is reported, not resolved */
    int rc = cli_load_table(data, &dopt, &s->table);
    if (rc) return rc;
    if (id) {
        s->id_col = sg_table_find(s->table, id);
        if (s->id_col < 0 && !cli_quiet)
            fprintf(stderr, "stratagem: %s: no id column '%s'; rows are numbered instead\n", data, id);
    }
    if ((rc = cli_filter_rows(s->table, where, &s->rows, &s->n))) return rc;
    s->score = sg_malloc_array((size_t)(s->n ? s->n : 1), sizeof *s->score);
    if (!s->score) {
        fprintf(stderr, "stratagem: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (sg_response_predict(s->model, s->table, s->rows, s->n, s->score, &err)) return cli_fail(&err);
    return EXIT_OK;
}

void cli_scored_deinit(cli_scored *s)
{
    sg_response_free(s->model);
    sg_table_free(s->table);
    sg_free(s->rows);
    sg_free(s->score);
    memset(s, 0, sizeof *s);
}

const char *cli_row_id(const cli_scored *s, int64_t k, char *buf, size_t cap)
{
    int64_t i = s->rows ? s->rows[k] : k;
    if (s->id_col >= 0) return sg_table_cell(s->table, i, s->id_col, buf, cap);
    snprintf(buf, cap, "%lld", (long long)(i + 1));
    return buf;
}
