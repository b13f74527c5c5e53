/* nn.h -- neural-network core: layers, losses, parameter block, AdamW.
 *
 * Forward and backward passes are written by hand, llm.c style, with no
 * autograd.  Every layer has a <layer>_forward and a <layer>_backward; outputs
 * come first, then inputs, then sizes.  Backward functions ACCUMULATE (+=) into
 * their gradient outputs, so the caller clears gradients once per step
 * (sg_params_zero_grad) and a tensor used twice simply receives both
 * contributions.  Gradient buffers passed to a backward must not alias its
 * inputs.
 *
 * Dimension letters: B = batch size, D = input features, H = hidden units,
 * Z = latent size, I = items (output classes).  All arrays are contiguous,
 * row-major float; an (B,H) array holds row b at offset b*H.  Flat element
 * counts are 'size_t n'.
 *
 * Weights of a dense layer are laid out (D,H): row j holds the H weights that
 * input feature j feeds, so out = inp W + b is one GEMM and the sparse first
 * layer reads and writes one contiguous row of W per nonzero.
 *
 * Sparse rows use CSR: 'row_ptr' (B+1) int64 offsets, 'col_idx' (nnz) int32
 * column ids in [0, D), 'values' (nnz) floats or NULL for "all ones".  The
 * nonzeros of row b are k in [row_ptr[b], row_ptr[b+1]); row_ptr[0] need not
 * be 0, so a window of rows of a larger CSR matrix can be passed as is.
 * Functions that WRITE a CSR always start it at offset 0.
 *
 * Randomness only through an explicit sg_rng.  Every kernel is deterministic
 * for a fixed seed: OpenMP loops split independent rows or elements, and every
 * reduction runs in a fixed order, so results do not depend on the thread count
 * (except through BLAS, which is deterministic for a fixed thread count).
 * Kernels check nothing: sizes must match the buffers, and finiteness is the
 * caller's job (sg_first_nonfinite helps).  See LICENSE for copyright. */
#ifndef SG_NN_H
#define SG_NN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"

/* ---------------------------------------------------------------------------
 * dense layers */

/* out (B,H) = inp (B,D) w (D,H) + b (H).  'b' NULL means no bias.  Uses sg_sgemm. */
void sg_dense_forward(float *out, const float *inp, const float *w, const float *b, int B, int D,
                      int H);
/* Accumulates dinp (B,D) += dout w^T, dw (D,H) += inp^T dout, db (H) += column sums of
 * dout.  'dinp' NULL skips the input gradient (first layer); 'db' NULL skips the bias. */
void sg_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int B, int D, int H);

/* Sparse-input dense layer: out (B,H) = X w (D,H) + b (H) for X given as CSR rows
 * (row_ptr, col_idx, values; see the file comment), in O(nnz*H) without ever forming
 * a dense X.  'b' NULL means no bias.  Rows run in parallel. */
void sg_sparse_dense_forward(float *out, const int64_t *row_ptr, const int32_t *col_idx,
                             const float *values, const float *w, const float *b, int B, int D,
                             int H);
/* Accumulates dw (D,H) += X^T dout over the nonzeros only and db (H) += column sums
 * of dout ('db' NULL skips it).  There is no input gradient.  Threads split the H
 * columns, so every dw element is summed by one thread in row order: the result
 * is identical for any thread count. */
void sg_sparse_dense_backward(float *dw, float *db, const float *dout, const int64_t *row_ptr,
                              const int32_t *col_idx, const float *values, int B, int D, int H);

/* ---------------------------------------------------------------------------
 * activations (elementwise over n values)
 *
 * Forward may run in place (out == inp).  Backward takes the forward OUTPUT, so the
 * input need not be kept, and accumulates dinp += dout * f'(x). */

void sg_tanh_forward(float *out, const float *inp, size_t n);
void sg_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
void sg_relu_forward(float *out, const float *inp, size_t n);
void sg_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
/* f(x) = x for x > 0, slope * x otherwise; 'slope' >= 0 (0.2 for GANs). */
void sg_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
void sg_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n,
                            float slope);
/* Logistic sigmoid, computed without overflow for large |x|. */
void sg_sigmoid_forward(float *out, const float *inp, size_t n);
void sg_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);

/* Swish (SiLU): f(x) = x sigmoid(x).  Unlike the activations above, its backward takes
 * the forward INPUT: dinp += dout * s (1 + x (1 - s)), s = sigmoid(x). */
