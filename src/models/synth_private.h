/* synth_private.h -- internals of the synthetic-data models (never installed).
 *
 * B = batch rows, Bp = B / pac packed critic rows, Z = noise / latent size,
 * H = hidden width, Dd = encoded data width, Cc = conditional vector width,
 * C = columns, P = pac * (Dd + Cc) critic input width.
 *
 * The column transformer (synth.c) turns a frame row (fidelity.h coding) into a
 * compact pair per column: a level (a mode of a continuous column, a level of a
 * discrete or category column; "missing" is the last level when a column has
 * missing values) and, for continuous columns, the offset alpha in [-1, 1].  A
 * batch is materialised as the dense encoded row (Dd floats): per column, the
 * continuous offset (a tanh output) then the one-hot of the level (a softmax
 * output).  The conditional vector has one block of levels per discrete and
 * category column, in column order (the same levels as the data's one-hot).
 *
 * Tests include this header to reach the kernels (batch norm, gumbel-softmax,
 * the conditional loss, the critic's gradient penalty, the TVAE loss). */
#ifndef SG_SYNTH_PRIVATE_H
#define SG_SYNTH_PRIVATE_H

#include <stdint.h>

#include "internal.h"
#include "io/serial.h"
#include "stratagem/error.h"
#include "stratagem/nn.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

/* ---------------------------------------------------------------------------
 * column transformer */

typedef struct synth_col {
    char *name;
    int kind;           /* SG_FCOL_CONTINUOUS / _DISCRETE / _CATEGORY */
    int src_type;       /* sg_coltype of the training column */
    int has_missing;    /* the last level is "missing" */
    int is_integer;     /* continuous: decoded values are rounded */
    double lo, hi;      /* continuous: training range; decoded values are clamped to it */
    int n_modes;        /* continuous: mixture modes */
    double *mu, *sd;    /* continuous: (n_modes) mode means and standard deviations */
    double *wt;         /* continuous: (n_modes) mode weights */
    int n_levels;       /* softmax width: modes or levels, plus "other" and "missing" */
    double *value;      /* discrete: (n_levels) the number of each level, sorted; NaN = missing */
    char **label;       /* category: (n_levels) label of each level; NULL = missing */
    int other;          /* category: the "other" level, or -1 */
    int64_t *count;     /* (n_levels) training rows per level */
    int off;            /* first float of the column in the encoded row */
    int width;          /* encoded floats: 1 + n_levels (continuous) or n_levels */
    int cond_off;       /* discrete/category: offset in the conditional vector; else -1 */
    /* derived (not saved): category labels sorted for lookup */
    int32_t *by_label;  /* category: (n_levels) level indices sorted by label */
} synth_col;

typedef struct synth_xf {
    int n_cols;
    synth_col *cols;     /* (n_cols) */
    int data_dim;        /* Dd */
    int cond_dim;        /* Cc */
    int n_disc;          /* columns with a conditional block */
    int *disc;           /* (n_disc) their column indices */
    double *logf_cum;    /* (Cc) cumulative log(1 + count) probabilities within each block */
    double *freq_cum;    /* (Cc) cumulative count probabilities within each block */
} synth_xf;

typedef struct synth_fit_opts {
    int max_discrete, max_categories, max_modes;
    const char *const *continuous;   /* never discrete */
} synth_fit_opts;

/* Fit column c of the frame X (n rows, width ld) as a column of kind 'kind' and
 * name 'name': for a category, 'n_codes' table codes (X holds table codes) with
 * labels 'labels'; the chosen levels replace the codes when encoding.  'rng'
 * samples values for the mixture fit.  *col is initialised (synth_col_deinit). */
SG_INTERNAL int synth_col_fit(synth_col *col, const char *name, int src_type, const float *X,
                              int64_t n, int ld, int c, const synth_fit_opts *o,
                              const char *const *labels, int32_t n_codes, sg_rng *rng,
                              sg_error *err);
SG_INTERNAL void synth_col_deinit(synth_col *col);
/* After the columns are fitted (or loaded): offsets, conditional blocks and the
 * sampling tables. */
