/* error.c -- result code names and the sg_error helpers. See LICENSE. */
#include "stratagem/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sg_strerror(int code)
{
    switch (code) {
    case SG_OK: return "ok";
    case SG_ENOMEM: return "out of memory";
    case SG_EIO: return "input/output error";
    case SG_EPARSE: return "bad input data";
    case SG_EINVAL: return "invalid argument";
    case SG_ENUMERIC: return "numeric failure (non-finite value)";
    case SG_EINTERNAL: return "internal error";
    case SG_ENOTFOUND: return "not found";
    default: return "unknown error";
    }
}

const char *sg_errname(int code)
{
    switch (code) {
    case SG_OK: return "SG_OK";
    case SG_ENOMEM: return "SG_ENOMEM";
    case SG_EIO: return "SG_EIO";
    case SG_EPARSE: return "SG_EPARSE";
    case SG_EINVAL: return "SG_EINVAL";
    case SG_ENUMERIC: return "SG_ENUMERIC";
    case SG_EINTERNAL: return "SG_EINTERNAL";
    case SG_ENOTFOUND: return "SG_ENOTFOUND";
    default: return "SG_EUNKNOWN";
    }
}

void sg_error_clear(sg_error *err)
{
    if (!err) return;
    err->code = SG_OK;
    err->msg[0] = '\0';
}

int sg_error_set(sg_error *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int sg_error_prefix(sg_error *err, const char *fmt, ...)
{
    if (!err) return SG_OK;
    char pre[SG_ERRMSG_MAX], old[SG_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.200s%.300s", pre, old);
    return err->code;
}
