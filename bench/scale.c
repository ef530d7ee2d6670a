/*
 * scale - many pairs at once: memory, threads, fds, aggregate throughput
 * and fairness of one kdrelayd (or of one socat per pair) relaying PAIRS
 * pairs that all carry traffic.
 *
 *	scale [-c] [-r] [-p PAIRS] [-R READY] [-w WARM] [-t SEC] [-g SETTING]
 *	    [-s SMAPS] [-x STALL] [-d DRAIN] [-i IDLE] [-q QUIET]
 *	    -m kdrelayd|socat -o CONF PROGRAM
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
 * With -x the guests then stop reading on every line for STALL seconds
 * while they go on writing, as a loaded machine stalls them, and read
 * again: rss_stall_kib is the relay's largest VmRSS in the stall (sampled
 * every 100 ms), rss_drain_kib its VmRSS after DRAIN more seconds of
 * streaming (-d, default 12): what rings grown in a stall keep.  Every
 * byte is still checked.
 * With -i the guests then stop sending (still reading and checking what
 * comes) for IDLE seconds, and the relay's VmRSS is sampled again
 * (rss_idle_kib): what idle pairs give back.
 * At the end the pair threads' stacks are read (kdrelayd: every 1 MiB
 * mapping above a guard page): stack_kib_max is the most pages one holds,
 * stack_depth_max the deepest byte any thread wrote below its mapping's
 * top (the lowest non-zero word: fresh pages come zeroed), the TCB and TLS
 * at the top included.
 * Unless KDRELAY_LOCK_DIR is set, the relay takes its UUCP locks in a
 * directory of this program's, removed after: the ptys are ours, and a
 * relay killed mid-run must not leave /run/lock/LCK..pts_N behind.
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
#define PAIR_STACK	(1024 * 1024)	/* relaylife.c's STACK_SIZE */
#define STACK_LOOK	(64 * 1024)	/* read below each stack's top */

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
static char		 lockdir[64];	/* ours, when made */

static void
usage(void)
{
	fprintf(stderr, "usage: scale [-c] [-r] [-p pairs] [-R ready] [-w warm] [-t sec] "
	    "[-g setting] [-s smaps] [-x stall] [-d drain] [-i idle] "
	    "[-q quiet] -m kdrelayd|socat -o conf program\n");
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

/* Our lock directory and what a killed relay left in it. */
static void
lockdir_remove(void)
{
	char		 path[sizeof lockdir + 300];
	struct dirent	*de;
	DIR		*d;
	int		 i;

	if (lockdir[0] == '\0')
		return;
	for (i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
	if ((d = opendir(lockdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "LCK..", 5) != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", lockdir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(lockdir);
}

static void
lockdir_make(void)
{
	const char	*env = getenv("KDRELAY_LOCK_DIR");

	if (env != NULL && *env != '\0')
		return;
	snprintf(lockdir, sizeof lockdir, "/tmp/kdrelay-scale-lock.XXXXXX");
	if (mkdtemp(lockdir) == NULL) {
		lockdir[0] = '\0';
		die("mkdtemp");
	}
	setenv("KDRELAY_LOCK_DIR", lockdir, 1);
	atexit(lockdir_remove);
}

/*
 * The pair threads' stacks: each a PAIR_STACK mapping right above its
 * guard page.  The most pages one holds (smaps' Rss), and the deepest
 * byte written below a mapping's top: the lowest non-zero word of the
 * STACK_LOOK bytes under it (fresh pages come zeroed; reading them
 * through /proc/PID/mem maps no page into the relay).
 */
static void
stacks(long *kib_max, long *depth_max)
{
	char		 path[64], line[512], perms[8], prevp[8] = "";
	unsigned long	 lo, hi, prev_hi = 0;
	long		 rss, top_kib = 0, deepest = 0;
	uint64_t	*w;
	size_t		 i, nw = STACK_LOOK / sizeof *w;
	int		 in_stack = 0, memfd;
	FILE		*f;

	*kib_max = *depth_max = -1;
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)kids[0]);
	if ((f = fopen(path, "r")) == NULL)
		return;
	snprintf(path, sizeof path, "/proc/%d/mem", (int)kids[0]);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	w = xmalloc(STACK_LOOK);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
			in_stack = strcmp(perms, "rw-p") == 0 &&
			    strcmp(prevp, "---p") == 0 && lo == prev_hi &&
			    hi - lo == PAIR_STACK;
			prev_hi = hi;
			snprintf(prevp, sizeof prevp, "%s", perms);
			if (in_stack && memfd != -1 &&
			    pread(memfd, w, STACK_LOOK,
			    (off_t)(hi - STACK_LOOK)) == STACK_LOOK) {
				for (i = 0; i < nw && w[i] == 0; i++)
					;
				if ((long)((nw - i) * sizeof *w) > deepest)
					deepest = (long)((nw - i) * sizeof *w);
			}
			continue;
		}
		if (in_stack && sscanf(line, "Rss: %ld", &rss) == 1 &&
		    rss > top_kib)
			top_kib = rss;
	}
	fclose(f);
	if (memfd != -1)
		close(memfd);
	free(w);
	*kib_max = top_kib;
	*depth_max = deepest;
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

/* Every line watched for events (EPOLLIN, EPOLLOUT or both). */
static void
watch_all(int ep, uint32_t events)
{
	struct epoll_event	ev;
	int			i;

	for (i = 0; i < nlines; i++) {
		ev.events = events;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, lines[i].fd, &ev) == -1)
			die("epoll_ctl");
	}
}

