/*
 * kdreplay - play one side of a kdtrace against an endpoint, like a peer.
 *
 * Our records are written in order; each record of the other side must
 * arrive intact, checked by the KDCOM parser and then byte for byte.  The
 * recovery of a real peer (RESEND, retransmission on a timeout) is done by
 * the player; this file does the I/O: one fd, poll(), nonblocking writes.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "epspec.h"
#include "kdcom.h"
#include "kdtrace.h"
#include "player.h"

#define EX_OK		0
#define EX_FAILED	1
#define EX_USAGE	64
#define EX_NOINPUT	66
#define EX_UNAVAILABLE	69
#define EX_TEMPFAIL	75

#define DEFAULT_TIMEOUT	1000	/* ms */
#define RETRY_MS	50	/* first pause between connect attempts */

struct replay {
	const char		*trace_path;
	const char		*ep_text;
	char			 self;
	int			 timeout;	/* ms */
	unsigned		 retries;
	int			 onlcr;
	int			 quiet;

	struct ep_spec		 spec;
	int			 fd;
	int			 lfd;		/* listening socket */
	int			 unlink_path;	/* we made spec.path */

	struct kdtrace		 trace;
	struct player		 player;
	struct kd_parser	 parser;
	enum player_status	 status;
	int			 packets_seen;	/* parser reported a packet */
	enum kd_verdict		 last_verdict;

	uint8_t			*out;		/* bytes waiting to be written */
	size_t			 outlen;
	size_t			 outsize;
	int			 nomem;

	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	struct timespec		 start;
};

static volatile sig_atomic_t	 stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static int64_t
now_ms(void)
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

static void
usage(FILE *f)
{
	fprintf(f, "usage: kdreplay --as debugger|target [--timeout MS] "
	    "[--retries N] [--onlcr] [--quiet]\n"
	    "                TRACE ENDPOINT\n"
	    "Play one side of a kdtrace against ENDPOINT like a KDCOM peer.\n"
	    "  --as SIDE      the side to play: debugger or target\n"
	    "  --timeout MS   wait for an answer this long before a "
	    "retransmission\n"
	    "                 (default %d)\n"
	    "  --retries N    recoveries in a row before giving up (default "
	    "%d);\n"
	    "                 connecting and accepting wait TIMEOUT * N\n"
	    "  --onlcr        on a tty, turn output post-processing back on: "
	    "every\n"
	    "                 0x0a written becomes 0x0d 0x0a (a corrupting "
	    "line)\n"
	    "  --quiet        no notes, no summary\n"
	    "ENDPOINT: /dev/PATH, pty:PATH, unix:PATH, unix-listen:PATH,\n"
	    "          tcp:HOST:PORT, tcp-listen:[ADDR:]PORT\n"
	    "Exit: 0 the session went through, 1 it failed, 64 usage, 66 "
	    "bad trace,\n"
	    "      69 endpoint unavailable, 75 timed out.\n",
	    DEFAULT_TIMEOUT, PLAYER_RETRIES);
}

