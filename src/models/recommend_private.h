/* recommend_private.h -- the recommender's struct and the calls between
 * recommend.c (interface, evaluation, files, popularity), vae.c (Mult-VAE and
 * Mult-DAE) and ease.c (EASE).  Never installed. */
#ifndef SG_RECOMMEND_PRIVATE_H
#define SG_RECOMMEND_PRIVATE_H

#include "internal.h"
#include "stratagem/interactions.h"
#include "stratagem/nn.h"
#include "stratagem/recommend.h"

struct sg_recommender {
    int kind;                 /* sg_rec_kind */
    sg_rec_opts opts;         /* as trained; callbacks cleared */
    sg_interactions *data;    /* training interactions (owned) */
    int n_items;              /* I */
    float *pop;               /* (I) pop: training users per item */
    float *ease_b;            /* (I,I) ease: item-item weights, zero diagonal */
    double lambda;            /* ease */
    sg_params *params;        /* vae/dae: the network (tensor table in vae.c) */
    sg_params **more;         /* vae/dae ensemble: networks 2..n_more+1, laid out as
                               * 'params' (scores average all of them) */
    int n_more;
    uint8_t *in_net;          /* vae/dae: (I) 1 = the item is in the network (it has
                               * opts.min_item_users training users); NULL = all are */
};

/* ---- vae.c ---- */

/* Build m->params for m->kind, m->opts and m->n_items ('train' != 0 adds the
 * gradient and Adam arrays); initialised from 'seed' when 'init'. */
SG_INTERNAL int sg_vae_build(sg_recommender *m, int train, int init, sg_error *err);
/* Train m->params on 'x' for 'epochs' epochs with KL annealing over
 * 'anneal_steps' steps; with validation users (vf, vh) keep the parameters of
 * the epoch with the best NDCG@100 (rep->best_epoch / best_val_ndcg).
 * 'stage' names the run in progress reports. */
SG_INTERNAL int sg_vae_fit(sg_recommender *m, const sg_interactions *x,
                           const sg_interactions *vf, const sg_interactions *vh, int epochs,
                           int64_t anneal_steps, const char *stage, sg_rec_report *rep,
                           sg_error *err);
/* Logits (B,I) and/or embeddings (B,Z) (either NULL) for B CSR rows; items
 * outside the network (m->in_net) are left out of the input and get logit
 * -INFINITY. */
SG_INTERNAL int sg_vae_forward_eval(const sg_recommender *m, const int64_t *row_ptr,
                                    const int32_t *col_idx, int B, float *logits, float *z,
                                    sg_error *err);
/* Mean loss of one batch of B CSR rows without input dropout, KL weight
 * 'beta' (or m->opts.gamma per row), the Gaussian noise drawn from
 * 'noise_seed'; with m->opts.prior composite, 'old_enc' is the old encoder (the
 * block's encoder tensors, laid out as in the block).  With 'grad' the
 * gradients are cleared and filled (m->params built with training arrays).
 * For the whole-network gradient check in tests. */
SG_INTERNAL int sg_vae_batch_loss(sg_recommender *m, const int64_t *row_ptr,
                                  const int32_t *col_idx, int B, float beta, uint64_t noise_seed,
                                  const float *old_enc, int grad, double *loss, sg_error *err);
/* KL-annealing steps per epoch for n users (batches, times the encoder passes). */
SG_INTERNAL int64_t sg_vae_steps_per_epoch(const sg_recommender *m, int n_users);

/* ---- ease.c ---- */

/* Fit m->ease_b on 'x'; lambda = m->opts.lambda when > 0, else the best of a
 * grid on the validation users (vf, vh), else 500.  rep->lambda is set. */
SG_INTERNAL int sg_ease_fit(sg_recommender *m, const sg_interactions *x,
                            const sg_interactions *vf, const sg_interactions *vh,
                            sg_rec_report *rep, sg_error *err);
/* scores (B,I) = x B for B CSR rows. */
SG_INTERNAL void sg_ease_score(const sg_recommender *m, const int64_t *row_ptr,
                               const int32_t *col_idx, int B, float *scores);

/* ---- recommend.c ---- */

/* Evaluate raw fold-in rows (n_f users) against held-out rows (n_h users,
 * user u the same in both; u >= n_f has no fold-in) with the model as it is. */
SG_INTERNAL int sg_rec_eval_csr(const sg_recommender *m, const int64_t *f_rp,
                                const int32_t *f_ci, int n_f, const int64_t *h_rp,
                                const int32_t *h_ci, int n_h, sg_rec_metrics *out,
                                sg_error *err);
/* Seconds on a monotonic clock. */
SG_INTERNAL double sg_rec_now(void);

#endif
