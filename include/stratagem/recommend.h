/* recommend.h -- top-N recommendation: Mult-VAE, Mult-DAE, EASE and popularity.
 *
 * One opaque model, four kinds behind the same calls (train, score, recommend,
 * embed, evaluate, save, load, free):
 *   vae   Mult-VAE (Liang et al. 2018): encoder I-600-200 (tanh) to a Gaussian,
 *         decoder 200-600-I (tanh), multinomial likelihood over the I items,
 *         KL term annealed linearly up to 'beta_cap'; input rows L2-normalised
 *         and dropped out with probability 'dropout' while training.
 *         Optionally trained as RecVAE does (Shenbin et al. 2020): KL weight
 *         'gamma' times the user's number of items, and per epoch 'enc_passes'
 *         encoder-only passes then one decoder-only pass without dropout;
 *         gamma = 0 and enc_passes = 0 (the defaults) give Mult-VAE training.
 *         'encoder' dense swaps the encoder's tanh layer for RecVAE's
 *         (sg_rec_encoder); the default mlp keeps the Mult-VAE network.
 *   dae   Mult-DAE: the same with a deterministic I-200-600-I network, no KL,
 *         and an L2 penalty on the weights.
 *   ease  EASE (Steck 2019): item-item weights B = I - P diag(1/diag P) with
 *         P = (X^T X + lambda I)^-1, zero diagonal; score = x B.
 *   pop   items by the number of training users who have them.
 * Feedback is implicit and binary (interactions.h).  A user is a CSR row of
 * item indices of the model's item dictionary; rows follow nn.h's CSR
 * convention (row_ptr[0] may be > 0, values are all one).
 *
 * The model keeps a copy of its training interactions (item and user
 * dictionaries, each user's items) so that a known user can be served by label
 * and items a user already has can be excluded.
 *
 * Model selection follows the paper: validation users (fold-in / held-out) pick
 * the epoch with the best NDCG@100 for vae/dae, and lambda for ease.  With no
 * validation sets given, 'val_users' of the training users are held out for it
 * and, with 'refit', the chosen setting is trained again on all users.
 *
 * Training is deterministic for a fixed seed and thread count (OpenMP and
 * BLAS): the same inputs give the same model bytes.  See LICENSE. */
#ifndef SG_RECOMMEND_H
#define SG_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "interactions.h"

typedef struct sg_recommender sg_recommender;

typedef enum sg_rec_kind {
    SG_REC_POP = 0,
    SG_REC_EASE = 1,
    SG_REC_VAE = 2,
    SG_REC_DAE = 3,
} sg_rec_kind;

/* "pop", "ease", "vae", "dae"; "unknown" otherwise.  Static. */
const char *sg_rec_kind_name(int kind);
/* The kind named 's', or -1. */
int sg_rec_kind_parse(const char *s);

/* Progress after each epoch (vae/dae) or lambda tried (ease). */
typedef struct sg_rec_progress {
    const char *stage;     /* "train", "refit", "lambda" */
    int epoch, n_epochs;   /* 1-based; for ease the grid position */
    double loss;           /* mean training loss per user of the epoch (NaN for ease) */
    double beta;           /* KL weight at the end of the epoch (vae) */
    double val_ndcg;       /* validation NDCG@100, NaN without validation */
    double lambda;         /* ease */
    double seconds;        /* of this epoch / fit */
} sg_rec_progress;

/* vae prior.  COMPOSITE (RecVAE): per latent dimension the mixture 3/20 N(0,1) +
 * 15/20 q_old(z|x) + 2/20 N(0,e^10), q_old the encoder as it was after the previous
 * epoch's encoder updates, fed the user's items without dropout; the KL term is then
 * the one-sample estimate log q(z|x) - log p(z) at the sampled z. */
typedef enum sg_rec_prior {
    SG_REC_PRIOR_NORMAL = 0,
    SG_REC_PRIOR_COMPOSITE = 1,
} sg_rec_prior;

/* vae encoder.  DENSE (RecVAE's): enc_layers hidden layers of 'hidden' units, layer k
 * h_k = LayerNorm(swish(h_{k-1} W_k + b_k + h_1 + ... + h_{k-1})) (eps 0.1; the first
 * reads the normalised, dropped-out input), then the Gaussian heads on the last;
 * MLP: the Mult-VAE's one tanh layer. */
typedef enum sg_rec_encoder {
    SG_REC_ENCODER_MLP = 0,
    SG_REC_ENCODER_DENSE = 1,
} sg_rec_encoder;