static void
note(const struct replay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
note(const struct replay *r, const char *fmt, ...)
{
	va_list	ap;
	char	buf[1024];

	if (r->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "kdreplay: %s: %s\n", r->ep_text, buf);
}

/* Endpoints. */

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
open_tty(struct replay *r)
{
	struct termios	t;
	int		fd;

	fd = tty_open_raw(r->spec.path, O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (set_nonblock(fd) == -1)
		goto fail;
	if (r->onlcr) {
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
open_unix(struct replay *r)
{
	struct sockaddr_un	sun;
	int			fd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(r->spec.path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, r->spec.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    set_nonblock(fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
open_tcp(struct replay *r)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, e = ECONNREFUSED, on = 1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(r->spec.host, r->spec.port, &hints, &res);
	if (rc != 0) {
		note(r, "%s", gai_strerror(rc));
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
	if (set_nonblock(fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
listen_unix(struct replay *r)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(r->spec.path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, r->spec.path);
	/* A socket left behind by an earlier run, never anything else. */
	if (lstat(r->spec.path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(r->spec.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	r->unlink_path = 1;
	if (chmod(r->spec.path, 0600) == -1 || listen(fd, 1) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(struct replay *r)
{
	struct addrinfo	 hints, *res;
	const char	*host = r->spec.host[0] ? r->spec.host : "127.0.0.1";
	int		 fd, on = 1, rc, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, r->spec.port, &hints, &res);
	if (rc != 0) {
		note(r, "%s", gai_strerror(rc));
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
		e = errno;
		close(fd);
		freeaddrinfo(res);
		errno = e;
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Wait for one client on the listening socket; the listener then goes. */
static int
accept_one(struct replay *r, int64_t deadline)
{
	struct pollfd	pfd = { r->lfd, POLLIN, 0 };
	int		fd, n, on = 1;

	for (;;) {
		if (stop_signal) {
			errno = EINTR;
			return -1;
		}
		n = poll(&pfd, 1, (int)(deadline - now_ms() > 0 ?
		    deadline - now_ms() : 0));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			return -1;
	}
	if (r->spec.kind == EP_TCP_LISTEN)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	close(r->lfd);
	r->lfd = -1;
	return fd;
}

/* Open the endpoint, retrying a peer that is not there yet; an exit code. */
static int
open_endpoint(struct replay *r)
{
	int64_t	 deadline = now_ms() + (int64_t)r->timeout * r->retries;
	int	 wait = RETRY_MS;

	if (r->onlcr && r->spec.kind != EP_TTY) {
		fprintf(stderr, "kdreplay: %s: --onlcr needs a tty endpoint\n",
		    r->ep_text);
		return EX_USAGE;
	}
	switch (r->spec.kind) {
	case EP_UNIX_LISTEN:
	case EP_TCP_LISTEN:
		r->lfd = r->spec.kind == EP_UNIX_LISTEN ? listen_unix(r) :
		    listen_tcp(r);
		if (r->lfd == -1) {
			fprintf(stderr, "kdreplay: %s: cannot listen: %s\n",
			    r->ep_text, strerror(errno));
			return EX_UNAVAILABLE;
		}
		r->fd = accept_one(r, deadline);
		if (r->fd == -1) {
			fprintf(stderr, "kdreplay: %s: no client: %s\n",
			    r->ep_text, strerror(errno));
			return errno == ETIMEDOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
		}
		return EX_OK;
	case EP_TTY:
	case EP_UNIX:
	case EP_TCP:
		break;
	default:
		fprintf(stderr, "kdreplay: %s: %s endpoints are not supported "
		    "here (use pty:PATH, unix:PATH or tcp:HOST:PORT)\n",
		    r->ep_text, ep_kind_name(r->spec.kind));
		return EX_USAGE;
	}
	for (;;) {
		if (r->spec.kind == EP_TTY)
			r->fd = open_tty(r);
		else if (r->spec.kind == EP_UNIX)
			r->fd = open_unix(r);
		else
			r->fd = open_tcp(r);
		if (r->fd >= 0)
			return EX_OK;
		if (!transient(errno) || now_ms() + wait > deadline ||
		    stop_signal) {
			fprintf(stderr, "kdreplay: %s: cannot open: %s\n",
			    r->ep_text, strerror(errno));
			return EX_UNAVAILABLE;
		}
		pause_ms(wait);
		if (wait < 500)
			wait *= 2;
	}
}

/* Output: a queue drained by nonblocking writes. */

static void
queue(void *arg, const uint8_t *pkt, size_t len)
{
	struct replay	*r = arg;
	uint8_t		*p;
	size_t		 size;

	if (r->outlen + len > r->outsize) {
		size = r->outsize ? r->outsize : 8192;
		while (size < r->outlen + len)
			size *= 2;
		if ((p = realloc(r->out, size)) == NULL) {
			r->nomem = 1;
			return;
		}
		r->out = p;
		r->outsize = size;
	}
	memcpy(r->out + r->outlen, pkt, len);
	r->outlen += len;
}

/* 1 when all is written, 0 when the fd is full, -1 on an error. */
static int
flush_out(struct replay *r)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < r->outlen) {
		n = write(r->fd, r->out + off, r->outlen - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		return -1;
	}
	memmove(r->out, r->out + off, r->outlen - off);
	r->outlen -= off;
	r->bytes_out += off;
	return r->outlen == 0;
}

/* Input: parser events go to the player; the first failure sticks. */

static void
on_event(void *arg, const struct kd_event *ev)
{
	struct replay	*r = arg;
	struct player	*p = &r->player;
	uint64_t	 rs = p->st.resends_sent, rt = p->st.retransmits;
	uint64_t	 rr = p->st.resends_received, dup = p->st.duplicates;

	if (r->status != PLAYER_OK)
		return;
	if (ev->kind == KD_EV_PACKET) {
		r->packets_seen = 1;
		if (ev->pkt->verdict != KD_OK)
			r->last_verdict = ev->pkt->verdict;
	}
	r->status = player_event(p, ev);
	if (p->st.resends_sent != rs)
		note(r, "record %zu: %s packet, RESEND sent", p->next,
		    kd_verdict_name(r->last_verdict));
	if (p->st.resends_received != rr)
		note(r, "record %zu: RESEND received%s", p->next,
		    p->st.retransmits != rt ? ", data packet sent again" : "");
	if (p->st.duplicates != dup)
		note(r, "record %zu: the peer's last packet came again",
		    p->next);
}

static int
on_timeout(struct replay *r)
{
	struct player	*p = &r->player;
	uint64_t	 rs = p->st.resends_sent, rt = p->st.retransmits;
	int		 busy = kd_parser_busy(&r->parser);

	if (busy)
		kd_parser_reset(&r->parser);
	r->status = player_timeout(p, busy);
	if (r->status == PLAYER_OK && (p->st.resends_sent != rs ||
	    p->st.retransmits != rt))
		note(r, "record %zu: no answer in %d ms,%s%s", p->next,
		    r->timeout, p->st.resends_sent != rs ?
		    " RESEND sent (packet cut short)" : "",
		    p->st.retransmits != rt ? " data packet sent again" : "");
	return r->status == PLAYER_OK ? 0 : -1;
}

/* -1 on EOF or an error (reason in why), 0 otherwise. */
static int
read_in(struct replay *r, const char **why)
{
	uint8_t	buf[65536];
	ssize_t	n;

	for (;;) {
		n = read(r->fd, buf, sizeof buf);
		if (n > 0) {
			r->bytes_in += (uint64_t)n;
			kd_parser_feed(&r->parser, buf, (size_t)n);
			if (r->status != PLAYER_OK || (size_t)n < sizeof buf)
				return 0;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		/* A pty whose other side has gone reads EIO. */
		*why = n == 0 || errno == EIO ? "closed by the peer" :
		    strerror(errno);
		return -1;
	}
}

/* Play the session; an exit code. */
static int
play(struct replay *r)
{
	struct pollfd	 pfd;
	int64_t		 deadline, wait;
	const char	*why = NULL;
	int		 n, lingering = 0;

	r->status = PLAYER_OK;
	player_pump(&r->player);
	deadline = now_ms() + r->timeout;
	for (;;) {
		if (r->nomem) {
			fprintf(stderr, "kdreplay: out of memory\n");
			return EX_FAILED;
		}
		if (r->status == PLAYER_FAILED)
			goto failed;
		if (r->status == PLAYER_TIMEOUT)
			goto timedout;
		if (r->outlen > 0) {
			n = flush_out(r);
			if (n == -1) {
				why = strerror(errno);
				goto lost;
			}
			if (n == 1)
				deadline = now_ms() + r->timeout;
		}
		if (player_done(&r->player) && r->outlen == 0) {
			if (!player_linger(&r->player) || why != NULL)
				return EX_OK;
			lingering = 1;
		}
		if (why != NULL)
			goto lost;
		if (stop_signal) {
			fprintf(stderr, "kdreplay: %s: stopped by signal %d\n",
			    r->ep_text, (int)stop_signal);
			return EX_FAILED;
		}

		wait = deadline - now_ms();
		pfd.fd = r->fd;
		pfd.events = POLLIN | (r->outlen > 0 ? POLLOUT : 0);
		pfd.revents = 0;
		n = poll(&pfd, 1, wait > 0 ? (int)wait : 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			why = strerror(errno);
			goto lost;
		}
		if (n == 0) {
			/* Quiet after our last word: the peer is content. */
			if (lingering)
				return EX_OK;
			on_timeout(r);
			deadline = now_ms() + r->timeout;
			continue;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r->packets_seen = 0;
			if (read_in(r, &why) == -1 && r->status == PLAYER_OK)
				continue;	/* seen at the top: done or lost */
			if (r->packets_seen)
				deadline = now_ms() + r->timeout;
		}
	}

failed:
	fprintf(stderr, "kdreplay: %s: session failed: %s\n", r->ep_text,
	    r->player.err);
	return EX_FAILED;
timedout:
	fprintf(stderr, "kdreplay: %s: %s\n", r->ep_text, r->player.err);
	return EX_TEMPFAIL;
lost:
	fprintf(stderr, "kdreplay: %s: %s after %zu of %zu records\n",
	    r->ep_text, why, r->player.next, r->trace.n);
	return EX_FAILED;
}

static void
summary(const struct replay *r)
{
	const struct player_stats *st = &r->player.st;
	struct timespec	 end;
	double		 t;

	if (r->quiet)
		return;
	clock_gettime(CLOCK_MONOTONIC, &end);
	t = (double)(end.tv_sec - r->start.tv_sec) +
	    (double)(end.tv_nsec - r->start.tv_nsec) / 1e9;
	printf("kdreplay: as=%s packets sent=%llu received=%llu "
	    "bytes sent=%llu received=%llu resends sent=%llu received=%llu "
	    "retransmits=%llu duplicates=%llu time=%.3fs\n",
	    r->self == KDTRACE_DEBUGGER ? "debugger" : "target",
	    (unsigned long long)st->sent, (unsigned long long)st->received,
	    (unsigned long long)r->bytes_out, (unsigned long long)r->bytes_in,
	    (unsigned long long)st->resends_sent,
	    (unsigned long long)st->resends_received,
	    (unsigned long long)st->retransmits,
	    (unsigned long long)st->duplicates, t);
	fflush(stdout);
}

static int
number(const char *s, long min, long max, long *v)
{
	char	*end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && *s != '\0' && *end == '\0' && *v >= min &&
	    *v <= max ? 0 : -1;
}

static int
parse_args(struct replay *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as",		required_argument,	NULL, 'a' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "retries",	required_argument,	NULL, 'r' },
		{ "onlcr",	no_argument,		NULL, 'o' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 },
	};
	char	err[256];
	long	v;
	int	c;

	while ((c = getopt_long(argc, argv, "a:hoqr:t:V", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "debugger") == 0)
				r->self = KDTRACE_DEBUGGER;
			else if (strcmp(optarg, "target") == 0)
				r->self = KDTRACE_TARGET;
			else {
				fprintf(stderr, "kdreplay: --as %s: not "
				    "debugger or target\n", optarg);
				return EX_USAGE;
			}
			break;
		case 't':
			if (number(optarg, 1, 3600000, &v) != 0) {
				fprintf(stderr, "kdreplay: --timeout %s: not "
				    "a number of ms from 1 to 3600000\n",
				    optarg);
				return EX_USAGE;
			}
			r->timeout = (int)v;
			break;
		case 'r':
			if (number(optarg, 1, 10000, &v) != 0) {
				fprintf(stderr, "kdreplay: --retries %s: not "
				    "a number from 1 to 10000\n", optarg);
				return EX_USAGE;
			}
			r->retries = (unsigned)v;
			break;
		case 'o':
			r->onlcr = 1;
			break;
		case 'q':
			r->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("kdreplay %s\n", KDRELAY_VERSION);
			return -1;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 2 || r->self == 0) {
		if (r->self == 0)
			fprintf(stderr, "kdreplay: --as is required\n");
		usage(stderr);
		return EX_USAGE;
	}
	r->trace_path = argv[optind];
	r->ep_text = argv[optind + 1];
	if (ep_spec_parse(r->ep_text, &r->spec, err, sizeof err) != 0) {
		fprintf(stderr, "kdreplay: %s: %s\n", r->ep_text, err);
		return EX_USAGE;
	}
	return EX_OK;
}

static void
cleanup(struct replay *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->unlink_path)
		unlink(r->spec.path);
	free(r->out);
	kdtrace_free(&r->trace);
}

int
main(int argc, char **argv)
{
	static struct replay	 r;	/* the parser is large */
	struct sigaction	 sa;
	char			 err[512];
	int			 rc;

	r.fd = r.lfd = -1;
	r.timeout = DEFAULT_TIMEOUT;
	r.retries = PLAYER_RETRIES;
	if ((rc = parse_args(&r, argc, argv)) != EX_OK)
		return rc == -1 ? EX_OK : rc;

	if (kdtrace_load(r.trace_path, &r.trace, err, sizeof err) != 0) {
		fprintf(stderr, "kdreplay: %s\n", err);	/* names the file */
		return EX_NOINPUT;
	}
	if (player_check_trace(&r.trace, err, sizeof err) != 0) {
		fprintf(stderr, "kdreplay: %s: %s\n", r.trace_path, err);
		kdtrace_free(&r.trace);
		return EX_NOINPUT;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rc = open_endpoint(&r);
	if (rc == EX_OK) {
		clock_gettime(CLOCK_MONOTONIC, &r.start);
		player_init(&r.player, &r.trace, r.self, r.retries, queue, &r);
		kd_parser_init(&r.parser, on_event, &r);
		rc = play(&r);
		summary(&r);
	}
	cleanup(&r);
	return rc;
}
