/*
 * ptyops - what one pty operation costs the caller, in CPU time (the
 * thread's own clock, so the machine's load adds little): a write of
 * 4,095 bytes to a pty master, a poll(2) that finds the slave readable,
 * a read of those 4,095 bytes once n_tty holds them, a read that finds
 * nothing (EAGAIN), and a read issued right after the write (it waits for
 * the pty's worker to hand the bytes to n_tty, as a relay's read does).
 *
 *	cc -O2 -o ptyops ptyops.c && ./ptyops [iterations]
 *
 * Each figure is a mean over the iterations, less the clock's own cost
 * (printed).  4,095 bytes is what n_tty hands over at most in one go.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define N	4095

static long long
cpu_ns(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Let the pty's worker run elsewhere: spin 200 us on the wall clock. */
static void
spin(void)
{
	struct timespec	a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000LL +
	    (b.tv_nsec - a.tv_nsec) < 200000);
}

int
main(int argc, char **argv)
{
	static char	 src[N], buf[65536];
	struct termios	 t;
	struct pollfd	 p;
	long long	 a, clk, wr = 0, pl = 0, rd = 0, eag = 0, rdw = 0;
	int		 m, s, i, iters = argc > 1 ? atoi(argv[1]) : 2000;
	size_t		 got;
	ssize_t		 n;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) ||
	    unlockpt(m) || (s = open(ptsname(m), O_RDWR | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		perror("ptyops: pty");
		return 1;
	}
	tcgetattr(s, &t);
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	tcgetattr(m, &t);
	cfmakeraw(&t);
	tcsetattr(m, TCSANOW, &t);
	memset(src, 'x', sizeof src);
	p.fd = s;
	p.events = POLLIN;
	a = cpu_ns();
	for (i = 0; i < 1000; i++)
		clk = cpu_ns();
	clk = (clk - a) / 1000;
	for (i = 0; i < iters; i++) {
		a = cpu_ns();
		if (write(m, src, N) != N)
			return 1;
		wr += cpu_ns() - a - clk;
		spin();
		a = cpu_ns();
		poll(&p, 1, 0);
		pl += cpu_ns() - a - clk;
		a = cpu_ns();
		for (got = 0; got < N; got += (size_t)n)
			if ((n = read(s, buf, sizeof buf)) <= 0)
				return 1;
		rd += cpu_ns() - a - clk;
		a = cpu_ns();
		(void)read(s, buf, sizeof buf);
		eag += cpu_ns() - a - clk;
		if (write(m, src, N) != N)
			return 1;
		a = cpu_ns();
		for (got = 0; got < N; ) {
			if ((n = read(s, buf, sizeof buf)) > 0)
				got += (size_t)n;
			else
				poll(&p, 1, -1);
		}
		rdw += cpu_ns() - a - clk;
	}
	printf("clock %lld ns; ns per call: write %lld, poll (readable) %lld, "
	    "read (ready) %lld, read (EAGAIN) %lld, read after the write "
	    "(waits for the worker) %lld\n", clk, wr / iters, pl / iters,
	    rd / iters, eag / iters, rdw / iters);
	return 0;
}
