/*
 * kdrelayctl - see and steer a running kdrelayd through its control socket.
 *
 *	kdrelayctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * One request, one reply (ctlproto.h): data lines ". KEY VALUE", then OK
 * or ERR.  The daemon sends facts; how they look (text, JSON, Prometheus)
 * is decided here.
 */
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "exitcodes.h"
#include "sock.h"

#define EXIT_NOPERM	77	/* EX_NOPERM */

static const char usage_text[] =
"usage: kdrelayctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  status [PAIR...]       each side's endpoint and state, repair mode per\n"
"                         direction, packets, bytes, last traffic\n"
"  stats PAIR             every counter of a pair\n"
"  metrics                all pairs in the Prometheus text format\n"
"  watch PAIR             the pair's packet-log lines as they pass\n"
"  break PAIR             send one break-in (0x62) to the target\n"
"  reload                 reload the configuration (as SIGHUP), say what\n"
"                         changed or the FILE:LINE error\n"
"  reopen                 reopen packet logs and captures (logrotate)\n"
"  capture PAIR FILE      start a kdtrace capture on a running pair\n"
"  capture PAIR --stop    stop it\n"
"  pairs                  the running pairs' names\n"
"\n"
"Options:\n"
"  -s, --socket PATH      the daemon's control socket\n"
"                         (default $KDRELAY_CONTROL or /run/kdrelay/control)\n"
"  -j, --json             status and stats as JSON\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit codes: 0 done, 64 usage, 65 unknown pair, 69 daemon not running,\n"
"75 refused (try again), 77 not allowed, 78 reload failed, 1 failed.\n";

