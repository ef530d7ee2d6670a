/*
 * kdrelayd - relay a KDCOM serial line between a debugger VM and a target VM.
 *
 *	kdrelayd [options] HOST TARGET
 *	kdrelayd [options] -c FILE [--pair NAME] [--check-config]
 *	kdrelayd [options] --auto [--match GLOB]... [-c FILE]
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "epspec.h"
#include "exitcodes.h"
#include "tty.h"
#include "log.h"
#include "relay.h"

static const char usage_text[] =
"usage: kdrelayd [options] HOST TARGET\n"
"       kdrelayd [options] -c FILE [--pair NAME] [--check-config]\n"
"       kdrelayd [options] --auto [--match GLOB]... [-c FILE]\n"
"\n"
"Relay a Windows kernel debugger's serial line (KDCOM) between HOST, the\n"
"debugger's endpoint, and TARGET, the debuggee's, repairing the Xen CRLF\n"
"corruption and validating the framing; reopens either side when it goes.\n"
"\n"
"Endpoints (options after commas, e.g. /dev/pts/3,crlf=on):\n"
"  /dev/PATH, pty:PATH        a tty, opened raw\n"
"  unix:PATH                  connect to a unix stream socket\n"
"  unix-listen:PATH           listen (mode 0600), one client at a time\n"
"  tcp:HOST:PORT              connect\n"
"  tcp-listen:[ADDR:]PORT     listen (default 127.0.0.1), one client\n"
"  xen:NAME, NAME             a Xen domain's serial port (xenstore)\n"
"  pve:VMID, pve:NAME         a Proxmox VM's serial socket\n"
"  libvirt:NAME               a libvirt domain's serial port (pty or socket)\n"
"  options: crlf=on|off|auto  repair bytes read from this side (auto)\n"
"           serial=N, console, allow-remote\n"
"\n"
"Options:\n"
"  -c, --config FILE          run the pairs of FILE (kdrelay.conf(5))\n"
"  -p, --pair NAME            with -c: run only pair NAME\n"
"      --check-config         with -c: check FILE and exit (0 or 78)\n"
"  -a, --auto                 a pair for every matching running VM\n"
"      --match GLOB           auto: VM names to serve (repeatable; *)\n"
"      --auto-endpoint TMPL   auto: the debugger side, %n the VM name\n"
"                             (default unix-listen:/run/kdrelay/%n.sock)\n"
"      --tcp-ports LOW-HIGH   auto: tcp-listen on 127.0.0.1 ports instead\n"
"      --pair-with TMPL       auto: pair with the debugger VM TMPL (%n-dbg)\n"
"Pair options, for HOST TARGET only (a file sets its own, kdrelay.conf(5)):\n"
"  -n, --name NAME            pair name used in logs (default kd)\n"
"      --hold-ms MS           hold a trailing 0x0d this long (default 5)\n"
"      --buffer-size BYTES    per direction (default 65536)\n"
"      --no-validate          do not parse KDCOM framing\n"
"      --target-shutdown      tell the debugger when the target goes\n"
"                             (the default); --no-target-shutdown: do not\n"
"      --packet-log FILE      log every packet and DbgPrint text\n"
"      --capture FILE         write every packet in kdtrace format\n"
"Other options:\n"
"      --stats-interval SEC   log counters periodically (default off)\n"
"      --control PATH         the control socket for kdrelayctl(8)\n"
"                             (default /run/kdrelay/control)\n"
"      --no-control           no control socket\n"
"  -v, --verbose              more log (repeat for debug)\n"
"  -q, --quiet                errors and warnings only\n"
"      --syslog               log to syslog instead of stderr\n"
"  -h, --help                 this help\n"
"  -V, --version              version\n"
"\n"
"Signals: TERM/INT exit, USR1 logs counters, HUP reloads a config file,\n"
"USR2 reopens packet logs and captures.\n"
"Exit codes: 0 ok, 64 usage, 69 endpoint unavailable, 71 system error,\n"
"73 packet log or capture not made, 78 config error.\n";

enum {
	OPT_HOLD = 256,
	OPT_BUFSIZE,
	OPT_NO_VALIDATE,
	OPT_TSD,
	OPT_NO_TSD,
	OPT_PACKET_LOG,
	OPT_CAPTURE,
	OPT_STATS,
	OPT_SYSLOG,
	OPT_CHECK,
	OPT_MATCH,
	OPT_AUTO_EP,
	OPT_TCP_PORTS,
	OPT_PAIR_WITH,
	OPT_CONTROL,
	OPT_NO_CONTROL,
};

static const struct option longopts[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "pair",		required_argument,	NULL, 'p' },
	{ "check-config",	no_argument,		NULL, OPT_CHECK },
	{ "auto",		no_argument,		NULL, 'a' },
	{ "match",		required_argument,	NULL, OPT_MATCH },
	{ "auto-endpoint",	required_argument,	NULL, OPT_AUTO_EP },
	{ "tcp-ports",		required_argument,	NULL, OPT_TCP_PORTS },
	{ "pair-with",		required_argument,	NULL, OPT_PAIR_WITH },
	{ "name",		required_argument,	NULL, 'n' },
	{ "hold-ms",		required_argument,	NULL, OPT_HOLD },
	{ "buffer-size",	required_argument,	NULL, OPT_BUFSIZE },
	{ "no-validate",	no_argument,		NULL, OPT_NO_VALIDATE },
	{ "target-shutdown",	no_argument,		NULL, OPT_TSD },
	{ "no-target-shutdown",	no_argument,		NULL, OPT_NO_TSD },
	{ "packet-log",		required_argument,	NULL, OPT_PACKET_LOG },
	{ "capture",		required_argument,	NULL, OPT_CAPTURE },
	{ "stats-interval",	required_argument,	NULL, OPT_STATS },
	{ "control",		required_argument,	NULL, OPT_CONTROL },
	{ "no-control",		no_argument,		NULL, OPT_NO_CONTROL },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

/*
 * A pair holds six fds (two endpoints, its loop's epoll, eventfd and
 * signal pipe), so 256 pairs need more than the customary soft limit of
 * 1024 (systemd's default too).  libevent polls with epoll, not select,
 * so the hard limit is safe to take.
 */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * Write an error line with control characters escaped: it quotes words
 * from the command line, and a newline or a terminal escape in one must
 * not forge a second line of log.
 */