void sg_swish_forward(float *out, const float *inp, size_t n);
void sg_swish_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* ---------------------------------------------------------------------------
 * layer norm (layernorm.c; added for RecVAE's encoder)
 *
 * Each of the B rows of inp (B,C) is normalised over its C features:
 * out = gamma (inp - mean) rstd + beta, rstd = 1/sqrt(var + eps) (biased variance),
 * [out] mean, rstd (B) kept for the backward.  out must not alias inp.  Results do
 * not depend on the thread count. */
void sg_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *gamma, const float *beta, int B, int C, float eps);
/* Accumulates dinp (B,C), dgamma, dbeta (C); each may be NULL to skip it. */
void sg_layernorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *mean, const float *rstd,
                           const float *gamma, int B, int C);

/* ---------------------------------------------------------------------------
 * dropout */

/* Inverted dropout: each value is zeroed with probability p, else scaled by 1/(1-p).
 * [out] mask (n) holds the factor used per element (0 or 1/(1-p)) for the backward.
 * 'p' in [0,1); p == 0 copies inp, fills mask with 1 and draws nothing from 'rng'.
 * May run in place (out == inp).  Draws n uniforms from 'rng' in element order. */
void sg_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p,
                        sg_rng *rng);
/* dinp (n) += dout * mask. */
void sg_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n);

/* Input dropout on CSR rows (Mult-VAE): each nonzero is dropped with probability p
 * and a kept one is rescaled by 1/(1-p).  Writes a new CSR [out] out_row_ptr (B+1,
 * starting at 0), out_col, out_val (room for the input's nnz); values NULL counts as
 * ones.  May run in place (out arrays == input arrays, with row_ptr[0] == 0): rows are
 * compacted front to back.  p == 0 copies and draws nothing; otherwise one uniform per
 * input nonzero, in order.  Returns the kept nnz. */
int64_t sg_csr_dropout(int64_t *out_row_ptr, int32_t *out_col, float *out_val,
                       const int64_t *row_ptr, const int32_t *col_idx, const float *values, int B,
                       float p, sg_rng *rng);

/* ---------------------------------------------------------------------------
 * CSR batch helpers */

/* Copy rows rows[0..B) of a CSR matrix (row_ptr, col_idx, values) into a batch CSR
 * [out] out_row_ptr (B+1, from 0), out_col, out_val (values NULL gives ones).  'cap' is
 * the room in out_col/out_val.  Returns the batch nnz, or -1 (outputs untouched) when
 * it exceeds 'cap'. */
int64_t sg_csr_gather(int64_t *out_row_ptr, int32_t *out_col, float *out_val,
                      const int64_t *row_ptr, const int32_t *col_idx, const float *values,
                      const int64_t *rows, int B, int64_t cap);
/* Keep, of B CSR rows (row_ptr, col_idx), the columns c with keep[c] != 0, in order:
 * writes out_row_ptr (B+1, from 0) and out_col (room for the input's nnz).  May run in
 * place (out arrays == input arrays, with row_ptr[0] == 0).  Returns the kept nnz. */
int64_t sg_csr_keep(int64_t *out_row_ptr, int32_t *out_col, const int64_t *row_ptr,
                    const int32_t *col_idx, int B, const uint8_t *keep);
/* Scale the values of each of the B rows in place to unit L2 norm (empty or all-zero
 * rows are left as they are). */
void sg_csr_l2_normalize(float *values, const int64_t *row_ptr, int B);
/* Check a CSR: row_ptr non-decreasing from row_ptr[0] >= 0, every column in [0, D).
 * SG_OK, or SG_EINVAL naming the first bad row and entry. */
int sg_csr_check(const int64_t *row_ptr, const int32_t *col_idx, int B, int D, sg_error *err);

/* ---------------------------------------------------------------------------
 * softmax and losses
 *
 * Losses return their value as a double, multiplied by 'scale' (pass 1/B for a batch
 * mean, 1 for a sum); their backward adds 'scale' times the gradient.  Sums run in
 * double, in a fixed order. */

/* Row-wise log-softmax: out (B,I) = inp - logsumexp(inp row).  May run in place. */
void sg_log_softmax_forward(float *out, const float *inp, int B, int I);
/* dinp (B,I) += dout - softmax * rowsum(dout), with softmax = exp(out). */
void sg_log_softmax_backward(float *dinp, const float *dout, const float *out, int B, int I);

