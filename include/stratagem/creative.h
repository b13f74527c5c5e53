/* creative.h -- product images: a class-conditional DCGAN, and the CNN that scores it.
 *
 * The generator (DCGAN, Radford et al. 2016) maps a latent z (Z) and a one-hot
 * class to a grayscale image:
 *   [z, onehot(y)] -> dense -> (H/4, W/4, 2G) -> batch norm, ReLU
 *   -> transposed conv 4x4 stride 2 -> (H/2, W/2, G) -> batch norm, ReLU
 *   -> transposed conv 4x4 stride 2 -> (H, W, 1) -> tanh
 * The discriminator is conditioned by projection (Miyato & Koyama 2018):
 *   x -> conv 4x4 s2 -> (H/2, W/2, Dc) -> leaky ReLU 0.2
 *   -> conv 4x4 s2 -> (H/4, W/4, 2Dc) -> batch norm, leaky ReLU 0.2 -> h (F)
 *   logit = w.h + b + embed(y).h
 * trained with the non-saturating GAN loss (binary cross-entropy on logits) and
 * Adam, one discriminator step then one generator step per batch, as in the
 * PyTorch DCGAN example.  H and W must be multiples of 4 (28x28 for Fashion-MNIST:
 * G = 64 gives 128x7x7 -> 64x14x14 -> 1x28x28).
 *
 * The classifier is a small CNN (conv 4x4 s2 + ReLU, twice, then a hidden dense
 * ReLU layer, dropout and a softmax layer) trained on real images.  Its hidden
 * layer gives the features of the Frechet distance between real and generated
 * images (the FID idea, with this classifier in place of Inception).
 *
 * Pixels enter the networks as floats in [-1, 1] (0 -> -1, 255 -> 1), which is
 * also what the generator writes.  Both models are saved as 'creative' model
 * files (model.h); a payload magic tells a generator from a classifier.
 * Training is deterministic for a fixed seed, data and thread count.
 * See LICENSE for copyright. */
#ifndef SG_CREATIVE_H
#define SG_CREATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "idx.h"
#include "rng.h"

#define SG_CREATIVE_MAX_CLASSES 256

/* Pixel conversions: out (n) = px / 127.5 - 1, and back, clamped and rounded. */
void sg_images_to_float(float *out, const uint8_t *px, size_t n);
void sg_images_to_u8(uint8_t *out, const float *x, size_t n);

/* ---------------------------------------------------------------------------
 * class-conditional DCGAN */

typedef struct sg_dcgan_opts {
    int z_dim;          /* latent size Z (default 64) */
    int g_channels;     /* G: channels at H/2 (default 64; 2G at H/4) */
    int d_channels;     /* Dc: discriminator channels at H/2 (default 64; 2Dc at H/4) */
    int batch_size;     /* default 64 */
    float lr_g, lr_d;   /* Adam learning rates (default 2e-4 each) */
    float beta1, beta2; /* Adam betas (default 0.5, 0.999) */
    float real_label;   /* target for real images (default 1; 0.9 = one-sided smoothing) */
    uint64_t seed;      /* initialisation and training stream (default SG_DEFAULT_SEED) */
} sg_dcgan_opts;

void sg_dcgan_opts_default(sg_dcgan_opts *o);

typedef struct sg_dcgan sg_dcgan;

/* A freshly initialised GAN for images of rows x cols (multiples of 4, at most 1024)
 * and 'n_classes' classes (1..SG_CREATIVE_MAX_CLASSES) named 'class_names' (copied;
 * NULL names them "0", "1", ...).  *out owned by the caller (sg_dcgan_free).
 * SG_EINVAL for a bad option (named), SG_ENOMEM. */
int sg_dcgan_new(sg_dcgan **out, const sg_dcgan_opts *o, int rows, int cols, int n_classes,
                 const char *const *class_names, sg_error *err);
void sg_dcgan_free(sg_dcgan *g);

typedef struct sg_dcgan_stats {
    int64_t steps;      /* batches trained in this call */
    int64_t images;     /* real images seen (steps * batch size) */
    double d_loss;      /* mean discriminator loss, BCE(real) + BCE(fake) */
    double g_loss;      /* mean generator loss, BCE(D(G(z)), 1) */
    double d_real;      /* mean D(x) probability on real images */
    double d_fake;      /* mean D(G(z)) probability, before the discriminator step */
} sg_dcgan_stats;

