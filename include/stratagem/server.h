/* server.h -- the HTTP service: the models of a directory behind a JSON API.
 *
 * One process serves every model file (NAME.sgm) of a directory, each loaded
 * once at start and read-only afterwards.  Routes (answers are JSON; an error is
 * {"error": "message"} with the HTTP status saying what kind):
 *
 *   GET  /                         a dashboard page: the models, and a form to call them
 *   GET  /health                   {"status": "ok", "models": N}; neither needs the token
 *   GET  /models                   every loaded model: name, task and what it predicts
 *   GET  /models/NAME              one of them
 *   POST /models/NAME/predict      response and uplift models, rows in the body:
 *                                    JSON {"rows": [{"col": value, ...}, ...]} or CSV text
 *                                    (Content-Type: text/csv, a header row first);
 *                                  response: a score per row;
 *                                  uplift: per row and arm the predicted effect against
 *                                    control and its standard error; with "cost"
 *                                    {"ARM": C, ...} (every treatment arm) also the action
 *                                    of the largest positive effect minus cost (control
 *                                    when none is positive) -- the per-customer decision
 *                                    without a budget (budgeted plans: /plan)
 *   POST /models/NAME/plan         uplift models: a plan under a budget for the rows of a
 *                                  JSON body, with "budget", "cost" (required), "objective",
 *                                  "cap", "min_gain", "boot", "seed", "summary_only": the
 *                                  plan rows, the forecast and baselines of `stratagem plan`
 *   POST /models/NAME/recommend    recommend models: the top "k" items (default 20) for a
 *                                  customer given by her items {"items": [...]} (folded
 *                                  in without retraining) or, for a customer the model
 *                                  was trained on, {"user": "ID"}; "exclude": [...] items
 *                                  never to return (stock-outs); her own items are never
 *                                  returned
 *
 * Status codes: 400 malformed request (bad JSON, a field of the wrong type), 401
 * missing or wrong token, 404 unknown route or model, 405 wrong method, 413 body or
 * rows over the limits, 415 a body that is neither JSON nor CSV, 422 data that do not
 * fit the model (a missing feature column, a bad cell: the loader's message, which
 * names the line and column of the rows as CSV, line 2 being the first row), 503 out
 * of memory.
 *
 * Limits: a request body above 'max_body' bytes is refused (413) from its
 * Content-Length before it is read, or, sent chunked, the connection is closed when
 * it passes the limit; at most 'max_rows' rows per request; at most
 * 'max_connections' connections, each closed after 'timeout_s' idle seconds;
 * headers are limited by libmicrohttpd's per-connection memory (32 KiB).  Scoring
 * runs one request at a time (each uses every BLAS/OpenMP thread), while the pool
 * of 'threads' connection threads keeps accepting and answering /health.
 *
 * See LICENSE for copyright. */
#ifndef SG_SERVER_H
#define SG_SERVER_H

#include <stddef.h>

#include "error.h"

typedef struct sg_server sg_server;

typedef struct sg_server_opts {
    const char *models_dir;   /* required: the directory of NAME.sgm files */
    const char *bind;         /* IPv4 address to listen on; default "127.0.0.1" */
    int port;                 /* 0: a free port, see sg_server_port; default 8080 */
    int threads;              /* connection threads; default 4 */
    size_t max_body;          /* bytes; default 8 MiB */
    int max_rows;             /* rows per request; default 100000 */
    int max_connections;      /* default 64 */
    int timeout_s;            /* idle seconds before a connection is closed; default 10 */
    const char *token;        /* NULL: no authentication */
    int access_log;           /* 1: one log line per request (sg_log, info level) */
} sg_server_opts;

void sg_server_opts_default(sg_server_opts *o);

/* Load the models and start listening.  Errors: SG_EIO (the directory cannot be
 * read, a model file cannot be read, the port cannot be bound), SG_EPARSE (a bad
 * model file, named), SG_EINVAL (bad options: an address that is not IPv4, a
 * model name with characters other than letters, digits, '.', '_' and '-', no
 * model in the directory), SG_ENOMEM. */
int sg_server_start(sg_server **out, const sg_server_opts *o, sg_error *err);

/* Load the directory's models again and swap them in whole: requests in progress
 * finish with the old set, later ones see the new.  On any error (a bad file, no
 * model) the old set stays served, and the error says which file.  Errors as
 * sg_server_start's. */
int sg_server_reload(sg_server *s, sg_error *err);

/* About the models served; not safe against a concurrent reload (names are
 * borrowed until the next reload). */
int sg_server_port(const sg_server *s);      /* the port listened on */
int sg_server_n_models(const sg_server *s);
const char *sg_server_model_name(const sg_server *s, int k);   /* borrowed */
const char *sg_server_model_task(const sg_server *s, int k);   /* "response", ... */

/* Stop listening (requests in progress finish first) and free everything.  NULL is a no-op. */
void sg_server_stop(sg_server *s);

#endif
