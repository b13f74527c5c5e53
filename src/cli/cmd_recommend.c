/* cmd_recommend.c -- the recommend task: 'recommend', 'recommend split', 'train
 * recommend', 'evaluate --foldin', and 'predict' on a recommend model.
 *
 * Interaction files are CSV with a user and an item column (and optionally a
 * rating column with a threshold).  The id columns are read as categories, so
 * labels keep their exact text ("007" stays "007").  A model remembers its
 * column roles and rating threshold; evaluate, predict and recommend --data
 * use them (with the threshold applied when the file has the rating column),
 * unless --user/--item (--user-col/--item-col for recommend) say otherwise.
 * Uses only the public API (include/stratagem/). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "cli_recommend.h"
#include "stratagem/interactions.h"
#include "stratagem/linalg.h"
#include "stratagem/dist.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/recommend.h"
#include "stratagem/rng.h"

#define OUT_CHUNK 1024   /* users per batch when writing recommendations or embeddings */

/* ---------------------------------------------------------------------------
 * help */

static const char HELP_RECOMMEND[] =
    "Usage: stratagem recommend --model MODEL (--user ID[,ID...] | --items A,B,... | --data FILE)\n"
    "                           [--k N] [--out FILE] [--exclude-items FILE]\n"
    "       stratagem recommend split --data FILE --user COL --item COL --out-dir DIR [options]\n"
    "Example: stratagem recommend --model ml.sgm --user 42 --k 20\n"
    "         stratagem recommend --model ml.sgm --data users.csv --out recs.csv\n"
    "         stratagem recommend --model ml.sgm --items 1,260,1196 --k 10\n"
    "\n"
    "Top-N items per user, best first, as CSV 'user,rank,item,score'.  Items the user already\n"
    "has are never recommended.  A known user's items come from the model's training data; a\n"
    "new user's items (--items, or a --data file with the item column) are folded in without\n"
    "retraining.\n"
    "  --model, -m MODEL      a recommend model (required)\n"
    "  --user ID[,ID...]      users of the training data\n"
    "  --items A,B,...        a new user given by the items she has (label 'new')\n"
    "  --data, -d FILE        CSV of users: with the item column, interactions to fold in\n"
    "                         (one list per user); with only the user column, known users\n"
    "                         (unknown ones get a list from an empty history, and a warning)\n"
    "  --user-col COL         user column of --data (default: the model's)\n"
    "  --item-col COL         item column of --data and --exclude-items (default: the model's)\n"
    "  --k N                  list length (default 20)\n"
    "  --exclude-items FILE   CSV of items never to recommend (stock-outs): the item column,\n"
    "                         or the first column\n"
    "  --out, -o FILE         output CSV (default '-': standard output)\n"
    "\n"
    "recommend split: a strong-generalisation user split into DIR/train.csv,\n"
    "validation_foldin.csv, validation_heldout.csv, test_foldin.csv and test_heldout.csv.\n"
    "Eligible users (at least --min-items items) are shuffled; test and validation users\n"
    "are taken from them, everybody else trains.  A held-out user's items that no training\n"
    "user has are dropped; of the rest, 20% (at least one) are held out, the others folded in.\n"
    "  --data, -d FILE        interactions CSV (required)\n"
    "  --user COL, --item COL user and item columns (required)\n"
    "  --rating COL           rating column; with --min-rating X keep rows rated >= X\n"
    "  --test-users X         share of eligible users for test (default 0.1)\n"
    "  --val-users X          share for validation (default 0.1)\n"
    "  --heldout X            share of a held-out user's items to predict (default 0.2)\n"
    "  --min-items N          fewer items: always a training user (default 5)\n"
    "  --seed N               random seed (default 20000)\n"
    "  --out-dir DIR          output folder, created if missing (required)\n";

static const char HELP_TRAIN_RECOMMEND[] =
    "Usage: stratagem train recommend --data FILE --user COL --item COL --out MODEL [options]\n"
    "Example: stratagem train recommend --data ratings.csv --user userId --item movieId \\\n"
    "           --rating rating --min-rating 3.5 --model vae --out ml.sgm\n"
    "\n"
    "Implicit feedback: a row is one positive (user, item); with --rating, only rows rated at\n"
    "least --min-rating.  The epoch (vae, dae) and lambda (ease) are chosen by NDCG@100 on\n"
    "validation users: --validation-foldin/--validation-heldout files, else --val-users of the\n"
    "training users held out (20% of their items to find), after which the chosen setting is\n"
    "trained again on all users (unless --no-refit).\n"
    "Data:\n"
    "  --data, -d FILE        interactions CSV (required)\n"
    "  --user COL, --item COL user and item columns (required)\n"
    "  --rating COL           rating column (needs --min-rating X: keep rows rated >= X)\n"
    "  --validation-foldin F, --validation-heldout H   validation users (same columns)\n"
    "  --val-users X          without validation files: share of users held out (default 0.1;\n"
    "                         0 = no selection: the last epoch, lambda 500)\n"
    "  --no-refit             keep the model trained without the held-out users\n"
    "Model:\n"
    "  --model, -m NAME       vae (default), dae, ease or pop\n"
    "  --seed N               random seed (default 20000)\n"
    "  --threads N            threads for OpenMP and BLAS (default: all cores)\n"
    "vae/dae (defaults in brackets; the paper's network is I-600-200-600-I):\n"
    "  --epochs N [vae 300, dae 200]  --batch N [500]  --hidden N [600]  --latent N [200]\n"
    "  --lr X [0.001]  --dropout X [vae 0.3, dae 0.5] (input dropout)  --beta-cap X [0.2]\n"
    "  --anneal-steps N [0: beta = min(cap, step/N) reaches the cap after 20% of the epochs]\n"
    "  --l2 X [dae 2e-5, vae 0]\n"
    "  --eval-every N [1]     validate every N epochs\n"
    "  --ema D [vae 0.99, dae 0]  > 0: keep and validate a moving average of the weights,\n"
    "                         updated after every step with decay D (Polyak averaging); 0: last\n"
    "                         weights\n"
    "  --ensemble N [vae 5, dae 1]  networks averaged: after the first is chosen and trained,\n"
    "                         N-1 more repeat its final fit from seeds seed+1..; the scores\n"
    "                         are the mean of their logits, embeddings the first network's\n"
    "  --min-item-users N [1]  items fewer training users have are ignored by the network:\n"
    "                         dropped from a user's items and the training targets, never\n"
    "                         recommended\n"
    "vae, RecVAE's training (Shenbin et al. 2020; same network; the default vae training uses\n"
    "its alternating updates with beta annealing, averaged weights and 300 epochs; the paper's\n"
    "Mult-VAE training is --epochs 200 --enc-passes 0 --ema 0 --dropout 0.5 --ensemble 1;\n"
    "bench/recommend_results.md compares them):\n"
    "  --gamma X [0]          > 0: a user's KL weight is X times her number of items, in place\n"
    "                         of --beta-cap and its annealing (RecVAE: 0.005); 0: beta\n"
    "  --prior NAME [normal]  normal: N(0,I); composite: 3/20 N(0,I) + 15/20 the encoder's\n"
    "                         posterior as of the previous epoch + 2/20 N(0,e^10 I)\n"
    "  --enc-passes N [3]     > 0: alternate, per epoch N encoder-only passes (with dropout)\n"
    "                         then one decoder-only pass (no dropout); 0: joint updates\n"
    "  --encoder NAME [mlp]   mlp: one tanh layer; dense: RecVAE's encoder, --enc-layers\n"
    "                         layers of --hidden units, each fed the sum of the earlier\n"
    "                         layers' outputs, with swish and layer norm\n"
    "  --enc-layers N [5]     dense encoder: hidden layers (1..100)\n"
    "ease:\n"
    "  --lambda X             L2 weight (default: chosen on validation from 5..5000, else 500)\n"
    "  --max-items N          refuse more items than this (I x I matrices; default 30000)\n"
    "Output:\n"
    "  --out, -o MODEL        model file to write (required)\n"
    "  --log-file FILE        also write one key=value line per epoch\n";

