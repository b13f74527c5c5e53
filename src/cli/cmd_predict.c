/* cmd_predict.c -- 'stratagem predict': one score per row (id,score). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_budget.h"
#include "cli_promo.h"
#include "cli_recommend.h"
#include "cli_uplift.h"

#include "stratagem/model.h"
#include "stratagem/response.h"

int cmd_predict(int argc, char **argv)
{
    /* uplift and recommend models predict their own things (effects per arm, embeddings) */
    if (cli_model_is_uplift(argc, argv)) return cli_predict_uplift(argc, argv);
    if (cli_model_task(argc, argv) == SG_TASK_PROMO) return cli_predict_promo(argc, argv);
    if (cli_model_task(argc, argv) == SG_TASK_BUDGET) return cli_predict_budget(argc, argv);
    for (int i = 0; i + 1 < argc; i++)
        if ((!strcmp(argv[i], "--model") || !strcmp(argv[i], "-m")) && cli_is_recommend_model(argv[i + 1]))
            return cli_predict_recommend(argc, argv);
    const char *model = NULL, *data = NULL, *out = NULL, *where = NULL, *id = NULL;
    const char *cat = NULL, *num = NULL;
    int help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},     {"where", 0, OPT_STR, &where, 0},
        {"id", 0, OPT_STR, &id, 0},         {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},   {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("predict", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_help_text("predict"), stdout);
        return EXIT_OK;
    }
    if (!out) return cli_usage_error("predict", "missing --out FILE ('-' for standard output)");
    cli_scored s;
    int rc = cli_score("predict", model, data, where, id, cat, num, &s);
    if (rc) {
        cli_scored_deinit(&s);
        return rc;
    }
    cli_out o;
    if ((rc = cli_out_open(&o, out))) {
        cli_scored_deinit(&s);
        return rc;
    }
    char buf[512];
    fprintf(o.f, "%s,score\n", s.id_col >= 0 ? sg_table_col_name(s.table, s.id_col) : "row");
    for (int64_t k = 0; k < s.n; k++) {
        cli_csv_field(o.f, cli_row_id(&s, k, buf, sizeof buf));
        fprintf(o.f, ",%.6g\n", s.score[k]);
    }
    rc = cli_out_commit(&o);
    if (!rc && !cli_quiet && !o.is_stdout)
        fprintf(stderr, "stratagem: wrote %lld scores to %s\n", (long long)s.n, out);
    cli_scored_deinit(&s);
    return rc;
}
