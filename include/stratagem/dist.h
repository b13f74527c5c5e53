/* dist.h -- one of several processes (MPI ranks) training one model together.
 *
 * Under `mpirun -np N stratagem ...` every process runs the same command on the
 * same data and the work is split: the Mult-VAE/DAE training gives each process
 * its share of every batch's users, and the gradients are summed across
 * processes before each (identical) Adam step, so the processes hold the same
 * weights throughout and rank 0 writes the model; an uplift plan's scoring gives
 * each process its share of the customers (the CLI, cmd_plan.c).  Alone (or in a build
 * without Open MPI) there is one process and every call here is a no-op.
 *
 * Sums are reduced on rank 0 and broadcast, so every rank gets the same bits
 * (an all-reduce may round differently on different ranks, and ranks whose
 * weights drift apart would choose different epochs). */
#ifndef SG_DIST_H
#define SG_DIST_H

#include <stddef.h>

#include "error.h"

/* Start MPI when this process was launched by mpirun (Open MPI's or a PMI
 * launcher's environment), else do nothing.  Call once, before anything else;
 * SG_EINVAL when launched by mpirun in a build without MPI. */
int sg_dist_init(int *argc, char ***argv, sg_error *err);
void sg_dist_finalize(void);
int sg_dist_rank(void);   /* 0 alone */
int sg_dist_size(void);   /* 1 alone */
/* End every process with exit status 'code' (MPI_Abort): a process that fails
 * alone would leave the others waiting in a sum forever.  Alone: returns. */
void sg_dist_abort(int code);
/* 1 if this build has MPI. */
int sg_dist_available(void);
/* Sum 'n' values across the processes, in place, the same result on every rank.
 * SG_EIO on an MPI failure. */
int sg_dist_sum_f32(float *v, size_t n, sg_error *err);
int sg_dist_sum_f64(double *v, size_t n, sg_error *err);

#endif
