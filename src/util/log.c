/* log.c -- logging through an application callback (default: stderr).
 *
 * Default lines look like "15:04:05 INFO  gbdt: message".  The level is a
 * plain global read without locking: setting it is done once at start-up. */
#include "stratagem/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static sg_log_fn log_fn;
static void *log_ud;
static int log_level = SG_LOG_INFO;

static const char *level_name(int level)
{
    switch (level) {
    case SG_LOG_DEBUG: return "DEBUG";
    case SG_LOG_INFO: return "INFO ";
    case SG_LOG_WARN: return "WARN ";
    default: return "ERROR";
    }
}

void sg_log_set(sg_log_fn fn, void *user_data)
{
    log_fn = fn;
    log_ud = user_data;
}

void sg_log_set_level(int level) { log_level = level; }
int sg_log_get_level(void) { return log_level; }

void sg_log_write(int level, const char *module, const char *fmt, ...)
{
    if (level < log_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_fn) {
        log_fn(level, module, msg, log_ud);
        return;
    }
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    fprintf(stderr, "%02d:%02d:%02d %s %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            level_name(level), module, msg);
}
