/* cmd_serve.c -- 'stratagem serve': the models of a directory behind the JSON
 * API of server.h, until SIGINT or SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "stratagem/server.h"

static const char HELP_SERVE[] =
    "Usage: stratagem serve --models DIR [--port N] [options]\n"
    "Example: stratagem serve --models models/ --port 8080\n"
    "\n"
    "Serves every model file DIR/NAME.sgm (response, uplift and recommend models) as JSON over\n"
    "HTTP until SIGINT or SIGTERM.  Routes (docs/serve.md):\n"
    "  GET  /  (a dashboard page)  GET /health  GET /models  GET /models/NAME\n"
    "  POST /models/NAME/predict    {\"rows\": [{\"col\": value, ...}]} or CSV (text/csv);\n"
    "                               uplift models also take \"cost\": {\"ARM\": C, ...}\n"
    "  POST /models/NAME/plan       uplift models: {\"rows\": [...], \"budget\": B, \"cost\": {...}}\n"
    "                               -> the plan and its forecast, as 'stratagem plan'\n"
    "  POST /models/NAME/recommend  {\"items\": [...]} or {\"user\": \"ID\"}, \"k\", \"exclude\"\n"
    "\n"
    "Options:\n"
    "  --models DIR           the model directory (required)\n"
    "  --port N               port (default 8080; 0 picks a free one, printed)\n"
    "  --bind ADDR            IPv4 address to listen on (default 127.0.0.1: this machine only)\n"
    "  --threads N            connection threads (default 4); scoring runs one request at a time\n"
    "  --max-body BYTES       largest request body (default 8388608); larger ones get 413\n"
    "  --max-rows N           most rows per request (default 100000)\n"
    "  --max-connections N    open connections at once (default 64)\n"
    "  --timeout S            seconds a connection may stay idle (default 10)\n"
    "  --token-env VAR        require 'Authorization: Bearer $VAR' (the token is read from the\n"
    "                         environment variable VAR, never from the command line)\n"
    "\n"
    "Each request is logged on stderr (method, path, status, time) unless -q.  SIGHUP loads the\n"
    "directory's models again (a bad file leaves the old ones served, and says why).\n";

const char *cli_serve_help(const char *cmd)
{
    return cmd && !strcmp(cmd, "serve") ? HELP_SERVE : NULL;
}

/* the self-pipe the signal handler writes to: [0] read by the main loop, [1]
 * written; open until the process exits, since a late signal may still write */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);   /* a full pipe already holds a wake-up */
    (void)w;
    errno = saved;
}

/* The next signal the handler saw: SIGHUP, SIGINT or SIGTERM. */
static int next_signal(void)
{
    for (;;) {
        unsigned char b;
        ssize_t r = read(sig_pipe[0], &b, 1);
        if (r == 1) return b;
        if (r < 0 && errno != EAGAIN && errno != EINTR) return SIGTERM;   /* cannot wait: stop */
        struct pollfd p = {sig_pipe[0], POLLIN, 0};
        poll(&p, 1, -1);
    }
}

int cmd_serve(int argc, char **argv)
{
    const char *dir = NULL, *bind = NULL, *token_env = NULL;
    int port = 8080, threads = 4, max_rows = 100000, max_conn = 64, timeout = 10, help = 0, n_pos;
    double max_body = 8388608.0;
    cli_opt opts[] = {
        {"models", 0, OPT_STR, &dir, 0},          {"port", 'p', OPT_INT, &port, 0},
        {"bind", 0, OPT_STR, &bind, 0},           {"threads", 0, OPT_INT, &threads, 0},
        {"max-body", 0, OPT_DOUBLE, &max_body, 0}, {"max-rows", 0, OPT_INT, &max_rows, 0},
        {"max-connections", 0, OPT_INT, &max_conn, 0}, {"timeout", 0, OPT_INT, &timeout, 0},
        {"token-env", 0, OPT_STR, &token_env, 0}, {NULL, 0, 0, NULL, 0},
    };
    char *pos[1];
    if (cli_parse("serve", argc, argv, opts, pos, 0, &n_pos, &help)) return EXIT_USAGE;
    if (help) {
        fputs(HELP_SERVE, stdout);
        return EXIT_OK;
    }
    if (!dir) return cli_usage_error("serve", "missing --models DIR");
    if (port < 0 || port > 65535) return cli_usage_error("serve", "--port must be in 0..65535");
    if (threads < 1 || threads > 256) return cli_usage_error("serve", "--threads must be in 1..256");
    if (!(max_body >= 16 && max_body <= 1e12))
        return cli_usage_error("serve", "--max-body must be in 16..1e12 bytes");
    if (max_rows < 1 || max_conn < 1 || timeout < 1)
        return cli_usage_error("serve", "--max-rows, --max-connections and --timeout must be at least 1");
    const char *token = NULL;
    if (token_env) {
        token = getenv(token_env);
        if (!token || !*token)
            return cli_usage_error("serve", "--token-env %s: the variable is unset or empty", token_env);
    }
    sg_server_opts o;
    sg_server_opts_default(&o);
    o.models_dir = dir;
    if (bind) o.bind = bind;
    o.port = port;
    o.threads = threads;
    o.max_body = (size_t)max_body;
    o.max_rows = max_rows;
    o.max_connections = max_conn;
    o.timeout_s = timeout;
    o.token = token;
    o.access_log = !cli_quiet;

    /* SIGINT, SIGTERM (stop) and SIGHUP (reload): a handler writes the signal's
     * number into a pipe that the loop below reads.  Blocking them and calling
     * sigwait is not enough: threads that libraries start before main (OpenBLAS's
     * workers) leave them unblocked, and a signal that lands there while this
     * thread is busy (a reload) takes its default action and kills the process.
     * The handler is right on whichever thread runs it.  The server's own
     * threads are started with the signals blocked, so that their system calls
     * are not interrupted. */
    sg_error err;
    sg_error_clear(&err);
    if (pipe(sig_pipe)) {
        sg_error_set(&err, SG_EIO, "serve: cannot make a pipe for signals: %s", strerror(errno));
        return cli_fail(&err);
    }
    for (int k = 0; k < 2; k++) {
        int fl = fcntl(sig_pipe[k], F_GETFL);
        fcntl(sig_pipe[k], F_SETFL, fl | O_NONBLOCK);
        fcntl(sig_pipe[k], F_SETFD, FD_CLOEXEC);
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sg_server *s = NULL;
    if (sg_server_start(&s, &o, &err)) return cli_fail(&err);
    for (int k = 0; k < sg_server_n_models(s); k++) {
        if (!cli_quiet)
            fprintf(stderr, "stratagem: serve: model %s (%s)\n", sg_server_model_name(s, k),
                    sg_server_model_task(s, k));
    }
    int n = sg_server_n_models(s);
    printf("listening on http://%s:%d (%d model%s; %s)\n", o.bind, sg_server_port(s), n,
           n == 1 ? "" : "s", token ? "token required" : "no token");
    fflush(stdout);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);   /* the server's threads have started */
    int sig = 0;
    while ((sig = next_signal()) == SIGHUP) {
        if (sg_server_reload(s, &err)) {
            fprintf(stderr, "stratagem: serve: SIGHUP: reload failed, the old models stay served: "
                    "%s\n", err.msg);
            continue;
        }
        if (!cli_quiet)
            fprintf(stderr, "stratagem: serve: SIGHUP: reloaded %d model%s\n", sg_server_n_models(s),
                    sg_server_n_models(s) == 1 ? "" : "s");
    }
    if (!cli_quiet) fprintf(stderr, "stratagem: serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sg_server_stop(s);
    return EXIT_OK;
}
