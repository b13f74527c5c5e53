/* linalg.c -- BLAS/LAPACK wrappers and their naive reference loops.
 *
 * M, N, K = matrix sizes as in BLAS (C is (M,N), the inner dimension is K).
 *
 * This is the only file that calls BLAS.  With -DSG_USE_BLAS (make BLAS=openblas,
 * the default) the sg_* wrappers call OpenBLAS's CBLAS interface and LAPACK's
 * Cholesky (dpotrf_/dpotrs_, which libopenblas exports; declared here so that
 * no LAPACKE is needed).  Without it (make BLAS=ref) they run the *_ref loops,
 * which always exist so tests can compare the two.  Everything is row-major.
 *
 * Conventions shared by both paths: beta == 0 means the output is overwritten
 * (its old contents, even NaN, are never read); empty sizes (M, N or K == 0)
 * are legal and do the obvious thing.  The Cholesky factor is left in the
 * LOWER triangle of the row-major A (A = L L^T); the strict upper triangle is
 * not touched.  See LICENSE for copyright. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "stratagem/linalg.h"

#ifdef SG_USE_BLAS
#include <cblas.h>

/* LAPACK through its Fortran symbols.  The trailing size_t is the hidden
 * length of the character argument that gfortran-built routines expect;
 * passing it is harmless for routines written in C. */
extern void dpotrf_(const char *uplo, const blasint *n, double *a, const blasint *lda,
                    blasint *info, size_t uplo_len);
extern void dpotrs_(const char *uplo, const blasint *n, const blasint *nrhs, const double *a,
                    const blasint *lda, double *b, const blasint *ldb, blasint *info,
                    size_t uplo_len);
#endif

/* ---------------------------------------------------------------------------
 * reference kernels (always compiled) */

/* C (M,N) *= beta, with beta == 0 writing zeros (never reading C). */
static void scale_f(float *C, size_t n, float beta)
{
    if (beta == 0.0f) {
        memset(C, 0, n * sizeof *C);
    } else if (beta != 1.0f) {
        for (size_t i = 0; i < n; i++) C[i] *= beta;
    }
}

static void scale_d(double *C, size_t n, double beta)
{
    if (beta == 0.0) {
        memset(C, 0, n * sizeof *C);
    } else if (beta != 1.0) {
        for (size_t i = 0; i < n; i++) C[i] *= beta;
    }
}

