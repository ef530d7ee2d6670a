/*
 * log.c - leveled logging to stderr or syslog.
 *
 * Each message is formatted whole into one buffer and written with a single
 * write(2), so lines from different pairs' threads never interleave.
 * Standard error gets a wall-clock timestamp unless it is the journal's
 * stream (JOURNAL_STREAM names its device and inode), which adds its own.
 * Syslog without a listening /dev/log would drop every line silently:
 * then standard error it is, said once.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
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
static int		log_stamp;	/* stderr lines get a timestamp */
static char		log_ident[64] = "kdrelayd";

size_t
log_timestamp(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		z[8];
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (len == 0 || localtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 ||
	    strftime(z, sizeof z, "%z", &tm) != 5) {
		if (len > 0)
			*buf = '\0';
		return 0;
	}
	/* +hhmm as +hh:mm, the extended form like the rest. */
	n += (size_t)snprintf(buf + n, len - n, ".%06ld%.3s:%s",
	    ts.tv_nsec / 1000, z, z + 3);
	return n < len ? n : len - 1;
}

/* Is standard error the journal's stream ("DEV:INO" in JOURNAL_STREAM)? */
static int
under_journal(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Is a syslog daemon listening on /dev/log?  errno if not. */
static int
syslog_there(void)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd, ok, err;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", _PATH_LOG);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	err = errno;
	close(fd);
	errno = err;
	return ok;
}

void
log_init(const char *ident, enum log_level level, int use_syslog)
{
	if (ident != NULL)
		snprintf(log_ident, sizeof log_ident, "%s", ident);
	log_level = level;
	tzset();
	log_stamp = !under_journal();
	log_syslog = 0;
	if (use_syslog && !syslog_there()) {
		log_msg(LOG_LVL_WARN, "syslog: %s: %s; logging to standard "
		    "error instead", _PATH_LOG, strerror(errno));
		return;
	}
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

static void __attribute__((format(printf, 2, 0)))
emit(enum log_level level, const char *fmt, va_list ap)
{
	char	buf[LOG_LINE_MAX], ts[64] = "";
	int	n, m;

	if (log_syslog) {
		vsnprintf(buf, sizeof buf, fmt, ap);
		syslog(log_prios[level], "%s", buf);
		return;
	}
	if (log_stamp && log_timestamp(ts, sizeof ts - 1) > 0)
		strcat(ts, " ");
	n = snprintf(buf, sizeof buf, "%s%s: %s: ", ts, log_ident,
	    log_names[level]);
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
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_level || (int)level < 0 ||
	    level > LOG_LVL_DEBUG)
		return;
	emit(level, fmt, ap);
}

void
log_asked(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	if ((int)level < 0 || level > LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