static const char HELP_EVALUATE_RECOMMEND[] =
    "Usage: stratagem evaluate --model MODEL --foldin FILE --heldout FILE [--json]\n"
    "Example: stratagem evaluate --model ml.sgm --foldin test_foldin.csv \\\n"
    "           --heldout test_heldout.csv\n"
    "\n"
    "Strong generalisation: users not seen in training; their --foldin items are given to the\n"
    "model, their --heldout items must be found among all other items.  Prints recall@20,\n"
    "recall@50 (hits / min(k, held-out items)) and ndcg@100, means over users with held-out\n"
    "items.  Items the model does not know are dropped (and counted).\n"
    "  --model, -m MODEL      a recommend model (required)\n"
    "  --foldin FILE          interactions given to the model (required)\n"
    "  --heldout FILE         interactions to find (required)\n"
    "  --user COL, --item COL columns (default: the model's); the model's rating threshold is\n"
    "                         applied when the files have its rating column\n"
    "  --json                 print {\"recall@20\": ..., \"recall@50\": ..., \"ndcg@100\": ...}\n";

static const char HELP_PREDICT_RECOMMEND[] =
    "Usage: stratagem predict --model RECMODEL --data FILE --out FILE [--user COL --item COL]\n"
    "Example: stratagem predict --model ml.sgm --data ratings.csv --out embeddings.csv\n"
    "\n"
    "With a vae or dae recommend model: one embedding per user of FILE (interactions), the\n"
    "encoder mean (vae) or code layer (dae), as CSV 'user,z0,...,z(Z-1)', usable as features.\n"
    "  --model, -m MODEL      a vae or dae recommend model (required)\n"
    "  --data, -d FILE        interactions CSV (required)\n"
    "  --out, -o FILE         output CSV, '-' for standard output (required)\n"
    "  --user COL, --item COL columns (default: the model's)\n";

const char *cli_recommend_help(const char *topic)
{
    if (!topic || !strcmp(topic, "recommend")) return HELP_RECOMMEND;
    if (!strcmp(topic, "train")) return HELP_TRAIN_RECOMMEND;
    if (!strcmp(topic, "evaluate")) return HELP_EVALUATE_RECOMMEND;
    if (!strcmp(topic, "predict")) return HELP_PREDICT_RECOMMEND;
    return NULL;
}

/* ---------------------------------------------------------------------------
 * shared helpers */

int cli_is_recommend_model(const char *path)
{
    return sg_modelfile_task(path) == SG_TASK_RECOMMEND;
}

static void set_threads(int n)
{
    if (n <= 0) return;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    sg_blas_set_threads(n);
}

/* 1 when the header line of CSV 'path' has a column named 'col' (RFC 4180
 * quoting; a UTF-8 byte-order mark is skipped).  Used to force only the id
 * columns a file has to categories: forcing a missing one is a load error. */
static int header_has(const char *path, const char *col)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char line[8192];
    int found = 0;
    if (fgets(line, sizeof line, f)) {
        char *p = line;
        const unsigned char *q = (const unsigned char *)p;
        if (q[0] == 0xEF && q[1] == 0xBB && q[2] == 0xBF) p += 3;
        char name[1024];
        size_t n = 0;
        int quoted = 0;
        for (;; p++) {
            char c = *p;
            if (quoted) {
                if (c == '"' && p[1] == '"') {
                    if (n + 1 < sizeof name) name[n++] = '"';
                    p++;
                } else if (c == '"') {
                    quoted = 0;
                } else if (c == '\0') {
                    break;
                } else if (n + 1 < sizeof name) {
                    name[n++] = c;
                }
                continue;
            }
            if (c == '"') {
                quoted = 1;
            } else if (c == ',' || c == '\n' || c == '\r' || c == '\0') {
                name[n] = '\0';
                if (!strcmp(name, col)) found = 1;
                n = 0;
                if (c != ',') break;
            } else if (n + 1 < sizeof name) {
                name[n++] = c;
            }
        }
    }
    fclose(f);
    return found;
}

/* "a,b" of the columns among 'u' and 'i' that the header of 'path' has. */
static void present_cats(char *buf, size_t cap, const char *path, const char *u, const char *i)
{
    int hu = u && header_has(path, u), hi = i && header_has(path, i);
    snprintf(buf, cap, "%s%s%s", hu ? u : "", hu && hi ? "," : "", hi ? i : "");
}

/* How to read one interactions file. */
typedef struct ia_spec {
    const char *user, *item, *rating;   /* rating NULL: none */
    double min_rating;
    int rating_if_present;              /* apply 'rating' only when the file has it */
    const sg_interactions *item_vocab, *user_vocab;
} ia_spec;