/* Multinomial log-likelihood loss, scale * -sum_b sum_i x_bi log softmax(logits_b)_i.
 * Writes [out] logp (B,I) = log_softmax(logits) (may be 'logits' itself), which the
 * backward needs.  x (B,I) dense counts or weights. */
double sg_multinomial_nll_forward(float *logp, const float *logits, const float *x, int B,
                                  int I, float scale);
/* dlogits (B,I) += scale * (softmax * rowsum(x) - x), softmax = exp(logp). */
void sg_multinomial_nll_backward(float *dlogits, const float *logp, const float *x, int B,
                                 int I, float scale);
/* The same with x given as CSR rows (values NULL = ones); x is never densified. */
double sg_multinomial_nll_sparse_forward(float *logp, const float *logits,
                                         const int64_t *row_ptr, const int32_t *col_idx,
                                         const float *values, int B, int I, float scale);
void sg_multinomial_nll_sparse_backward(float *dlogits, const float *logp,
                                        const int64_t *row_ptr, const int32_t *col_idx,
                                        const float *values, int B, int I, float scale);

/* Gaussian reparameterisation: z (n) = mu + exp(0.5 logvar) * eps with [out] eps (n)
 * drawn from 'rng' (n normals, in order) and kept for the backward. */
void sg_reparam_forward(float *z, float *eps, const float *mu, const float *logvar, size_t n,
                        sg_rng *rng);
/* dmu += dz; dlogvar += dz * eps * 0.5 exp(0.5 logvar). */
void sg_reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *eps,
                         const float *logvar, size_t n);

/* KL(N(mu, exp(logvar)) || N(0, I)) summed over n = B*Z values, times 'beta':
 * beta * sum 0.5 (exp(logvar) + mu^2 - 1 - logvar).  Pass beta = anneal / B for the
 * Mult-VAE batch mean. */
double sg_kl_normal_forward(const float *mu, const float *logvar, size_t n, float beta);
/* dmu += beta * mu; dlogvar += beta * 0.5 (exp(logvar) - 1). */
void sg_kl_normal_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           size_t n, float beta);

/* Binary cross-entropy on logits, stable for any |logit|:
 * scale * sum max(l,0) - l y + log(1 + exp(-|l|)), targets y in [0,1] (soft labels ok). */
double sg_bce_logits_forward(const float *logits, const float *y, size_t n, float scale);
/* dlogits += scale * (sigmoid(l) - y). */
void sg_bce_logits_backward(float *dlogits, const float *logits, const float *y, size_t n,
                            float scale);

/* Mean squared error style: scale * sum (pred - y)^2. */
double sg_mse_forward(const float *pred, const float *y, size_t n, float scale);
/* dpred += scale * 2 (pred - y). */
void sg_mse_backward(float *dpred, const float *pred, const float *y, size_t n, float scale);

/* ---------------------------------------------------------------------------
 * parameter block (llm.c malloc_and_point_parameters)
 *
 * A model declares its tensors as a table of names and shapes; the block holds them
 * all in ONE float array of n_params values, tensor i at a fixed offset, in table
 * order.  With training enabled, grads and the Adam moments m and v are three more
 * arrays with the same layout, so one flat loop updates everything and a tensor's
 * slice of any array is at the same offset. */

#define SG_MAX_DIMS 4

typedef struct sg_tensor_spec {
    const char *name;         /* e.g. "enc.w0"; copied */
    int ndim;                 /* 1..SG_MAX_DIMS */
    int shape[SG_MAX_DIMS];   /* sizes, each >= 1; a dense weight is {D, H} */
} sg_tensor_spec;

typedef struct sg_params sg_params;

/* Build a block for 'n_tensors' specs; params start at zero.  'train' != 0 also
 * allocates grads, m and v (zeroed).  *out is owned by the caller (sg_params_free).
 * SG_EINVAL for a bad shape, an empty or duplicate name; SG_ENOMEM. */
int sg_params_new(sg_params **out, const sg_tensor_spec *specs, int n_tensors, int train,
                  sg_error *err);
void sg_params_free(sg_params *p);