/* One epoch: the real images in a fresh random order, 'max_images' of them (0, or
 * more than data->n: all), in full batches (a last partial batch is dropped).
 * Ends by re-estimating the generator's batch-norm statistics over 16 batches,
 * which generation uses.  [out] stats (NULL allowed).  SG_EINVAL when the data's
 * image size differs or fewer images than one batch are given; SG_ENUMERIC naming
 * the step when a loss is not finite (the model is then unusable); SG_ENOMEM. */
int sg_dcgan_train_epoch(sg_dcgan *g, const sg_image_data *data, int64_t max_images,
                         sg_dcgan_stats *stats, sg_error *err);

/* Generate n images of classes labels (n) (each in [0, n_classes)) into out
 * (n, rows*cols), floats in [-1,1], with latents drawn from 'rng' (n*Z normals, in
 * order).  Batch norm uses the stored statistics, so an image does not depend on
 * the others in the call.  SG_EINVAL for a bad label, SG_ENOMEM. */
int sg_dcgan_generate(sg_dcgan *g, float *out, const int *labels, int64_t n, sg_rng *rng,
                      sg_error *err);

int sg_dcgan_rows(const sg_dcgan *g);
int sg_dcgan_cols(const sg_dcgan *g);
int sg_dcgan_n_classes(const sg_dcgan *g);
/* Name of class i (borrowed, valid while g lives). */
const char *sg_dcgan_class_name(const sg_dcgan *g, int i);
/* Class index of 'spec': a class name (exact, then case-insensitive) or a number;
 * -1 when none matches. */
int sg_dcgan_class_index(const sg_dcgan *g, const char *spec);
int64_t sg_dcgan_epochs(const sg_dcgan *g);     /* epochs trained so far */
int64_t sg_dcgan_steps(const sg_dcgan *g);      /* batches trained so far */
const sg_dcgan_opts *sg_dcgan_get_opts(const sg_dcgan *g);   /* borrowed */
/* Parameter counts of the generator and the discriminator. */
void sg_dcgan_n_params(const sg_dcgan *g, size_t *n_gen, size_t *n_disc);

/* Save to a 'creative' model file (atomic): config, class names, both networks
 * with their Adam state, the training RNG state, so that a loaded model trains on
 * exactly as the saved one would have.  SG_EIO, SG_ENOMEM. */
int sg_dcgan_save(const sg_dcgan *g, const char *path, sg_error *err);
/* *out owned by the caller.  SG_EIO, SG_EPARSE (not a model file, another task, a
 * classifier, truncated, corrupt; the message says which), SG_ENOMEM. */
int sg_dcgan_load(sg_dcgan **out, const char *path, sg_error *err);

/* ---------------------------------------------------------------------------
 * CNN classifier */

typedef struct sg_cnn_opts {
    int c1, c2;         /* conv channels (default 32, 64) */
    int hidden;         /* feature layer size (default 128) */
    int batch_size;     /* default 64 */
    float lr;           /* Adam learning rate (default 1e-3) */
    float dropout;      /* on the feature layer while training (default 0.3) */
    uint64_t seed;      /* default SG_DEFAULT_SEED */
} sg_cnn_opts;

void sg_cnn_opts_default(sg_cnn_opts *o);

typedef struct sg_cnn sg_cnn;

/* Sizes and errors as sg_dcgan_new. */
int sg_cnn_new(sg_cnn **out, const sg_cnn_opts *o, int rows, int cols, int n_classes,
               sg_error *err);
void sg_cnn_free(sg_cnn *m);

/* One epoch over 'max_images' (0 = all) images in a fresh random order (the last
 * partial batch included); [out] *mean_loss (NULL allowed) the mean cross-entropy.
 * Errors as sg_dcgan_train_epoch. */
int sg_cnn_train_epoch(sg_cnn *m, const sg_image_data *data, int64_t max_images,
                       double *mean_loss, sg_error *err);