typedef struct sg_rec_opts {
    int kind;                 /* sg_rec_kind; default SG_REC_VAE */
    uint64_t seed;            /* default SG_DEFAULT_SEED */
    /* vae / dae */
    int epochs;               /* default vae 300, dae 200 (the best one is kept) */
    int batch;                /* users per step, default 500 */
    int hidden;               /* default 600 */
    int latent;               /* default 200 */
    float lr;                 /* Adam learning rate, default 1e-3 */
    float dropout;            /* input dropout, default vae 0.3, dae 0.5 */
    float beta_cap;           /* vae: largest KL weight, default 0.2 */
    /* vae: steps over which the KL weight grows 0 -> 1 (capped at beta_cap):
     * beta = min(beta_cap, step / anneal_steps) (the paper's 200000 steps on
     * ML-20M); 0 = automatic: beta reaches the cap after the first 20% of the
     * epochs, i.e. 0.2 * epochs * steps_per_epoch / beta_cap. */
    int64_t anneal_steps;
    float l2;                 /* coupled L2 on weights: dae default 0.01/batch, vae 0 */
    /* vae, RecVAE's training (Shenbin et al. 2020); the network is unchanged */
    float gamma;              /* > 0: user u's KL weight is gamma * |x_u| (her items) in
                               * place of the annealed beta (RecVAE: 0.005 on ML-20M;
                               * 0.0015 best on MovieLens-small validation users);
                               * default 0 = off */
    int prior;                /* sg_rec_prior: SG_REC_PRIOR_NORMAL (default) or _COMPOSITE */
    int enc_passes;           /* > 0: alternating updates, per epoch this many encoder
                               * passes (input dropout) then one decoder pass (no dropout),
                               * each with its own Adam (RecVAE: 3); default 0: joint
                               * updates */
    int encoder;              /* sg_rec_encoder: SG_REC_ENCODER_MLP (default) or _DENSE */
    int enc_layers;           /* dense encoder: hidden layers, default 5 (RecVAE's) */
    float ema;                /* vae/dae: in [0, 1); > 0 evaluates and keeps an exponential
                               * moving average of the weights, updated after every step
                               * with this decay (Polyak averaging); default 0 = the last
                               * weights.  Training only: not stored in the model file */
    int ensemble;             /* vae/dae: networks trained and averaged (>= 1).  The
                               * first is chosen and trained as with one; the others
                               * repeat its final fit (same data and epoch count) with
                               * seeds seed+1, seed+2, ...; scores are the mean of their
                               * logits; embeddings are the first network's.  Default
                               * vae 5, dae 1 */
    int min_item_users;       /* vae/dae: items fewer training users have are ignored by
                               * the network: dropped from its inputs and training
                               * targets, never recommended (scored -INFINITY);
                               * default 1 = every item */
    /* ease */
    double lambda;            /* > 0 fixed; <= 0 chooses on validation from a grid */
    /* model selection without validation sets */
    double val_users;         /* share of training users held out, default 0.1; 0 = none */
    int refit;                /* retrain on all users with the chosen setting (default 1) */
    int eval_every;           /* validate every N epochs (default 1) */
    /* ease: refuse more items than this (I x I floats); default 30000 */
    int max_items;
    void (*on_progress)(void *ud, const sg_rec_progress *p);
    void *ud;
} sg_rec_opts;

/* Defaults for 'kind': the paper's network and settings ([I-600-200-600-I],
 * batch 500, lr 1e-3, beta cap 0.2; dae: 200 epochs, dropout 0.5, l2 0.01/500);
 * the vae trains 300 epochs with RecVAE's alternating passes (enc_passes 3),
 * input dropout 0.3, averaged weights (ema 0.99) and an ensemble of 5 networks;
 * gamma 0, normal prior, mlp encoder. */
void sg_rec_opts_default(sg_rec_opts *o, int kind);

typedef struct sg_rec_report {
    int n_users, n_items;     /* training data */
    int net_items;            /* vae/dae: items in the network (opts.min_item_users) */
    int64_t nnz;
    int n_val_users;          /* validation users used for selection (0: none) */
    int best_epoch;           /* vae/dae: epoch chosen (1-based), 0 when none */
    double best_val_ndcg;     /* its validation NDCG@100 (NaN without validation) */
    double lambda;            /* ease: lambda used */
    double final_loss;        /* mean loss per user of the last epoch (vae/dae) */
    double seconds;           /* wall time of training */
    int refitted;             /* 1 when the final model was retrained on all users */
} sg_rec_report;

/* Train a model on 'train' (users x items).  'val_foldin' and 'val_heldout'
 * (both or neither) are validation users over the SAME items as 'train' (build
 * them with item_vocab = train) and the same users as each other (heldout built
 * with user_vocab = foldin).  Without them, o->val_users of the eligible
 * training users are split off for selection (sg_interactions_split with the
 * training seed).  *out is owned by the caller (sg_recommender_free); 'rep'
 * (NULL allowed) gets what happened.  Errors: SG_EINVAL (bad options, no
 * users or items, too many items for ease), SG_ENUMERIC (a non-finite loss,
 * naming the epoch and step), SG_ENOMEM. */
int sg_recommender_train(sg_recommender **out, const sg_interactions *train,
                         const sg_interactions *val_foldin, const sg_interactions *val_heldout,
                         const sg_rec_opts *o, sg_rec_report *rep, sg_error *err);

void sg_recommender_free(sg_recommender *m);   /* NULL is a no-op */

