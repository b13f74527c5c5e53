/* dist.c -- one of several processes (MPI ranks): see dist.h.  Without
 * SG_USE_MPI (no Open MPI at build time) a single process. */
#include "stratagem/dist.h"

#include <stdlib.h>

#ifdef SG_USE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;

/* Launched by mpirun: Open MPI sets OMPI_COMM_WORLD_SIZE, PMI launchers PMI_SIZE. */
static int launched(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s) s = getenv("PMI_SIZE");
    return s && atoi(s) > 1;
}

int sg_dist_available(void)
{
#ifdef SG_USE_MPI
    return 1;
#else
    return 0;
#endif
}

int sg_dist_init(int *argc, char ***argv, sg_error *err)
{
    if (!launched()) return SG_OK;
#ifdef SG_USE_MPI
    int done = 0;
    MPI_Initialized(&done);
    if (!done && MPI_Init(argc, argv) != MPI_SUCCESS)
        return sg_error_set(err, SG_EIO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return SG_OK;
#else
    (void)argc;
    (void)argv;
    return sg_error_set(err, SG_EINVAL, "launched by mpirun, but this build has no MPI (install "
                        "libopenmpi-dev and rebuild)");
#endif
}

void sg_dist_finalize(void)
{
#ifdef SG_USE_MPI
    int done = 0;
    MPI_Initialized(&done);
    if (done) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
    }
#endif
    g_rank = 0;
    g_size = 1;
}

void sg_dist_abort(int code)
{
#ifdef SG_USE_MPI
    if (g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)code;
#endif
}

int sg_dist_rank(void) { return g_rank; }
int sg_dist_size(void) { return g_size; }

#ifdef SG_USE_MPI
/* Reduce on rank 0, then broadcast: every rank gets rank 0's bits. */
static int sum(void *v, size_t n, MPI_Datatype type, size_t size, sg_error *err)
{
    const size_t chunk = (size_t)1 << 28;   /* MPI counts are ints */
    char *p = v;
    for (size_t off = 0; off < n; off += chunk) {
        int k = (int)(n - off < chunk ? n - off : chunk);
        void *at = p + off * size;
        int rc = g_rank == 0 ? MPI_Reduce(MPI_IN_PLACE, at, k, type, MPI_SUM, 0, MPI_COMM_WORLD)
                             : MPI_Reduce(at, NULL, k, type, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rc == MPI_SUCCESS) rc = MPI_Bcast(at, k, type, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return sg_error_set(err, SG_EIO, "MPI: summing across processes failed");
    }
    return SG_OK;
}
#endif

/* Sum n floats (dbl 0) or doubles (dbl 1) across the processes. */
static int sum_values(void *v, size_t n, int dbl, sg_error *err)
{
    if (g_size == 1) return SG_OK;
#ifdef SG_USE_MPI
    return sum(v, n, dbl ? MPI_DOUBLE : MPI_FLOAT, dbl ? sizeof(double) : sizeof(float), err);
#else
    (void)v;
    (void)n;
    (void)dbl;
    (void)err;
    return SG_OK;
#endif
}

int sg_dist_sum_f32(float *v, size_t n, sg_error *err) { return sum_values(v, n, 0, err); }
int sg_dist_sum_f64(double *v, size_t n, sg_error *err) { return sum_values(v, n, 1, err); }