/* Classify x (n, rows*cols) floats in [-1,1]: [out] pred (n) the most likely class
 * and [out] feat (n, hidden) the feature layer (after its ReLU); either may be NULL.
 * SG_ENOMEM. */
int sg_cnn_classify(sg_cnn *m, const float *x, int64_t n, int *pred, float *feat,
                    sg_error *err);
/* Share of data's images classified as their label; [out] class_acc (n_classes)
 * per class (NaN for a class without images), NULL allowed.  SG_EINVAL, SG_ENOMEM. */
int sg_cnn_accuracy(sg_cnn *m, const sg_image_data *data, double *acc, double *class_acc,
                    sg_error *err);
int sg_cnn_feature_dim(const sg_cnn *m);
int sg_cnn_n_classes(const sg_cnn *m);
int64_t sg_cnn_epochs(const sg_cnn *m);
size_t sg_cnn_n_params(const sg_cnn *m);

/* As sg_dcgan_save / sg_dcgan_load (the classifier is saved without Adam state). */
int sg_cnn_save(const sg_cnn *m, const char *path, sg_error *err);
int sg_cnn_load(sg_cnn **out, const char *path, sg_error *err);

/* Which kind of creative model a file holds: SG_CREATIVE_GAN or SG_CREATIVE_CLASSIFIER
 * into *kind.  Errors as sg_dcgan_load. */
enum { SG_CREATIVE_GAN = 1, SG_CREATIVE_CLASSIFIER = 2 };
int sg_creative_model_kind(const char *path, int *kind, sg_error *err);

/* ---------------------------------------------------------------------------
 * Frechet distance and the quality of generated images */

/* Mean and covariance of n feature vectors of D values (caller-owned struct;
 * sg_feature_stats_deinit frees the arrays). */
typedef struct sg_feature_stats {
    int D;
    int64_t n;
    double *mean;   /* (D) */
    double *cov;    /* (D,D), normalised by n - 1 */
} sg_feature_stats;

/* Stats of feat (n, D), n >= 2.  'out' is overwritten (zeroed on error).
 * SG_EINVAL, SG_ENOMEM. */
int sg_feature_stats_compute(sg_feature_stats *out, const float *feat, int64_t n, int D,
                             sg_error *err);
void sg_feature_stats_deinit(sg_feature_stats *s);
/* Features of all of data's images under classifier m, summarised. */
int sg_cnn_feature_stats(sg_cnn *m, const sg_image_data *data, sg_feature_stats *out,
                         sg_error *err);

/* Frechet distance between Gaussians N(m1, S1) and N(m2, S2):
 *   |m1 - m2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2),
 * with tr sqrt(S1 S2) = the sum of square roots of the eigenvalues of
 * sqrt(S1) S2 sqrt(S1) (symmetric eigendecompositions, sg_dsyev).  Negative
 * eigenvalues from rounding count as 0.  SG_EINVAL for mismatched D, SG_ENUMERIC
 * when an eigendecomposition fails, SG_ENOMEM. */
int sg_frechet_distance(const sg_feature_stats *a, const sg_feature_stats *b, double *out,
                        sg_error *err);

typedef struct sg_creative_score {
    int n_classes;
    int64_t n_per_class;                          /* images generated per class */
    double accuracy;                              /* share classified as requested */
    double class_accuracy[SG_CREATIVE_MAX_CLASSES];
    /* share of ALL generated images classified as class c (ideal 1/n_classes) */
    double coverage[SG_CREATIVE_MAX_CLASSES];
    int n_covered;                                /* classes with coverage >= half ideal */
    double frechet;                               /* against the 'real' stats */
} sg_creative_score;

/* Generate n_per_class images of every class (latents from a stream seeded with
 * 'seed', so calls with the same seed are comparable), classify them with 'clf' and
 * compare their features with 'real' (sg_cnn_feature_stats of real images).
 * SG_EINVAL when the image sizes, class counts or feature sizes differ or
 * n_per_class * n_classes < 2; errors of the parts. */
int sg_creative_evaluate(sg_dcgan *g, sg_cnn *clf, const sg_feature_stats *real,
                         int64_t n_per_class, uint64_t seed, sg_creative_score *out,
                         sg_error *err);

#endif