static const struct option longopts[] = {
	{ "socket",	required_argument,	NULL, 's' },
	{ "json",	no_argument,		NULL, 'j' },
	{ "stop",	no_argument,		NULL, 'S' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

static void __attribute__((noreturn, format(printf, 1, 2)))
usage(const char *fmt, ...)
{
	va_list	ap;

	fputs("kdrelayctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see kdrelayctl --help)\n", stderr);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list	ap;

	fputs("kdrelayctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* ---- the connection ---- */

static volatile sig_atomic_t	stop;	/* watch: interrupted */

static int	 sock = -1;
static char	 rbuf[65536];
static size_t	 rlen;

static void
dial(const char *path)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	if (sock_unix_addr(&sun, &len, path) == -1)
		usage("%s: path too long for a unix socket", path);
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die(EXIT_OSERR, "socket: %s", strerror(errno));
	/* Blocking: a busy daemon's backlog is a queue to wait in. */
	if (connect(sock, (struct sockaddr *)&sun, len) == 0)
		return;
	if (errno == EACCES || errno == EPERM)
		die(EXIT_NOPERM, "%s: %s (root or the control group only)",
		    path, strerror(errno));
	die(EXIT_UNAVAIL, "kdrelayd is not running: no control socket at "
	    "%s (%s); see -s", path, strerror(errno));
}

static void
send_line(const char *line)
{
	size_t	n = strlen(line), o = 0;
	ssize_t	k;

	while (o < n) {
		if ((k = write(sock, line + o, n - o)) <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			/* It may have refused us and closed: its reply says
			 * why (read_reply), or it is gone. */
			if (k == -1 && errno == EPIPE)
				return;
			die(EXIT_UNAVAIL, "write to kdrelayd: %s",
			    strerror(errno));
		}
		o += (size_t)k;
	}
}

/* The next line from the daemon (NUL-terminated, no newline); NULL at EOF. */
static char *
next_line(void)
{
	static char	line[sizeof rbuf];
	char		*nl;
	ssize_t		 k;

	for (;;) {
		if ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
			size_t	n = (size_t)(nl - rbuf);

			memcpy(line, rbuf, n);
			line[n] = '\0';
			memmove(rbuf, nl + 1, rlen - n - 1);
			rlen -= n + 1;
			return line;
		}
		if (rlen == sizeof rbuf)
			die(EXIT_SOFTWARE, "a reply line longer than %zu bytes",
			    sizeof rbuf);
		k = read(sock, rbuf + rlen, sizeof rbuf - rlen);
		if (k == -1 && errno == EINTR && !stop)
			continue;
		if (k <= 0)
			return NULL;
		rlen += (size_t)k;
	}
}

/* ---- the reply ---- */

struct rec {
	char	*key, *val;
};

static struct rec	*recs;
static size_t		 nrecs;
static char		 okmsg[8192];

/* Read data lines up to OK (returns) or ERR (exits with its code). */
static void
read_reply(const char *cmd)
{
	char	*l, *sp;

	while ((l = next_line()) != NULL) {
		if (strncmp(l, ". ", 2) == 0 && (sp = strchr(l + 2, ' ')) !=
		    NULL) {
			*sp = '\0';
			recs = realloc(recs, (nrecs + 1) * sizeof *recs);
			if (recs == NULL || (recs[nrecs].key = strdup(l + 2)) ==
			    NULL || (recs[nrecs].val = strdup(sp + 1)) == NULL)
				die(EXIT_OSERR, "out of memory");
			nrecs++;
			continue;
		}
		if (strcmp(l, "OK") == 0 || strncmp(l, "OK ", 3) == 0) {
			snprintf(okmsg, sizeof okmsg, "%s", l[2] ? l + 3 : "");
			return;
		}
		if (strncmp(l, "ERR ", 4) == 0) {
			char	*code = l + 4, *text = strchr(code, ' ');

			if (text != NULL)
				*text++ = '\0';
			else
				text = code;
			fprintf(stderr, "kdrelayctl: %s: %s\n", cmd, text);
			if (strcmp(code, "usage") == 0)
				exit(EXIT_USAGE);
			if (strcmp(code, "nopair") == 0)
				exit(EXIT_DATAERR);
			if (strcmp(code, "denied") == 0)
				exit(EXIT_NOPERM);
			if (strcmp(code, "refused") == 0)
				exit(EXIT_TEMPFAIL);
			if (strcmp(cmd, "reload") == 0)
				exit(EXIT_CONFIG);
			exit(1);
		}
		die(EXIT_SOFTWARE, "unexpected reply: %.200s", l);
	}
	die(EXIT_UNAVAIL, "kdrelayd closed the connection before replying");
}

static const char *
get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of a key, NULL if absent. */
static const char *
get(const char *fmt, ...)
{
	char	key[512];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(key, sizeof key, fmt, ap);
	va_end(ap);
	for (i = 0; i < nrecs; i++) {
		if (strcmp(recs[i].key, key) == 0)
			return recs[i].val;
	}
	return NULL;
}

/* A value as text: strings unquoted. */
static const char *
text(const char *v)
{
	static char	buf[4][2048];
	static int	k;

	if (v == NULL)
		return "-";
	k = (k + 1) % 4;
	if (*v == '"' && ctl_json_unquote(v, buf[k], sizeof buf[k]) == 0)
		return buf[k];
	return v;
}

/* The pair names in reply order (first key component). */
static size_t
pair_names(char ***out)
{
	char	**names = NULL;
	size_t	  n = 0, i, j, len;

	for (i = 0; i < nrecs; i++) {
		len = strcspn(recs[i].key, "/");
		for (j = 0; j < n; j++) {
			if (strlen(names[j]) == len &&
			    strncmp(names[j], recs[i].key, len) == 0)
				break;
		}
		if (j < n)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strndup(recs[i].key, len)) ==
		    NULL)
			die(EXIT_OSERR, "out of memory");
		n++;
	}
	*out = names;
	return n;
}

/* ---- JSON: the records as nested objects, in order ---- */

static void
indent(int d)
{
	while (d-- > 0)
		fputs("  ", stdout);
}

/*
 * Print records [lo, hi), which share the first depth path components,
 * as the members of one object.
 */
static void
json_members(size_t lo, size_t hi, size_t skip, int depth)
{
	size_t	i = lo, j, n;
	int	first = 1;
	char	q[1024];

	while (i < hi) {
		const char	*k = recs[i].key + skip;
		const char	*slash = strchr(k, '/');

		n = slash != NULL ? (size_t)(slash - k) : strlen(k);
		/* Records whose next component is the same, together. */
		for (j = i + 1; j < hi && slash != NULL; j++) {
			const char	*k2 = recs[j].key + skip;

			if (strncmp(k2, k, n) != 0 || k2[n] != '/')
				break;
		}
		fputs(first ? "\n" : ",\n", stdout);
		first = 0;
		indent(depth);
		{
			char	name[512];

			snprintf(name, sizeof name, "%.*s", (int)n, k);
			ctl_json_string(name, q, sizeof q);
		}
		if (slash == NULL) {
			printf("%s: %s", q, recs[i].val);
			i++;
			continue;
		}
		printf("%s: {", q);
		json_members(i, j, skip + n + 1, depth + 1);
		putchar('\n');
		indent(depth);
		putchar('}');
		i = j;
	}
}