/* Load 'path' and build its interactions.  Returns an exit code; *out on success. */
static int load_ia(const char *path, const ia_spec *s, sg_interactions **out)
{
    char cat[1024];
    present_cats(cat, sizeof cat, path, s->user, s->item);
    cli_data_opts dopt = {.dedup = "error", .categorical = cat[0] ? cat : NULL};
    int k = 0;
    dopt.required[k++] = s->user;
    dopt.required[k++] = s->item;
    if (s->rating && !s->rating_if_present) dopt.required[k++] = s->rating;
    sg_table *t = NULL;
    int rc = cli_load_table(path, &dopt, &t);
    if (rc) return rc;
    sg_interactions_opts o;
    sg_interactions_opts_default(&o);
    o.user_col = s->user;
    o.item_col = s->item;
    if (s->rating && sg_table_find(t, s->rating) >= 0) {
        o.rating_col = s->rating;
        o.min_rating = s->min_rating;
    }
    o.item_vocab = s->item_vocab;
    o.user_vocab = s->user_vocab;
    sg_interactions_stats st;
    sg_error err;
    sg_error_clear(&err);
    rc = sg_interactions_from_table(out, t, &o, &st, &err);
    sg_table_free(t);
    if (rc) return cli_fail(&err);
    if (!cli_quiet) {
        fprintf(stderr, "stratagem: %s: %d users, %lld interactions", path,
                sg_interactions_n_users(*out), (long long)sg_interactions_nnz(*out));
        if (!s->item_vocab) fprintf(stderr, ", %d items", sg_interactions_n_items(*out));
        if (st.n_below_rating)
            fprintf(stderr, "; %lld rows with %s below %g dropped", (long long)st.n_below_rating,
                    o.rating_col, o.min_rating);
        if (st.n_missing_id)
            fprintf(stderr, "; %lld rows without a user or item dropped",
                    (long long)st.n_missing_id);
        if (st.n_duplicate)
            fprintf(stderr, "; %lld repeated pairs counted once", (long long)st.n_duplicate);
        fprintf(stderr, "\n");
    }
    if (st.n_unknown_item)
        fprintf(stderr, "stratagem: warning: %s: %lld rows name items the model does not know; "
                "dropped\n", path, (long long)st.n_unknown_item);
    return EXIT_OK;
}

/* The model's column roles, unless overridden. */
static ia_spec model_spec(const sg_recommender *m, const char *user, const char *item)
{
    const sg_interactions *d = sg_recommender_data(m);
    ia_spec s = {0};
    s.user = user ? user : sg_interactions_user_col(d);
    s.item = item ? item : sg_interactions_item_col(d);
    s.rating = sg_interactions_rating_col(d);
    s.min_rating = sg_interactions_min_rating(d);
    s.rating_if_present = 1;
    s.item_vocab = d;
    return s;
}

static int load_model(const char *path, sg_recommender **m)
{
    sg_error err;
    sg_error_clear(&err);
    if (sg_recommender_load(m, path, &err)) return cli_fail(&err);
    return EXIT_OK;
}

/* ---------------------------------------------------------------------------
 * train recommend */

typedef struct train_log {
    FILE *f;                  /* --log-file or NULL */
    double last;              /* time of the last progress line */
} train_log;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_progress(void *ud, const sg_rec_progress *p)
{
    train_log *lg = ud;
    double t = now_s();
    int lambda = !strcmp(p->stage, "lambda");
    if (lg->f) {
        if (lambda)
            fprintf(lg->f, "stage=lambda lambda=%g val_ndcg100=%.6f sec=%.3f\n", p->lambda,
                    p->val_ndcg, p->seconds);
        else
            fprintf(lg->f, "stage=%s epoch=%d loss=%.6f beta=%.4f val_ndcg100=%.6f sec=%.3f\n",
                    p->stage, p->epoch, p->loss, p->beta, p->val_ndcg, p->seconds);
    }
    if (cli_quiet) return;
    if (!lambda && p->epoch != 1 && p->epoch != p->n_epochs && t - lg->last < 2.0) return;
    lg->last = t;
    if (lambda)
        fprintf(stderr, "stratagem: ease lambda %g (%d/%d): validation ndcg@100 %.4f (%.1f s)\n",
                p->lambda, p->epoch, p->n_epochs, p->val_ndcg, p->seconds);
    else if (isnan(p->val_ndcg))
        fprintf(stderr, "stratagem: %s epoch %d/%d: loss %.4f, beta %.3f (%.0f ms/epoch)\n",
                p->stage, p->epoch, p->n_epochs, p->loss, p->beta, 1e3 * p->seconds);
    else
        fprintf(stderr, "stratagem: %s epoch %d/%d: loss %.4f, beta %.3f, validation ndcg@100 "
                "%.4f (%.0f ms/epoch)\n", p->stage, p->epoch, p->n_epochs, p->loss, p->beta,
                p->val_ndcg, 1e3 * p->seconds);
}

