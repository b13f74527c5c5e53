/* help.c -- help texts: a Usage line, an Example line, every option with its type and default. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_creative.h"
#include "cli_budget.h"
#include "cli_promo.h"
#include "cli_recommend.h"
#include "cli_synth.h"
#include "cli_uplift.h"
#include "cli_workspace.h"

static const char HELP_MAIN[] =
    "Usage: stratagem [-q|-v] <command> [options]\n"
    "\n"
    "Decide who gets which marketing action, predict what it brings, learn from the results.\n"
    "\n"
    "Commands:\n"
    "  train response   fit a conversion/value model (GBDT or logistic/linear), cross-validated\n"
    "  train uplift     fit campaign-effect models (T/X/DR learners) on a campaign log\n"
    "  train recommend  fit a recommender (Mult-VAE, Mult-DAE, EASE, popularity)\n"
    "  train creative   fit a class-conditional DCGAN on product images\n"
    "  train synth      fit a synthetic-customer generator (CTGAN or TVAE)\n"
    "  train simulate   fit a customer simulator (outcome given customer and action)\n"
    "  train promo      fit price and promotion response on a store x product x week panel\n"
    "  train budget     fit a media-mix model: channel spends and an outcome per period\n"
    "  predict          score rows: probabilities, effects per arm, or customer embeddings\n"
    "  evaluate         held-out metrics of a model, or off-policy value of a plan\n"
    "  plan             choose who gets what: --top N, or --budget B with costs per arm;\n"
    "                   plan promo: prices, deals and features per store and product;\n"
    "                   plan budget: a media budget split across channels\n"
    "  recommend        top-N products per customer\n"
    "  creative         generate product images as a PNG grid\n"
    "  synth            synthetic customers with a fidelity and privacy report\n"
    "  simulate         the outcome distribution of a plan from the simulator\n"
    "  world            worlds with known truth (campaigns, media mix): data and scores\n"
    "  features         customer features from their events: recency, frequency, windows,\n"
    "                   amounts, category shares, and what happened after a cut-off\n"
    "  init, import, status, plans, feedback   the workspace and its prediction ledger\n"
    "  serve            the models of a directory as a JSON API over HTTP\n"
    "  help COMMAND     the options of a command\n"
    "\n"
    "Global options:\n"
    "  -q, --quiet      only warnings and errors on stderr\n"
    "  -v, --verbose    debug messages\n"
    "  --version        version and build configuration\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input data, 130 interrupted.\n"
    "Results go to stdout or --out files; messages and progress go to stderr.\n"
    "See docs/cli.md for details.\n";

static const char HELP_TRAIN[] =
    "Usage: stratagem train response --data FILE --target COL --out MODEL [options]\n"
    "Example: stratagem train response --data ticdata.csv --target CARAVAN --id id \\\n"
    "           --ignore is_test --categorical STYPE,MOSHOOFD --cv 5 --grid 'depth=3,4;lr=0.03,0.05' \\\n"
    "           --out caravan.sgm\n"
    "\n"
    "Rows whose target is missing are not used for training (their number is printed).\n"
    "\n"
    "Data:\n"
    "  --data, -d FILE        CSV with a header row (required)\n"
    "  --target COL           what to predict: 0/1 conversion or a number (required)\n"
    "  --id COL               row key; never a feature\n"
    "  --ignore A,B,...       columns that are not features\n"
    "  --sum NAME=FIRST..LAST[,NAME=A+B+...]  derived features, each the sum of number\n"
    "                         columns (FIRST to LAST in the file's order, or those named);\n"
    "                         the model computes them for the files it scores\n"
    "  --categorical A,B,...  force these columns to categories (codes are not quantities)\n"
    "  --numeric A,B,...      force these columns to numbers (text is then an error)\n"
    "  --dedup RULE           duplicate ids: error (default), first or last\n"
    "Model:\n"
    "  --model NAME           gbdt (default) or logit (logistic; linear for a numeric target)\n"
    "  --objective NAME       auto (default: binary when all targets are 0/1), binary, regression\n"
    "  --cv K                 K-fold cross-validation, K in 2..64 (default 0: none)\n"
    "  --grid SPEC            settings to cross-validate, e.g. 'depth=3,5;lr=0.05,0.1'\n"
    "                         gbdt keys: depth leaves lr trees mcw l2 gamma subsample colsample bins\n"
    "                         logit keys: l2\n"
    "  --top-frac X           share of rows for the cross-validated top precision (default 0.2)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --threads N            threads for boosting (default 0: all cores)\n"
    "GBDT settings (defaults in brackets):\n"
    "  --trees N [2000]  --lr X [0.05]  --depth N [4]  --leaves N [15]  --mcw X [5]  --l2 X [1]\n"
    "  --subsample X [0.8]  --colsample X [0.8]  --bins N [255]  --early-stopping N [50 rounds]\n"
    "Logit settings:\n"
    "  --l2 X [1]             L2 penalty on standardised coefficients\n"
    "Output:\n"
    "  --out, -o MODEL        model file to write (required)\n";

static const char HELP_PREDICT[] =
    "Usage: stratagem predict --model MODEL --data FILE --out FILE [options]\n"
    "Example: stratagem predict --model caravan.sgm --data ticdata.csv --out scores.csv\n"
    "\n"
    "Writes 'id,score' for every row (probability for a binary model, value otherwise).\n"
    "  --model, -m MODEL      a response model (required)\n"
    "  --data, -d FILE        CSV with the model's feature columns (required)\n"
    "  --out, -o FILE         output CSV, '-' for standard output (required)\n"
    "  --where COL=VALUE      only rows whose COL equals VALUE\n"
    "  --id COL               id column (default: the model's)\n"
    "  --categorical/--numeric A,B,...  type overrides as in train\n";

static const char HELP_EVALUATE[] =
    "Usage: stratagem evaluate --model MODEL --data FILE [options]\n"
    "Example: stratagem evaluate --model caravan.sgm --data holdout.csv --top 800\n"
    "\n"
    "Binary models: AUC, log-loss, hits/precision/lift in the top k, calibration by bins.\n"
    "Numeric models: RMSE, MAE, R^2.  Rows without a target are skipped (and counted).\n"
    "  --model, -m MODEL      a response model (required)\n"
    "  --data, -d FILE        CSV with the features and the model's target column (required)\n"
    "  --where COL=VALUE      only rows whose COL equals VALUE\n"
    "  --top N                k for hits in the top k (default: 20% of the rows)\n"
    "  --bins N               calibration bins (default 10)\n"
    "  --json                 print the metrics as JSON\n";

static const char HELP_PLAN[] =
    "Usage: stratagem plan --model MODEL --data FILE --top N --out FILE [options]\n"
    "Example: stratagem plan --model caravan.sgm --data ticdata.csv --where is_test=1 --top 800 \\\n"
    "           --out mailing.csv\n"
    "\n"
    "Chooses the N rows with the highest predicted response (ties by file order) and writes\n"
    "'id,score' best first; prints the expected conversions among them with a 90% interval.\n"
    "  --model, -m MODEL      a response model (required)\n"
    "  --data, -d FILE        CSV of candidate rows (required)\n"
    "  --top N                how many rows to choose (required)\n"
    "  --out, -o FILE         plan CSV, '-' for standard output (required)\n"
    "  --where COL=VALUE      only rows whose COL equals VALUE are candidates\n"
    "  --summary FILE.json    also write the forecast as JSON\n"
    "  --id COL               id column (default: the model's)\n";

static const char HELP_WORLD[] =
    "Usage: stratagem world log       --customers COIL.csv [--rows N] [--seed S] --out LOG.csv\n"
    "       stratagem world customers --customers COIL.csv [--rows N] [--seed S] --out FILE.csv\n"
    "       stratagem world outcomes  --customers FILE.csv --plan PLAN.csv [--seed S] --out FILE\n"
    "       stratagem world score     --customers FILE.csv --plan PLAN.csv --budget B\n"
    "                                 --cost ARM=C,... [--summary PLAN.json] [--json]\n"
    "Example: stratagem world log --customers ticdata.csv --rows 20000 --seed 1 --out log.csv\n"
    "\n"
    "A semi-synthetic campaign with known truth on CoIL 2000 customers (the columns MKOOPKLA,\n"
    "MINKGEM, PPERSAUT, PBRAND, MGEMLEEF, MFALLEEN, AWAPART..ABYSTAND), arms control, email,\n"
    "coupon10, coupon20; the truth and logging policy of bench/uplift_gen.py (docs/cli.md).\n"
    "  log        customer_id, <features>, treatment, propensity, converted, margin (default\n"
    "             20000 rows); ids 0 + copy * 10000 + CoIL id\n"
    "  customers  customer_id, <features>: a planning set (default 10000; ids from 1000000)\n"
    "  outcomes   customer_id, treatment, propensity, converted, margin drawn for every row of\n"
    "             PLAN.csv (id, action[, propensity]; propensity 1 when absent)\n"
    "  score      the plan's TRUE effect, cost and net, the best net under the same budget and\n"
    "             costs, the share, and with --summary the forecast vs the truth\n"
    "  --seed S   random seed (default 1)\n";

/* Print every help section for 'cmd': the core text and those of the task modules. */
int cli_print_help(FILE *f, const char *cmd)
{
    const char *parts[12];
    int n = 0;
    if (cli_help_text(cmd)) parts[n++] = cli_help_text(cmd);
    if (cmd) {
        const char *x;
        if ((x = cli_uplift_help(cmd))) parts[n++] = x;
        if ((x = cli_recommend_help(cmd))) parts[n++] = x;
        if ((x = cli_creative_help(cmd))) parts[n++] = x;
        if ((x = cli_serve_help(cmd))) parts[n++] = x;
        if ((x = cli_workspace_help(cmd))) parts[n++] = x;
        if ((x = cli_synth_help(cmd))) parts[n++] = x;
        if ((x = cli_promo_help(cmd))) parts[n++] = x;
        if ((x = cli_budget_help(cmd))) parts[n++] = x;
    }
    for (int i = 0; i < n; i++) fprintf(f, "%s%s", i ? "\n" : "", parts[i]);
    return n;
}

const char *cli_help_text(const char *cmd)
{
    if (!cmd) return HELP_MAIN;
    if (!strcmp(cmd, "train")) return HELP_TRAIN;
    if (!strcmp(cmd, "predict")) return HELP_PREDICT;
    if (!strcmp(cmd, "evaluate")) return HELP_EVALUATE;
    if (!strcmp(cmd, "plan")) return HELP_PLAN;
    if (!strcmp(cmd, "world")) return HELP_WORLD;
    if (!strcmp(cmd, "features")) return cli_features_help_text;
    return NULL;
}
