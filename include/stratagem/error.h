/* error.h -- result codes and the error struct every fallible call fills.
 *
 * Every function that can fail returns SG_OK (0) or one of the negative codes
 * below, and writes a human-readable message into a caller-provided 'sg_error'
 * (NULL allowed).  Messages say where and what:
 *   orders.csv:1042: column 'price': expected a number, got "12,50"
 * See LICENSE for copyright. */
#ifndef SG_ERROR_H
#define SG_ERROR_H

#include <stddef.h>

#define SG_OK         0   /* success */
#define SG_ENOMEM    -1   /* an allocation failed */
#define SG_EIO       -2   /* a file or database could not be read or written */
#define SG_EPARSE    -3   /* input data is malformed (bad CSV, bad value, bad model file) */
#define SG_EINVAL    -4   /* an argument or option is invalid */
#define SG_ENUMERIC  -5   /* a computation produced a non-finite value (training diverged) */
#define SG_EINTERNAL -6   /* a broken internal invariant: a bug */
#define SG_ENOTFOUND -7   /* a named thing (column, model, plan, id) does not exist */

#define SG_ERRMSG_MAX 512

typedef struct sg_error {
    int code;                 /* last code set, SG_OK when none */
    char msg[SG_ERRMSG_MAX];  /* NUL-terminated message, "" when none */
} sg_error;

/* Static text for a code ("out of memory", ...).  Never NULL. */
const char *sg_strerror(int code);

/* Static name of a code ("SG_EPARSE", ...).  Never NULL. */
const char *sg_errname(int code);

/* Clear 'err' (NULL allowed). */
void sg_error_clear(sg_error *err);

/* Set 'err' (NULL allowed) to 'code' and a printf-style message; returns 'code'
 * so callers can write 'return sg_error_set(err, SG_EINVAL, "...")'. */
int sg_error_set(sg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in 'err' with a printf-style context string
 * ("training fold 3: "); keeps the code.  Returns err->code (SG_OK if err is NULL). */
int sg_error_prefix(sg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
