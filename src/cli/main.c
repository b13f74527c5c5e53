/* main.c -- the stratagem program: global flags, then dispatch to cmd_<name>.c.
 *
 * Only this file decides the process exit code (see cli.h).  Before anything
 * else it makes sure OpenBLAS picks kernels for this CPU: OpenBLAS 0.3.21 does
 * not recognise some AVX-512 CPUs and falls back to slow generic code, and it
 * reads OPENBLAS_CORETYPE when the library loads, i.e. before main(); so when
 * the variable is unset on an AVX-512 machine we set it and re-execute. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_creative.h"
#include "cli_recommend.h"
#include "cli_synth.h"
#include "cli_workspace.h"
#include "stratagem/dist.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"

#define VERSION "0.1.0"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
} command;

static const command COMMANDS[] = {
    {"train", cmd_train},       {"predict", cmd_predict},
    {"evaluate", cmd_evaluate}, {"plan", cmd_plan},
    {"recommend", cmd_recommend}, {"creative", cmd_creative},
    {"init", cmd_init},         {"import", cmd_import},
    {"status", cmd_status},     {"plans", cmd_plans},
    {"feedback", cmd_feedback}, {"synth", cmd_synth},
    {"simulate", cmd_simulate},
    {"world", cmd_world},
    {"serve", cmd_serve},
    {"features", cmd_features},
    {NULL, NULL},
};

static void on_sigint(int sig)
{
    (void)sig;
    static const char msg[] = "\nstratagem: interrupted\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(EXIT_INTERRUPT);   /* outputs are written to temporary files: nothing half-written stays */
}

/* Settings the BLAS and OpenMP runtimes read once, when they load, so they can
 * only be given by re-executing ourselves with them in the environment:
 * OPENBLAS_CORETYPE=SkylakeX on AVX-512 CPUs (OpenBLAS 0.3.21 does not know
 * them and falls back to generic kernels, about 5x slower), and
 * OMP_WAIT_POLICY=passive (idle OpenMP workers sleep instead of spinning: on a
 * busy machine spinning workers starve the BLAS threads, several-fold slower).
 * A variable the user set is left alone. */
static void fix_runtime_env(char **argv)
{
    if (getenv("SG_REEXEC")) return;
    int changed = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        changed = 1;
    }
#endif
#ifdef _OPENMP
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        changed = 1;
    }
#endif
    if (!changed) return;
    setenv("SG_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* if exec fails we simply go on with the runtimes' defaults */
}

static void print_version(void)
{
    printf("stratagem %s\n", VERSION);
    printf("blas: %s\n", sg_blas_info());
#ifdef _OPENMP
    printf("openmp: yes (%d)\n", _OPENMP);
#else
    printf("openmp: no\n");
#endif
    printf("mpi: %s\n", sg_dist_available() ? "yes (mpirun -np N stratagem train recommend ...)"
                                             : "no");
}

/* Under mpirun: only the commands that share their work across processes run
 * ('train recommend', 'plan' on an uplift model); ranks other than 0 are quiet
 * and write nothing.  A process that fails takes the others down with it
 * (sg_dist_abort). */
static int run_distributed(int argc, char **argv, int i)
{
    sg_error err;
    sg_error_clear(&err);
    if (sg_dist_init(&argc, &argv, &err)) {
        fprintf(stderr, "stratagem: %s\n", err.msg);
        return EXIT_RUNTIME;
    }
    if (sg_dist_size() == 1) return -1;
    /* the processes on one machine share its cores: no more threads than cores in all
     * (Open MPI says how many processes run on this machine) */
    if (!getenv("OMP_NUM_THREADS")) {
        const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        long cores = sysconf(_SC_NPROCESSORS_ONLN), local = ls ? atol(ls) : sg_dist_size();
        int n = (int)(local > 0 && cores / local > 0 ? cores / local : 1);
#ifdef _OPENMP
        omp_set_num_threads(n);
#endif
        sg_blas_set_threads(n);
    }
    int rc;
    int train = i + 1 < argc && !strcmp(argv[i], "train") && !strcmp(argv[i + 1], "recommend");
    if (!train && strcmp(argv[i], "plan") != 0) {
        if (sg_dist_rank() == 0)
            fprintf(stderr, "stratagem: under mpirun only 'train recommend' and 'plan' (uplift "
                    "models) share their work across processes; run '%s' without mpirun\n",
                    argv[i]);
        rc = EXIT_USAGE;
    } else {
        if (sg_dist_rank() > 0) {
            cli_quiet = 1;
            sg_log_set_level(SG_LOG_ERROR);
            FILE *null = freopen("/dev/null", "w", stdout);   /* results: rank 0's */
            (void)null;
        }
        rc = train ? cmd_train(argc - i - 1, argv + i + 1) : cmd_plan(argc - i - 1, argv + i + 1);
    }
    if (rc != EXIT_OK) sg_dist_abort(rc);
    sg_dist_finalize();
    return rc;
}

int main(int argc, char **argv)
{
    fix_runtime_env(argv);
    signal(SIGINT, on_sigint);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli_quiet = 1;
            sg_log_set_level(SG_LOG_WARN);
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            sg_log_set_level(SG_LOG_DEBUG);
        } else if (!strcmp(a, "--version")) {
            print_version();
            return EXIT_OK;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(cli_help_text(NULL), stdout);
            return EXIT_OK;
        } else {
            return cli_usage_error(NULL, "unrecognized option '%s'", a);
        }
    }
    if (i >= argc) {
        fputs(cli_help_text(NULL), stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i];
    int drc = run_distributed(argc, argv, i);
    if (drc >= 0) return drc;
    if (!strcmp(cmd, "help")) {
        const char *topic = i + 1 < argc ? argv[i + 1] : NULL;
        char both[128];
        if (topic && i + 2 < argc) {   /* "help train uplift" */
            snprintf(both, sizeof both, "%s %s", topic, argv[i + 2]);
            if (cli_print_help(stdout, both)) return EXIT_OK;
        }
        if (!cli_print_help(stdout, topic))
            return cli_usage_error(NULL, "no help for unknown command '%s'", topic);
        return EXIT_OK;
    }
    for (const command *c = COMMANDS; c->name; c++)
        if (!strcmp(c->name, cmd)) return c->fn(argc - i - 1, argv + i + 1);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
