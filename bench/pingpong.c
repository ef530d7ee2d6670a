/*
 * pingpong - round-trip latency through a relay, KDCOM style: one packet
 * out, wait for the answer, again.
 *
 *	pingpong [-c] [-r] [-n ROUNDS] [-w WARMUP] [-s PAYLOAD] A B
 *
 * A child on tty B echoes; the parent on tty A sends a packet, waits until
 * the whole answer is back, and times each round trip with CLOCK_MONOTONIC.
 * -s 0 (the default) sends a 16-byte ACKNOWLEDGE control packet, -s N a
 * STATE_MANIPULATE data packet with an N-byte payload (containing 0x0a and
 * 0x0d 0x0a, so a corrupting line really corrupts it).  -c and -r as for
 * tput: the lines corrupt, the relay repairs.  Both sides check every byte
 * they receive.  Prints the median, 99th percentile, maximum and mean round
 * trip in microseconds.
 */
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>

#include "bench.h"
#include "endpoint.h"
#include "tty.h"

#define ROUND_TIMEOUT_MS	5000

static void
usage(void)
{
	fprintf(stderr, "usage: pingpong [-c] [-r] [-n rounds] [-w warmup] "
	    "[-s payload] A B\n");
	exit(64);
}

static int
wait_fd(int fd, short ev)
{
	struct pollfd	pfd = { fd, ev, 0 };
	int		n;

	while ((n = poll(&pfd, 1, ROUND_TIMEOUT_MS)) == -1 && errno == EINTR)
		;
	return n == 1 && (pfd.revents & (ev | POLLHUP | POLLERR)) ? 0 : -1;
}

static int
put(int fd, const uint8_t *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = write(fd, p, n)) > 0) {
			p += k;
			n -= (size_t)k;
		} else if (k == -1 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT) == -1)
				return -1;
		} else if (!(k == -1 && errno == EINTR))
			return -1;
	}
	return 0;
}

/* Read exactly n bytes and compare them with want. */
static int
get(int fd, uint8_t *buf, const uint8_t *want, size_t n, const char *who)
{
	size_t	have = 0;
	ssize_t	k;

	while (have < n) {
		if (wait_fd(fd, POLLIN) == -1) {
			fprintf(stderr, "pingpong: %s: no answer (%zu of %zu "
			    "bytes)\n", who, have, n);
			return -1;
		}
		k = read(fd, buf + have, n - have);
		if (k > 0)
			have += (size_t)k;
		else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
			fprintf(stderr, "pingpong: %s: read: %s\n", who,
			    k == 0 ? "end of file" : strerror(errno));
			return -1;
		}
	}
	if (memcmp(buf, want, n) != 0) {
		fprintf(stderr, "pingpong: %s: wrong bytes\n", who);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t		 pay[KD_MAX_PAYLOAD], pkt[KD_MAX_PACKET];
	uint8_t		 wire[2 * KD_MAX_PACKET], buf[2 * KD_MAX_PACKET];
	const uint8_t	*tx, *rx;
	size_t		 plen, wlen, txlen, rxlen, i;
	long		 rounds = 10000, warm = 200, payload = 0;
	int64_t		*rtt, t, sum = 0;
	uint64_t	 seed = 7;
	int		 ch, fd, corrupt = 0, repair = 0, st, rc = 0;
	pid_t		 pid;

	while ((ch = getopt(argc, argv, "crn:s:w:")) != -1) {
		switch (ch) {
		case 'c': corrupt = 1; break;
		case 'r': repair = 1; break;
		case 'n': rounds = atol(optarg); break;
		case 's': payload = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || rounds < 1 || warm < 0 || payload < 0 ||
	    payload > KD_MAX_PAYLOAD)
		usage();
	if (payload == 0)
		plen = kd_build(pkt, 4, KD_ID_INITIAL, NULL, 0);
	else {
		rng_fill(&seed, pay, (size_t)payload);
		for (i = 0; i + 2 < (size_t)payload; i += 97)
			pay[i] = 0x0a;			/* a newline */
		if (payload >= 300) {
			pay[200] = 0x0d;		/* a real CR LF */
			pay[201] = 0x0a;
			pay[250] = 0x0d;		/* a lone CR */
		}
		plen = kd_build(pkt, 2, KD_ID_INITIAL, pay, (uint16_t)payload);
	}
	wlen = crlf_corrupt(pkt, plen, wire);
	tx = corrupt ? wire : pkt;
	txlen = corrupt ? wlen : plen;
	rx = corrupt && !repair ? wire : pkt;
	rxlen = corrupt && !repair ? wlen : plen;
	signal(SIGPIPE, SIG_IGN);

	if ((pid = fork()) == -1) {
		perror("pingpong: fork");
		return 71;
	}
	if (pid == 0) {
		if ((fd = tty_open_raw(argv[1], 0)) == -1) {
			fprintf(stderr, "pingpong: %s: %s\n", argv[1],
			    strerror(errno));
			_exit(69);
		}
		for (i = 0; i < (size_t)(rounds + warm); i++) {
			if (get(fd, buf, rx, rxlen, argv[1]) == -1 ||
			    put(fd, tx, txlen) == -1)
				_exit(1);
		}
		_exit(0);
	}
	if ((fd = tty_open_raw(argv[0], 0)) == -1) {
		fprintf(stderr, "pingpong: %s: %s\n", argv[0], strerror(errno));
		kill(pid, SIGTERM);
		return 69;
	}
	rtt = xmalloc((size_t)rounds * sizeof *rtt);
	for (i = 0; i < (size_t)(rounds + warm); i++) {
		t = now_ns();
		if (put(fd, tx, txlen) == -1 ||
		    get(fd, buf, rx, rxlen, argv[0]) == -1) {
			kill(pid, SIGTERM);
			rc = 1;
			break;
		}
		if (i >= (size_t)warm)
			rtt[i - warm] = now_ns() - t;
	}
	waitpid(pid, &st, 0);
	if (rc != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pingpong: failed after %zu rounds\n", i);
		return 1;
	}
	for (i = 0; i < (size_t)rounds; i++)
		sum += rtt[i];
	qsort(rtt, (size_t)rounds, sizeof *rtt, cmp_i64);
	printf("pingpong bytes=%zu rounds=%ld p50_us=%.1f p99_us=%.1f "
	    "max_us=%.1f mean_us=%.1f\n", plen, rounds,
	    pct(rtt, rounds, 50) / 1e3, pct(rtt, rounds, 99) / 1e3,
	    rtt[rounds - 1] / 1e3, (double)sum / rounds / 1e3);
	return 0;
}
