/* linalg.h -- the only door to BLAS/LAPACK.
 *
 * Every other module calls these wrappers; with BLAS=ref (make BLAS=ref) they
 * run the naive reference loops in the same file, which tests also call
 * directly (the *_ref functions) to check the two agree.  Matrices are dense,
 * row-major. */
#ifndef SG_LINALG_H
#define SG_LINALG_H

#include <stdint.h>

/* C (M,N) = alpha * op(A) op(B) + beta * C, op = transpose when trans_* != 0.
 * A is (M,K) or (K,M) when transposed; B is (K,N) or (N,K). Row-major, float. */
void sg_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              const float *B, float beta, float *C);
void sg_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  const float *B, float beta, float *C);
/* Double-precision versions. */
void sg_dgemm(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
              const double *B, double beta, double *C);
void sg_dgemm_ref(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
                  const double *B, double beta, double *C);
/* y (M) = alpha * op(A) x + beta * y, A (M,N) row-major (trans: y has N entries). */
void sg_sgemv(int trans, int M, int N, float alpha, const float *A, const float *x, float beta,
              float *y);
void sg_sgemv_ref(int trans, int M, int N, float alpha, const float *A, const float *x,
                  float beta, float *y);
void sg_dgemv(int trans, int M, int N, double alpha, const double *A, const double *x,
              double beta, double *y);
void sg_dgemv_ref(int trans, int M, int N, double alpha, const double *A, const double *x,
                  double beta, double *y);
/* C (N,N) = alpha * A^T A + beta * C for A (K,N), upper and lower triangles both filled.
 * In all routines beta == 0 overwrites the output without reading it (NaN there is
 * harmless) and zero sizes are allowed. */
void sg_dsyrk_t(int N, int K, double alpha, const double *A, double beta, double *C);
void sg_dsyrk_t_ref(int N, int K, double alpha, const double *A, double beta, double *C);
/* Dot products and y += a x on contiguous vectors of n entries (n <= 0: 0 / no-op). */
double sg_ddot(int n, const double *x, const double *y);
void sg_daxpy(int n, double a, const double *x, double *y);
float sg_sdot(int n, const float *x, const float *y);
void sg_saxpy(int n, float a, const float *x, float *y);
double sg_ddot_ref(int n, const double *x, const double *y);
void sg_daxpy_ref(int n, double a, const double *x, double *y);
float sg_sdot_ref(int n, const float *x, const float *y);
void sg_saxpy_ref(int n, float a, const float *x, float *y);

/* Solve A x = b for symmetric positive definite A (N,N), in place: A is
 * overwritten by its Cholesky factor and b (N) by x.  Returns 0, or the 1-based
 * index of the failing pivot when A is not positive definite.
 * Only the lower triangle of A is read; on success it holds L with A = L L^T
 * (the strict upper triangle is left as it was).  On failure A is partly
 * overwritten and b is unchanged.  N <= 0 returns 0. */
int sg_dposv(int N, double *A, double *b);
/* Same with several right-hand sides: B (N,NRHS) row-major. */
int sg_dposv_multi(int N, int NRHS, double *A, double *B);
/* The naive Cholesky solve (B (N,NRHS)), same contract; what BLAS=ref uses. */
int sg_dposv_ref(int N, int NRHS, double *A, double *B);

/* Name of the BLAS in use ("openblas 0.3.21 (Haswell)" or "reference"). Static. */
const char *sg_blas_info(void);
/* Threads BLAS may use (0 = leave the library default). */
void sg_blas_set_threads(int n);
/* Threads BLAS currently uses (1 for the reference build).  When it is 1, the
 * wrappers may be called from several threads at once without oversubscribing
 * the CPUs; callers with their own OpenMP loops use that to decide. */
int sg_blas_get_threads(void);

/* ---------------------------------------------------------------------------
 * inverse of a symmetric positive definite matrix (added for EASE, recommend) */

/* A (N,N) = A^-1 in place for symmetric positive definite A, through its Cholesky
 * factor (LAPACK potrf + potri).  Only the lower triangle of A is read; on success
 * BOTH triangles hold the inverse.  Returns 0, or the 1-based index of the failing
 * pivot when A is not positive definite (A is then partly overwritten).  N <= 0
 * returns 0.  Float and double versions, each with its naive reference. */
int sg_sposinv(int N, float *A);
int sg_sposinv_ref(int N, float *A);
int sg_dposinv(int N, double *A);
int sg_dposinv_ref(int N, double *A);

/* ---------------------------------------------------------------------------
 * symmetric eigendecomposition (added for the Frechet distance, creative.h) */

/* Eigenvalues and eigenvectors of a symmetric A (N,N) (LAPACK dsyevd): on return
 * w (N) holds the eigenvalues in ascending order and ROW i of A the unit
 * eigenvector of w[i], so A_in = sum_i w[i] a_i a_i^T.  Both triangles of A must
 * hold the matrix.  Returns 0; a positive number when the algorithm did not
 * converge (A and w are then unspecified); -1 when its workspace could not be
 * allocated (A and w unchanged).  N <= 0 returns 0.  The reference is cyclic
 * Jacobi, whose eigenvectors may differ in sign (and within repeated eigenvalues). */
int sg_dsyev(int N, double *A, double *w);
int sg_dsyev_ref(int N, double *A, double *w);

#endif