size_t sg_params_count(const sg_params *p);          /* n_params, all tensors */
int sg_params_n_tensors(const sg_params *p);
/* The whole arrays (n_params), borrowed; grads, m and v are NULL without training. */
float *sg_params_data(sg_params *p);
float *sg_params_grads(sg_params *p);
float *sg_params_adam_m(sg_params *p);
float *sg_params_adam_v(sg_params *p);
/* Tensor i (0 <= i < n_tensors) within params or grads (NULL without training). */
float *sg_params_tensor(sg_params *p, int i);
float *sg_params_grad(sg_params *p, int i);
/* Index of the tensor called 'name', or -1. */
int sg_params_find(const sg_params *p, const char *name);
const char *sg_params_name(const sg_params *p, int i);         /* borrowed */
size_t sg_params_offset(const sg_params *p, int i);            /* in floats */
size_t sg_params_size(const sg_params *p, int i);              /* elements */
/* Shape of tensor i; returns ndim and fills 'shape' (SG_MAX_DIMS ints). */
int sg_params_shape(const sg_params *p, int i, int *shape);
/* Set all grads to zero (no-op without training). */
void sg_params_zero_grad(sg_params *p);
/* One AdamW step (sg_adam_step) over the whole block, using and advancing the block's
 * own step counter; returns the step number t just taken (1 for the first).  A block
 * built without 'train' is left as is and the counter is returned unchanged. */
int64_t sg_params_adam(sg_params *p, float lr, float beta1, float beta2, float eps,
                       float weight_decay);
/* Steps taken so far by sg_params_adam (or set when resuming). */
int64_t sg_params_step(const sg_params *p);
void sg_params_set_step(sg_params *p, int64_t t);

/* ---------------------------------------------------------------------------
 * initialisation (fills w with draws from 'rng', in element order) */

void sg_init_uniform(float *w, size_t n, float lo, float hi, sg_rng *rng);
void sg_init_normal(float *w, size_t n, float mean, float std, sg_rng *rng);
/* Glorot/Xavier for a (fan_in, fan_out) weight, fan_in*fan_out values:
 * uniform in +-sqrt(6/(fan_in+fan_out)), or normal with std sqrt(2/(fan_in+fan_out)). */
void sg_init_xavier_uniform(float *w, int fan_in, int fan_out, sg_rng *rng);
void sg_init_xavier_normal(float *w, int fan_in, int fan_out, sg_rng *rng);
/* He/Kaiming for ReLU layers: normal with std sqrt(2/fan_in), fan_in*fan_out values. */
void sg_init_he_normal(float *w, int fan_in, int fan_out, sg_rng *rng);

/* ---------------------------------------------------------------------------
 * optimiser and gradient helpers */

/* AdamW over n values, t = step number starting at 1 (bias correction):
 *   m = beta1 m + (1-beta1) g;  v = beta2 v + (1-beta2) g^2
 *   param -= lr * (m/(1-beta1^t) / (sqrt(v/(1-beta2^t)) + eps) + weight_decay * param)
 * The decay is decoupled: it never enters m or v.  Being a flat loop it may be called
 * on any slice (one tensor of a block, say, to decay weights but not biases). */
void sg_adam_step(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t);
/* L2 norm of g (n), accumulated in double in a fixed order. */
double sg_grad_norm(const float *g, size_t n);
/* Scale g so its L2 norm is at most max_norm (> 0); returns the norm before clipping
 * (a NaN norm clips nothing: check it). */
double sg_grad_clip(float *g, size_t n, double max_norm);
/* Index of the first NaN or infinity in x (n), or -1 when all are finite. */
int64_t sg_first_nonfinite(const float *x, size_t n);

/* ---------------------------------------------------------------------------
 * convolutions and batch norm (conv.c; added for the image GAN, creative.h)
 *
 * Images are NHWC: (B,H,W,C) row-major, channel innermost.  Kernels are square
 * (K), with stride S >= 1 and zero padding P >= 0.  A convolution weight is
 * (K,K,C,OC), i.e. a dense (K*K*C, OC) weight; a transposed convolution weight is
 * (C,K,K,OC), i.e. (C, K*K*OC), C being the transposed layer's INPUT channels.
 * Bias 'b' (OC) may be NULL.  'col' is caller scratch of sg_conv2d_col_size (or
 * sg_conv_transpose2d_col_size) floats; its contents on return are unspecified.
 * Results do not depend on the OpenMP thread count. */

/* Output size of a convolution along one axis: (n + 2P - K)/S + 1, or 0 when the
 * geometry is impossible; of a transposed convolution: (n - 1)S - 2P + K. */
