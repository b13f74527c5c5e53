/* log.h -- logging through a callback the application sets.
 *
 * The library never prints: it calls the log function (default: stderr with
 * time, level and module).  The SG_LOG macro checks the level before
 * formatting anything. */
#ifndef SG_LOG_H
#define SG_LOG_H

enum { SG_LOG_DEBUG = 0, SG_LOG_INFO = 1, SG_LOG_WARN = 2, SG_LOG_ERROR = 3, SG_LOG_NONE = 4 };

typedef void (*sg_log_fn)(int level, const char *module, const char *msg, void *user_data);

/* Set the log callback (NULL restores the default stderr writer). */
void sg_log_set(sg_log_fn fn, void *user_data);
/* Messages below 'level' are dropped before formatting. */
void sg_log_set_level(int level);
int sg_log_get_level(void);
void sg_log_write(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SG_LOG(level, module, ...) \
    do { if ((level) >= sg_log_get_level()) sg_log_write((level), (module), __VA_ARGS__); } while (0)

#endif