/*
 * Play the guests until the clock reaches end: read and check what comes,
 * write what is next, on the events each line is watched for; the
 * relay's largest VmRSS, sampled every 100 ms, into *peak if asked.
 */
static int
play(int ep, struct epoll_event *evs, uint8_t *buf, int errfd, int64_t end,
    long *peak)
{
	struct line	*l;
	const uint8_t	*p;
	int64_t		 next = 0;
	long		 rss;
	size_t		 k;
	ssize_t		 r;
	int		 i, n, bad = 0;

	while (now_ns() < end) {
		if (errfd != -1)
			drain(errfd);
		if (peak != NULL && now_ns() >= next) {
			if ((rss = status_sum("status", "VmRSS")) > *peak)
				*peak = rss;
			next = now_ns() + 100000000;
		}
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
	return bad;
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
	int64_t			 t_start, t1, now, t_spawn;
	long			 warm = 2, dur = 10, ticks1 = 0, ticks2;
	long			 rss, hwm, pss, thr, fds, rss_idle = -1;
	long			 idle = 0, quiet_sw = -1, rss_quiet = -1;
	long			 stall = 0, drain_s = 12, rss_stall = -1;
	long			 rss_drain = -1, stack_kib = -1, stack_depth = -1;
	int			 quiet = 0;
	double			 setup;
	int			 pairs = 256, ch, ep, i, corrupt = 0;
	int			 repair = 0, errp[2] = { -1, -1 }, bad = 0;
	int			 want_wire;
	size_t			 at;
	FILE			*f;
	char			 a[80], b[80];

	while ((ch = getopt(argc, argv, "cd:g:i:m:o:p:q:rR:s:t:w:x:")) != -1) {
		switch (ch) {
		case 'c': corrupt = 1; break;
		case 'd': drain_s = atol(optarg); break;
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
		case 'x': stall = atol(optarg); break;
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
		lockdir_make();
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
	bad += play(ep, evs, buf, errp[0], now_ns() + warm * 1000000000, NULL);
	for (i = 0; i < nlines; i++)
		lines[i].mark = lines[i].in.done;
	ticks1 = cpu_ticks();
	t1 = now_ns();
	bad += play(ep, evs, buf, errp[0], t1 + dur * 1000000000, NULL);
	now = now_ns();
	ticks2 = cpu_ticks();
	rss = status_sum("status", "VmRSS");
	hwm = status_sum("status", "VmHWM");
	pss = status_sum("smaps_rollup", "Pss");
	thr = status_sum("status", "Threads");
	fds = fd_count();
	if (smaps != NULL)
		save_smaps(smaps);
	if (stall > 0) {
		/* Nobody reads, everybody writes; then all read again. */
		watch_all(ep, EPOLLOUT);
		bad += play(ep, evs, buf, errp[0],
		    now_ns() + stall * 1000000000, &rss_stall);
		watch_all(ep, EPOLLIN | EPOLLOUT);
		bad += play(ep, evs, buf, errp[0],
		    now_ns() + drain_s * 1000000000, NULL);
		rss_drain = status_sum("status", "VmRSS");
	}
	if (idle > 0) {
		watch_all(ep, EPOLLIN);
		bad += play(ep, evs, buf, errp[0],
		    now_ns() + idle * 1000000000, NULL);
		rss_idle = status_sum("status", "VmRSS");
	}
	if (strcmp(mode, "kdrelayd") == 0)
		stacks(&stack_kib, &stack_depth);
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
		    "quiet_switches=%ld rss_quiet_kib=%ld rss_stall_kib=%ld "
		    "rss_drain_kib=%ld stack_kib_max=%ld stack_depth_max=%ld\n",
		    mode, pairs, sec,
		    sum / sec / 1e6, v[0] / sec / 1e6,
		    pct(v, (size_t)pairs, 50) / sec / 1e6,
		    v[pairs - 1] / sec / 1e6,
		    v[0] > 0 ? (double)pct(v, (size_t)pairs, 50) / v[0] :
		    999.0, rss, hwm, pss, thr, fds,
		    (double)(ticks2 - ticks1) / sysconf(_SC_CLK_TCK) / sec *
		    100, bad, setup, rss_idle, quiet_sw, rss_quiet, rss_stall,
		    rss_drain, stack_kib, stack_depth);
		free(v);
	}
	return bad != 0;
}
