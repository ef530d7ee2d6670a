/*
 * echoguest - talk to the echo guest (tests/peers/echo.S) through a line.
 *
 *	echoguest [-t SEC] ENDPOINT check BYTES
 *	echoguest [-t SEC] ENDPOINT rtt SIZE ROUNDS
 *	echoguest [-t SEC] ENDPOINT tput BYTES
 *
 * ENDPOINT is any spec epsync opens (a tty, unix:, tcp:, unix-listen:...),
 * retried until it opens.  First a probe: 8 random bytes every 50 ms
 * until they come back together (QEMU drops what the guest writes while
 * its pty's slave is not noticed yet or no socket client is connected, and
 * the BIOS writes to COM1 before the guest runs), then a marker sent once
 * is awaited, dropping what comes before it (late copies of the probe,
 * the BIOS's output).  Then:
 *   check  BYTES random bytes out, at most WINDOW in flight, each one must
 *          come back exact and in order; exit 0, else 1 with the first
 *          difference.
 *   rtt    ROUNDS round trips of SIZE random bytes each, every byte checked;
 *          prints "p50 P p99 P max M" in microseconds.
 *   tput   BYTES streamed with WINDOW in flight, checked; prints "kbps K"
 *          (kilobytes per second, round trip through the guest).
 * Everything must be done within SEC (default 20) seconds.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "epspec.h"
#include "epsync.h"

#define WINDOW		4096
#define PROBE_LEN	8
#define PROBE_MS	50
#define MARK_LEN	16

static int64_t	deadline;

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
wait_fd(int fd, short ev, int ms)
{
	struct pollfd	pfd = { fd, ev, 0 };
	int64_t		left = deadline - epsync_now_ms();
	int		n;

	if (left <= 0)
		return -1;
	if (ms < 0 || ms > left)
		ms = (int)left;
	while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	if (n == 1 && (pfd.revents & (POLLERR | POLLNVAL)))
		return -1;
	return n;
}

/* -1 on EOF or an error; 0 if nothing is there now. */
static ssize_t
get(int fd, uint8_t *buf, size_t n)
{
	ssize_t	k = read(fd, buf, n);

	if (k > 0)
		return k;
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	fprintf(stderr, "echoguest: read: %s\n", k == 0 ? "end of file" :
	    strerror(errno));
	return -1;
}

static void
randomize(uint8_t *p, size_t n)
{
	static uint64_t	s;	/* one sequence: no two calls alike */
	size_t		i;

	if (s == 0)
		s = (uint64_t)epsync_now_ms() * 2654435761u + getpid() + 1;

	for (i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (uint8_t)(s >> 24);
	}
}

/*
 * Send tok (again every resend ms, if resend >= 0) until it comes back
 * whole; whatever came before it is dropped.
 */
static int
await_echo(int fd, const uint8_t *tok, size_t len, int resend)
{
	uint8_t	buf[4096];
	size_t	have = 0;
	ssize_t	k;
	int	n, again = 1;

	for (;;) {
		if (again && write(fd, tok, len) == -1 && errno != EAGAIN) {
			perror("echoguest: write");
			return -1;
		}
		again = resend >= 0;
		if ((n = wait_fd(fd, POLLIN, resend)) == -1) {
			fprintf(stderr, "echoguest: no echo\n");
			return -1;
		}
		if (n == 0)
			continue;
		if (have > sizeof buf / 2) {	/* keep a token's worth */
			memmove(buf, buf + have - len, len);
			have = len;
		}
		if ((k = get(fd, buf + have, sizeof buf - have)) == -1)
			return -1;
		have += (size_t)k;
		if (memmem(buf, have, tok, len) != NULL)
			return 0;
	}
}

/*
 * The probe: a token until one comes back.  Copies sent earlier may
 * still be on their way (a loaded machine delays the guest by more than
 * any quiet time), so a marker sent once after it is awaited too: the
 * guest echoes in order, so nothing older follows the marker.
 */
static int
probe(int fd)
{
	uint8_t	tok[PROBE_LEN], mark[MARK_LEN];

	randomize(tok, sizeof tok);
	if (await_echo(fd, tok, sizeof tok, PROBE_MS) == -1)
		return -1;
	randomize(mark, sizeof mark);
	return await_echo(fd, mark, sizeof mark, -1);
}

