/*
 * scale - many pairs at once: memory, threads, fds, aggregate throughput
 * and fairness of one kdrelayd (or of one socat per pair) relaying PAIRS
 * pairs that all carry traffic.
 *
 *	scale [-c] [-r] [-p PAIRS] [-R READY] [-w WARM] [-t SEC] [-g SETTING]
 *	    [-s SMAPS] [-i IDLE] [-q QUIET] -m kdrelayd|socat -o CONF PROGRAM
 *
 * The VMs' lines are ptys this program opens itself (posix_openpt), 2 per
 * pair: the relay opens the slaves, this program plays both guests of
 * every pair on the masters, streaming KDCOM data packets both ways on all
 * pairs at once and checking every byte received (-c/-r as for tput).
 * With -m kdrelayd it writes CONF (one [pair] per pair) and runs
 * "PROGRAM -c CONF"; with -m socat it runs "PROGRAM -b 65536 HOST TARGET"
 * once per pair (-g adds a line to CONF's [global], e.g. "buffer-size =
 * 16k").  Once every endpoint is open (READY seconds at most, default
 * 30), after WARM seconds (default 2) it counts, for SEC
 * seconds (default 10), the bytes each pair delivers, then samples the
 * relay processes (VmRSS, VmHWM, Pss, threads, fds, CPU time); -s copies
 * the first one's /proc/PID/smaps to SMAPS then, to see where it is.
 * With -i the guests then stop sending (still reading and checking what
 * comes) for IDLE seconds, and the relay's VmRSS is sampled again
 * (rss_idle_kib): what idle pairs give back.
 * setup_s is the time from starting kdrelayd to its last endpoint
 * connected; with -q QUIET, quiet_switches counts its threads' context
 * switches in QUIET seconds with every pair connected and nothing sent
 * yet, and rss_quiet_kib its VmRSS at their end (-1 if not asked): the
 * memory the pairs take before any ring holds a byte, which a loaded
 * machine's stalls do not change.  If the relay dies, how (exit code, signal) is
 * said.
 */
#include <sys/epoll.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <termios.h>

#include "bench.h"

#define NPKT		256
#define CHUNK		16384

struct line {			/* one pty: a guest's end of a VM's line */
	int		 fd;
	char		 slave[64];
	struct cpos	 out, in;	/* what it sends, what it expects */
	uint64_t	 mark;		/* in.done at the window's start */
	int		 bad;
};

static struct line	*lines;
static int		 nlines;
static pid_t		*kids;
static int		 nkids;
static int		 ready_s = 30;	/* -R: for every endpoint to open */

static void
usage(void)
{
	fprintf(stderr, "usage: scale [-c] [-r] [-p pairs] [-R ready] [-w warm] [-t sec] "
	    "[-g setting] [-s smaps] [-i idle] [-q quiet] -m kdrelayd|socat "
	    "-o conf "
	    "program\n");
	exit(64);
}

static void
die(const char *what)
{
	int	i;

	fprintf(stderr, "scale: %s: %s\n", what, strerror(errno));
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	exit(71);
}

