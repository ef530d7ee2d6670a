/*
 * log.c - leveled logging to stderr or syslog.
 *
 * Each message is formatted whole into one buffer and written with a single
 * write(2), so lines from different pairs' threads never interleave.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	1024

static const char *const log_names[] = {
	"err", "warning", "notice", "info", "debug",
};
static const int log_prios[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG,
};

static _Atomic int	log_level = LOG_LVL_NOTICE;
static _Atomic int	log_syslog;
static char		log_ident[64] = "kdrelayd";

void
log_init(const char *ident, enum log_level level, int use_syslog)
{
	if (ident != NULL)
		snprintf(log_ident, sizeof log_ident, "%s", ident);
	log_level = level;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = use_syslog != 0;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const struct { const char *s; enum log_level l; } t[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR },
		{ "warning", LOG_LVL_WARN }, { "warn", LOG_LVL_WARN },
		{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcasecmp(s, t[i].s) == 0) {
			*out = t[i].l;
			return 0;
		}
	}
	return -1;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char	buf[LOG_LINE_MAX];
	int	n, m;

	if ((int)level > log_level || (int)level < 0 ||
	    level > LOG_LVL_DEBUG)
		return;
	if (log_syslog) {
		vsnprintf(buf, sizeof buf, fmt, ap);
		syslog(log_prios[level], "%s", buf);
		return;
	}
	n = snprintf(buf, sizeof buf, "%s: %s: ", log_ident, log_names[level]);
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof buf - 1)
		n = sizeof buf - 2;		/* truncated: keep the newline */
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, n);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