static void
error_line(const char *msg, const char *suffix)
{
	const unsigned char	*p;

	fputs("kdrelayd: ", stderr);
	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputs(suffix, stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	char	msg[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_line(msg, " (see kdrelayd --help)\n");
	exit(EXIT_USAGE);
}

/*
 * getopt_long() refused an option: say why in one line.  optopt is 0 for
 * an unknown long option, else the option's val; argv[ind - 1] is the
 * word ("--x=y", "-vc"), except for a short option inside a cluster.
 */
static void __attribute__((noreturn))
bad_option(char **argv, int ind, int missing)
{
	const struct option	*o, *hit = NULL;
	const char		*w = argv[ind - 1];
	size_t			 n = 0;
	int			 matches = 0;

	if (strncmp(w, "--", 2) == 0) {
		n = strcspn(w + 2, "=");
		for (o = longopts; o->name != NULL; o++) {
			if (strncmp(o->name, w + 2, n) != 0)
				continue;
			hit = o;
			if (o->name[n] == '\0') {	/* exact beats prefixes */
				matches = 1;
				break;
			}
			matches++;
		}
	}
	if (strncmp(w, "--", 2) != 0 || (optopt != 0 && (matches != 1 ||
	    hit->val != optopt))) {
		if (missing)
			usage_error("'-%c' needs an argument", optopt);
		usage_error("unknown option '-%c'", optopt);
	}
	if (matches == 0)
		usage_error("unknown option '--%.*s'", (int)n, w + 2);
	if (matches > 1)
		usage_error("ambiguous option '--%.*s'", (int)n, w + 2);
	if (missing)
		usage_error("'--%s' needs an argument", hit->name);
	usage_error("'--%s' takes no argument", hit->name);
}

/* An unsigned number with an optional k/M suffix, within [lo, hi]. */
static unsigned long long
number(const char *opt, const char *s, unsigned long long lo,
    unsigned long long hi, int suffixes)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (suffixes && (*end == 'k' || *end == 'K')) {
		v *= 1024;
		end++;
	} else if (suffixes && *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || *s == '-')
		usage_error("%s: '%s' is not a number from %llu to %llu", opt,
		    s, lo, hi);
	if (v < lo || v > hi)
		usage_error("%s: '%s' is too %s: from %llu to %llu", opt, s,
		    v < lo ? "small" : "large", lo, hi);
	return v;
}

/* An output file: refused now if the start could not make it. */
static void
copy_path(const char *opt, char *dst, size_t len, const char *src)
{
	char	why[PATH_MAX + 32];

	if (snprintf(dst, len, "%s", src) >= (int)len)
		usage_error("%s: path too long", opt);
	if (config_file_creatable(dst, why, sizeof why) == -1)
		usage_error("%s: %s", opt, why);
}

/* What the command line says, beside the pair options in pair_opts. */
struct cli {
	const char	*config;
	const char	*pair;
	int		 check;
	int		 autodisc;
	char		 auto_text[8192];	/* [auto] keys from options */
	size_t		 auto_len;
	int		 log_set;
	enum log_level	 level;
	int		 use_syslog;
	unsigned	 stats;			/* --stats-interval */
	int		 stats_set;
	const char	*pair_opt;		/* a pair option was given */
	const char	*control;		/* --control, "" --no-control */
};

static void
auto_key(struct cli *c, const char *key, const char *value)
{
	int	n;

	/* Quoted, so the config parser validates the value as it would. */
	n = snprintf(c->auto_text + c->auto_len,
	    sizeof c->auto_text - c->auto_len, "%s = \"", key);
	if (n < 0 || (size_t)n >= sizeof c->auto_text - c->auto_len)
		usage_error("--%s: too many auto options", key);
	c->auto_len += (size_t)n;
	for (; *value != '\0'; value++) {
		if (c->auto_len + 4 >= sizeof c->auto_text)
			usage_error("--%s: value too long", key);
		if (*value == '"' || *value == '\\')
			c->auto_text[c->auto_len++] = '\\';
		c->auto_text[c->auto_len++] = *value;
	}
	c->auto_text[c->auto_len++] = '"';
	c->auto_text[c->auto_len++] = '\n';
	c->auto_text[c->auto_len] = '\0';
}

/* Load the file (if any), apply --pair and the auto options. */
static int
load(void *arg, struct config *cf, char *err, size_t errlen)
{
	struct cli		*c = arg;
	const struct pair_opts	*one;
	struct pair_opts	*all;
	char			 text[8300];
	size_t			 n;

	if (c->config != NULL && config_load(c->config, cf, err, errlen) != 0)
		return -1;
	if (c->stats_set)		/* the command line wins, reload or not */
		cf->stats_interval = c->stats;
	if (c->pair != NULL) {
		if ((one = config_find_pair(cf, c->pair)) == NULL) {
			snprintf(err, errlen, "%s: no pair named '%s'",
			    c->config, c->pair);
			config_free(cf);
			return -1;
		}
		all = config_take_pairs(cf, &n);
		cf->pairs = calloc(1, sizeof *cf->pairs);
		if (cf->pairs == NULL) {
			free(all);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cf->pairs[0] = *one;
		cf->npairs = 1;
		free(all);
	}
	if (c->autodisc && c->auto_len > 0) {
		struct config		extra;
		struct config_auto	swap;

		snprintf(text, sizeof text, "[auto]\nenable = yes\n%s",
		    c->auto_text);
		config_init(&extra);
		if (config_parse_buffer("command line", text, strlen(text),
		    &extra, err, errlen) != 0) {
			config_free(cf);
			return -1;
		}
		/* The command line's [auto] replaces the file's. */
		swap = cf->discover;
		cf->discover = extra.discover;
		extra.discover = swap;
		config_free(&extra);
	} else if (c->autodisc)
		cf->discover.enable = 1;
	if (!c->autodisc && c->pair != NULL)
		cf->discover.enable = 0;
	if (cf->discover.enable && cf->discover.nmatch == 0) {
		if (c->config != NULL)
			snprintf(err, errlen, "%s: [auto] has no 'match' and "
			    "no --match was given: which VMs?", c->config);
		else
			snprintf(err, errlen, "--auto: which VMs? give "
			    "--match GLOB");
		config_free(cf);
		return -1;
	}
	return 0;
}

static const char *const side_word[2] = { "HOST", "TARGET" };

int
main(int argc, char **argv)
{
	struct pair_opts	o;
	struct daemon_opts	d;
	struct config		cf;
	struct cli		c;
	struct ep_spec		*spec;
	char			 err[1024];
	int			 ch, i, verbose = 0, quiet = 0, rc;

	pair_opts_init(&o);
	memset(&d, 0, sizeof d);
	memset(&c, 0, sizeof c);
	opterr = 0;		/* our own one-line reasons */
	while ((ch = getopt_long(argc, argv, ":ac:n:p:vqhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config = optarg;
			break;
		case 'p':
			c.pair = optarg;
			break;
		case OPT_CHECK:
			c.check = 1;
			break;
		case 'a':
			c.autodisc = 1;
			break;
		case OPT_MATCH:
			auto_key(&c, "match", optarg);
			break;
		case OPT_AUTO_EP:
			auto_key(&c, "endpoint", optarg);
			break;
		case OPT_TCP_PORTS:
			auto_key(&c, "tcp-ports", optarg);
			break;
		case OPT_PAIR_WITH:
			auto_key(&c, "pair-with", optarg);
			break;
		case 'n':
			if (!pair_name_valid(optarg))
				usage_error("--name: '%s' is not a name of "
				    "letters, digits, '_', '.', '-'", optarg);
			snprintf(o.name, sizeof o.name, "%s", optarg);
			c.pair_opt = "--name";
			break;
		case OPT_HOLD:
			o.hold_ms = number("--hold-ms", optarg, 1, 1000, 0);
			c.pair_opt = "--hold-ms";
			break;
		case OPT_BUFSIZE:
			o.bufsize = number("--buffer-size", optarg, 4096,
			    16 * 1024 * 1024, 1);
			c.pair_opt = "--buffer-size";
			break;
		case OPT_NO_VALIDATE:
			o.validate = 0;
			c.pair_opt = "--no-validate";
			break;
		case OPT_TSD:
		case OPT_NO_TSD:
			o.target_shutdown = ch == OPT_TSD;
			c.pair_opt = ch == OPT_TSD ? "--target-shutdown" :
			    "--no-target-shutdown";
			break;
		case OPT_PACKET_LOG:
			copy_path("--packet-log", o.packet_log,
			    sizeof o.packet_log, optarg);
			c.pair_opt = "--packet-log";
			break;
		case OPT_CAPTURE:
			copy_path("--capture", o.capture, sizeof o.capture,
			    optarg);
			c.pair_opt = "--capture";
			break;
		case OPT_STATS:
			c.stats = number("--stats-interval", optarg, 0, 86400,
			    0);
			c.stats_set = 1;
			break;
		case OPT_CONTROL:
			if (optarg[0] != '/')
				usage_error("--control: '%s' is not an absolute "
				    "path", optarg);
			if (strlen(optarg) >= sizeof cf.control_path)
				usage_error("--control: path too long for a "
				    "unix socket");
			c.control = optarg;
			break;
		case OPT_NO_CONTROL:
			c.control = "";
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_SYSLOG:
			c.use_syslog = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("kdrelayd %s\n", KDRELAY_VERSION);
			return EXIT_OK;
		case ':':
			bad_option(argv, optind, 1);
		default:
			bad_option(argv, optind, 0);
		}
	}
	argc -= optind;
	argv += optind;
	if (c.auto_len > 0 && !c.autodisc)
		usage_error("--match, --auto-endpoint, --tcp-ports and "
		    "--pair-with need --auto");
	if ((c.pair != NULL || c.check) && c.config == NULL)
		usage_error("--pair and --check-config need -c FILE");
	if (c.pair_opt != NULL && (c.config != NULL || c.autodisc))
		usage_error("%s is for the pair on the command line; with -c "
		    "or --auto it goes in the file (kdrelay.conf(5))",
		    c.pair_opt);
	if (c.config != NULL || c.autodisc) {
		if (argc != 0)
			usage_error("endpoints on the command line do not go "
			    "with -c or --auto");
	} else if (argc != 2)
		usage_error("expected two endpoints, HOST and TARGET, got %d",
		    argc);

	config_init(&cf);
	if (c.config != NULL || c.autodisc) {
		if (load(&c, &cf, err, sizeof err) != 0) {
			error_line(err, "\n");
			return c.config != NULL ? EXIT_CONFIG : EXIT_USAGE;
		}
		if (c.check) {
			printf("%s: OK, %zu pair%s%s\n", c.config, cf.npairs,
			    cf.npairs == 1 ? "" : "s", cf.discover.enable ?
			    ", auto-discovery on" : "");
			config_free(&cf);
			return EXIT_OK;
		}
		d.load = load;
		d.load_arg = &c;
	} else {
		for (i = 0; i < 2; i++) {
			spec = &o.side[i];
			if (ep_spec_parse(argv[i], spec, err, sizeof err) != 0)
				usage_error("%s endpoint: %s", side_word[i],
				    err);
		}
		for (i = 0; i < 2; i++) {
			spec = &o.side[i];
			if (ep_path_check(spec, err, sizeof err) != 0)
				usage_error("%s endpoint: %s", side_word[i],
				    err);
			if (ep_spec_exposed(spec))
				usage_error("%s endpoint: %s listens on %s, "
				    "reachable from the network: add "
				    ",allow-remote to mean it", side_word[i],
				    spec->text, spec->host);
		}
		if (ep_spec_same_resource(&o.side[0], &o.side[1]))
			usage_error("TARGET endpoint: %s is the same endpoint "
			    "as HOST", o.side[1].text);
		if ((cf.pairs = malloc(sizeof *cf.pairs)) == NULL)
			return EXIT_OSERR;
		cf.pairs[0] = o;
		cf.npairs = 1;
	}
	if (c.stats_set)
		cf.stats_interval = c.stats;
	if (c.control != NULL)
		snprintf(cf.control_path, sizeof cf.control_path, "%s",
		    c.control);

	d.log_fixed = verbose || quiet;
	if (quiet)
		cf.log_level = LOG_LVL_WARN;
	else if (verbose)
		cf.log_level = verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	else if (c.config == NULL)
		cf.log_level = LOG_LVL_NOTICE;
	log_init("kdrelayd", cf.log_level, c.use_syslog || cf.use_syslog);
	raise_nofile();
	rc = daemon_run(&d, &cf);
	config_free(&cf);
	return rc;
}