void sg_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  const float *B, float beta, float *C)
{
    if (M <= 0 || N <= 0) return;
    scale_f(C, (size_t)M * (size_t)N, beta);
    if (K <= 0 || alpha == 0.0f) return;
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * N;
        for (int k = 0; k < K; k++) {
            float a = alpha * (trans_a ? A[(size_t)k * M + i] : A[(size_t)i * K + k]);
            if (trans_b) {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * K + k];
            } else {
                const float *b = B + (size_t)k * N;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

void sg_dgemm_ref(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
                  const double *B, double beta, double *C)
{
    if (M <= 0 || N <= 0) return;
    scale_d(C, (size_t)M * (size_t)N, beta);
    if (K <= 0 || alpha == 0.0) return;
    for (int i = 0; i < M; i++) {
        double *c = C + (size_t)i * N;
        for (int k = 0; k < K; k++) {
            double a = alpha * (trans_a ? A[(size_t)k * M + i] : A[(size_t)i * K + k]);
            if (trans_b) {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * K + k];
            } else {
                const double *b = B + (size_t)k * N;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

void sg_sgemv_ref(int trans, int M, int N, float alpha, const float *A, const float *x,
                  float beta, float *y)
{
    int n_out = trans ? N : M;
    if (n_out <= 0) return;
    scale_f(y, (size_t)n_out, beta);
    if (M <= 0 || N <= 0 || alpha == 0.0f) return;
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * N;
        if (trans) {
            float xi = alpha * x[i];
            for (int j = 0; j < N; j++) y[j] += xi * a[j];
        } else {
            float s = 0.0f;
            for (int j = 0; j < N; j++) s += a[j] * x[j];
            y[i] += alpha * s;
        }
    }
}

void sg_dgemv_ref(int trans, int M, int N, double alpha, const double *A, const double *x,
                  double beta, double *y)
{
    int n_out = trans ? N : M;
    if (n_out <= 0) return;
    scale_d(y, (size_t)n_out, beta);
    if (M <= 0 || N <= 0 || alpha == 0.0) return;
    for (int i = 0; i < M; i++) {
        const double *a = A + (size_t)i * N;
        if (trans) {
            double xi = alpha * x[i];
            for (int j = 0; j < N; j++) y[j] += xi * a[j];
        } else {
            double s = 0.0;
            for (int j = 0; j < N; j++) s += a[j] * x[j];
            y[i] += alpha * s;
        }
    }
}

/* Upper triangle from the rows of A (each row adds its outer product), then
 * mirrored, so that both paths leave a fully symmetric C. */
void sg_dsyrk_t_ref(int N, int K, double alpha, const double *A, double beta, double *C)
{
    if (N <= 0) return;
    scale_d(C, (size_t)N * (size_t)N, beta);
    if (K > 0 && alpha != 0.0) {
        for (int k = 0; k < K; k++) {
            const double *a = A + (size_t)k * N;
            for (int i = 0; i < N; i++) {
                double ai = alpha * a[i];
                if (ai == 0.0) continue;
                double *c = C + (size_t)i * N;
                for (int j = i; j < N; j++) c[j] += ai * a[j];
            }
        }
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) C[(size_t)j * N + i] = C[(size_t)i * N + j];
}

double sg_ddot_ref(int n, const double *x, const double *y)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

void sg_daxpy_ref(int n, double a, const double *x, double *y)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

float sg_sdot_ref(int n, const float *x, const float *y)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

void sg_saxpy_ref(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* Cholesky A = L L^T in the lower triangle of row-major A; reads only the
 * lower triangle.  0 or the 1-based index of the first non-positive pivot. */
static int dpotrf_ref(int N, double *A)
{
    for (int j = 0; j < N; j++) {
        double *lj = A + (size_t)j * N;
        double d = lj[j];
        for (int k = 0; k < j; k++) d -= lj[k] * lj[k];
        if (!(d > 0.0) || !isfinite(d)) return j + 1;
        d = sqrt(d);
        lj[j] = d;
        for (int i = j + 1; i < N; i++) {
            double *li = A + (size_t)i * N;
            double s = li[j];
            for (int k = 0; k < j; k++) s -= li[k] * lj[k];
            li[j] = s / d;
        }
    }
    return 0;
}

/* Solve L L^T X = B for X (B is (N,NRHS) row-major, overwritten). */
static void dpotrs_ref(int N, int NRHS, const double *L, double *B)
{
    for (int r = 0; r < NRHS; r++) {
        for (int i = 0; i < N; i++) {          /* L y = b */
            const double *li = L + (size_t)i * N;
            double s = B[(size_t)i * NRHS + r];
            for (int k = 0; k < i; k++) s -= li[k] * B[(size_t)k * NRHS + r];
            B[(size_t)i * NRHS + r] = s / li[i];
        }
        for (int i = N - 1; i >= 0; i--) {     /* L^T x = y */
            double s = B[(size_t)i * NRHS + r];
            for (int k = i + 1; k < N; k++) s -= L[(size_t)k * N + i] * B[(size_t)k * NRHS + r];
            B[(size_t)i * NRHS + r] = s / L[(size_t)i * N + i];
        }
    }
}

int sg_dposv_ref(int N, int NRHS, double *A, double *B)
{
    if (N <= 0) return 0;
    int rc = dpotrf_ref(N, A);
    if (rc) return rc;
    if (NRHS > 0) dpotrs_ref(N, NRHS, A, B);
    return 0;
}

/* ---------------------------------------------------------------------------
 * public wrappers */

#ifdef SG_USE_BLAS

void sg_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              const float *B, float beta, float *C)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* OpenBLAS rejects lda = 0; the product is empty anyway */
        scale_f(C, (size_t)M * (size_t)N, beta);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, trans_a ? M : K, B,
                trans_b ? K : N, beta, C, N);
}

void sg_dgemm(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
              const double *B, double beta, double *C)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        scale_d(C, (size_t)M * (size_t)N, beta);
        return;
    }
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, trans_a ? M : K, B,
                trans_b ? K : N, beta, C, N);
}