SG_INTERNAL int synth_xf_finish(synth_xf *xf, sg_error *err);
SG_INTERNAL void synth_xf_deinit(synth_xf *xf);
SG_INTERNAL void synth_xf_write(const synth_xf *xf, sg_wbuf *w);
SG_INTERNAL int synth_xf_read(synth_xf *xf, sg_rbuf *r, sg_error *err);

/* Level index of a category label, or -1. */
SG_INTERNAL int synth_col_find_label(const synth_col *col, const char *label);
/* Level of a frame value (NaN -> missing level; a discrete value not seen -> the
 * nearest level; a continuous value -> a mode drawn from its posterior).  For
 * continuous columns *alpha gets the offset, else 0. */
SG_INTERNAL int32_t synth_col_encode(const synth_col *col, float v, sg_rng *rng, float *alpha);
/* Frame value of (level, alpha). */
SG_INTERNAL float synth_col_decode(const synth_col *col, int32_t level, float alpha);

/* 1-D Gaussian mixture by MAP-EM with a Dirichlet(alpha = 1e-3) prior on the weights,
 * which empties superfluous modes; modes under 0.5% weight are then dropped.
 * x (n) values; at most 'max_modes'.  Writes mu, sd, wt (max_modes) and returns the
 * number of modes kept (>= 1), or SG_ENOMEM. */
SG_INTERNAL int synth_gmm_fit(const double *x, int64_t n, int max_modes, double *mu, double *sd,
                              double *wt);

/* ---------------------------------------------------------------------------
 * encoded training rows and training-by-sampling */

typedef struct synth_data {
    int64_t n;
    int C;
    int32_t *level;      /* (n, C) */
    float *alpha;        /* (n, C), 0 for discrete columns */
    int64_t *grp_ptr;    /* (Cc + 1): rows of conditional slot s are grp_rows[grp_ptr[s]..[s+1]) */
    int32_t *grp_rows;   /* (n_disc * n) */
} synth_data;

/* Encode frame rows X (n, C) into d (synth_data_deinit). */
SG_INTERNAL int synth_data_init(synth_data *d, const synth_xf *xf, const float *X, int64_t n,
                                sg_rng *rng, sg_error *err);
SG_INTERNAL void synth_data_deinit(synth_data *d);
/* Dense encoded rows of d for rows[0..B) into out (B, Dd). */
SG_INTERNAL void synth_data_dense(const synth_xf *xf, const synth_data *d, const int64_t *rows,
                                  int B, float *out);
/* Conditional vectors for B rows into cond (B, Cc): a block chosen uniformly, a level
 * by 'cum' (xf->logf_cum for training, xf->freq_cum to generate); the block index
 * into dcol (B) and the level into lvl (B).  Nothing when Cc == 0. */
SG_INTERNAL void synth_cond_sample(const synth_xf *xf, const double *cum, int B, sg_rng *rng,
                                   float *cond, int32_t *dcol, int32_t *lvl);
/* The same with a focus block: each row conditions on block 'focus' (an index into
 * xf->disc) with probability 'share', else on a block chosen uniformly (CTGAN's rule).
 * focus < 0 or share <= 0: synth_cond_sample. */
SG_INTERNAL void synth_cond_sample_focus(const synth_xf *xf, const double *cum, int B, int focus,
                                         double share, sg_rng *rng, float *cond, int32_t *dcol,
                                         int32_t *lvl);
/* A random training row with level lvl[b] in block dcol[b], for every b, into rows (B);
 * uniform rows when Cc == 0. */
SG_INTERNAL void synth_rows_for_cond(const synth_xf *xf, const synth_data *d,
                                     const int32_t *dcol, const int32_t *lvl, int B, sg_rng *rng,
                                     int64_t *rows);
/* Frame rows X (B, C) from activated encoded rows act (B, Dd): the level is the
 * largest entry of each softmax span, alpha the tanh output. */
SG_INTERNAL void synth_decode(const synth_xf *xf, const float *act, int B, float *X);

/* ---------------------------------------------------------------------------
 * kernels (ctgan.c) */

/* Batch norm with batch statistics (training mode; the generator samples in batches
 * too, as CTGAN does): out (B,H) = gamma * xhat + beta, xhat = (inp - mean) * rstd,
 * rstd = 1 / sqrt(var + 1e-5), biased variance.  [out] xhat (B,H), mean, rstd (H). */
