/*
 * notify.c - the sd_notify protocol: one datagram of "KEY=VALUE" lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#else
#include <sys/socket.h>

#include "sock.h"
#endif

#include "notify.h"

#ifdef HAVE_SYSTEMD
static void
send_state(const char *state)
{
	sd_notify(0, state);
}
#else
/* What sd_notify() does for a path or an abstract ('@') socket. */
static void
send_state(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (*path != '/' && *path != '@') ||
	    strlen(path) < 2 || sock_unix_addr(&sun, &len, path) == -1)
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
}
#endif

void
notify_ready(void)
{
	send_state("READY=1");
}

void
notify_reloading(void)
{
	struct timespec	ts;
	char		buf[64];

	/* systemd 253+ wants the time of the request with RELOADING=1. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	send_state(buf);
}

void
notify_stopping(void)
{
	send_state("STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	n = snprintf(buf, sizeof buf, "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	/* One line: a newline would start another KEY=VALUE. */
	buf[strcspn(buf, "\n")] = '\0';
	send_state(buf);
}
