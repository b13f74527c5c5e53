/* cmd_evaluate.c -- 'stratagem evaluate': a model's metrics on labelled rows. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_budget.h"
#include "cli_promo.h"
#include "cli_recommend.h"
#include "cli_uplift.h"

#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/model.h"
#include "stratagem/response.h"

int cmd_evaluate(int argc, char **argv)
{
    /* other tasks have their own evaluations: route on the options and the model file */
    if (cli_has_option(argc, argv, "--foldin")) return cli_evaluate_recommend(argc, argv);
    if (cli_has_option(argc, argv, "--plan")) return cli_evaluate_plan(argc, argv);
    if (cli_model_is_uplift(argc, argv)) return cli_evaluate_uplift(argc, argv);
    if (cli_model_task(argc, argv) == SG_TASK_PROMO) return cli_evaluate_promo(argc, argv);
    if (cli_model_task(argc, argv) == SG_TASK_BUDGET) return cli_evaluate_budget(argc, argv);
    const char *model = NULL, *data = NULL, *where = NULL, *id = NULL, *cat = NULL, *num = NULL;
    int help = 0, n_pos, top = -1, bins = 10, json = 0;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"where", 0, OPT_STR, &where, 0},   {"id", 0, OPT_STR, &id, 0},
        {"top", 0, OPT_INT, &top, 0},       {"bins", 0, OPT_INT, &bins, 0},
        {"json", 0, OPT_FLAG, &json, 0},    {"categorical", 0, OPT_STR, &cat, 0},
        {"numeric", 0, OPT_STR, &num, 0},   {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(cli_help_text("evaluate"), stdout);
        return EXIT_OK;
    }
    if (bins < 1 || bins > 100) return cli_usage_error("evaluate", "--bins must be 1..100");
    cli_scored s;
    int rc = cli_score("evaluate", model, data, where, id, cat, num, &s);
    if (rc) {
        cli_scored_deinit(&s);
        return rc;
    }
    const char *target = sg_response_target(s.model);
    int j = sg_table_find(s.table, target);
    const double *tv = j >= 0 ? sg_table_num(s.table, j) : NULL;
    if (!tv) {
        fprintf(stderr, "stratagem: %s: evaluate needs the target column '%s' (numeric)\n", data, target);
        cli_scored_deinit(&s);
        return EXIT_DATA;
    }
    /* keep labelled rows only */
    float *y = sg_malloc_array((size_t)(s.n ? s.n : 1), sizeof *y);
    double *p = sg_malloc_array((size_t)(s.n ? s.n : 1), sizeof *p);
    json_t *root = json_object();
    if (!y || !p || !root) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    int64_t m = 0;
    for (int64_t k = 0; k < s.n; k++) {
        double v = tv[s.rows ? s.rows[k] : k];
        if (isnan(v)) continue;
        y[m] = (float)v;
        p[m++] = s.score[k];
    }
    if (m == 0) {
        fprintf(stderr, "stratagem: %s: no row has a target '%s' to evaluate against\n", data, target);
        rc = EXIT_DATA;
        goto done;
    }
    json_object_set_new(root, "rows", json_integer(m));
    json_object_set_new(root, "rows_without_target", json_integer(s.n - m));
    int binary = sg_response_objective(s.model) == SG_OBJECTIVE_BINARY;
    if (binary) {
        double base = 0;
        for (int64_t k = 0; k < m; k++) base += (double)y[k];
        base /= (double)m;
        int64_t k_top = top > 0 ? top : (int64_t)llround(0.2 * (double)m);
        if (k_top > m) k_top = m;
        double hits = sg_hits_at_k(p, y, m, k_top);
        double auc = sg_auc(p, y, NULL, m), ll = sg_logloss(p, y, NULL, m);
        double mp[100], mo[100];
        int64_t cnt[100];
        sg_error err;
        if (sg_calibration(p, y, m, bins, mp, mo, cnt, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        json_object_set_new(root, "positive_rate", json_real(base));
        json_object_set_new(root, "auc", json_real(auc));
        json_object_set_new(root, "logloss", json_real(ll));
        json_object_set_new(root, "top_k", json_integer(k_top));
        json_object_set_new(root, "hits_top_k", json_real(hits));
        json_object_set_new(root, "precision_top_k", json_real(k_top ? hits / (double)k_top : 0));
        json_object_set_new(root, "ece", json_real(sg_ece(mp, mo, cnt, bins)));
        json_t *cal = json_array();
        for (int b = 0; b < bins; b++) {
            json_t *e = json_object();
            json_object_set_new(e, "rows", json_integer(cnt[b]));
            json_object_set_new(e, "mean_pred", json_real(mp[b]));
            json_object_set_new(e, "mean_obs", json_real(mo[b]));
            json_array_append_new(cal, e);
        }
        json_object_set_new(root, "calibration", cal);
        if (!json) {
            printf("rows evaluated   %lld (%lld without a target skipped)\n", (long long)m, (long long)(s.n - m));
            printf("positive rate    %.4f\n", base);
            printf("auc              %.4f\n", auc);
            printf("logloss          %.4f\n", ll);
            printf("hits in top %lld  %.0f (precision %.4f, lift %.2f)\n", (long long)k_top, hits,
                   hits / (double)k_top, hits / (double)k_top / base);
            printf("calibration error %.4f\n", sg_ece(mp, mo, cnt, bins));
            printf("calibration by predicted probability:\nbin\trows\tmean_pred\tmean_obs\n");
            for (int b = 0; b < bins; b++)
                printf("%d\t%lld\t%.4f\t%.4f\n", b + 1, (long long)cnt[b], mp[b], mo[b]);
        }
    } else {
        double rmse = sg_rmse(p, y, NULL, m), mae = sg_mae(p, y, NULL, m), r2 = sg_r2(p, y, NULL, m);
        json_object_set_new(root, "rmse", json_real(rmse));
        json_object_set_new(root, "mae", json_real(mae));
        json_object_set_new(root, "r2", json_real(r2));
        if (!json) {
            printf("rows evaluated   %lld (%lld without a target skipped)\n", (long long)m, (long long)(s.n - m));
            printf("rmse             %.6g\nmae              %.6g\nr2               %.4f\n", rmse, mae, r2);
        }
    }
    if (json) {
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (txt) {
            printf("%s\n", txt);
            free(txt);
        }
    }
    rc = EXIT_OK;
done:
    json_decref(root);
    sg_free(y);
    sg_free(p);
    cli_scored_deinit(&s);
    return rc;
}