/* Send out (n bytes) with at most window in flight; check the echo. */
static int
stream(int fd, const uint8_t *out, size_t n, size_t window)
{
	uint8_t	buf[WINDOW];
	size_t	sent = 0, got = 0, i;
	ssize_t	k;
	short	ev;

	while (got < n) {
		ev = POLLIN;
		if (sent < n && sent - got < window)
			ev |= POLLOUT;
		if (wait_fd(fd, ev, -1) != 1) {
			fprintf(stderr, "echoguest: timeout: sent %zu, echoed "
			    "%zu of %zu\n", sent, got, n);
			return -1;
		}
		if (sent < n && sent - got < window) {
			size_t	m = window - (sent - got);

			if (m > n - sent)
				m = n - sent;
			k = write(fd, out + sent, m);
			if (k > 0)
				sent += (size_t)k;
			else if (k == -1 && errno != EAGAIN && errno != EINTR) {
				perror("echoguest: write");
				return -1;
			}
		}
		if ((k = get(fd, buf, sent - got < sizeof buf ? sent - got :
		    sizeof buf)) == -1)
			return -1;
		for (i = 0; i < (size_t)k; i++)
			if (buf[i] != out[got + i]) {
				fprintf(stderr, "echoguest: byte %zu came back "
				    "as 0x%02x, sent 0x%02x\n", got + i, buf[i],
				    out[got + i]);
				return -1;
			}
		got += (size_t)k;
	}
	return 0;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: echoguest [-t sec] endpoint check bytes\n"
	    "       echoguest [-t sec] endpoint rtt size rounds\n"
	    "       echoguest [-t sec] endpoint tput bytes\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct ep_spec	 spec;
	struct epsync	 es;
	char		 err[512];
	uint8_t		*out;
	size_t		 n, rounds = 1, i;
	int64_t		*rtt, t0;
	long		 tmo = 20;
	int		 ch, fd, rc;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't': tmo = atol(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || tmo < 1)
		usage();
	n = strtoul(argv[2], NULL, 10);
	if (strcmp(argv[1], "rtt") == 0) {
		if (argc != 4 || n == 0 || n > WINDOW)
			usage();
		rounds = strtoul(argv[3], NULL, 10);
	} else if ((strcmp(argv[1], "check") != 0 &&
	    strcmp(argv[1], "tput") != 0) || argc != 3 || n == 0)
		usage();
	if (ep_spec_parse(argv[0], &spec, err, sizeof err) == -1) {
		fprintf(stderr, "echoguest: %s\n", err);
		return 64;
	}
	deadline = epsync_now_ms() + tmo * 1000;
	epsync_init(&es, &spec);
	es.deadline = deadline;
	if ((rc = epsync_open(&es, &fd, err, sizeof err)) != 0) {
		fprintf(stderr, "echoguest: %s: %s\n", argv[0], err);
		return rc;
	}
	if (probe(fd) == -1)
		return 1;
	if ((out = malloc(n)) == NULL ||
	    (rtt = calloc(rounds, sizeof *rtt)) == NULL)
		return 71;
	randomize(out, n);
	rc = 0;
	if (strcmp(argv[1], "rtt") == 0) {
		for (i = 0; i < rounds && rc == 0; i++) {
			t0 = now_us();
			rc = stream(fd, out, n, n);
			rtt[i] = now_us() - t0;
			out[0]++;	/* a stale echo would not match */
		}
		if (rc == 0) {
			qsort(rtt, rounds, sizeof *rtt, cmp64);
			printf("p50 %lld p99 %lld max %lld\n",
			    (long long)rtt[rounds / 2],
			    (long long)rtt[rounds * 99 / 100],
			    (long long)rtt[rounds - 1]);
		}
	} else {
		t0 = now_us();
		rc = stream(fd, out, n, WINDOW);
		if (rc == 0 && strcmp(argv[1], "tput") == 0)
			printf("kbps %.1f\n", n * 1e3 / (double)(now_us() - t0));
	}
	epsync_close(&es);	/* first: it restores the tty */
	close(fd);
	free(out);
	free(rtt);
	return rc == 0 ? 0 : 1;
}
