/* cmd_plan.c -- 'stratagem plan --top N': the N best rows by predicted response,
 * with the expected number of conversions among them and a 90% interval. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/response.h"

int cmd_plan(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *where = NULL, *id = NULL, *out = NULL;
    const char *summary = NULL, *cat = NULL, *num = NULL;
    int help = 0, n_pos, top = -1;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},   {"data", 'd', OPT_STR, &data, 0},
        {"where", 0, OPT_STR, &where, 0},     {"id", 0, OPT_STR, &id, 0},
        {"top", 0, OPT_INT, &top, 0},         {"out", 'o', OPT_STR, &out, 0},
        {"summary", 0, OPT_STR, &summary, 0}, {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},     {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("plan", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_help_text("plan"), stdout);
        return EXIT_OK;
    }
    if (top < 0) return cli_usage_error("plan", "missing --top N (the number of rows to choose)");
    if (!out) return cli_usage_error("plan", "missing --out FILE");
    cli_scored s;
    int rc = cli_score("plan", model, data, where, id, cat, num, &s);
    int64_t *idx = NULL;
    json_t *root = NULL;
    if (rc) goto done;
    int64_t k = top < s.n ? top : s.n;
    if (top > s.n)
        fprintf(stderr, "stratagem: warning: --top %d but only %lld rows: all are chosen\n", top, (long long)s.n);
    idx = sg_malloc_array((size_t)(k ? k : 1), sizeof *idx);
    if (!idx || sg_topk(s.score, s.n, k, idx) < 0) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) goto done;
    char buf[512];
    fprintf(o.f, "%s,score\n", s.id_col >= 0 ? sg_table_col_name(s.table, s.id_col) : "row");
    double sum = 0, var = 0;
    for (int64_t r = 0; r < k; r++) {
        double p = s.score[idx[r]];
        cli_csv_field(o.f, cli_row_id(&s, idx[r], buf, sizeof buf));
        fprintf(o.f, ",%.6g\n", p);
        sum += p;
        var += p * (1 - p);
    }
    if ((rc = cli_out_commit(&o))) goto done;
    int binary = sg_response_objective(s.model) == SG_OBJECTIVE_BINARY;
    /* conversions among the chosen rows: a sum of independent Bernoullis if the
     * probabilities are calibrated; 90% interval by the normal approximation */
    double lo = binary ? fmax(0, sum - 1.645 * sqrt(var)) : (double)NAN;
    double hi = binary ? sum + 1.645 * sqrt(var) : (double)NAN;
    printf("chose %lld of %lld rows -> %s\n", (long long)k, (long long)s.n, out);
    if (binary)
        printf("expected conversions %.1f (90%% interval %.1f to %.1f), mean probability %.4f\n", sum,
               lo, hi, k ? sum / (double)k : 0);
    else
        printf("expected total %.6g, mean %.6g\n", sum, k ? sum / (double)k : 0);
    if (summary) {
        root = json_pack("{s:I, s:I, s:s, s:{s:f, s:f, s:f}}", "chosen", (json_int_t)k, "rows",
                         (json_int_t)s.n, "plan", out, "forecast", "expected", sum, "lo",
                         binary ? lo : sum, "hi", binary ? hi : sum);
        if (!root || json_dump_file(root, summary, JSON_INDENT(2)) != 0) {
            fprintf(stderr, "stratagem: %s: cannot write summary\n", summary);
            rc = EXIT_RUNTIME;
        }
    }
done:
    json_decref(root);
    sg_free(idx);
    cli_scored_deinit(&s);
    return rc;
}