SG_INTERNAL void synth_bn_forward(float *out, float *xhat, float *mean, float *rstd,
                                  const float *inp, const float *gamma, const float *beta, int B,
                                  int H);
/* dinp (B,H) += ..., dgamma (H) += sum dout * xhat, dbeta (H) += sum dout. */
SG_INTERNAL void synth_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                                   const float *xhat, const float *rstd, const float *gamma, int B,
                                   int H);

/* Output activations of raw rows o (B, Dd): tanh on continuous offsets, gumbel-softmax
 * (temperature tau) on every softmax span: softmax((o + g) / tau), g = -log(-log u).
 * 'noise' (B, Dd) receives g (drawn from 'rng'), or is reused when rng is NULL
 * (tau <= 0: plain softmax, no noise). */
SG_INTERNAL void synth_activate_forward(const synth_xf *xf, float *act, float *noise,
                                        const float *o, int B, float tau, sg_rng *rng);
/* d_o (B, Dd) += gradient through the activations, given dact and the forward act. */
SG_INTERNAL void synth_activate_backward(const synth_xf *xf, float *d_o, const float *dact,
                                         const float *act, int B, float tau);

/* CTGAN's conditional loss: mean over rows of the cross-entropy of the raw logits of
 * the conditioned column's span (block dcol[b], level lvl[b]). */
SG_INTERNAL double synth_cond_loss_forward(const synth_xf *xf, const float *o,
                                           const int32_t *dcol, const int32_t *lvl, int B);
/* d_o += scale * (softmax - onehot) on those spans (scale = 1/B for the mean). */
SG_INTERNAL void synth_cond_loss_backward(const synth_xf *xf, float *d_o, const float *o,
                                          const int32_t *dcol, const int32_t *lvl, int B,
                                          float scale);

/* ---------------------------------------------------------------------------
 * CTGAN networks (ctgan.c) */

/* Generator: x0 = [z | cond] (I0 = Z + Cc), two residual blocks
 * h = relu(bn(x W)), x_next = [h | x] (concatenation, as CTGAN's Residual), then a
 * dense layer to Dd and the output activations.  The residual layers have no bias
 * (batch norm's beta takes its place). */
typedef struct synth_gen {
    int B, Z, Cc, H, Dd, I0, W1, W2;
    sg_params *p;        /* w1 (I0,H) g1 be1 (H) w2 (W1,H) g2 be2 (H) w3 (W2,Dd) b3 (Dd) */
    float *w1, *g1, *be1, *w2, *g2, *be2, *w3, *b3;
    float *dw1, *dg1, *dbe1, *dw2, *dg2, *dbe2, *dw3, *db3;   /* NULL without training */
    /* activations (B rows) */
    float *x0, *a1, *n1, *xh1, *m1, *rs1, *x1, *a2, *n2, *xh2, *m2, *rs2, *x2, *o, *act, *noise;
    /* gradients (B rows) */
    float *d_o, *dact, *dx2, *dx1, *dn, *da;
    float *mem;          /* one block for all of the above */
} synth_gen;

SG_INTERNAL int synth_gen_init(synth_gen *g, int B, int Z, int Cc, int H, int Dd, int train,
                               sg_error *err);
SG_INTERNAL void synth_gen_deinit(synth_gen *g);
/* Forward on g->x0 (filled by the caller): g->o raw, g->act activated. */
SG_INTERNAL void synth_gen_forward(synth_gen *g, const synth_xf *xf, float tau, sg_rng *rng);
/* Backward from g->d_o (the caller has filled it, e.g. with synth_activate_backward):
 * accumulates the parameter gradients. */
SG_INTERNAL void synth_gen_backward(synth_gen *g);

/* Critic: P -> H leaky-relu(0.2) dropout(0.5) -> H leaky-relu dropout -> 1. */
typedef struct synth_critic {
    int Bp, P, H;
    float slope, drop;
    sg_params *p;        /* w1 (P,H) b1 (H) w2 (H,H) b2 (H) w3 (H,1) b3 (1) */
    float *w1, *b1, *w2, *b2, *w3, *b3;
    float *dw1, *db1, *dw2, *db2, *dw3, *db3;
    float *a1, *h1, *k1, *a2, *h2, *k2, *out;   /* pre-activations, outputs, dropout masks */
    float *e1, *e2, *t, *g, *u, *dout;          /* gradient scratch (Bp rows) */
    double *gnorm;                              /* (Bp) */
    float *mem;
} synth_critic;

