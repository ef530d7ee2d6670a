/*
 * epsync.c - open an endpoint spec synchronously, for tools.
 *
 * What kdreplay needs to play a peer: one fd, opened the blocking way and
 * then set nonblocking for a poll() loop.  A peer that is not there yet
 * (a socket not yet made, a relay not yet listening) is waited for until
 * the deadline, never for ever.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "epsync.h"
#include "exitcodes.h"

#define RETRY_MS	50	/* first pause between connect attempts */

int64_t
epsync_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
stopped(const struct epsync *es)
{
	return es->stop != NULL && *es->stop != 0;
}

static void
note(const struct epsync *es, const char *msg)
{
	if (es->note != NULL)
		es->note(es->arg, msg);
}

void
epsync_init(struct epsync *es, const struct ep_spec *spec)
{
	memset(es, 0, sizeof *es);
	es->spec = spec;
	es->lfd = -1;
}

static int
set_nonblock(int fd)
{
	int	fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Close fd after a failure, keeping its errno; -1. */
static int
close_fail(int fd)
{
	int	e = errno;

	close(fd);
	errno = e;
	return -1;
}

/* -1 with ENAMETOOLONG if path does not fit. */
static int
unix_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* The peer may not be there yet: errors worth another try. */
static int
transient(int e)
{
	return e == ENOENT || e == ECONNREFUSED || e == EAGAIN ||
	    e == ETIMEDOUT || e == ENETUNREACH || e == EHOSTUNREACH ||
	    e == EINTR;
}

static int
open_tty(struct epsync *es)
{
	struct termios	t;
	int		fd;

	fd = tty_open_raw(es->spec->path, O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (set_nonblock(fd) == -1)
		goto fail;
	if (es->onlcr) {
		/* What a default pty (or Xen's mini-os console) does. */
		if (tcgetattr(fd, &t) == -1)
			goto fail;
		t.c_oflag |= OPOST | ONLCR;
		if (tcsetattr(fd, TCSANOW, &t) == -1)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
open_unix(struct epsync *es)
{
	struct sockaddr_un	sun;
	int			fd;

	if (unix_addr(&sun, es->spec->path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    set_nonblock(fd) == -1)
		return close_fail(fd);
	return fd;
}

static int
open_tcp(struct epsync *es)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, e = ECONNREFUSED, on = 1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(es->spec->host, es->spec->port, &hints, &res);
	if (rc != 0) {
		note(es, gai_strerror(rc));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = e;
		return -1;
	}
	/* Ping-pong traffic: latency matters, not segment count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	if (set_nonblock(fd) == -1)
		return close_fail(fd);
	return fd;
}

static int
listen_unix(struct epsync *es)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	if (unix_addr(&sun, es->spec->path) == -1)
		return -1;
	/* A socket left behind by an earlier run, never anything else. */
	if (lstat(es->spec->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(es->spec->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	es->unlink_path = 1;
	if (chmod(es->spec->path, 0600) == -1 || listen(fd, 1) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(struct epsync *es)
{
	struct addrinfo	 hints, *res;
	const char	*host = es->spec->host[0] ? es->spec->host :
			    "127.0.0.1";
	int		 fd, on = 1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, es->spec->port, &hints, &res);
	if (rc != 0) {
		note(es, gai_strerror(rc));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1) {
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1) == -1) {
		freeaddrinfo(res);
		return close_fail(fd);
	}
	freeaddrinfo(res);
	return fd;
}

/* Wait for one client on the listening socket; the listener then goes. */
static int
accept_one(struct epsync *es)
{
	struct pollfd	pfd = { es->lfd, POLLIN, 0 };
	int		fd, n, on = 1;

	for (;;) {
		if (stopped(es)) {
			errno = EINTR;
			return -1;
		}
		n = poll(&pfd, 1, (int)(es->deadline - epsync_now_ms() > 0 ?
		    es->deadline - epsync_now_ms() : 0));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		fd = accept4(es->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			return -1;
	}
	if (es->spec->kind == EP_TCP_LISTEN)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	close(es->lfd);
	es->lfd = -1;
	return fd;
}

/* Open the endpoint, retrying a peer that is not there yet; an exit code. */
int
epsync_open(struct epsync *es, int *fd, char *err, size_t errlen)
{
	int	 wait = RETRY_MS;

	*fd = -1;
	switch (es->spec->kind) {
	case EP_UNIX_LISTEN:
	case EP_TCP_LISTEN:
		es->lfd = es->spec->kind == EP_UNIX_LISTEN ? listen_unix(es) :
		    listen_tcp(es);
		if (es->lfd == -1) {
			snprintf(err, errlen, "cannot listen: %s",
			    strerror(errno));
			return EXIT_UNAVAIL;
		}
		*fd = accept_one(es);
		if (*fd == -1) {
			snprintf(err, errlen, "no client: %s",
			    strerror(errno));
			return errno == ETIMEDOUT ? EXIT_TEMPFAIL :
			    EXIT_UNAVAIL;
		}
		return EXIT_OK;
	case EP_TTY:
	case EP_UNIX:
	case EP_TCP:
		break;
	default:
		snprintf(err, errlen, "%s endpoints are not supported here "
		    "(use pty:PATH, unix:PATH or tcp:HOST:PORT)",
		    ep_kind_name(es->spec->kind));
		return EXIT_USAGE;
	}
	for (;;) {
		if (es->spec->kind == EP_TTY)
			*fd = open_tty(es);
		else if (es->spec->kind == EP_UNIX)
			*fd = open_unix(es);
		else
			*fd = open_tcp(es);
		if (*fd >= 0)
			return EXIT_OK;
		if (!transient(errno) ||
		    epsync_now_ms() + wait > es->deadline || stopped(es)) {
			snprintf(err, errlen, "cannot open: %s",
			    strerror(errno));
			return EXIT_UNAVAIL;
		}
		pause_ms(wait);
		if (wait < 500)
			wait *= 2;
	}
}

void
epsync_close(struct epsync *es)
{
	if (es->lfd >= 0)
		close(es->lfd);
	es->lfd = -1;
	if (es->unlink_path)
		unlink(es->spec->path);
	es->unlink_path = 0;
}
