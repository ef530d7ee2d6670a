/*
 * log.h - leveled logging to stderr (timestamped, unless it is the
 * journal's stream, which adds its own) or syslog.
 *
 * Thread-safe: each message is formatted whole and written with one call.
 * Callers log state changes, never each retry.
 */
#ifndef KDRELAY_LOG_H
#define KDRELAY_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void	log_init(const char *ident, enum log_level, int use_syslog);
void	log_set_level(enum log_level);
/* err (error), warning (warn), notice, info, debug; any case.  -1 else. */
int	log_level_parse(const char *, enum log_level *);

void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level, const char *fmt, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Whatever the level (-q): the answer to an explicit request (SIGUSR1). */
void	log_asked(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Now, wall clock: "2026-12-01T23:50:01.123456+01:00"; its length. */
size_t	log_timestamp(char *buf, size_t len);

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
