/*
 * epsync.c - open an endpoint spec synchronously, for tools.
 *
 * What kdreplay needs to play a peer: one fd, opened the blocking way and
 * then set nonblocking for a poll() loop.  A peer that is not there yet
 * (a socket not yet made, a relay not yet listening) is waited for until
 * the deadline, never for ever.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "epsync.h"
#include "exitcodes.h"
#include "sock.h"
#include "tty.h"

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
	es->sl.fd = -1;
	es->tty = -1;
}

static int
set_nonblock(int fd)
{
	int	fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
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

	fd = tty_open(es->spec->path, O_NONBLOCK, &es->orig, NULL, 0);
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
	es->tty = fd;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
open_tcp(struct epsync *es)
{
	char	why[256];
	int	fd;

	if ((fd = sock_tcp_connect(es->spec->host, es->spec->port, why,
	    sizeof why)) == -1 && errno == EADDRNOTAVAIL)
		note(es, why);
	return fd;
}

/* By the daemon's rules (sock.c): loopback unless allow-remote, never
 * over a live socket, mode 0600 from the start. */
static int
listen_spec(struct epsync *es, char *err, size_t errlen)
{
	const struct ep_spec	*sp = es->spec;

	if (sp->kind == EP_UNIX_LISTEN)
		return sock_listen_unix(&es->sl, sp->path, 0600, NULL, err,
		    errlen);
	return sock_listen_tcp(&es->sl, sp->host, sp->port, sp->allow_remote,
	    NULL, err, errlen);
}

/* Wait for one client on the listening socket; the listener then goes. */
static int
accept_one(struct epsync *es)
{
	struct pollfd	pfd = { es->sl.fd, POLLIN, 0 };
	int		fd, n;

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
		fd = accept4(es->sl.fd, NULL, NULL,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			return -1;
	}
	if (es->spec->kind == EP_TCP_LISTEN)
		sock_nodelay(fd);
	close(es->sl.fd);	/* the socket file stays until epsync_close */
	es->sl.fd = -1;
	return fd;
}

/* Open the endpoint, retrying a peer that is not there yet; an exit code. */
int
epsync_open(struct epsync *es, int *fd, char *err, size_t errlen)
{
	char	 why[SOCK_TEXT_MAX + 256];
	int	 wait = RETRY_MS;

	*fd = -1;
	switch (es->spec->kind) {
	case EP_UNIX_LISTEN:
	case EP_TCP_LISTEN:
		if (listen_spec(es, why, sizeof why) == -1) {
			snprintf(err, errlen, "cannot listen: %s", why);
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
			*fd = sock_unix_connect(es->spec->path);
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
	/* The tty is the VM's: leave it as it was found (opost, echo...). */
	if (es->tty != -1)
		tcsetattr(es->tty, TCSANOW, &es->orig);
	es->tty = -1;
	sock_listener_close(&es->sl);
}