int sg_conv2d_out_size(int n, int K, int S, int P);
int sg_conv_transpose2d_out_size(int n, int K, int S, int P);
/* Scratch floats for a convolution of a (B,H,W,C) input: B*OH*OW*K*K*C; for a
 * transposed convolution of a (B,H,W,C) input to OC channels: B*H*W*K*K*OC. */
#define sg_conv2d_col_size(B, H, W, C, K, S, P)                                     \
    ((size_t)(B) * (size_t)sg_conv2d_out_size((H), (K), (S), (P)) *                 \
     (size_t)sg_conv2d_out_size((W), (K), (S), (P)) * (size_t)(K) * (size_t)(K) * (size_t)(C))
#define sg_conv_transpose2d_col_size(B, H, W, OC, K) \
    ((size_t)(B) * (size_t)(H) * (size_t)(W) * (size_t)(K) * (size_t)(K) * (size_t)(OC))

/* col (B*OH*OW, K*K*C): row (b,oh,ow) holds the input window, (kh,kw,c) order, zeros
 * where it hangs over the border.  col2im is its adjoint and ACCUMULATES into dinp. */
void sg_im2col(float *col, const float *inp, int B, int H, int W, int C, int K, int S, int P);
void sg_col2im(float *dinp, const float *col, int B, int H, int W, int C, int K, int S, int P);

/* out (B,OH,OW,OC) = conv(inp (B,H,W,C), w (K,K,C,OC)) + b: im2col and one sg_sgemm. */
void sg_conv2d_forward(float *out, float *col, const float *inp, const float *w, const float *b,
                       int B, int H, int W, int C, int OC, int K, int S, int P);
/* Accumulates dinp (B,H,W,C), dw (K,K,C,OC), db (OC) from dout (B,OH,OW,OC) and the
 * forward input.  'dinp' NULL skips the input gradient (a first layer), 'dw' NULL the
 * weight gradient (a frozen layer), 'db' NULL the bias.  'col' is scratch (the
 * forward's im2col is rebuilt, not trusted). */
void sg_conv2d_backward(float *dinp, float *dw, float *db, float *col, const float *dout,
                        const float *inp, const float *w, int B, int H, int W, int C, int OC,
                        int K, int S, int P);
/* Direct seven-loop convolution (double sums): the reference the tests compare to. */
void sg_conv2d_forward_ref(float *out, const float *inp, const float *w, const float *b, int B,
                           int H, int W, int C, int OC, int K, int S, int P);

/* Transposed convolution ("deconvolution", the adjoint of a convolution):
 * out (B,OH,OW,OC) with OH = (H-1)S - 2P + K, from inp (B,H,W,C) and w (C,K,K,OC),
 * plus b (OC).  K=4, S=2, P=1 doubles H and W. */
void sg_conv_transpose2d_forward(float *out, float *col, const float *inp, const float *w,
                                 const float *b, int B, int H, int W, int C, int OC, int K, int S,
                                 int P);
/* Accumulates dinp (B,H,W,C), dw (C,K,K,OC), db (OC); each may be NULL to skip it. */
void sg_conv_transpose2d_backward(float *dinp, float *dw, float *db, float *col,
                                  const float *dout, const float *inp, const float *w, int B,
                                  int H, int W, int C, int OC, int K, int S, int P);
void sg_conv_transpose2d_forward_ref(float *out, const float *inp, const float *w,
                                     const float *b, int B, int H, int W, int C, int OC, int K,
                                     int S, int P);

/* Batch norm in training mode over the N rows of inp (N,C) (NHWC images: N = B*H*W):
 * out = gamma (inp - mean) rstd + beta with the batch mean and rstd = 1/sqrt(var + eps)
 * (biased variance), written to [out] mean, rstd (C) for the backward.  When
 * 'running_mean' is not NULL, running_mean and running_var (C) move towards the batch
 * mean and UNBIASED variance by 'momentum' (0.1 as PyTorch).  out must not alias inp. */
void sg_batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean,
                          float *running_var, const float *inp, const float *gamma,
                          const float *beta, int N, int C, float momentum, float eps);
/* Inference: the running statistics instead of the batch's.  May run in place. */
void sg_batchnorm_forward_eval(float *out, const float *inp, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, int N, int C, float eps);
/* Accumulates dinp (N,C), dgamma, dbeta (C) for the training-mode forward. */
void sg_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *mean, const float *rstd,
                           const float *gamma, int N, int C);

#endif