SG_INTERNAL int synth_critic_init(synth_critic *c, int Bp, int P, int H, float drop,
                                  sg_error *err);
SG_INTERNAL void synth_critic_deinit(synth_critic *c);
/* c->out (Bp) = critic(inp (Bp,P)); dropout masks drawn from 'rng', or reused when
 * rng is NULL. */
SG_INTERNAL void synth_critic_forward(synth_critic *c, const float *inp, sg_rng *rng);
/* Backward of sum_b dout[b] * out[b] after a forward on 'inp': the weight gradients
 * are accumulated when 'wgrads'; dinp (Bp,P) += the input gradient when not NULL. */
SG_INTERNAL void synth_critic_backward(synth_critic *c, const float *inp, const float *dout,
                                       float *dinp, int wgrads);
/* Gradient of sum_b out[b] wrt the input, per row, after a forward: c->g (Bp,P). */
SG_INTERNAL void synth_critic_input_grad(synth_critic *c);
/* WGAN-GP penalty lambda * mean_b (||d critic / d x_b|| - 1)^2 at rows xhat (Bp,P),
 * with a forward of its own (masks from 'rng', or reused when NULL); when 'wgrads'
 * its exact gradient wrt the critic weights is accumulated (double backprop through
 * the leaky-ReLU network; the biases have none).  Returns the penalty. */
SG_INTERNAL double synth_critic_gp(synth_critic *c, const float *xhat, float lambda, sg_rng *rng,
                                   int wgrads);

/* The CTGAN trainer: generator, critic, Adam states and batch buffers. */
typedef struct synth_ctgan synth_ctgan;
/* focus: the target's conditional block (an index into xf->disc), or -1; with one,
 * a share 'focus_share' of the conditions name it (the rest follow CTGAN's uniform
 * choice of block), in training and when generating (the same mix of blocks: the
 * generator's batch norm uses batch statistics), and those rows carry exactly the
 * conditioned level in the target's span (the critic then judges the other columns
 * against real rows with that level), and an auxiliary classifier of the target
 * adds its loss on those rows to the generator's (ctgan.c).  With 86 blocks CTGAN's
 * rule names the target in one row of 86, the generator need not honour it, and the
 * target's relation to the other columns was not learned (CoIL: TSTR AUC below 0.5). */
typedef struct synth_ctgan_cfg {
    int B, Z, H, pac, critic_steps;
    float lr, wd, gp_lambda, tau;
    int focus;
    float focus_share;
} synth_ctgan_cfg;

SG_INTERNAL int synth_ctgan_new(synth_ctgan **out, const synth_xf *xf, const synth_ctgan_cfg *cfg,
                                int train, sg_error *err);
SG_INTERNAL void synth_ctgan_free(synth_ctgan *t);
SG_INTERNAL void synth_ctgan_init(synth_ctgan *t, sg_rng *rng);
SG_INTERNAL sg_params *synth_ctgan_gen_params(synth_ctgan *t);
/* One epoch of max(n / B, 1) steps; mean critic and generator losses. */
SG_INTERNAL int synth_ctgan_epoch(synth_ctgan *t, const synth_data *d, sg_rng *rng, int epoch,
                                  double *loss_d, double *loss_g, sg_error *err);
/* Generate one batch of B rows into X (B, C), the conditional vectors drawn with the
 * real frequencies, or all set to (cond_col's block, level) when cond_col >= 0.  Uses
 * its own buffers: the trainer is not changed. */
SG_INTERNAL int synth_ctgan_generate(const synth_ctgan *t, int cond_col, int32_t cond_level,
                                     sg_rng *rng, float *X, sg_error *err);

/* ---------------------------------------------------------------------------
 * TVAE (tvae.c) */

/* TVAE reconstruction loss (Xu et al. 2019, as in the CTGAN package): per row, for
 * each continuous offset (x - tanh(rec))^2 / (2 sigma^2) + log sigma, for each
 * softmax span the cross-entropy of rec against the one-hot of x; summed over
 * rows, times 'factor' / B. */
SG_INTERNAL double synth_tvae_loss_forward(const synth_xf *xf, const float *rec, const float *x,
                                           const float *sigma, int B, float factor);