void sg_sgemv(int trans, int M, int N, float alpha, const float *A, const float *x, float beta,
              float *y)
{
    int n_out = trans ? N : M;
    if (n_out <= 0) return;
    if (M <= 0 || N <= 0) {
        scale_f(y, (size_t)n_out, beta);
        return;
    }
    /* OpenBLAS scales y by beta by multiplication, so 0 * NaN would stay NaN. */
    if (beta == 0.0f) memset(y, 0, (size_t)n_out * sizeof *y);
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha, A, N, x, 1, beta,
                y, 1);
}

void sg_dgemv(int trans, int M, int N, double alpha, const double *A, const double *x,
              double beta, double *y)
{
    int n_out = trans ? N : M;
    if (n_out <= 0) return;
    if (M <= 0 || N <= 0) {
        scale_d(y, (size_t)n_out, beta);
        return;
    }
    if (beta == 0.0) memset(y, 0, (size_t)n_out * sizeof *y);
    cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha, A, N, x, 1, beta,
                y, 1);
}

void sg_dsyrk_t(int N, int K, double alpha, const double *A, double beta, double *C)
{
    if (N <= 0) return;
    if (K <= 0) {
        scale_d(C, (size_t)N * (size_t)N, beta);
    } else {
        if (beta == 0.0) memset(C, 0, (size_t)N * (size_t)N * sizeof *C);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, N, K, alpha, A, N, beta, C, N);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) C[(size_t)j * N + i] = C[(size_t)i * N + j];
}

double sg_ddot(int n, const double *x, const double *y)
{
    return n > 0 ? cblas_ddot(n, x, 1, y, 1) : 0.0;
}

void sg_daxpy(int n, double a, const double *x, double *y)
{
    if (n > 0) cblas_daxpy(n, a, x, 1, y, 1);
}

float sg_sdot(int n, const float *x, const float *y)
{
    return n > 0 ? cblas_sdot(n, x, 1, y, 1) : 0.0f;
}

void sg_saxpy(int n, float a, const float *x, float *y)
{
    if (n > 0) cblas_saxpy(n, a, x, 1, y, 1);
}

/* LAPACK is column-major: the row-major lower triangle is its upper one, so
 * 'U' there (A = U^T U) leaves L = U^T in our lower triangle. */
static int potrf(int N, double *A)
{
    blasint n = N, info = 0;
    dpotrf_("U", &n, A, &n, &info, 1);
    if (info != 0) return info < 0 ? N + 1 : (int)info; /* info < 0 cannot happen here */
    /* OpenBLAS's potrf tests 'ajj <= 0', which NaN passes; a NaN anywhere in the
     * lower triangle reaches a later pivot, so checking the diagonal suffices. */
    for (int j = 0; j < N; j++) {
        double d = A[(size_t)j * N + j];
        if (!(d > 0.0) || !isfinite(d)) return j + 1;
    }
    return 0;
}

int sg_dposv(int N, double *A, double *b)
{
    if (N <= 0) return 0;
    int rc = potrf(N, A);
    if (rc) return rc;
    /* one right-hand side is the same vector in both layouts */
    blasint n = N, one = 1, info = 0;
    dpotrs_("U", &n, &one, A, &n, b, &n, &info, 1);
    return 0;
}

int sg_dposv_multi(int N, int NRHS, double *A, double *B)
{
    if (N <= 0) return 0;
    int rc = potrf(N, A);
    if (rc) return rc;
    if (NRHS <= 0) return 0;
    /* row-major B would be B^T for dpotrs_; two triangular solves avoid a copy */
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, N, NRHS, 1.0,
                A, N, B, NRHS);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, N, NRHS, 1.0, A,
                N, B, NRHS);
    return 0;
}