int cli_train_recommend(int argc, char **argv)
{
    const char *data = NULL, *user = NULL, *item = NULL, *rating = NULL, *model = "vae";
    const char *out = NULL, *vfold = NULL, *vheld = NULL, *log_file = NULL, *prior = NULL;
    const char *encoder = NULL;
    int enc_layers = -1;
    double min_rating = NAN, lr = -1, dropout = -1, beta_cap = -1, l2 = -1, lambda = 0;
    double gamma = NAN;
    int enc_passes = -1, ensemble = -1, min_item_users = -1;
    double ema = NAN;
    double val_users = -1;
    int epochs = -1, batch = -1, hidden = -1, latent = -1, threads = 0, no_refit = 0;
    int max_items = -1, eval_every = -1, help = 0, n_pos;
    uint64_t seed = SG_DEFAULT_SEED, anneal = 0;
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},         {"user", 0, OPT_STR, &user, 0},
        {"item", 0, OPT_STR, &item, 0},           {"rating", 0, OPT_STR, &rating, 0},
        {"min-rating", 0, OPT_DOUBLE, &min_rating, 0},
        {"model", 'm', OPT_STR, &model, 0},       {"out", 'o', OPT_STR, &out, 0},
        {"validation-foldin", 0, OPT_STR, &vfold, 0},
        {"validation-heldout", 0, OPT_STR, &vheld, 0},
        {"val-users", 0, OPT_DOUBLE, &val_users, 0}, {"no-refit", 0, OPT_FLAG, &no_refit, 0},
        {"seed", 0, OPT_U64, &seed, 0},           {"threads", 0, OPT_INT, &threads, 0},
        {"epochs", 0, OPT_INT, &epochs, 0},       {"batch", 0, OPT_INT, &batch, 0},
        {"hidden", 0, OPT_INT, &hidden, 0},       {"latent", 0, OPT_INT, &latent, 0},
        {"lr", 0, OPT_DOUBLE, &lr, 0},            {"dropout", 0, OPT_DOUBLE, &dropout, 0},
        {"beta-cap", 0, OPT_DOUBLE, &beta_cap, 0}, {"anneal-steps", 0, OPT_U64, &anneal, 0},
        {"l2", 0, OPT_DOUBLE, &l2, 0},            {"lambda", 0, OPT_DOUBLE, &lambda, 0},
        {"max-items", 0, OPT_INT, &max_items, 0}, {"eval-every", 0, OPT_INT, &eval_every, 0},
        {"gamma", 0, OPT_DOUBLE, &gamma, 0},      {"prior", 0, OPT_STR, &prior, 0},
        {"enc-passes", 0, OPT_INT, &enc_passes, 0},
        {"encoder", 0, OPT_STR, &encoder, 0},     {"enc-layers", 0, OPT_INT, &enc_layers, 0},
        {"ema", 0, OPT_DOUBLE, &ema, 0},         {"ensemble", 0, OPT_INT, &ensemble, 0},
        {"min-item-users", 0, OPT_INT, &min_item_users, 0},
        {"log-file", 0, OPT_STR, &log_file, 0},   {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    const char *cmd = "train recommend";
    if (cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_TRAIN_RECOMMEND, stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    if (!user) return cli_usage_error(cmd, "missing --user COL");
    if (!item) return cli_usage_error(cmd, "missing --item COL");
    if (!out) return cli_usage_error(cmd, "missing --out MODEL");
    if (rating && isnan(min_rating)) return cli_usage_error(cmd, "--rating needs --min-rating X");
    if (!rating && !isnan(min_rating))
        return cli_usage_error(cmd, "--min-rating needs --rating COL");
    if ((!vfold) != (!vheld))
        return cli_usage_error(cmd, "--validation-foldin and --validation-heldout go together");
    int kind = sg_rec_kind_parse(model);
    if (kind < 0)
        return cli_usage_error(cmd, "--model must be vae, dae, ease or pop (got '%s')", model);
    sg_rec_opts o;
    sg_rec_opts_default(&o, kind);
    o.seed = seed;
    if (epochs >= 0) o.epochs = epochs;
    if (batch >= 0) o.batch = batch;
    if (hidden >= 0) o.hidden = hidden;
    if (latent >= 0) o.latent = latent;
    if (lr >= 0) o.lr = (float)lr;
    if (dropout >= 0) o.dropout = (float)dropout;
    if (beta_cap >= 0) o.beta_cap = (float)beta_cap;
    if (l2 >= 0) o.l2 = (float)l2;
    if (max_items >= 0) o.max_items = max_items;
    if (eval_every >= 0) o.eval_every = eval_every;
    if (val_users >= 0) o.val_users = val_users;
    o.anneal_steps = (int64_t)anneal;
    if (!isnan(gamma)) {
        if (!(gamma >= 0 && gamma < 1e6)) return cli_usage_error(cmd, "--gamma must be >= 0");
        o.gamma = (float)gamma;
    }
    if (enc_passes >= 0) o.enc_passes = enc_passes;
    if (prior) {
        if (strcmp(prior, "normal") == 0) o.prior = SG_REC_PRIOR_NORMAL;
        else if (strcmp(prior, "composite") == 0) o.prior = SG_REC_PRIOR_COMPOSITE;
        else
            return cli_usage_error(cmd, "--prior must be normal or composite (got '%s')", prior);
    }
    if (enc_passes > 1000) return cli_usage_error(cmd, "--enc-passes must be in 0..1000");
    if (encoder) {
        if (strcmp(encoder, "mlp") == 0) o.encoder = SG_REC_ENCODER_MLP;
        else if (strcmp(encoder, "dense") == 0) o.encoder = SG_REC_ENCODER_DENSE;
        else
            return cli_usage_error(cmd, "--encoder must be mlp or dense (got '%s')", encoder);
        if (o.encoder == SG_REC_ENCODER_DENSE && kind != SG_REC_VAE)
            return cli_usage_error(cmd, "--encoder dense needs --model vae");
    }
    if (enc_layers >= 0) {
        if (enc_layers < 1 || enc_layers > 100)
            return cli_usage_error(cmd, "--enc-layers must be in 1..100");
        o.enc_layers = enc_layers;
    }
    if (!isnan(ema)) {
        if (!(ema >= 0 && ema < 1)) return cli_usage_error(cmd, "--ema must be in [0, 1)");
        o.ema = (float)ema;
    }
    if (ensemble >= 0) {
        if (ensemble < 1 || ensemble > 1000)
            return cli_usage_error(cmd, "--ensemble must be in 1..1000");
        o.ensemble = ensemble;
    }
    if (min_item_users >= 0) {
        if (min_item_users < 1) return cli_usage_error(cmd, "--min-item-users must be >= 1");
        o.min_item_users = min_item_users;
    }
    o.lambda = lambda;
    o.refit = !no_refit;
    if (o.epochs < 1) return cli_usage_error(cmd, "--epochs must be >= 1");
    if (!(o.dropout < 1)) return cli_usage_error(cmd, "--dropout must be in [0, 1)");
    if (!(o.val_users < 1)) return cli_usage_error(cmd, "--val-users must be in [0, 1)");
    if (lambda < 0) return cli_usage_error(cmd, "--lambda must be > 0");
    if (o.batch < 1 || o.hidden < 1 || o.latent < 1)
        return cli_usage_error(cmd, "--batch, --hidden and --latent must be >= 1");
    set_threads(threads);   /* under mpirun main.c has split the cores already */

    sg_interactions *x = NULL, *vf = NULL, *vh = NULL;
    sg_recommender *m = NULL;
    train_log lg = {NULL, 0};
    ia_spec s = {.user = user, .item = item, .rating = rating, .min_rating = min_rating};
    int rc = load_ia(data, &s, &x);
    if (rc) goto done;
    if (vfold) {
        ia_spec vs = s;
        vs.rating_if_present = 1;
        vs.item_vocab = x;
        if ((rc = load_ia(vfold, &vs, &vf))) goto done;
        vs.user_vocab = vf;
        if ((rc = load_ia(vheld, &vs, &vh))) goto done;
    }
    if (log_file) {
        lg.f = fopen(log_file, "w");
        if (!lg.f) {
            fprintf(stderr, "stratagem: %s: cannot write: %s\n", log_file, strerror(errno));
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    o.on_progress = on_progress;
    o.ud = &lg;
    if (!cli_quiet) {
        fprintf(stderr, "stratagem: train recommend: model %s, seed %llu, %d users x %d items\n",
                model, (unsigned long long)seed, sg_interactions_n_users(x),
                sg_interactions_n_items(x));
        if (sg_dist_size() > 1) {
#ifdef _OPENMP
            int nt = omp_get_max_threads();
#else
            int nt = 1;
#endif
            fprintf(stderr, "stratagem: %d processes share every batch (%d thread%s each); "
                    "rank 0 writes the model\n", sg_dist_size(), nt, nt == 1 ? "" : "s");
        }
        int nI = sg_interactions_n_items(x);
        if (kind == SG_REC_VAE)
        {
            fprintf(stderr, "stratagem: network %d-%d-%d-%d-%d, %d epochs, batch %d, lr %g, "
                    "dropout %g, beta cap %g\n", nI, o.hidden, o.latent, o.hidden, nI, o.epochs,
                    o.batch, (double)o.lr, (double)o.dropout, (double)o.beta_cap);
            if (o.gamma > 0 || o.prior != SG_REC_PRIOR_NORMAL || o.enc_passes > 0)
                fprintf(stderr, "stratagem: RecVAE training: gamma %g, prior %s, encoder passes "
                        "%d\n", (double)o.gamma,
                        o.prior == SG_REC_PRIOR_COMPOSITE ? "composite" : "normal",
                        o.enc_passes);
            if (o.encoder == SG_REC_ENCODER_DENSE)
                fprintf(stderr, "stratagem: RecVAE encoder: %d dense layers of %d (swish, layer "
                        "norm)\n", o.enc_layers, o.hidden);
        }
        else if (kind == SG_REC_DAE)
            fprintf(stderr, "stratagem: network %d-%d-%d-%d, %d epochs, batch %d, lr %g, "
                    "dropout %g, l2 %g\n", nI, o.latent, o.hidden, nI, o.epochs, o.batch,
                    (double)o.lr, (double)o.dropout, (double)o.l2);
        if (vfold)
            fprintf(stderr, "stratagem: model selection on the validation users of %s\n", vfold);
        else if (kind != SG_REC_POP && o.val_users > 0 && !(kind == SG_REC_EASE && lambda > 0))
            fprintf(stderr, "stratagem: model selection on %.0f%% of the training users held "
                    "out%s\n", 100 * o.val_users, o.refit ? ", then refit on all users" : "");
        if ((kind == SG_REC_VAE || kind == SG_REC_DAE) && o.ensemble > 1)
            fprintf(stderr, "stratagem: ensemble of %d networks (seeds %llu..%llu)\n",
                    o.ensemble, (unsigned long long)seed,
                    (unsigned long long)(seed + (uint64_t)o.ensemble - 1));
    }
    sg_rec_report rep;
    sg_error err;
    sg_error_clear(&err);
    if (sg_recommender_train(&m, x, vf, vh, &o, &rep, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (sg_dist_rank() == 0 && sg_recommender_save(m, out, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("model\t%s\nusers\t%d\nitems\t%d\ninteractions\t%lld\n", model, rep.n_users,
           rep.n_items, (long long)rep.nnz);
    if (rep.n_val_users) printf("validation_users\t%d\n", rep.n_val_users);
    if (kind == SG_REC_VAE || kind == SG_REC_DAE) {
        printf("epochs\t%d\n", rep.best_epoch);
        printf("final_loss\t%.4f\n", rep.final_loss);
    }
    if (kind == SG_REC_EASE) printf("lambda\t%g\n", rep.lambda);
    if (!isnan(rep.best_val_ndcg)) printf("validation_ndcg@100\t%.4f\n", rep.best_val_ndcg);
    if (rep.refitted) printf("refit_on_all_users\tyes\n");
    if ((kind == SG_REC_VAE || kind == SG_REC_DAE) && o.ensemble > 1)
        printf("networks\t%d\n", o.ensemble);
    if (kind == SG_REC_VAE || kind == SG_REC_DAE) printf("network_items\t%d\n", rep.net_items);
    printf("seconds\t%.1f\n", rep.seconds);
    if (!cli_quiet) fprintf(stderr, "stratagem: wrote %s\n", out);
    rc = EXIT_OK;
done:
    if (lg.f) fclose(lg.f);
    sg_recommender_free(m);
    sg_interactions_free(x);
    sg_interactions_free(vf);
    sg_interactions_free(vh);
    return rc;
}

/* ---------------------------------------------------------------------------
 * evaluate --foldin --heldout */

int cli_evaluate_recommend(int argc, char **argv)
{
    const char *model = NULL, *foldin = NULL, *heldout = NULL, *user = NULL, *item = NULL;
    int json = 0, help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},   {"foldin", 0, OPT_STR, &foldin, 0},
        {"heldout", 0, OPT_STR, &heldout, 0}, {"user", 0, OPT_STR, &user, 0},
        {"item", 0, OPT_STR, &item, 0},       {"json", 0, OPT_FLAG, &json, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("evaluate", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_EVALUATE_RECOMMEND, stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("evaluate", "missing --model MODEL");
    if (!foldin) return cli_usage_error("evaluate", "missing --foldin FILE");
    if (!heldout) return cli_usage_error("evaluate", "missing --heldout FILE");
    sg_recommender *m = NULL;
    sg_interactions *f = NULL, *h = NULL;
    int rc = load_model(model, &m);
    if (rc) return rc;
    ia_spec s = model_spec(m, user, item);
    if ((rc = load_ia(foldin, &s, &f))) goto done;
    s.user_vocab = f;
    if ((rc = load_ia(heldout, &s, &h))) goto done;
    sg_rec_metrics met;
    sg_error err;
    sg_error_clear(&err);
    if (sg_recommender_evaluate(m, f, h, &met, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (met.n_users == 0) {
        fprintf(stderr, "stratagem: %s: no user has a held-out item the model knows\n", heldout);
        rc = EXIT_DATA;
        goto done;
    }
    int n_new = sg_interactions_n_users(h) - sg_interactions_n_users(f);
    if (!cli_quiet && (met.n_no_foldin || n_new > 0))
        fprintf(stderr, "stratagem: %lld of %lld users have no fold-in item (ranked from an "
                "empty history)\n", (long long)met.n_no_foldin, (long long)met.n_users);
    if (json) {
        json_t *root = json_object();
        if (!root) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            goto done;
        }
        json_object_set_new(root, "recall@20", json_real(met.recall20));
        json_object_set_new(root, "recall@50", json_real(met.recall50));
        json_object_set_new(root, "ndcg@100", json_real(met.ndcg100));
        json_object_set_new(root, "users", json_integer(met.n_users));
        json_object_set_new(root, "model", json_string(sg_rec_kind_name(sg_recommender_kind(m))));
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (txt) {
            printf("%s\n", txt);
            free(txt);
        }
    } else {
        printf("model            %s\n", sg_rec_kind_name(sg_recommender_kind(m)));
        printf("users evaluated  %lld\n", (long long)met.n_users);
        printf("recall@20        %.4f\n", met.recall20);
        printf("recall@50        %.4f\n", met.recall50);
        printf("ndcg@100         %.4f\n", met.ndcg100);
    }
    rc = EXIT_OK;
done:
    sg_interactions_free(f);
    sg_interactions_free(h);
    sg_recommender_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * predict: customer embeddings */

int cli_predict_recommend(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *user = NULL, *item = NULL;
    int help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0}, {"data", 'd', OPT_STR, &data, 0},
        {"out", 'o', OPT_STR, &out, 0},     {"user", 0, OPT_STR, &user, 0},
        {"item", 0, OPT_STR, &item, 0},     {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("predict", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_PREDICT_RECOMMEND, stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("predict", "missing --model MODEL");
    if (!data) return cli_usage_error("predict", "missing --data FILE");
    if (!out) return cli_usage_error("predict", "missing --out FILE ('-' for standard output)");
    sg_recommender *m = NULL;
    sg_interactions *x = NULL;
    float *z = NULL;
    cli_out o = {0};
    int opened = 0;
    int rc = load_model(model, &m);
    if (rc) return rc;
    int Z = sg_recommender_embed_dim(m);
    if (Z == 0) {
        fprintf(stderr, "stratagem: %s: a '%s' model has no embeddings; train --model vae or dae\n",
                model, sg_rec_kind_name(sg_recommender_kind(m)));
        rc = EXIT_DATA;
        goto done;
    }
    ia_spec s = model_spec(m, user, item);
    if ((rc = load_ia(data, &s, &x))) goto done;
    z = sg_malloc_array((size_t)OUT_CHUNK * (size_t)Z, sizeof *z);
    if (!z) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if ((rc = cli_out_open(&o, out))) goto done;
    opened = 1;
    cli_csv_field(o.f, s.user);
    for (int j = 0; j < Z; j++) fprintf(o.f, ",z%d", j);
    fputc('\n', o.f);
    int n = sg_interactions_n_users(x);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    sg_error err;
    sg_error_clear(&err);
    for (int u0 = 0; u0 < n; u0 += OUT_CHUNK) {
        int nb = n - u0 < OUT_CHUNK ? n - u0 : OUT_CHUNK;
        if (sg_recommender_embed(m, rp + u0, ci, nb, z, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        for (int b = 0; b < nb; b++) {
            cli_csv_field(o.f, sg_interactions_user_label(x, u0 + b));
            const float *zb = z + (size_t)b * Z;
            for (int j = 0; j < Z; j++) fprintf(o.f, ",%.6g", (double)zb[j]);
            fputc('\n', o.f);
        }
    }
    opened = 0;
    rc = cli_out_commit(&o);
    if (!rc && !cli_quiet && !o.is_stdout)
        fprintf(stderr, "stratagem: wrote %d embeddings of %d values to %s\n", n, Z, out);
done:
    if (opened) cli_out_abort(&o);
    sg_free(z);
    sg_interactions_free(x);
    sg_recommender_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * recommend split */

static int write_ia(const char *dir, const char *name, const sg_interactions *x)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cli_out o;
    int rc = cli_out_open(&o, path);
    if (rc) return rc;
    cli_csv_field(o.f, sg_interactions_user_col(x));
    fputc(',', o.f);
    cli_csv_field(o.f, sg_interactions_item_col(x));
    fputc('\n', o.f);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    for (int u = 0; u < sg_interactions_n_users(x); u++) {
        const char *ul = sg_interactions_user_label(x, u);
        for (int64_t k = rp[u]; k < rp[u + 1]; k++) {
            cli_csv_field(o.f, ul);
            fputc(',', o.f);
            cli_csv_field(o.f, sg_interactions_item_label(x, ci[k]));
            fputc('\n', o.f);
        }
    }
    return cli_out_commit(&o);
}

static int cmd_split(int argc, char **argv)
{
    const char *data = NULL, *user = NULL, *item = NULL, *rating = NULL, *dir = NULL;
    double min_rating = NAN;
    int help = 0, n_pos;
    sg_split_opts so;
    sg_split_opts_default(&so);
    cli_opt opts[] = {
        {"data", 'd', OPT_STR, &data, 0},    {"user", 0, OPT_STR, &user, 0},
        {"item", 0, OPT_STR, &item, 0},      {"rating", 0, OPT_STR, &rating, 0},
        {"min-rating", 0, OPT_DOUBLE, &min_rating, 0},
        {"test-users", 0, OPT_DOUBLE, &so.test_users, 0},
        {"val-users", 0, OPT_DOUBLE, &so.val_users, 0},
        {"heldout", 0, OPT_DOUBLE, &so.heldout, 0},
        {"min-items", 0, OPT_INT, &so.min_items, 0},
        {"seed", 0, OPT_U64, &so.seed, 0},   {"out-dir", 'o', OPT_STR, &dir, 0},
        {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    const char *cmd = "recommend split";
    if (cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_RECOMMEND, stdout);
        return EXIT_OK;
    }
    if (!data) return cli_usage_error(cmd, "missing --data FILE");
    if (!user || !item) return cli_usage_error(cmd, "missing --user COL or --item COL");
    if (!dir) return cli_usage_error(cmd, "missing --out-dir DIR");
    if (rating && isnan(min_rating)) return cli_usage_error(cmd, "--rating needs --min-rating X");
    if (!rating && !isnan(min_rating))
        return cli_usage_error(cmd, "--min-rating needs --rating COL");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "stratagem: %s: cannot create: %s\n", dir, strerror(errno));
        return EXIT_RUNTIME;
    }
    sg_interactions *x = NULL;
    ia_spec s = {.user = user, .item = item, .rating = rating, .min_rating = min_rating};
    int rc = load_ia(data, &s, &x);
    if (rc) return rc;
    sg_user_split sp;
    sg_error err;
    sg_error_clear(&err);
    if (sg_interactions_split(&sp, x, &so, &err)) {
        sg_interactions_free(x);
        return cli_fail(&err);
    }
    static const char *const names[5] = {"train.csv", "validation_foldin.csv",
                                         "validation_heldout.csv", "test_foldin.csv",
                                         "test_heldout.csv"};
    const sg_interactions *parts[5] = {sp.train, sp.val_foldin, sp.val_heldout, sp.test_foldin,
                                       sp.test_heldout};
    printf("file\tusers\tinteractions\n");
    for (int k = 0; k < 5 && !rc; k++) {
        rc = write_ia(dir, names[k], parts[k]);
        printf("%s/%s\t%d\t%lld\n", dir, names[k], sg_interactions_n_users(parts[k]),
               (long long)sg_interactions_nnz(parts[k]));
    }
    if (!rc && sp.n_dropped_users)
        fprintf(stderr, "stratagem: warning: %d held-out users had no item any training user "
                "has; left out\n", sp.n_dropped_users);
    if (!rc && !cli_quiet)
        fprintf(stderr, "stratagem: split with seed %llu into %s\n", (unsigned long long)so.seed,
                dir);
    sg_user_split_deinit(&sp);
    sg_interactions_free(x);
    return rc;
}

/* ---------------------------------------------------------------------------
 * recommend */

/* Items of a one-column (or item-column) CSV into mask (I).  Exit code. */
static int load_exclude(const char *path, const char *item_col, const sg_recommender *m,
                        unsigned char *mask)
{
    sg_table *t = NULL;
    char cat[1024];
    present_cats(cat, sizeof cat, path, NULL, item_col);
    cli_data_opts dopt = {.dedup = "error", .categorical = cat[0] ? cat : NULL};
    int rc = cli_load_table(path, &dopt, &t);
    if (rc) return rc;
    int j = sg_table_find(t, item_col);
    if (j < 0) j = 0;
    const sg_interactions *d = sg_recommender_data(m);
    int64_t n = sg_table_n_rows(t), unknown = 0, kept = 0;
    char buf[4096];
    for (int64_t r = 0; r < n; r++) {
        const char *s = sg_table_cell(t, r, j, buf, sizeof buf);
        if (!*s) continue;
        int i = sg_interactions_find_item(d, s);
        if (i < 0) {
            unknown++;
            continue;
        }
        kept += !mask[i];
        mask[i] = 1;
    }
    if (!cli_quiet)
        fprintf(stderr, "stratagem: %s: %lld items excluded (column '%s')\n", path,
                (long long)kept, sg_table_col_name(t, j));
    if (unknown)
        fprintf(stderr, "stratagem: warning: %s: %lld items unknown to the model ignored\n", path,
                (long long)unknown);
    sg_table_free(t);
    return EXIT_OK;
}

/* A batch of users to serve: labels and CSR histories (owned arrays). */
typedef struct serve_set {
    int n;
    char **labels;            /* (n) owned strings */
    int64_t *rp;              /* (n+1) */
    int32_t *ci;              /* (nnz) */
} serve_set;

static void serve_free(serve_set *s)
{
    for (int u = 0; s->labels && u < s->n; u++) sg_free(s->labels[u]);
    sg_free(s->labels);
    sg_free(s->rp);
    sg_free(s->ci);
    memset(s, 0, sizeof *s);
}

static int serve_alloc(serve_set *s, int n, int64_t nnz)
{
    memset(s, 0, sizeof *s);
    s->labels = sg_calloc((size_t)n + 1, sizeof *s->labels);
    s->rp = sg_malloc_array((size_t)n + 1, sizeof *s->rp);
    s->ci = sg_malloc_array(nnz > 0 ? (size_t)nnz : 1, sizeof *s->ci);
    s->n = n;
    if (!s->labels || !s->rp || !s->ci) {
        serve_free(s);
        fprintf(stderr, "stratagem: out of memory\n");
        return EXIT_RUNTIME;
    }
    s->rp[0] = 0;
    return EXIT_OK;
}

/* Users by label from the model's data; 'strict' makes an unknown one an error
 * (else it gets an empty history and is counted in *n_unknown). */
static int serve_known(serve_set *s, const sg_recommender *m, char **ids, int n, int strict,
                       int *n_unknown)
{
    const sg_interactions *d = sg_recommender_data(m);
    const int64_t *rp = sg_interactions_row_ptr(d);
    const int32_t *ci = sg_interactions_col_idx(d);
    int64_t nnz = 0;
    *n_unknown = 0;
    for (int k = 0; k < n; k++) {
        int u = sg_interactions_find_user(d, ids[k]);
        if (u < 0 && strict) {
            fprintf(stderr, "stratagem: recommend: user '%s' is not in the model's training "
                    "data\nhint: give a new user's items with --items A,B,... or a --data file "
                    "with the item column\n", ids[k]);
            return EXIT_DATA;
        }
        if (u >= 0) nnz += rp[u + 1] - rp[u];
    }
    int rc = serve_alloc(s, n, nnz);
    if (rc) return rc;
    for (int k = 0; k < n; k++) {
        int u = sg_interactions_find_user(d, ids[k]);
        int64_t len = u >= 0 ? rp[u + 1] - rp[u] : 0;
        if (u < 0) (*n_unknown)++;
        if (len > 0) memcpy(s->ci + s->rp[k], ci + rp[u], (size_t)len * sizeof *ci);
        s->rp[k + 1] = s->rp[k] + len;
        s->labels[k] = sg_strdup(ids[k]);
        if (!s->labels[k]) {
            fprintf(stderr, "stratagem: out of memory\n");
            return EXIT_RUNTIME;
        }
    }
    return EXIT_OK;
}

/* Users and histories from an interactions object. */
static int serve_from_ia(serve_set *s, const sg_interactions *x)
{
    int n = sg_interactions_n_users(x);
    int rc = serve_alloc(s, n, sg_interactions_nnz(x));
    if (rc) return rc;
    memcpy(s->rp, sg_interactions_row_ptr(x), ((size_t)n + 1) * sizeof *s->rp);
    if (sg_interactions_nnz(x) > 0)
        memcpy(s->ci, sg_interactions_col_idx(x), (size_t)sg_interactions_nnz(x) * sizeof *s->ci);
    for (int u = 0; u < n; u++) {
        s->labels[u] = sg_strdup(sg_interactions_user_label(x, u));
        if (!s->labels[u]) {
            fprintf(stderr, "stratagem: out of memory\n");
            return EXIT_RUNTIME;
        }
    }
    return EXIT_OK;
}

int cmd_recommend(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "split")) return cmd_split(argc - 1, argv + 1);
    const char *model = NULL, *users = NULL, *items = NULL, *data = NULL, *out = "-";
    const char *user_col = NULL, *item_col = NULL, *exclude = NULL;
    int k = 20, help = 0, n_pos;
    cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, 0},      {"user", 'u', OPT_STR, &users, 0},
        {"items", 0, OPT_STR, &items, 0},        {"data", 'd', OPT_STR, &data, 0},
        {"user-col", 0, OPT_STR, &user_col, 0},  {"item-col", 0, OPT_STR, &item_col, 0},
        {"k", 'k', OPT_INT, &k, 0},              {"out", 'o', OPT_STR, &out, 0},
        {"exclude-items", 0, OPT_STR, &exclude, 0}, {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("recommend", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_RECOMMEND, stdout);
        return EXIT_OK;
    }
    if (!model) return cli_usage_error("recommend", "missing --model MODEL");
    if ((users != NULL) + (items != NULL) + (data != NULL) != 1)
        return cli_usage_error("recommend", "give exactly one of --user ID, --items A,B,... or "
                               "--data FILE");
    if (k < 1 || k > 100000) return cli_usage_error("recommend", "--k must be in 1..100000");
    sg_recommender *m = NULL;
    sg_interactions *x = NULL;
    sg_table *t = NULL;
    unsigned char *mask = NULL;
    int32_t *rec = NULL;
    float *val = NULL;
    char **list = NULL, **ids = NULL;
    serve_set s = {0};
    cli_out o = {0};
    int opened = 0, n_unknown = 0;
    int rc = load_model(model, &m);
    if (rc) return rc;
    const sg_interactions *d = sg_recommender_data(m);
    int I = sg_recommender_n_items(m);
    if (!user_col) user_col = sg_interactions_user_col(d);
    if (!item_col) item_col = sg_interactions_item_col(d);
    mask = sg_calloc((size_t)I, 1);
    rec = sg_malloc_array((size_t)OUT_CHUNK * (size_t)k, sizeof *rec);
    val = sg_malloc_array((size_t)OUT_CHUNK * (size_t)k, sizeof *val);
    if (!mask || !rec || !val) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (exclude && (rc = load_exclude(exclude, item_col, m, mask))) goto done;

    if (users) {
        list = cli_split_list(users);
        int n = 0;
        while (list && list[n]) n++;
        if (n == 0) {
            rc = cli_usage_error("recommend", "--user needs at least one id");
            goto done;
        }
        if ((rc = serve_known(&s, m, list, n, 1, &n_unknown))) goto done;
    } else if (items) {
        list = cli_split_list(items);
        int n = 0;
        while (list && list[n]) n++;
        if ((rc = serve_alloc(&s, 1, n))) goto done;
        s.labels[0] = sg_strdup("new");
        if (!s.labels[0]) {
            rc = EXIT_RUNTIME;
            goto done;
        }
        int kept = 0;
        for (int j = 0; j < n; j++) {
            int i = sg_interactions_find_item(d, list[j]);
            if (i < 0) {
                fprintf(stderr, "stratagem: warning: --items: item '%s' is unknown to the model; "
                        "ignored\n", list[j]);
                continue;
            }
            s.ci[kept++] = i;
        }
        s.rp[1] = kept;
    } else {
        char cat[1024];
        present_cats(cat, sizeof cat, data, user_col, item_col);
        cli_data_opts dopt = {.dedup = "error", .categorical = cat[0] ? cat : NULL};
        if ((rc = cli_load_table(data, &dopt, &t))) goto done;
        if (sg_table_find(t, item_col) >= 0) {
            /* interactions: fold in each user's items from the file */
            sg_table_free(t);
            t = NULL;
            ia_spec sp = model_spec(m, user_col, item_col);
            if ((rc = load_ia(data, &sp, &x))) goto done;
            if ((rc = serve_from_ia(&s, x))) goto done;
        } else {
            int j = sg_table_find(t, user_col);
            if (j < 0 && sg_table_n_cols(t) == 1) j = 0;
            if (j < 0) {
                fprintf(stderr, "stratagem: %s: no user column '%s' (nor item column '%s')\n",
                        data, user_col, item_col);
                rc = EXIT_DATA;
                goto done;
            }
            int64_t n = sg_table_n_rows(t);
            ids = sg_calloc((size_t)n + 1, sizeof *ids);
            if (!ids) {
                rc = EXIT_RUNTIME;
                goto done;
            }
            char buf[4096];
            int nu = 0;
            for (int64_t r = 0; r < n; r++) {
                const char *l = sg_table_cell(t, r, j, buf, sizeof buf);
                if (!*l) continue;
                ids[nu] = sg_strdup(l);
                if (!ids[nu]) {
                    rc = EXIT_RUNTIME;
                    goto done;
                }
                nu++;
            }
            if ((rc = serve_known(&s, m, ids, nu, 0, &n_unknown))) goto done;
            if (n_unknown)
                fprintf(stderr, "stratagem: warning: %s: %d users are not in the model's training "
                        "data; their lists come from an empty history\n", data, n_unknown);
        }
    }
    if ((rc = cli_out_open(&o, out))) goto done;
    opened = 1;
    fputs("user,rank,item,score\n", o.f);
    sg_error err;
    sg_error_clear(&err);
    for (int u0 = 0; u0 < s.n; u0 += OUT_CHUNK) {
        int nb = s.n - u0 < OUT_CHUNK ? s.n - u0 : OUT_CHUNK;
        if (sg_recommender_recommend(m, s.rp + u0, s.ci, nb, k, mask, rec, val, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        for (int b = 0; b < nb; b++) {
            for (int r = 0; r < k; r++) {
                int32_t i = rec[(size_t)b * k + r];
                if (i < 0) break;
                cli_csv_field(o.f, s.labels[u0 + b]);
                fprintf(o.f, ",%d,", r + 1);
                cli_csv_field(o.f, sg_interactions_item_label(d, i));
                fprintf(o.f, ",%.6g\n", (double)val[(size_t)b * k + r]);
            }
        }
    }
    opened = 0;
    rc = cli_out_commit(&o);
    if (!rc && !cli_quiet && !o.is_stdout)
        fprintf(stderr, "stratagem: wrote top-%d lists for %d users to %s\n", k, s.n, out);
done:
    if (opened) cli_out_abort(&o);
    serve_free(&s);
    cli_list_free(list);
    if (ids) {
        for (char **p = ids; *p; p++) sg_free(*p);
        sg_free(ids);
    }
    sg_table_free(t);
    sg_interactions_free(x);
    sg_free(mask);
    sg_free(rec);
    sg_free(val);
    sg_recommender_free(m);
    return rc;
}
