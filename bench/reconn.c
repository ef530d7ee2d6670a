/*
 * reconn - how soon kdrelayd relays again when a VM's endpoint comes back.
 *
 *	reconn [-v] [-n REPS] [-i USEC] -u|-p DIR KDRELAYD
 *
 * Runs "KDRELAYD HOST TARGET" where TARGET is a pty this program holds
 * and writes one byte to every USEC microseconds (default 100), and HOST
 * comes and goes: with -u a unix socket DIR/vm.sock this program binds and
 * listens on (a QEMU "server=on" serial port), with -p a pty it opens and
 * links to DIR/vm.pty (a VM's console pty reappearing).  Each time it makes
 * HOST appear it measures the time until the first relayed byte arrives
 * on it; it then keeps HOST up 1.2 s (a session that lived: the relay
 * reconnects at once, without backoff), takes it away and waits 0.3 s.
 * Prints the median, minimum and maximum in milliseconds (-v: each one).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>

#include "bench.h"

#define GIVE_UP_S	10

static pid_t	relay = -1;
static int	verbose;

static void
die(const char *what)
{
	fprintf(stderr, "reconn: %s: %s\n", what, strerror(errno));
	if (relay > 0)
		kill(relay, SIGTERM);
	exit(71);
}

static int
pty_open(char *slave, size_t len)
{
	struct termios	t;
	const char	*name;
	int		fd;

	if ((fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || grantpt(fd) == -1 || unlockpt(fd) == -1 ||
	    (name = ptsname(fd)) == NULL)
		die("posix_openpt");
	snprintf(slave, len, "%s", name);
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* Keep the target talking for ms, swallowing what reaches fd (or -1). */
static void
talk(int target, int fd, long usec, long ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	struct timespec	ts = { 0, usec * 1000 };
	int64_t		end = now_ns() + ms * 1000000;
	char		buf[4096];

	while (now_ns() < end) {
		if (write(target, "x", 1) == -1 && errno != EAGAIN)
			die("write to the target pty");
		if (ppoll(&pfd, fd == -1 ? 0 : 1, &ts, NULL) > 0)
			(void)read(fd, buf, sizeof buf);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	struct timespec		 ts;
	char			 hostspec[PATH_MAX + 16], tslave[64];
	char			 hpath[100], slave[64], log[PATH_MAX];
	char			 targetspec[80], c;
	int64_t			*lat, t0, t;
	long			 reps = 10, usec = 100, i, sum = 0;
	int			 ch, mode = 0, target, lfd = -1, fd = -1, logfd;

	while ((ch = getopt(argc, argv, "i:n:puv")) != -1) {
		switch (ch) {
		case 'v': verbose = 1; break;
		case 'i': usec = atol(optarg); break;
		case 'n': reps = atol(optarg); break;
		case 'p': mode = 'p'; break;
		case 'u': mode = 'u'; break;
		default: goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || mode == 0 || reps < 1 || usec < 1 || usec > 999999) {
usage:
		fprintf(stderr, "usage: reconn [-v] [-n reps] [-i usec] -u|-p dir "
		    "kdrelayd\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((size_t)snprintf(hpath, sizeof hpath, "%s/%s", argv[0],
	    mode == 'u' ? "vm.sock" : "vm.pty") >= sizeof hpath) {
		fprintf(stderr, "reconn: %s: too long for a socket\n", argv[0]);
		return 64;
	}
	snprintf(hostspec, sizeof hostspec, "%s:%s",
	    mode == 'u' ? "unix" : "pty", hpath);
	unlink(hpath);
	target = pty_open(tslave, sizeof tslave);
	snprintf(targetspec, sizeof targetspec, "pty:%s", tslave);
	snprintf(log, sizeof log, "%s/reconn-%c.log", argv[0], mode);
	if ((logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die(log);
	if ((relay = fork()) == -1)
		die("fork");
	if (relay == 0) {
		dup2(logfd, 2);
		execl(argv[1], argv[1], "-v", hostspec, targetspec,
		    (char *)NULL);
		_exit(127);
	}
	close(logfd);
	talk(target, -1, usec, 500);		/* the relay settles */

	lat = xmalloc((size_t)reps * sizeof *lat);
	for (i = 0; i < reps; i++) {
		t0 = now_ns();
		if (mode == 'u') {
			memset(&sun, 0, sizeof sun);
			sun.sun_family = AF_UNIX;
			snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
			    hpath);
			/* As QEMU does: bind, then listen at once. */
			if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0)) == -1 ||
			    bind(lfd, (struct sockaddr *)&sun, sizeof sun) ==
			    -1 || listen(lfd, 1) == -1)
				die(hpath);
			pfd.fd = lfd;
		} else {
			fd = pty_open(slave, sizeof slave);
			if (symlink(slave, hpath) == -1)
				die(hpath);
			pfd.fd = fd;
		}
		pfd.events = POLLIN;
		ts.tv_sec = 0;
		ts.tv_nsec = usec * 1000;
		for (;;) {
			t = now_ns();
			if (t - t0 > (int64_t)GIVE_UP_S * 1000000000) {
				errno = ETIMEDOUT;
				die("waiting for the relay to come back");
			}
			if (write(target, "x", 1) == -1 && errno != EAGAIN)
				die("write to the target pty");
			if (ppoll(&pfd, 1, &ts, NULL) <= 0)
				continue;
			if (pfd.fd == lfd) {
				if ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
					pfd.fd = fd;
				continue;
			}
			if (read(fd, &c, 1) == 1)
				break;
		}
		lat[i] = now_ns() - t0;
		sum += lat[i];
		if (verbose) {
			struct timespec	rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			fprintf(stderr, "reconn: %ld: %.3f ms (arrived at "
			    "%lld.%06ld)\n", i + 1, lat[i] / 1e6,
			    (long long)rt.tv_sec, rt.tv_nsec / 1000);
		}
		talk(target, fd, usec, 1200);
		/* Gone, as a VM that stops: the path first, then the line. */
		unlink(hpath);
		close(fd);
		fd = -1;
		if (lfd != -1)
			close(lfd);
		lfd = -1;
		talk(target, -1, usec, 300);
	}
	kill(relay, SIGTERM);
	waitpid(relay, NULL, 0);
	qsort(lat, (size_t)reps, sizeof *lat, cmp_i64);
	printf("reconn mode=%s reps=%ld p50_ms=%.3f min_ms=%.3f max_ms=%.3f "
	    "mean_ms=%.3f\n", mode == 'u' ? "unix" : "pty", reps,
	    pct(lat, (size_t)reps, 50) / 1e6, lat[0] / 1e6,
	    lat[reps - 1] / 1e6, (double)sum / reps / 1e6);
	return 0;
}