static char blas_info_buf[256];
static pthread_once_t blas_info_once = PTHREAD_ONCE_INIT;

static void blas_info_init(void)
{
    const char *cfg = openblas_get_config();
    const char *core = openblas_get_corename();
    snprintf(blas_info_buf, sizeof blas_info_buf, "%s (core %s)", cfg ? cfg : "OpenBLAS",
             core ? core : "unknown");
}

const char *sg_blas_info(void)
{
    pthread_once(&blas_info_once, blas_info_init);
    return blas_info_buf;
}

void sg_blas_set_threads(int n)
{
    if (n > 0) openblas_set_num_threads(n);
}

int sg_blas_get_threads(void)
{
    return openblas_get_num_threads();
}

#else /* reference build */

void sg_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              const float *B, float beta, float *C)
{
    sg_sgemm_ref(trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
}

void sg_dgemm(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
              const double *B, double beta, double *C)
{
    sg_dgemm_ref(trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
}

void sg_sgemv(int trans, int M, int N, float alpha, const float *A, const float *x, float beta,
              float *y)
{
    sg_sgemv_ref(trans, M, N, alpha, A, x, beta, y);
}

void sg_dgemv(int trans, int M, int N, double alpha, const double *A, const double *x,
              double beta, double *y)
{
    sg_dgemv_ref(trans, M, N, alpha, A, x, beta, y);
}

void sg_dsyrk_t(int N, int K, double alpha, const double *A, double beta, double *C)
{
    sg_dsyrk_t_ref(N, K, alpha, A, beta, C);
}

double sg_ddot(int n, const double *x, const double *y)
{
    return sg_ddot_ref(n, x, y);
}

void sg_daxpy(int n, double a, const double *x, double *y)
{
    sg_daxpy_ref(n, a, x, y);
}

float sg_sdot(int n, const float *x, const float *y)
{
    return sg_sdot_ref(n, x, y);
}

void sg_saxpy(int n, float a, const float *x, float *y)
{
    sg_saxpy_ref(n, a, x, y);
}

int sg_dposv(int N, double *A, double *b)
{
    return sg_dposv_ref(N, 1, A, b);
}

int sg_dposv_multi(int N, int NRHS, double *A, double *B)
{
    return sg_dposv_ref(N, NRHS, A, B);
}

const char *sg_blas_info(void)
{
    return "reference";
}

void sg_blas_set_threads(int n)
{
    (void)n;
}

int sg_blas_get_threads(void)
{
    return 1;
}

#endif

/* ---------------------------------------------------------------------------
 * inverse of a symmetric positive definite matrix (EASE; see linalg.h)
 *
 * The reference computes L (A = L L^T, lower triangle, row-major), then
 * W = L^-1 in place (lower triangular), then A^-1 = W^T W, filling both
 * triangles.  Sums run in double for the float version too.  The BLAS path is
 * LAPACK potrf + potri on the row-major lower triangle (LAPACK's column-major
 * upper one), mirrored afterwards. */

#define POSINV_REF(NAME, T)                                                          \
    int NAME(int N, T *A)                                                            \
    {                                                                                \
        for (int j = 0; j < N; j++) { /* Cholesky, lower */                          \
            T *lj = A + (size_t)j * N;                                               \
            double d = (double)lj[j];                                                \
            for (int k = 0; k < j; k++) d -= (double)lj[k] * (double)lj[k];          \
            if (!(d > 0.0) || !isfinite(d)) return j + 1;                            \
            d = sqrt(d);                                                             \
            lj[j] = (T)d;                                                            \
            for (int i = j + 1; i < N; i++) {                                        \
                T *li = A + (size_t)i * N;                                           \
                double s = (double)li[j];                                            \
                for (int k = 0; k < j; k++) s -= (double)li[k] * (double)lj[k];      \
                li[j] = (T)(s / d);                                                  \
            }                                                                        \
        }                                                                            \
        for (int j = 0; j < N; j++) { /* W = L^-1, column j, in place */             \
            A[(size_t)j * N + j] = (T)(1.0 / (double)A[(size_t)j * N + j]);          \
            for (int i = j + 1; i < N; i++) {                                        \
                double s = 0.0;                                                      \
                for (int k = j; k < i; k++)                                          \
                    s += (double)A[(size_t)i * N + k] * (double)A[(size_t)k * N + j]; \
                A[(size_t)i * N + j] = (T)(-s / (double)A[(size_t)i * N + i]);       \
            }                                                                        \
        }                                                                            \
        for (int i = 0; i < N; i++) { /* inv[i][j] = sum_{k>=i} W[k][i] W[k][j], j<=i */ \
            for (int j = 0; j <= i; j++) {                                           \
                double s = 0.0;                                                      \
                for (int k = i; k < N; k++)                                          \
                    s += (double)A[(size_t)k * N + i] * (double)A[(size_t)k * N + j]; \
                A[(size_t)j * N + i] = (T)s; /* into the upper triangle: W stays */ \
            }                                                                        \
        }                                                                            \
        for (int i = 0; i < N; i++) /* readable until done; then mirror */          \
            for (int j = i + 1; j < N; j++) A[(size_t)j * N + i] = A[(size_t)i * N + j]; \
        return 0;                                                                    \
    }

POSINV_REF(sg_sposinv_ref, float)
POSINV_REF(sg_dposinv_ref, double)

#ifdef SG_USE_BLAS
extern void spotrf_(const char *uplo, const blasint *n, float *a, const blasint *lda,
                    blasint *info, size_t uplo_len);
extern void spotri_(const char *uplo, const blasint *n, float *a, const blasint *lda,
                    blasint *info, size_t uplo_len);
extern void dpotri_(const char *uplo, const blasint *n, double *a, const blasint *lda,
                    blasint *info, size_t uplo_len);

int sg_sposinv(int N, float *A)
{
    if (N <= 0) return 0;
    blasint n = N, info = 0;
    spotrf_("U", &n, A, &n, &info, 1);
    if (info != 0) return info < 0 ? N + 1 : (int)info;
    for (int j = 0; j < N; j++) { /* NaN passes potrf's 'ajj <= 0' test */
        float d = A[(size_t)j * N + j];
        if (!(d > 0.0f) || !isfinite(d)) return j + 1;
    }
    spotri_("U", &n, A, &n, &info, 1);
    if (info != 0) return info < 0 ? N + 1 : (int)info;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) A[(size_t)i * N + j] = A[(size_t)j * N + i];
    return 0;
}

int sg_dposinv(int N, double *A)
{
    if (N <= 0) return 0;
    int rc = potrf(N, A);
    if (rc) return rc;
    blasint n = N, info = 0;
    dpotri_("U", &n, A, &n, &info, 1);
    if (info != 0) return info < 0 ? N + 1 : (int)info;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) A[(size_t)i * N + j] = A[(size_t)j * N + i];
    return 0;
}
#else
int sg_sposinv(int N, float *A) { return sg_sposinv_ref(N, A); }
int sg_dposinv(int N, double *A) { return sg_dposinv_ref(N, A); }
#endif