/* The relay's log ended: say how it ended (exit code, signal, core). */
static void
died(void)
{
	int	st;

	if (waitpid(kids[0], &st, 0) == kids[0]) {
		if (WIFEXITED(st))
			fprintf(stderr, "scale: the relay exited %d\n",
			    WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			fprintf(stderr, "scale: the relay was killed by "
			    "signal %d (%s)%s\n", WTERMSIG(st),
			    strsignal(WTERMSIG(st)),
			    WCOREDUMP(st) ? ", core dumped" : "");
		nkids = 0;
	}
	errno = EPIPE;
	die("the relay's log ended");
}

static void
open_line(struct line *l)
{
	struct termios	t;
	const char	*name;

	if ((l->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		die("posix_openpt (raise /proc/sys/kernel/pty/max?)");
	if (grantpt(l->fd) == -1 || unlockpt(l->fd) == -1 ||
	    (name = ptsname(l->fd)) == NULL)
		die("grantpt");
	snprintf(l->slave, sizeof l->slave, "%s", name);
	if (tcgetattr(l->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(l->fd, TCSANOW, &t);
	}
}

static pid_t
spawn(char *const argv[], int errfd)
{
	pid_t	pid;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (errfd != -1)
			dup2(errfd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "scale: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Sum a "Key:   N kB" field over the processes. */
static long
status_sum(const char *file, const char *key)
{
	char	path[64], buf[256];
	long	sum = 0, v;
	size_t	kl = strlen(key);
	FILE	*f;
	int	i;

	for (i = 0; i < nkids; i++) {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)kids[i], file);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(buf, sizeof buf, f) != NULL) {
			if (strncmp(buf, key, kl) == 0 && buf[kl] == ':' &&
			    sscanf(buf + kl + 1, "%ld", &v) == 1)
				sum += v;
		}
		fclose(f);
	}
	return sum;
}

static long
fd_count(void)
{
	char		 path[64];
	struct dirent	*de;
	DIR		*d;
	long		 n = 0;
	int		 i;

	for (i = 0; i < nkids; i++) {
		snprintf(path, sizeof path, "/proc/%d/fd", (int)kids[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		closedir(d);
	}
	return n;
}

/* utime + stime of the processes, in clock ticks. */
static long
cpu_ticks(void)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	long		 sum = 0;
	FILE		*f;
	int		 i;

	for (i = 0; i < nkids; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", (int)kids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu", &ut, &st) == 2)
			sum += (long)(ut + st);
		fclose(f);
	}
	return sum;
}

/* The first relay process's memory map, mapping by mapping. */
static void
save_smaps(const char *to)
{
	char	path[64], buf[4096];
	size_t	n;
	FILE	*in, *out;

	snprintf(path, sizeof path, "/proc/%d/smaps", (int)kids[0]);
	if ((in = fopen(path, "r")) == NULL)
		die(path);
	if ((out = fopen(to, "w")) == NULL)
		die(to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out) != 0)
		die(to);
}

/* Until kdrelayd has logged every endpoint connected. */
static void
await_relay(int errfd, int want)
{
	char	buf[4096], *p;
	int64_t	deadline = now_ns() + (int64_t)ready_s * 1000000000;
	ssize_t	n;
	int	got = 0;
	size_t	have = 0;

	while (got < want) {
		if (now_ns() > deadline) {
			fprintf(stderr, "scale: only %d of %d endpoints "
			    "connected after %d s\n", got, want, ready_s);
			errno = ETIMEDOUT;
			die("waiting for the relay");
		}
		n = read(errfd, buf + have, sizeof buf - 1 - have);
		if (n == -1 && errno == EAGAIN) {
			usleep(10000);
			continue;
		}
		if (n <= 0)
			died();
		have += (size_t)n;
		buf[have] = '\0';
		while ((p = strchr(buf, '\n')) != NULL) {
			*p = '\0';
			if (strstr(buf, ": connected") != NULL)
				got++;
			else if (strstr(buf, "notice:") == NULL &&
			    strstr(buf, "info:") == NULL)
				fprintf(stderr, "relay: %s\n", buf);
			have -= (size_t)(p + 1 - buf);
			memmove(buf, p + 1, have + 1);
		}
		if (have == sizeof buf - 1)
			have = 0;
	}
}

/* Read what line l has and check it. */
static int
take(struct line *l, uint8_t *buf)
{
	ssize_t	r;

	r = read(l->fd, buf, CHUNK);
	if (r > 0 && !l->bad && cpos_check(&l->in, buf, (size_t)r) != 0) {
		fprintf(stderr, "scale: %s: wrong data after %llu bytes\n",
		    l->slave, (unsigned long long)l->in.done);
		l->bad = 1;
		return 1;
	}
	if (r > 0 && l->bad)
		cpos_advance(&l->in, (size_t)r);
	return 0;
}

/* Context switches of the relay's threads (each wake-up is one). */
static long
switches(void)
{
	char		 path[320], buf[256];
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	long		 n = 0, v;

	snprintf(path, sizeof path, "/proc/%d/task", (int)kids[0]);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/status",
		    (int)kids[0], de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(buf, sizeof buf, f) != NULL) {
			if (sscanf(buf, "voluntary_ctxt_switches: %ld", &v) == 1 ||
			    sscanf(buf, "nonvoluntary_ctxt_switches: %ld",
			    &v) == 1)
				n += v;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void	drain(int);

/*
 * Every pair connected, nothing sent yet: the relay's wake-ups in sec
 * seconds, after a settling second.
 */
static long
quiet_switches(int errfd, int sec)
{
	long	a;

	sleep(1);
	drain(errfd);
	a = switches();
	sleep((unsigned)sec);
	drain(errfd);
	return switches() - a;
}

/* The relay's log, unread; its end is the relay's. */
static void
drain(int fd)
{
	char	buf[4096];
	ssize_t	n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		;
	if (n == 0)
		died();
}

int
main(int argc, char **argv)
{
	struct cycle		 cy;
	struct epoll_event	 ev, *evs;
	struct line		*l;
	const char		*mode = NULL, *conf = NULL, *global = "";
	const char		*smaps = NULL;
	uint8_t			*buf;
	int64_t			 t_start, t1, t2 = 0, now, t_spawn;
	long			 warm = 2, dur = 10, ticks1 = 0, ticks2;
	long			 rss, hwm, pss, thr, fds, rss_idle = -1;
	long			 idle = 0, quiet_sw = -1, rss_quiet = -1;
	int			 quiet = 0;
	double			 setup;
	int			 pairs = 256, ch, ep, i, n, corrupt = 0;
	int			 repair = 0, errp[2] = { -1, -1 }, bad = 0;
	int			 want_wire, counting = 0;
	size_t			 at, k;
	ssize_t			 r;
	const uint8_t		*p;
	FILE			*f;
	char			 a[80], b[80];

	while ((ch = getopt(argc, argv, "cg:i:m:o:p:q:rR:s:t:w:")) != -1) {
		switch (ch) {
		case 'c': corrupt = 1; break;
		case 'g': global = optarg; break;
		case 'i': idle = atol(optarg); break;
		case 'q': quiet = atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'o': conf = optarg; break;
		case 'p': pairs = atoi(optarg); break;
		case 'r': repair = 1; break;
		case 'R': ready_s = atoi(optarg); break;
		case 's': smaps = optarg; break;
		case 't': dur = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || mode == NULL || pairs < 1 || dur < 1 || warm < 0 ||
	    (strcmp(mode, "kdrelayd") != 0 && strcmp(mode, "socat") != 0) ||
	    (strcmp(mode, "kdrelayd") == 0 && conf == NULL))
		usage();
	signal(SIGPIPE, SIG_IGN);
	want_wire = corrupt && !repair;
	cycle_make(&cy, NPKT, KD_MAX_PAYLOAD, 3);
	nlines = 2 * pairs;
	lines = xmalloc((size_t)nlines * sizeof *lines);
	kids = xmalloc((size_t)(pairs + 1) * sizeof *kids);
	for (i = 0; i < nlines; i++) {
		l = &lines[i];
		memset(l, 0, sizeof *l);
		open_line(l);
		/* Each stream starts elsewhere in the cycle: no two alike. */
		at = (size_t)(i * 37) % NPKT;
		cpos_init(&l->out, corrupt ? cy.wire : cy.orig,
		    corrupt ? cy.wlen : cy.olen,
		    corrupt ? cy.woff[at] : cy.off[at]);
		/* Line i receives what its pair's other line (i ^ 1) sends. */
		at = (size_t)((i ^ 1) * 37) % NPKT;
		cpos_init(&l->in, want_wire ? cy.wire : cy.orig,
		    want_wire ? cy.wlen : cy.olen,
		    want_wire ? cy.woff[at] : cy.off[at]);
	}

	t_spawn = now_ns();
	if (strcmp(mode, "kdrelayd") == 0) {
		if ((f = fopen(conf, "w")) == NULL)
			die(conf);
		fprintf(f, "# %d pairs for the scale benchmark\n[global]\n"
		    "log-level = notice\n%s\n", pairs, global);
		for (i = 0; i < pairs; i++)
			fprintf(f, "\n[pair p%03d]\nhost = pty:%s%s\n"
			    "target = pty:%s%s\n", i, lines[2 * i].slave,
			    corrupt ? ",crlf=on" : ",crlf=off",
			    lines[2 * i + 1].slave,
			    corrupt ? ",crlf=on" : ",crlf=off");
		if (fclose(f) != 0)
			die(conf);
		if (pipe2(errp, O_CLOEXEC) == -1)
			die("pipe");
		{
			char	*av[] = { argv[0], "-c", (char *)conf, NULL };

			kids[nkids++] = spawn(av, errp[1]);
		}
		close(errp[1]);
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		await_relay(errp[0], nlines);
		t_start = now_ns();
		if (quiet > 0) {
			quiet_sw = quiet_switches(errp[0], quiet);
			rss_quiet = status_sum("status", "VmRSS");
		}
	} else {
		for (i = 0; i < pairs; i++) {
			char	*av[] = { argv[0], "-b", "65536", a, b, NULL };

			snprintf(a, sizeof a, "%s,raw,echo=0",
			    lines[2 * i].slave);
			snprintf(b, sizeof b, "%s,raw,echo=0",
			    lines[2 * i + 1].slave);
			kids[nkids++] = spawn(av, -1);
		}
		t_start = now_ns();
		usleep(500000);		/* socat opens at once, no log */
		for (i = 0; i < nkids; i++) {
			if (waitpid(kids[i], NULL, WNOHANG) != 0) {
				errno = ECHILD;
				die("a socat exited");
			}
		}
	}

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	for (i = 0; i < nlines; i++) {
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lines[i].fd, &ev) == -1)
			die("epoll_ctl");
	}
	evs = xmalloc((size_t)nlines * sizeof *evs);
	buf = xmalloc(CHUNK);
	setup = (double)(t_start - t_spawn) / 1e9;
	t_start = now_ns();
	t1 = t_start + warm * 1000000000;
	for (;;) {
		now = now_ns();
		if (!counting && now >= t1) {
			for (i = 0; i < nlines; i++)
				lines[i].mark = lines[i].in.done;
			ticks1 = cpu_ticks();
			t1 = now;
			t2 = t1 + dur * 1000000000;
			counting = 1;
		}
		if (counting && now >= t2)
			break;
		if (errp[0] != -1)
			drain(errp[0]);
		n = epoll_wait(ep, evs, nlines, 100);
		for (i = 0; i < n; i++) {
			l = &lines[evs[i].data.u32];
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				bad += take(l, buf);
			if (evs[i].events & EPOLLOUT) {
				p = cpos_run(&l->out, CHUNK, &k);
				if ((r = write(l->fd, p, k)) > 0)
					cpos_advance(&l->out, (size_t)r);
			}
		}
	}
	now = now_ns();
	ticks2 = cpu_ticks();
	rss = status_sum("status", "VmRSS");
	hwm = status_sum("status", "VmHWM");
	pss = status_sum("smaps_rollup", "Pss");
	thr = status_sum("status", "Threads");
	fds = fd_count();
	if (smaps != NULL)
		save_smaps(smaps);
	if (idle > 0) {
		for (i = 0; i < nlines; i++) {
			ev.events = EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			if (epoll_ctl(ep, EPOLL_CTL_MOD, lines[i].fd, &ev) == -1)
				die("epoll_ctl");
		}
		t2 = now_ns() + idle * 1000000000;
		while (now_ns() < t2) {
			if (errp[0] != -1)
				drain(errp[0]);
			n = epoll_wait(ep, evs, nlines, 100);
			for (i = 0; i < n; i++)
				bad += take(&lines[evs[i].data.u32], buf);
		}
		rss_idle = status_sum("status", "VmRSS");
	}
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	if (errp[0] != -1) {
		/* Its final counters must not fill the pipe and block it. */
		fcntl(errp[0], F_SETFL, 0);
		while (read(errp[0], buf, CHUNK) > 0)
			;
	}
	for (i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);

	/* Per pair: bytes delivered both ways in the window. */
	{
		double		sec = (double)(now - t1) / 1e9, sum = 0;
		int64_t		*v = xmalloc((size_t)pairs * sizeof *v);

		for (i = 0; i < pairs; i++) {
			v[i] = (int64_t)(lines[2 * i].in.done -
			    lines[2 * i].mark + lines[2 * i + 1].in.done -
			    lines[2 * i + 1].mark);
			sum += (double)v[i];
		}
		qsort(v, (size_t)pairs, sizeof *v, cmp_i64);
		printf("scale mode=%s pairs=%d sec=%.2f agg_mbps=%.2f "
		    "pair_min_mbps=%.3f pair_median_mbps=%.3f "
		    "pair_max_mbps=%.3f median_over_min=%.2f rss_kib=%ld "
		    "hwm_kib=%ld pss_kib=%ld threads=%ld fds=%ld "
		    "cpu_pct=%.1f errors=%d setup_s=%.1f rss_idle_kib=%ld "
		    "quiet_switches=%ld rss_quiet_kib=%ld\n",
		    mode, pairs, sec,
		    sum / sec / 1e6, v[0] / sec / 1e6,
		    pct(v, (size_t)pairs, 50) / sec / 1e6,
		    v[pairs - 1] / sec / 1e6,
		    v[0] > 0 ? (double)pct(v, (size_t)pairs, 50) / v[0] :
		    999.0, rss, hwm, pss, thr, fds,
		    (double)(ticks2 - ticks1) / sysconf(_SC_CLK_TCK) / sec *
		    100, bad, setup, rss_idle, quiet_sw, rss_quiet);
		free(v);
	}
	return bad != 0;
}