int sg_recommender_kind(const sg_recommender *m);
int sg_recommender_n_items(const sg_recommender *m);
/* Size of an embedding: the latent size for vae/dae, 0 for ease/pop. */
int sg_recommender_embed_dim(const sg_recommender *m);
uint64_t sg_recommender_seed(const sg_recommender *m);
/* The options it was trained with (borrowed; callbacks cleared). */
const sg_rec_opts *sg_recommender_opts(const sg_recommender *m);
/* The training interactions kept in the model: dictionaries and histories (borrowed). */
const sg_interactions *sg_recommender_data(const sg_recommender *m);

/* Scores (B, I) of every item for the B users given as CSR rows; higher is
 * better.  vae: logits of the decoder at the encoder mean; dae: logits; ease:
 * x B; pop: training counts.  Nothing is excluded, except that a vae or dae
 * scores the items outside its network (opts.min_item_users) -INFINITY.
 * SG_EINVAL (an item out of range), SG_ENOMEM. */
int sg_recommender_score(const sg_recommender *m, const int64_t *row_ptr,
                         const int32_t *col_idx, int B, float *scores, sg_error *err);

/* Top k items per user, best first: [out] items (B,k) and scores (B,k) (scores
 * NULL allowed).  A user's own items and items with exclude[i] != 0 ('exclude'
 * (I) NULL for none) are never returned; when fewer than k remain the rest is
 * filled with item -1 and score -INFINITY.  Ties go to the lower item index.
 * SG_EINVAL, SG_ENOMEM. */
int sg_recommender_recommend(const sg_recommender *m, const int64_t *row_ptr,
                             const int32_t *col_idx, int B, int k, const unsigned char *exclude,
                             int32_t *items, float *scores, sg_error *err);

/* Customer embeddings: the encoder mean (B, embed_dim) for vae, the code layer
 * (tanh of the first layer, 200 values) for dae.  SG_EINVAL for ease/pop. */
int sg_recommender_embed(const sg_recommender *m, const int64_t *row_ptr,
                         const int32_t *col_idx, int B, float *z, sg_error *err);

/* ---------------------------------------------------------------------------
 * evaluation by strong generalisation (Liang et al. 2018)
 *
 * For each user with at least one held-out item: rank all items by score with
 * the fold-in items removed; Recall@k = hits in the top k / min(k, n_heldout);
 * NDCG@k = DCG@k / IDCG@k with binary gains and 1/log2(rank+1) discounts,
 * IDCG over min(k, n_heldout) hits.  Means over users. */

typedef struct sg_rec_metrics {
    double recall20, recall50, ndcg100;
    int64_t n_users;          /* users evaluated (with held-out items) */
    int64_t n_no_foldin;      /* of those, users with no fold-in item */
} sg_rec_metrics;

/* Evaluate 'm' on fold-in/held-out users.  Both over the model's items
 * (item_vocab = sg_recommender_data(m)); 'heldout' built with user_vocab =
 * 'foldin', so user u is the same person in both (users of 'heldout' past the
 * end of 'foldin' have no fold-in items).  SG_EINVAL when the item
 * dictionaries do not match the model, SG_ENOMEM. */
int sg_recommender_evaluate(const sg_recommender *m, const sg_interactions *foldin,
                            const sg_interactions *heldout, sg_rec_metrics *out, sg_error *err);

/* The same metrics from raw parts: for each of B users, the ranked list
 * 'ranked' (B, n_ranked; -1 entries end a list) and the held-out items as CSR
 * (h_row_ptr, h_col sorted ascending).  Users with no held-out item are
 * skipped.  Returns the number of users averaged; the means go to *out. */
int64_t sg_rank_metrics(const int32_t *ranked, int n_ranked, const int64_t *h_row_ptr,
                        const int32_t *h_col, int B, sg_rec_metrics *out);
/* One user: recall@k and NDCG@k of 'ranked' (n_ranked entries, -1 ends it)
 * against the sorted held-out items 'held' (n_held > 0). */
double sg_recall_at_k(const int32_t *ranked, int n_ranked, const int32_t *held, int64_t n_held,
                      int k);
double sg_ndcg_at_k(const int32_t *ranked, int n_ranked, const int32_t *held, int64_t n_held,
                    int k);

/* ---------------------------------------------------------------------------
 * files */

/* Save as a model file of task SG_TASK_RECOMMEND (model.h), atomically. */
int sg_recommender_save(const sg_recommender *m, const char *path, sg_error *err);
/* Load a model file; *out owned by the caller.  SG_EIO, SG_EPARSE (not a model
 * file, another task, corrupt or truncated: the message says which), SG_ENOMEM. */
int sg_recommender_load(sg_recommender **out, const char *path, sg_error *err);
/* The payload alone (what save puts inside the model file), for tests and
 * embedding: *buf owned by the caller (sg_free). */
int sg_recommender_save_mem(const sg_recommender *m, unsigned char **buf, size_t *len,
                            sg_error *err);
int sg_recommender_load_mem(sg_recommender **out, const unsigned char *buf, size_t len,
                            sg_error *err);

#endif
