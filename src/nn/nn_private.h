/* nn_private.h -- internals shared by src/nn and the models built on it (never installed).
 *
 * OpenMP pragmas are spelt through the macros below so the files also build
 * without OpenMP (OPENMP=0), where they expand to nothing.  'omp simd' marks
 * inner loops whose iterations are independent: GCC at -O2 vectorises only loops
 * it can prove need no scalar epilogue, so without the mark the axpy-style loops
 * of the sparse layer stay scalar.  No loop marked here is a reduction, so
 * vectorising never changes a result bit.
 *
 * The parameter block's file format lives here too, since it uses the internal
 * io/serial.h buffers. */
#ifndef SG_NN_PRIVATE_H
#define SG_NN_PRIVATE_H

#include "internal.h"
#include "io/serial.h"
#include "stratagem/error.h"
#include "stratagem/nn.h"

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define SG_NN_PAR_WORK 32768

#ifdef _OPENMP
#define SG_PRAGMA(x) _Pragma(#x)
/* Independent iterations: vectorise. */
#define SG_SIMD SG_PRAGMA(omp simd)
/* Split independent iterations over threads (when 'cond') and vectorise each part. */
#define SG_PAR_SIMD(cond) SG_PRAGMA(omp parallel for simd schedule(static) if (cond))
/* Split independent iterations (rows) over threads when 'cond'. */
#define SG_PAR_FOR(cond) SG_PRAGMA(omp parallel for schedule(static) if (cond))
#else
#define SG_SIMD
#define SG_PAR_SIMD(cond)
#define SG_PAR_FOR(cond)
#endif

/* ---------------------------------------------------------------------------
 * parameter block in model files
 *
 * Layout (little-endian, through io/serial.h): u32 magic "SGPB", u32 n_tensors,
 * then per tensor its name (str), u32 ndim and ndim i32 sizes; u64 n_params; the
 * parameters (n_params f32); u32 has_adam, and when 1: i64 step, then m and v
 * (n_params f32 each).  A model writes its own header (magic, version, config,
 * seed) first, then this block. */

/* Append the block to 'w'; the Adam state too when 'with_adam' and the block has
 * one.  Errors are recorded in 'w' (sg_wbuf_status). */
SG_INTERNAL void sg_params_write(const sg_params *p, sg_wbuf *w, int with_adam);
/* Read a block written by sg_params_write into 'p', which the model has already
 * built from its config: every tensor name and shape must match, else SG_EPARSE
 * naming the first tensor that differs.  On any error 'p' is unchanged.  Saved
 * Adam state is loaded when 'p' has training arrays, and skipped otherwise. */
SG_INTERNAL int sg_params_read(sg_params *p, sg_rbuf *r, sg_error *err);

#endif