/* ---------------------------------------------------------------------------
 * symmetric eigendecomposition (Frechet distance; see linalg.h)
 *
 * The BLAS path is LAPACK dsyevd on the row-major matrix, which LAPACK sees as
 * its transpose: the same symmetric matrix, with the eigenvectors coming back
 * as columns of a column-major array, i.e. rows of our row-major one.  The
 * reference is cyclic Jacobi on the full matrix, sorted afterwards. */

#include "stratagem/mem.h"

int sg_dsyev_ref(int N, double *A, double *w)
{
    if (N <= 0) return 0;
    double *V = sg_malloc((size_t)N * (size_t)N * sizeof *V);
    if (!V) return -1;
    for (size_t i = 0; i < (size_t)N * (size_t)N; i++) V[i] = 0.0;
    for (int i = 0; i < N; i++) V[(size_t)i * N + i] = 1.0;
    double total = 0.0;
    for (size_t i = 0; i < (size_t)N * (size_t)N; i++) total += A[i] * A[i];
    int rc = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0;
        for (int p = 0; p < N; p++)
            for (int q = p + 1; q < N; q++) off += A[(size_t)p * N + q] * A[(size_t)p * N + q];
        if (off <= 1e-30 * total || off == 0.0) {
            rc = 0;
            break;
        }
        for (int p = 0; p < N; p++) {
            for (int q = p + 1; q < N; q++) {
                double apq = A[(size_t)p * N + q];
                if (apq == 0.0) continue;
                /* rotation J (c at pp and qq, s at pq, -s at qp) zeroing a_pq in J^T A J */
                double theta = (A[(size_t)q * N + q] - A[(size_t)p * N + p]) / (2.0 * apq);
                double t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < N; k++) { /* columns: A J */
                    double akp = A[(size_t)k * N + p], akq = A[(size_t)k * N + q];
                    A[(size_t)k * N + p] = c * akp - s * akq;
                    A[(size_t)k * N + q] = s * akp + c * akq;
                }
                for (int k = 0; k < N; k++) { /* rows: J^T (A J) */
                    double apk = A[(size_t)p * N + k], aqk = A[(size_t)q * N + k];
                    A[(size_t)p * N + k] = c * apk - s * aqk;
                    A[(size_t)q * N + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < N; k++) { /* V J: columns of V are the eigenvectors */
                    double vkp = V[(size_t)k * N + p], vkq = V[(size_t)k * N + q];
                    V[(size_t)k * N + p] = c * vkp - s * vkq;
                    V[(size_t)k * N + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    if (rc == 0) {
        for (int i = 0; i < N; i++) w[i] = A[(size_t)i * N + i];
        for (int i = 0; i < N; i++) /* row i of A = column i of V */
            for (int k = 0; k < N; k++) A[(size_t)i * N + k] = V[(size_t)k * N + i];
        for (int i = 1; i < N; i++) { /* insertion sort, ascending, rows move along */
            for (int j = i; j > 0 && w[j - 1] > w[j]; j--) {
                double tw = w[j];
                w[j] = w[j - 1];
                w[j - 1] = tw;
                for (int k = 0; k < N; k++) {
                    double tv = A[(size_t)j * N + k];
                    A[(size_t)j * N + k] = A[(size_t)(j - 1) * N + k];
                    A[(size_t)(j - 1) * N + k] = tv;
                }
            }
        }
    }
    sg_free(V);
    return rc;
}

#ifdef SG_USE_BLAS
extern void dsyevd_(const char *jobz, const char *uplo, const blasint *n, double *a,
                    const blasint *lda, double *w, double *work, const blasint *lwork,
                    blasint *iwork, const blasint *liwork, blasint *info, size_t jobz_len,
                    size_t uplo_len);

int sg_dsyev(int N, double *A, double *w)
{
    if (N <= 0) return 0;
    blasint n = N, info = 0, lwork = -1, liwork = -1, iq = 0;
    double q = 0.0;
    dsyevd_("V", "L", &n, A, &n, w, &q, &lwork, &iq, &liwork, &info, 1, 1);
    if (info != 0) return info < 0 ? N + 1 : (int)info;
    lwork = (blasint)q + 1;
    liwork = iq + 1;
    double *work = sg_malloc((size_t)lwork * sizeof *work);
    blasint *iwork = sg_malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        sg_free(work);
        sg_free(iwork);
        return -1;
    }
    dsyevd_("V", "L", &n, A, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    sg_free(work);
    sg_free(iwork);
    if (info != 0) return info < 0 ? N + 1 : (int)info;
    return 0;
}
#else
int sg_dsyev(int N, double *A, double *w) { return sg_dsyev_ref(N, A, w); }
#endif