/* drec (B, Dd) += and dsigma (Dd) += its gradient. */
SG_INTERNAL void synth_tvae_loss_backward(const synth_xf *xf, float *drec, float *dsigma,
                                          const float *rec, const float *x, const float *sigma,
                                          int B, float factor);

/* The same with the cross-entropy of column wcol's span weighted by w (wcol < 0: none;
 * the plain functions are wcol = -1). */
SG_INTERNAL double synth_tvae_loss_wforward(const synth_xf *xf, const float *rec, const float *x,
                                            const float *sigma, int B, float factor, int wcol,
                                            float w);
SG_INTERNAL void synth_tvae_loss_wbackward(const synth_xf *xf, float *drec, float *dsigma,
                                           const float *rec, const float *x, const float *sigma,
                                           int B, float factor, int wcol, float w);

typedef struct synth_tvae synth_tvae;
/* target: the target column (discrete or category), whose reconstruction
 * cross-entropy is weighted by target_weight in training, or -1.  Unweighted and
 * unconditioned, the target's term is one of C and the latent code hardly holds a
 * rare target (CoIL's 6% CARAVAN): sampled rows draw it nearly independently of the
 * other columns.  cond (with a target): a conditional TVAE, whose decoder input is
 * [z | one-hot of the target level] (Lt levels, the missing one included): in
 * training the row's level, in sampling a level drawn from the training frequencies
 * (or the one asked for), which the row then carries. */
typedef struct synth_tvae_cfg {
    int B, Z, H;
    float lr, wd, factor;
    int target;
    float target_weight;
    int cond;
    float aux_weight;
} synth_tvae_cfg;

SG_INTERNAL int synth_tvae_new(synth_tvae **out, const synth_xf *xf, const synth_tvae_cfg *cfg,
                               int train, sg_error *err);
SG_INTERNAL void synth_tvae_free(synth_tvae *t);
SG_INTERNAL void synth_tvae_init(synth_tvae *t, sg_rng *rng);
/* The decoder's block (what sampling needs, what is saved). */
SG_INTERNAL sg_params *synth_tvae_dec_params(synth_tvae *t);
/* The encoder's block (NULL without training). */
SG_INTERNAL sg_params *synth_tvae_enc_params(synth_tvae *t);
/* The auxiliary classifier's block (NULL without one: not conditioned, aux_weight 0 or
 * no training). */
SG_INTERNAL sg_params *synth_tvae_aux_params(synth_tvae *t);
/* Lt: the width of the decoder's condition (0 when unconditioned). */
SG_INTERNAL int synth_tvae_cond_width(const synth_tvae *t);
/* Loss parts and the gradients of lrec + lkl + aux_weight * laux wrt both blocks (zeroed
 * first) on rows[0..B) of d (B <= cfg.B, a training TVAE), the noise drawn from 'rng';
 * no update (the classifier is not trained either).  laux: the auxiliary classifier's
 * cross-entropy on rows from the prior, 0 without it. */
SG_INTERNAL void synth_tvae_grad(synth_tvae *t, const synth_data *d, const int64_t *rows, int B,
                                 sg_rng *rng, double *lrec, double *lkl, double *laux);
SG_INTERNAL int synth_tvae_epoch(synth_tvae *t, const synth_data *d, sg_rng *rng, int epoch,
                                 double *loss_rec, double *loss_kl, sg_error *err);
/* One batch of B rows into X (B, C): conditioned, target levels (cond_level, or drawn
 * from the training frequencies when cond_level < 0); z ~ N(0, I), decoder, offsets
 * drawn from N(tanh(rec), sigma), levels drawn from the softmax of their span (the
 * target's: the conditioned level).  cond_level is ignored when unconditioned. */
SG_INTERNAL int synth_tvae_generate(const synth_tvae *t, int32_t cond_level, sg_rng *rng,
                                    float *X, sg_error *err);

/* ---------------------------------------------------------------------------
 * helpers shared with the simulator */

/* Gumbel noise -log(-log u), u uniform in (0,1). */
SG_INTERNAL float synth_gumbel(sg_rng *rng);
/* Seconds on a monotonic clock. */
SG_INTERNAL double synth_now(void);

#endif
