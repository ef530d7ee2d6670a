/*
 * kdreplay - play one side of a kdtrace against an endpoint, like a peer.
 *
 * Our records are written in order; each record of the other side must
 * arrive intact, checked by the KDCOM parser and then byte for byte.  The
 * recovery of a real peer (RESEND, retransmission on a timeout) is done by
 * the player; this file does the I/O: one fd, poll(), nonblocking writes.
 * The endpoint is opened by epsync.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "epspec.h"
#include "epsync.h"
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

struct replay {
	const char		*trace_path;
	const char		*ep_text;
	char			 self;
	int			 timeout;	/* ms */
	unsigned		 retries;
	int			 onlcr;
	int			 quiet;

	struct ep_spec		 spec;
	struct epsync		 es;
	int			 fd;

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

static void
ep_note(void *arg, const char *msg)
{
	note(arg, "%s", msg);
}

/* Open the endpoint, retrying a peer that is not there yet; an exit code. */
static int
open_endpoint(struct replay *r)
{
	char	err[512];
	int	rc;

	if (r->onlcr && r->spec.kind != EP_TTY) {
		fprintf(stderr, "kdreplay: %s: --onlcr needs a tty endpoint\n",
		    r->ep_text);
		return EX_USAGE;
	}
	r->es.onlcr = r->onlcr;
	r->es.deadline = epsync_now_ms() + (int64_t)r->timeout * r->retries;
	r->es.stop = &stop_signal;
	r->es.note = ep_note;
	r->es.arg = r;
	rc = epsync_open(&r->es, &r->fd, err, sizeof err);
	if (rc != EX_OK)
		fprintf(stderr, "kdreplay: %s: %s\n", r->ep_text, err);
	return rc;
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
	deadline = epsync_now_ms() + r->timeout;
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
				deadline = epsync_now_ms() + r->timeout;
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

		wait = deadline - epsync_now_ms();
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
			deadline = epsync_now_ms() + r->timeout;
			continue;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r->packets_seen = 0;
			if (read_in(r, &why) == -1 && r->status == PLAYER_OK)
				continue;	/* seen at the top: done or lost */
			if (r->packets_seen)
				deadline = epsync_now_ms() + r->timeout;
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
	epsync_close(&r->es);		/* first: it restores the tty */
	if (r->fd >= 0)
		close(r->fd);
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

	r.fd = -1;
	epsync_init(&r.es, &r.spec);
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