static void
json(void)
{
	putchar('{');
	json_members(0, nrecs, 0, 1);
	puts("\n}");
}

/* ---- text ---- */

static void
when(double t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		s = (time_t)t;
	long		ago = (long)(time(NULL) - s);
	char		d[64];

	localtime_r(&s, &tm);
	strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
	if (ago < 0)
		ago = 0;
	if (ago < 120)
		snprintf(buf, len, "%s (%lds ago)", d, ago);
	else if (ago < 7200)
		snprintf(buf, len, "%s (%ldm ago)", d, ago / 60);
	else
		snprintf(buf, len, "%s (%ldh ago)", d, ago / 3600);
}

static void
print_status(void)
{
	static const char	*side[2] = { "host", "target" };
	static const char	*dir[2] = { "host->target", "target->host" };
	char			**names, t[128];
	const char		*v, *mode;
	size_t			  n, i;
	int			  s;

	n = pair_names(&names);
	for (i = 0; i < n; i++) {
		const char	*p = names[i];

		printf("%s\n", p);
		for (s = 0; s < 2; s++) {
			v = get("%s/%s/since", p, side[s]);
			when(v != NULL && strcmp(v, "null") != 0 ? atof(v) : 0,
			    t, sizeof t);
			printf("  %-7s %s\n", side[s],
			    text(get("%s/%s/endpoint", p, side[s])));
			v = text(get("%s/%s/state", p, side[s]));
			printf("          %s since %s: %s", strcmp(v, "up") == 0 ?
			    "connected" : v, t, text(get("%s/%s/status", p,
			    side[s])));
			v = get("%s/%s/backoff_ms", p, side[s]);
			if (v != NULL && strcmp(v, "0") != 0)
				printf(", backoff %s ms", v);
			putchar('\n');
		}
		for (s = 0; s < 2; s++) {
			const char	*on;

			mode = text(get("%s/%s/repair", p, dir[s]));
			on = strcmp(text(get("%s/%s/repairing", p, dir[s])),
			    "true") == 0 ? "on" : "off";
			printf("  %-13s repair ", dir[s]);
			if (strcmp(mode, "auto") == 0)
				printf("auto: %s, %s", on, strcmp(text(get(
				    "%s/%s/detected", p, dir[s])), "true") ==
				    0 ? "detected" : "not yet detected");
			else
				printf("%s", mode);
			printf("; %s packets, %s bytes", text(get(
			    "%s/%s/packets", p, dir[s])), text(get(
			    "%s/%s/bytes_in", p, dir[s])));
			v = get("%s/%s/last_rx", p, dir[s]);
			if (v != NULL && strcmp(v, "null") != 0) {
				when(atof(v), t, sizeof t);
				printf("; last %s", t);
			} else
				printf("; nothing yet");
			putchar('\n');
		}
		free(names[i]);
	}
	free(names);
}

static void
print_stats(void)
{
	size_t	i;

	for (i = 0; i < nrecs; i++)
		printf("%-48s %s\n", recs[i].key, text(recs[i].val));
}

/* ---- Prometheus ---- */

struct metric {
	const char	*name, *help, *type;
};

static int
numeric(const char *v)
{
	return *v != '\0' && strspn(v, "0123456789.") == strlen(v);
}

/*
 * One family at a time: HELP and TYPE once, then a sample per pair and
 * direction (or side).  Counter names from the daemon's keys.
 */
