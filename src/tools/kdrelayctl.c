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
#include "ctlformat.h"
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

void
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

struct rec	*recs;
size_t		 nrecs;
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