static void
print_metrics(void)
{
	char	**names, fam[128], lab[256], pair[PAIR_NAME_MAX], part[64];
	char	  leaf[64], **done = NULL;
	size_t	  n, i, j, ndone = 0, k;

	n = pair_names(&names);
	for (i = 0; i < nrecs; i++) {
		const char	*key = recs[i].key, *v = recs[i].val;
		int		 is_side, is_type;

		if (sscanf(key, "%63[^/]/%63[^/]/%63s", pair, part, leaf) != 3)
			continue;
		is_side = strcmp(part, "host") == 0 ||
		    strcmp(part, "target") == 0;
		is_type = strncmp(leaf, "type/", 5) == 0;
		if (is_side && strcmp(leaf, "state") == 0)
			snprintf(fam, sizeof fam, "kdrelay_side_up");
		else if (!numeric(v) && strcmp(v, "true") != 0 &&
		    strcmp(v, "false") != 0)
			continue;
		else if (is_type)
			snprintf(fam, sizeof fam, "kdrelay_packets_by_type_total");
		else if (strcmp(leaf, "since") == 0 ||
		    strcmp(leaf, "last_rx") == 0)
			snprintf(fam, sizeof fam, "kdrelay_%s_seconds", leaf);
		else if (strcmp(leaf, "repairing") == 0 ||
		    strcmp(leaf, "detected") == 0 ||
		    strcmp(leaf, "backoff_ms") == 0)
			snprintf(fam, sizeof fam, "kdrelay_%s", leaf);
		else if (is_side)
			continue;
		else
			snprintf(fam, sizeof fam, "kdrelay_%s_total", leaf);
		for (k = 0; k < ndone; k++) {
			if (strcmp(done[k], fam) == 0)
				break;
		}
		if (k < ndone)
			continue;
		done = realloc(done, (ndone + 1) * sizeof *done);
		if (done == NULL || (done[ndone++] = strdup(fam)) == NULL)
			die(EXIT_OSERR, "out of memory");
		printf("# HELP %s kdrelayd: %s per %s\n", fam,
		    is_type ? "packets of each KD type" : leaf,
		    is_side ? "side" : "direction");
		printf("# TYPE %s %s\n", fam, strstr(fam, "_total") != NULL ?
		    "counter" : "gauge");
		/* Every sample of this family, in pair order. */
		for (j = 0; j < nrecs; j++) {
			char	p2[PAIR_NAME_MAX], pt2[64], lf2[64];
			const char *v2 = recs[j].val;

			if (sscanf(recs[j].key, "%63[^/]/%63[^/]/%63s", p2,
			    pt2, lf2) != 3)
				continue;
			if (is_type ? strncmp(lf2, "type/", 5) != 0 :
			    strcmp(lf2, leaf) != 0)
				continue;
			if ((strcmp(pt2, "host") == 0 || strcmp(pt2, "target")
			    == 0) != is_side)
				continue;
			snprintf(lab, sizeof lab, "pair=\"%s\",%s=\"%s\"%s%s%s",
			    p2, is_side ? "side" : "dir", pt2,
			    is_type ? ",type=\"" : "", is_type ? lf2 + 5 : "",
			    is_type ? "\"" : "");
			if (strcmp(fam, "kdrelay_side_up") == 0)
				v2 = strcmp(text(v2), "up") == 0 ? "1" : "0";
			else if (strcmp(v2, "true") == 0)
				v2 = "1";
			else if (strcmp(v2, "false") == 0 ||
			    strcmp(v2, "null") == 0)
				v2 = "0";
			printf("%s{%s} %s\n", fam, lab, v2);
		}
	}
	for (k = 0; k < ndone; k++)
		free(done[k]);
	free(done);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
need(size_t n, int lo, int hi, const char *synopsis)
{
	if ((long)n < lo || (long)n > hi)
		usage("usage: kdrelayctl %s", synopsis);
}

/* ---- watch ---- */

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Lines as they come until interrupted; notes (#) to stderr. */
static int
watch(void)
{
	struct sigaction	sa;
	char			*l;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: read returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "kdrelayctl: %s (interrupt to stop)\n", okmsg);
	while (!stop && (l = next_line()) != NULL) {
		if (l[0] == '#') {
			fprintf(stderr, "kdrelayctl: %s\n", l + 2);
			if (strstr(l, "the pair stopped") != NULL)
				return EXIT_UNAVAIL;
		} else if (puts(l) == EOF)
			return EXIT_OK;		/* stdout closed: done */
	}
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static struct ctl_req	 req;
	const char		*path, *cmd;
	char			 line[CTL_LINE_MAX + 2], abs[PATH_MAX];
	int			 ch, as_json = 0, stop_cap = 0, i;

	if ((path = getenv("KDRELAY_CONTROL")) == NULL || *path == '\0')
		path = CONFIG_CONTROL_PATH;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:jhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'S':
			stop_cap = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("kdrelayctl %s\n", KDRELAY_VERSION);
			return EXIT_OK;
		case ':':
			usage("'%s' needs an argument", argv[optind - 1]);
		default:
			usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage("which command?");
	cmd = argv[0];
	memset(&req, 0, sizeof req);
	if ((size_t)argc - 1 > CTL_WORDS_MAX)
		usage("too many arguments");
	for (i = 1; i < argc; i++) {
		if (strlen(argv[i]) >= CTL_WORD_MAX)
			usage("argument too long");
		snprintf(req.args[i - 1], CTL_WORD_MAX, "%s", argv[i]);
	}
	req.nargs = (size_t)argc - 1;

	if (strcmp(cmd, "status") == 0) {
		req.cmd = CTL_STATUS;
	} else if (strcmp(cmd, "stats") == 0) {
		need(req.nargs, 1, 1, "stats PAIR");
		req.cmd = CTL_STATUS;
	} else if (strcmp(cmd, "metrics") == 0) {
		need(req.nargs, 0, 0, "metrics");
		req.cmd = CTL_STATUS;
	} else if (strcmp(cmd, "watch") == 0) {
		need(req.nargs, 1, 1, "watch PAIR");
		req.cmd = CTL_WATCH;
	} else if (strcmp(cmd, "break") == 0) {
		need(req.nargs, 1, 1, "break PAIR");
		req.cmd = CTL_BREAK;
	} else if (strcmp(cmd, "reload") == 0) {
		need(req.nargs, 0, 0, "reload");
		req.cmd = CTL_RELOAD;
	} else if (strcmp(cmd, "reopen") == 0) {
		need(req.nargs, 0, 0, "reopen");
		req.cmd = CTL_REOPEN;
	} else if (strcmp(cmd, "capture") == 0 && stop_cap) {
		need(req.nargs, 1, 1, "capture PAIR --stop");
		req.cmd = CTL_CAPTURE_STOP;
	} else if (strcmp(cmd, "capture") == 0) {
		need(req.nargs, 2, 2, "capture PAIR FILE");
		req.cmd = CTL_CAPTURE;
		/* The daemon's cwd is not ours: a relative path is ours.  A
		 * plain name from a user who is not root goes in the daemon's
		 * capture-dir. */
		if (req.args[1][0] != '/' && (geteuid() == 0 ||
		    strchr(req.args[1], '/') != NULL) &&
		    (getcwd(abs, sizeof abs) == NULL ||
		    snprintf(req.args[1], CTL_WORD_MAX, "%s/%s", abs,
		    argv[2]) >= CTL_WORD_MAX))
			usage("capture: path too long");
	} else if (strcmp(cmd, "pairs") == 0) {
		need(req.nargs, 0, 0, "pairs");
		req.cmd = CTL_PAIRS;
	} else
		usage("unknown command '%s'", cmd);
	if (stop_cap && req.cmd != CTL_CAPTURE_STOP)
		usage("--stop goes with capture");
	if (ctl_format(&req, line, sizeof line - 1) != 0)
		usage("request too long");
	strcat(line, "\n");

	signal(SIGPIPE, SIG_IGN);
	dial(path);
	send_line(line);
	read_reply(cmd);
	switch (req.cmd) {
	case CTL_WATCH:
		return watch();
	case CTL_PAIRS:
		for (i = 0; (size_t)i < nrecs; i++)
			puts(text(recs[i].val));
		return EXIT_OK;
	case CTL_STATUS:
		if (strcmp(cmd, "metrics") == 0)
			print_metrics();
		else if (as_json)
			json();
		else if (strcmp(cmd, "stats") == 0)
			print_stats();
		else
			print_status();
		return EXIT_OK;
	default:
		if (*okmsg != '\0')
			puts(okmsg);
		return EXIT_OK;
	}
}
